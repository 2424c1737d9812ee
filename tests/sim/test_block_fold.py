"""Folded duplicate block deliveries (sim/block_relay.py) change no result, the event count
included: each run here is compared with the same run scheduling every delivery."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pytest_monerosim.backends.sim import build_world
from pytest_monerosim.config.loader import apply_run_overrides, load_scenario
from pytest_monerosim.config.model import Scenario
from pytest_monerosim.registry import default_registry
from pytest_monerosim.result.summary import summarize, without_wall_clock

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "scenarios"


def churny(latency: dict[str, Any], verification_s: float) -> Scenario:
    """Restarts, turnover and slow uplinks (long send queues, so later sends overtake earlier
    ones): the paths where a first delivery is refused or overtaken."""
    return Scenario.model_validate({
        "general": {"name": "fold", "seed": 11, "duration": "3h"},
        "network": {"topology": {"name": "monero", "seeds": 2}, "latency": latency,
                    "verification_s": verification_s},
        "p2p": {"out_peers": 6, "turnover_mean_s": "20m"},
        "nodes": [
            {"group": "seeds", "count": 2, "role": "relay", "seed_node": True},
            {"group": "miners", "count": 4, "role": "miner", "hashrate": 1.0},
            {"group": "slow", "count": 10, "role": "relay", "bandwidth_bps": 2e5},
            {"group": "relays", "count": 24, "role": "relay",
             "churn": {"mean_session_s": "30m", "mean_downtime_s": "5m"}},
        ],
    })


def partition() -> Scenario:
    sc = load_scenario(FIXTURES / "partition.yaml")
    data = sc.model_dump(mode="json")
    data["attacks"] = [{"name": "partition", "params": {}}]
    return apply_run_overrides(Scenario.model_validate(data), duration=4 * 3600.0)


def run(sc: Scenario, fold: bool) -> tuple[Any, int]:
    world = build_world(sc, default_registry())
    world.relay.fold_duplicates = fold
    folded = 0
    settle = world.relay._settle

    def count(node: Any, block: Any) -> Any:
        nonlocal folded
        later = settle(node, block)
        folded += len(later or ())
        return later

    world.relay._settle = count  # type: ignore[method-assign]
    result = world.run()
    blocks = {b.id: (b.arrivals, b.found_at) for b in result.blocks.values()}
    return (without_wall_clock(summarize(result)), result.events, blocks, result.tips,
            result.reorgs, [s.edges for s in result.peer_snapshots]), folded


@pytest.mark.parametrize("make", [
    lambda: churny({"name": "uniform", "low": 0.02, "high": 0.3}, 0.02),
    lambda: churny({"name": "constant", "latency_s": 0.05}, 0.0),  # equal times are common
    partition,
], ids=["churn-slow-uplinks", "constant-latency", "partition"])
def test_folding_changes_no_result(make: Any) -> None:
    folded_run, folded = run(make(), True)
    plain_run, none = run(make(), False)
    assert none == 0
    assert folded > 0, "the run had duplicate deliveries to fold"
    assert folded_run == plain_run
