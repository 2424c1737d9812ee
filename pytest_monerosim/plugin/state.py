"""Per-session and per-item state kept in ``config.stash`` / ``item.stash``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from .options import Settings

if TYPE_CHECKING:
    from ..registry import Registry


@dataclass
class SessionState:
    settings: Settings
    _registry: Registry | None = None
    config: pytest.Config | None = None
    network_rows: list[dict[str, Any]] = field(default_factory=list)
    collection_errors: list[str] = field(default_factory=list)
    """Usage errors found while parametrizing, raised once collection is complete."""
    real_runs: dict[str, tuple[str, Any]] = field(default_factory=dict)
    """Finished real-daemon runs by what defines them (scenario, backend, options): tests
    asking for the same one share it (:func:`~.fixtures.monerosim_run`)."""

    @property
    def registry(self) -> Registry:
        if self._registry is None:
            from ..registry import default_registry

            self._registry = default_registry()
            assert self.config is not None
            self.config.hook.pytest_monerosim_register(registry=self._registry)
        return self._registry

    def registry_if_built(self) -> Registry | None:
        return self._registry


SESSION = pytest.StashKey[SessionState]()
ITEM_SCENARIO = pytest.StashKey[tuple[Any, "str | None"]]()
"""(Scenario, source) built at collection."""
ITEM_LAYOUT = pytest.StashKey[Any]()
"""The NetworkLayout built when the item's scenario was checked at collection; its first run
takes it (and removes it), so the scenario is expanded once."""
ITEM_RUNS = pytest.StashKey[list[Any]]()
ITEM_USAGE_ERROR = pytest.StashKey[str]()  # under xdist: the bad input this test fails with
ITEM_IN_CALL = pytest.StashKey[bool]()  # the test's call phase has begun (networks run there)
"""NetworkRuns of this test, in order."""


def session_state(config: pytest.Config) -> SessionState:
    return config.stash[SESSION]
