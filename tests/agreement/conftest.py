"""The agreement suite: the same small scenarios on the simulator and on real namespaced daemons.

Tests that start daemons need Debian's ``monero`` package, root and ``ip netns``;
they are marked ``monerod`` here and skipped, naming what is missing, otherwise.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_monerosim.backends.monerod import BinaryNotFound, find_binary
from pytest_monerosim.backends.monerod.netns import netns_support
from pytest_monerosim.registry import Registry
from tests.sim.conftest import make_registry


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents and "real_network" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.monerod)


@pytest.fixture(scope="session")
def registry() -> Registry:
    return make_registry()


@pytest.fixture(scope="session")
def namespaced() -> None:
    """Skip unless real daemons can run as namespaced hosts."""
    try:
        find_binary("monerod")
    except BinaryNotFound as exc:
        pytest.skip(f"real monerod tests need Debian's package 'monero': {exc}")
    ok, reason = netns_support()
    if not ok:
        pytest.skip(f"the agreement suite needs namespaced daemons: {reason}")
