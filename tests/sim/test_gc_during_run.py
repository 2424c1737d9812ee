"""A world's run collects cycles less often (``GC_YOUNG_THRESHOLD``) and gives the process its
collector settings back afterwards, also when the run raises."""

from __future__ import annotations

import gc

import pytest

from pytest_monerosim.backends.sim import build_world
from pytest_monerosim.config.model import Scenario
from pytest_monerosim.registry import Registry
from pytest_monerosim.sim.network import GC_YOUNG_THRESHOLD

from .conftest import scenario


def small() -> Scenario:
    return scenario([{"group": "seeds", "count": 1, "role": "relay", "seed_node": True},
                     {"group": "miners", "count": 2, "role": "miner", "hashrate": 1.0},
                     {"group": "relays", "count": 5, "role": "relay"}],
                    general={"name": "gc", "seed": 5, "duration": "20m"},
                    network={"topology": {"name": "monero", "seeds": 1}})


def test_the_run_raises_the_young_threshold_and_restores_the_settings(registry: Registry) -> None:
    before = gc.get_threshold()
    frozen_before = gc.get_freeze_count()
    world = build_world(small(), registry, snapshot_interval_s=None)
    during: list[tuple[int, ...]] = []
    world.engine.schedule(60.0, lambda: during.append(gc.get_threshold()))
    world.run()
    assert during == [(GC_YOUNG_THRESHOLD, *before[1:])]
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == frozen_before


def test_settings_are_restored_when_the_run_raises(registry: Registry) -> None:
    before = gc.get_threshold()
    world = build_world(small(), registry, snapshot_interval_s=None)

    def boom() -> None:
        raise RuntimeError("a handler failed")

    world.engine.schedule(60.0, boom)
    with pytest.raises(RuntimeError, match="a handler failed"):
        world.run()
    assert gc.get_threshold() == before
