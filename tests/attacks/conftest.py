"""Helpers for the attack tests: a registry without other layers' plugin modules,
small dynamic networks, and a way to build a world without running it."""

from __future__ import annotations

from typing import Any

from pytest_monerosim.agents import behaviours
from pytest_monerosim.backends.sim import build_world
from pytest_monerosim.config.model import Scenario
from pytest_monerosim.registry import PluginSpec, Registry
from pytest_monerosim.sim.network import World
from pytest_monerosim.topology import plugins as topology_plugins


def make_registry(*specs: PluginSpec[Any]) -> Registry:
    registry = Registry()
    registry.add_all(behaviours.PLUGINS)
    registry.add_all(topology_plugins.PLUGINS)
    registry.add_all(specs)
    return registry


def small_network(attacks: list[dict[str, Any]] | None = None, *, relays: int = 24,
                  miners: int = 3, seed: int = 1, duration: str = "40m",
                  **sections: Any) -> Scenario:
    """Seeds, miners, one ``victim`` and ``relays`` relays on the dynamic topology."""
    data: dict[str, Any] = {
        "general": {"seed": seed, "duration": duration},
        "network": {"topology": {"name": "monero", "seeds": 2}},
        "nodes": [
            {"group": "seeds", "count": 2, "role": "relay", "seed_node": True},
            {"group": "miners", "count": miners, "role": "miner", "hashrate": 1.0},
            {"group": "victim", "role": "relay"},
            {"group": "relays", "count": relays, "role": "relay"},
        ],
        "attacks": attacks or [],
    }
    data.update(sections)
    return Scenario.model_validate(data)


def world_for(scenario: Scenario, *specs: PluginSpec[Any]) -> World:
    return build_world(scenario, make_registry(*specs))


def component(world: World, cls: type) -> Any:
    return next(c for c in world.hooks.components if isinstance(c, cls))
