"""A small hand-built Result (fork, reorg, attacker, victim, time series) for the reporting tests.

Built without the simulator so the report/observe units run on their own.
"""

from __future__ import annotations

import random

from pytest_monerosim.result.model import (
    BlockRecord,
    NodeInfo,
    PeerSnapshot,
    ReorgRecord,
    Result,
    TipSeries,
)


def fake_result(nodes: int = 10, blocks: int = 30, seed: int = 3) -> Result:
    rng = random.Random(seed)
    names = [f"n{i}" for i in range(nodes)]
    res = Result(scenario="fake", backend="sim", seed=seed, sim_seconds=blocks * 120.0 + 60, events=12345)
    for i, name in enumerate(names):
        attacker = i == nodes - 1
        res.nodes[name] = NodeInfo(
            name,
            "attackers" if attacker else "nodes",
            "attacker" if attacker else ("miner" if i < 3 else "relay"),
            honest=not attacker,
            hashrate=1.0 if i < 3 else 0.0,
        )
    genesis = BlockRecord("g", 0, None, "", 0.0, 1, 1, 0, arrivals={n: 0.0 for n in names})
    res.blocks["g"] = genesis
    res.genesis = "g"
    for n in names:
        res.tip_history[n] = TipSeries()
        res.tip_history[n].append(0.0, 0)
    parent = genesis
    for h in range(1, blocks + 1):
        t = h * 120.0 + rng.uniform(-30, 30)
        miner = names[rng.randrange(3)]
        arrivals = {n: t + (0.0 if n == miner else rng.uniform(0.05, 2.0)) for n in names}
        block = BlockRecord(
            f"b{h}",
            h,
            parent.id,
            miner,
            t,
            10,
            parent.cumulative_difficulty + 10,
            600_000_000_000,
            arrivals=arrivals,
        )
        res.blocks[block.id] = block
        for n, at in arrivals.items():
            res.tip_history[n].append(at, h)
        if h == blocks // 2:  # a stale sibling seen by the victim, then a reorg back
            stale = BlockRecord(
                f"s{h}",
                h,
                parent.id,
                names[-1],
                t + 1,
                10,
                parent.cumulative_difficulty + 10,
                600_000_000_000,
                arrivals={"n3": t + 1.5, names[-1]: t + 1},
            )
            res.blocks[stale.id] = stale
            res.reorgs.append(ReorgRecord("n3", t + 130, 1, stale.id, f"b{h + 1}", h - 1))
        parent = block
    res.tips = {n: parent.id for n in names}
    edges = [(a, b) for i, a in enumerate(names) for b in names[i + 1 : i + 3]]
    edges += [("n3", names[-1])]
    res.peer_snapshots = [PeerSnapshot(0.0, edges[:5]), PeerSnapshot(res.sim_seconds, edges)]
    res.attacks["eclipse"] = {
        "victim": "n3",
        "eclipsed": False,
        "attacker_share": 0.25,
        "attacker_share_series": [[0.0, 0.0], [600.0, 0.125], [1800.0, 0.25]],
    }
    res.wall_seconds = 0.42
    return res
