"""Helpers for the tx layer's tests: a registry of the plugins the simulator needs."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_monerosim.agents import behaviours, wallets
from pytest_monerosim.config.model import Scenario
from pytest_monerosim.registry import Registry
from pytest_monerosim.topology import plugins as topology_plugins


def make_registry() -> Registry:
    registry = Registry()
    for module in (behaviours, wallets, topology_plugins):
        registry.add_all(module.PLUGINS)
    return registry


@pytest.fixture
def registry() -> Registry:
    return make_registry()


def quickstart(duration: str | float = "6h", seed: int = 12345, **tx: Any) -> Scenario:
    """Upstream Monerosim's quickstart shape: 5 miners at hashrate 20, 3 users from t=2400 s
    sending every 120 s, a relay, a distributor."""
    data: dict[str, Any] = {
        "general": {"name": "quickstart", "seed": seed, "duration": duration},
        "network": {"topology": {"name": "monero"}},
        "nodes": [
            {"group": "miners", "count": 5, "role": "miner", "hashrate": 20, "seed_node": True},
            {"group": "users", "count": 3, "role": "user"},
            {"group": "relay", "role": "relay"},
        ],
        "wallets": [
            {"name": "miner", "node_group": "miners", "strategy": "mining_wallet"},
            {"name": "user", "node_group": "users",
             "strategy": {"name": "transaction_bot", "interval_s": 120, "start_time": 2400}},
            {"name": "distributor", "nodes": ["relay"],
             "strategy": "distributor"},
        ],
    }
    if tx:
        data["transactions"] = tx
    return Scenario.model_validate(data)
