"""Every public check announces itself to listeners, however it was imported."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_monerosim import checks
from pytest_monerosim.checks import connectivity, consensus, performance, transactions
from pytest_monerosim.checks.observed import listening


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str | None]] = []

    def check_started(self, name: str, args: dict[str, str]) -> Any:
        return name

    def check_finished(self, token: Any, name: str, error: BaseException | None) -> None:
        self.calls.append((token, name, type(error).__name__ if error else None))


def test_the_module_function_is_the_package_function_and_is_observed() -> None:
    for name in checks.__all__:
        fn = getattr(checks, name)
        module = next(m for m in (connectivity, consensus, performance, transactions) if hasattr(m, name))
        assert getattr(module, name) is fn
        assert getattr(fn, "__monerosim_observed__", False) == (name != "peer_graph"), name


def test_a_check_called_through_its_module_reaches_the_listener() -> None:
    rec = Recorder()
    with listening(rec), pytest.raises(TypeError):
        consensus.consensus_reached(object())
    assert rec.calls == [("consensus_reached", "consensus_reached", "TypeError")]
