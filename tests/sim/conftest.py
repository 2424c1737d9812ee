"""Shared helpers for the simulator's tests.

The registry is built here from the modules the simulator needs (behaviours,
topologies, latency models) rather than ``default_registry()``, so these
tests do not depend on other layers' plugin modules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import pytest

from pytest_monerosim.agents import behaviours
from pytest_monerosim.config.model import Scenario
from pytest_monerosim.registry import Registry
from pytest_monerosim.topology import plugins as topology_plugins

T = TypeVar("T")


def compiled(monkeypatch: pytest.MonkeyPatch, env: str, load: Callable[[], T | None]) -> T:
    """A compiled kernel loaded with its switch ``env`` unset (the test skips without numba)."""
    pytest.importorskip("numba")
    monkeypatch.delenv(env, raising=False)
    loaded = load()
    assert loaded is not None, "numba imports but the kernel did not load"
    return loaded


def make_registry() -> Registry:
    registry = Registry()
    registry.add_all(behaviours.PLUGINS)
    registry.add_all(topology_plugins.PLUGINS)
    return registry


@pytest.fixture
def registry() -> Registry:
    return make_registry()


def scenario(nodes: list[dict[str, Any]], **sections: Any) -> Scenario:
    """A scenario from node groups plus optional sections (``general={...}`` etc.)."""
    data: dict[str, Any] = {"nodes": nodes}
    data.update(sections)
    return Scenario.model_validate(data)


def miners_mesh(miners: int, *, latency_s: float = 0.05, verification_s: float = 0.0,
                duration: str | float = "6h", seed: int = 1, **extra: Any) -> Scenario:
    """``miners`` equal miners, fully connected, constant latency."""
    return scenario(
        [{"group": "m", "count": miners, "role": "miner", "hashrate": 1.0}],
        general={"seed": seed, "duration": duration},
        network={"topology": "mesh", "latency": {"name": "constant", "latency_s": latency_s},
                 "verification_s": verification_s, "bandwidth_bps": 1e9},
        **extra,
    )
