"""A 5-node, 2-wallet network on real monerod, through the same path as the simulator."""

from __future__ import annotations

import math
from pathlib import Path

from pytest_monerosim import checks
from pytest_monerosim.backends import RunOptions
from pytest_monerosim.config.model import Scenario
from pytest_monerosim.registry import Registry
from pytest_monerosim.runner import run_scenario


def five_nodes(topology: str = "monero") -> Scenario:
    return Scenario.model_validate({
        "general": {"name": "five", "duration": 1200, "seed": 7},
        "network": {"topology": topology},
        "p2p": {"out_peers": 2},
        "nodes": [
            {"group": "miner", "count": 2, "role": "miner", "hashrate": 1},
            {"group": "relay", "count": 3},
        ],
        "wallets": [{"name": "coinbase", "node_group": "miner", "strategy": "mining_wallet"}],
    })


def test_five_nodes_two_wallets_pass_the_same_checks(registry: Registry, tmp_path: Path) -> None:
    progress: list[float] = []
    run = run_scenario(
        five_nodes(), backend="monerod", registry=registry,
        options=RunOptions(workdir=tmp_path, progress=lambda t, d, n: progress.append(t)),
    )
    result = run.result
    assert run.summary["backend"] == "monerod"
    assert sorted(result.nodes) == ["miner-0", "miner-1", "relay-0", "relay-1", "relay-2"]

    checks.consensus_reached(run)
    checks.connected(run)
    checks.no_isolated_nodes(run)

    blocks = run.summary["blocks"]
    assert blocks["mined"] >= 1, "two miners at one block per 120 s mine in 1200 s"
    assert {b.miner for b in result.main_chain()[1:]} <= {"miner-0", "miner-1"}
    for block in result.main_chain()[1:]:
        assert set(block.arrivals) == set(result.nodes), f"{block.id} did not reach every node"
        assert all(t >= block.found_at - 0.5 for t in block.arrivals.values())
    assert all(len(s.times) >= 1 for s in result.tip_history.values())

    wallets = result.wallets
    assert sorted(wallets) == ["coinbase-0", "coinbase-1"]
    by_miner = run.summary["rewards"]["by_miner"]
    for wallet in wallets.values():
        assert wallet.balance == by_miner.get(wallet.node, 0), "coinbase goes to the miner's wallet"
    assert sum(w.balance for w in wallets.values()) == result.coinbase_issued

    assert progress and progress[-1] <= 1200.0
    assert math.isclose(result.sim_seconds, 1200.0, rel_tol=0.05)
    if result.extra["network"]["isolation"] == "loopback":
        assert result.extra["loopback_peers"], "the monero topology is emulated on loopback"
    else:  # namespaces: monerod's own discovery, every host on its own address
        assert "loopback_peers" not in result.extra
        assert len(set(result.extra["network"]["hosts"][n]["addresses"][0] for n in result.nodes)) == 5
    assert not result.extra["agent_errors"]
