"""Partition, competing chains, a double spend across the cut, heal: the heavier side wins."""

from __future__ import annotations

from pathlib import Path

from pytest_monerosim import checks
from pytest_monerosim.backends.monerod.actions import NetworkActions
from pytest_monerosim.backends.monerod.network import LoopbackNetwork
from pytest_monerosim.backends.plan import BURN_ADDRESS
from pytest_monerosim.config.model import Scenario
from pytest_monerosim.registry import Registry

WEST = ["w-0", "w-1"]
EAST = ["e-0", "e-1"]


def test_partition_double_spend_heal_reorgs_to_heavier_side(
    registry: Registry, tmp_path: Path
) -> None:
    sc = Scenario.model_validate({
        "general": {"name": "split", "duration": 3600, "seed": 3},
        "network": {"topology": "mesh"},
        "nodes": [{"group": "w", "count": 2, "role": "miner", "hashrate": 1},
                  {"group": "e", "count": 2, "role": "miner", "hashrate": 1}],
        "wallets": [{"name": "alice", "nodes": ["w-0"], "strategy": "hodler"}],
    })
    with LoopbackNetwork.from_scenario(sc, registry, workdir=tmp_path, agents="none",
                                       premine={"alice": 76}) as net:
        net.start()
        act = NetworkActions(net)
        base = act.wait_converged()

        act.partition([WEST, EAST])
        links = act.links()
        assert links, "each side keeps its own connections"
        assert all((a in WEST) == (b in WEST) for a, b in links), links

        spend = act.conflicting_transfers("alice", [("w-0", BURN_ADDRESS), ("e-0", BURN_ADDRESS)])
        assert [s["accepted"] for s in spend.spends] == [True, True], spend.spends

        west_blocks = act.mine("w-0", 2)  # each side mines its own spend
        east_blocks = act.mine("e-0", 3)
        west_tx, east_tx = spend.txids()
        assert west_tx in net.node("w-0").rpc.get_block(block_hash=west_blocks[0])["tx_hashes"]
        assert east_tx in net.node("e-0").rpc.get_block(block_hash=east_blocks[0])["tx_hashes"]
        assert act.wait_converged(WEST) == west_blocks[-1]
        assert act.wait_converged(EAST) == east_blocks[-1]

        act.heal()
        tip = act.wait_converged()
        assert tip == east_blocks[-1], "the heavier (longer, fixed difficulty) chain wins"
        outcome = spend.outcome(act)
        assert outcome["kept"] == [east_tx] and outcome["rejected"] == [west_tx], outcome
        assert outcome["resolved"]
        act.close()
        result = net.collect()

    checks.consensus_reached(result)
    assert result.tips["w-0"] == east_blocks[-1]
    reorged = {r.node: r for r in result.reorgs}
    assert set(reorged) == set(WEST), result.reorgs
    for node in WEST:
        r = reorged[node]
        assert r.depth == 2 and r.new_tip == east_blocks[-1] and r.old_tip == west_blocks[-1]
        assert r.fork_height == result.blocks[base].height
    stale = {b.id for b in result.stale_blocks()}
    assert stale == set(west_blocks)
    assert {result.blocks[b].miner for b in west_blocks} == {"w-0"}
    assert result.txs[east_tx].status == "confirmed"
    assert result.txs[west_tx].status == "rejected"
    assert result.double_spends_rejected == 1
    assert result.attacks["double_spend"]["kept"] == [east_tx]
