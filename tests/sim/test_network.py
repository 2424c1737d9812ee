"""Whole worlds: relay, arrivals, orphans and sync, partitions and reorgs, behaviours."""

from __future__ import annotations

from typing import Any

import networkx as nx
import pytest

from pytest_monerosim.backends.sim import build_world, run_scenario
from pytest_monerosim.config.errors import ScenarioError
from pytest_monerosim.config.loader import apply_run_overrides
from pytest_monerosim.registry import Registry
from pytest_monerosim.result.summary import summarize, without_wall_clock
from pytest_monerosim.sim.network import World

from .conftest import miners_mesh, scenario


def test_block_reaches_every_node_with_latency_plus_verification(registry: Registry) -> None:
    sc = scenario(
        [{"group": "m", "role": "miner", "hashrate": 1.0, "behaviour": "constant_mining"},
         {"group": "r", "count": 6}],
        general={"duration": 130},
        network={"topology": "ring", "latency": {"name": "constant", "latency_s": 0.1},
                 "verification_s": 0.02, "bandwidth_bps": 1e12},
    )
    result = run_scenario(sc, registry, snapshot_interval_s=None)
    blocks = [b for b in result.blocks.values() if b.parent is not None]
    assert len(blocks) == 1
    b = blocks[0]
    assert b.found_at == pytest.approx(120.0)
    assert b.arrivals["m"] == b.found_at
    # ring of 7: the farthest node is 3 hops away; each hop = latency + verification
    delays = sorted(t - b.found_at for n, t in b.arrivals.items() if n != "m")
    assert delays[0] == pytest.approx(0.12, abs=1e-6)
    assert delays[-1] == pytest.approx(3 * 0.12, abs=1e-6)
    assert set(result.tips.values()) == {b.id}
    assert result.coinbase_issued == b.reward


def test_uplink_is_shared_between_peers(registry: Registry) -> None:
    # 1 MB blocks over 8 Mbit/s: one second per copy, sent one peer after another.
    sc = scenario(
        [{"group": "m", "role": "miner", "hashrate": 1.0, "behaviour": "constant_mining"},
         {"group": "r", "count": 3}],
        general={"duration": 125},
        network={"topology": "star", "latency": {"name": "constant", "latency_s": 0.01},
                 "verification_s": 0.0, "bandwidth_bps": 8e6},
        mining={"block_size_bytes": 1_000_000},
    )
    result = run_scenario(sc, registry, snapshot_interval_s=None)
    (b,) = [b for b in result.blocks.values() if b.parent is not None]
    delays = sorted(round(t - b.found_at, 6) for n, t in b.arrivals.items() if n != "m")
    assert delays == [1.01, 2.01, 3.01]


def test_observer_receives_but_does_not_relay(registry: Registry) -> None:
    # star: the centre is the only path between leaves
    sc = scenario(
        [{"group": "hub", "role": "observer"},
         {"group": "m", "role": "miner", "hashrate": 1.0},
         {"group": "r", "count": 3}],
        general={"duration": "2h"},
        network={"topology": "star", "latency": {"name": "constant", "latency_s": 0.05}},
    )
    result = run_scenario(sc, registry, snapshot_interval_s=None)
    assert result.height("m") > 10
    assert result.height("hub") == result.height("m")
    assert all(result.height(f"r-{i}") == 0 for i in range(3))


def test_late_joiner_syncs_the_chain(registry: Registry) -> None:
    sc = scenario(
        [{"group": "m", "count": 2, "role": "miner", "hashrate": 1.0},
         {"group": "late", "start_time": "3h"}],
        general={"duration": "3h5m", "seed": 4},
        network={"topology": "mesh"},
    )
    result = run_scenario(sc, registry, snapshot_interval_s=None)
    assert result.height("m-0") > 50
    assert result.tips["late"] == result.tips["m-0"]
    first = min(t for b in result.blocks.values() for n, t in b.arrivals.items() if n == "late")
    assert first >= 3 * 3600


def test_partition_then_heal_reorgs_the_lighter_side(registry: Registry) -> None:
    sc = scenario(
        [{"group": "a", "count": 3, "role": "miner", "hashrate": 1.0},
         {"group": "b", "count": 3, "role": "miner", "hashrate": 0.25}],
        general={"duration": "4h", "seed": 11},
        network={"topology": "mesh"},
    )
    world = build_world(sc, registry, snapshot_interval_s=None)

    def split(x: Any, y: Any) -> bool:
        return x.group == y.group

    def partition() -> None:
        world.add_filter(split)
        world.drop_links(lambda x, y: x.group != y.group)

    world.engine.at(1800, partition)
    world.engine.at(3 * 3600, world.remove_filter, split)
    result = world.run()
    tips = {result.tips[n] for n in result.nodes}
    assert len(tips) == 1, "the network should agree again after the heal"
    deep = [r for r in result.reorgs if r.depth >= 2]
    assert deep and {r.node for r in deep} == {"b-0", "b-1", "b-2"}
    assert all(r.time >= 3 * 3600 for r in deep)
    # the chain that won is the one with more work
    final = result.blocks[result.reference_tip()]
    for r in deep:
        assert result.blocks[r.new_tip].cumulative_difficulty >= \
            result.blocks[r.old_tip].cumulative_difficulty
    assert final.cumulative_difficulty == max(b.cumulative_difficulty
                                              for b in result.blocks.values())
    s = summarize(result)
    assert s["reorgs"]["max_depth"] == max(r.depth for r in result.reorgs) >= 2


def test_orphan_block_triggers_a_sync_from_its_sender(registry: Registry) -> None:
    sc = scenario(
        [{"group": "m", "role": "miner", "hashrate": 1.0, "behaviour": "constant_mining"},
         {"group": "r"}],
        general={"duration": 700},
        network={"topology": "mesh", "latency": {"name": "constant", "latency_s": 0.05},
                 "verification_s": 0.02},
        p2p={"timed_sync_s": "1d"},  # no timed sync gets in the way
    )
    world = build_world(sc, registry, snapshot_interval_s=None)
    # drop everything m sends to r: r misses blocks 1..3, then block 4 comes as an orphan
    def mute(a: Any, b: Any) -> bool:
        return not (a.name == "m" and b.name == "r")

    world.engine.at(1, world.add_filter, mute)  # after the link is up: filters gate links too
    world.engine.at(479, world.remove_filter, mute)
    result = world.run()
    assert result.height("m") == 5
    assert result.tips["r"] == result.tips["m"]
    got = {b.height: b.arrivals["r"] for b in result.blocks.values() if "r" in b.arrivals}
    # Block 4 reaches r as an orphan at 480 + 0.05 + its 4 kB at 100 Mbit/s; the chain
    # request (one round trip) and one batch of 3 blocks (a round trip plus 12 kB) bring
    # 1..3; r verifies them one after another (20 ms each), then 4.
    kb = 4000 * 8 / 100e6
    start = 480 + 0.05 + kb + 0.1 + 0.1 + 3 * kb
    assert [got[h] for h in (1, 2, 3, 4)] == pytest.approx(
        [start + 0.02 * k for k in (1, 2, 3, 4)], abs=1e-9)


def test_same_seed_same_summary_other_seed_differs(registry: Registry) -> None:
    sc = scenario(
        [{"group": "m", "count": 4, "role": "miner", "hashrate": 1.0},
         {"group": "r", "count": 26}],
        general={"duration": "3h", "seed": 5},
        network={"latency": {"name": "uniform", "low": 0.02, "high": 0.3}},
        p2p={"turnover_mean_s": 1800},
    )
    a = without_wall_clock(summarize(run_scenario(sc, registry)))
    b = without_wall_clock(summarize(run_scenario(sc, registry)))
    c = without_wall_clock(summarize(run_scenario(apply_run_overrides(sc, seed=6), registry)))
    assert a == b
    assert a != c


def test_run_scenario_overrides_and_progress(registry: Registry) -> None:
    sc = miners_mesh(3, duration="10h")
    calls: list[tuple[float, float, int]] = []
    result = run_scenario(apply_run_overrides(sc, seed=9, duration=3600), registry,
                          progress=lambda t, d, e: calls.append((t, d, e)), progress_every=50)
    assert result.seed == 9 and result.sim_seconds == 3600 and result.backend == "sim"
    assert calls and all(d == 3600 for _, d, _ in calls)
    assert [e for *_, e in calls] == sorted(e for *_, e in calls)
    assert result.events >= calls[-1][2]
    assert result.wall_seconds > 0


def test_constant_mining_interval(registry: Registry) -> None:
    sc = scenario(
        [{"group": "m", "role": "miner", "hashrate": 1.0,
          "behaviour": {"name": "constant_mining", "interval": "10m"}}],
        general={"duration": "1h"}, network={"topology": "mesh"},
    )
    result = run_scenario(sc, registry, snapshot_interval_s=None)
    times = sorted(b.found_at for b in result.blocks.values() if b.parent is not None)
    assert times == [600.0 * i for i in range(1, 7)]


def test_behaviour_params_are_validated(registry: Registry) -> None:
    bad = scenario([{"group": "m", "role": "miner", "hashrate": 1.0,
                     "behaviour": {"name": "hashrate_mining", "stpes": []}}])
    with pytest.raises(ScenarioError, match="stpes"):  # the layout validates: one error naming the field
        build_world(bad, registry)
    unordered = scenario([{"group": "m", "role": "miner", "hashrate": 1.0,
                           "behaviour": {"name": "hashrate_mining",
                                         "steps": [{"at": "2h", "hashrate": 1},
                                                   {"at": "1h", "hashrate": 2}]}}])
    with pytest.raises(ScenarioError, match="time order"):
        build_world(unordered, registry)


def test_components_see_the_run(registry: Registry) -> None:
    class Recorder:
        def __init__(self) -> None:
            self.found: list[str] = []
            self.accepted = 0
            self.tips = 0
            self.started: list[str] = []
            self.world: World | None = None

        def setup(self, world: World) -> None:
            self.world = world

        def on_node_started(self, node: Any) -> None:
            self.started.append(node.name)

        def on_block_found(self, node: Any, block: Any) -> None:
            self.found.append(block.id)

        def on_block_accepted(self, node: Any, block: Any) -> None:
            self.accepted += 1

        def on_tip_changed(self, node: Any, change: Any) -> None:
            self.tips += 1

        def finish(self, world: World, result: Any) -> None:
            result.extra["recorder"] = len(self.found)

    rec = Recorder()
    result = run_scenario(miners_mesh(3, duration="2h"), registry, components=[rec])
    mined = [b for b in result.blocks.values() if b.parent is not None]
    assert rec.world is not None and sorted(rec.started) == ["m-0", "m-1", "m-2"]
    assert sorted(rec.found) == sorted(b.id for b in mined)
    assert rec.accepted == sum(len(b.arrivals) for b in mined)
    assert result.extra["recorder"] == len(mined)
    assert rec.tips >= 3 * result.height()


def test_static_file_like_graph_has_its_edges(registry: Registry) -> None:
    sc = scenario([{"group": "n", "count": 8}], general={"duration": 600},
                  network={"topology": {"name": "ring", "k": 2}})
    result = run_scenario(sc, registry, snapshot_interval_s=300)
    g = nx.Graph(result.peer_snapshots[-1].edges)
    assert g.number_of_edges() == 16 and all(d == 4 for _, d in g.degree())
    assert [s.time for s in result.peer_snapshots] == [300, 600]


def test_initial_difficulty_counts_the_hashrate_online_at_the_start(registry: Registry) -> None:
    sc = scenario(
        [{"group": "early", "count": 2, "role": "miner", "hashrate": 1.0},
         {"group": "late", "count": 2, "role": "miner", "hashrate": 1.0, "start_time": "1h"}],
        network={"topology": "mesh"},
    )
    world = build_world(sc, registry)
    assert world.hashes_per_unit == 1_000_000 / 2
    assert world.initial_difficulty == 120_000_000


def test_rejected_blocks_and_their_descendants_go_nowhere(registry: Registry) -> None:
    class RejectMinerB:
        """The tx layer's hook in miniature: b's odd blocks break a rule (a double spend,
        say); its even blocks are fine on their own but build on the odd ones."""

        def validate_block(self, node: Any, block: Any) -> bool:
            return block.miner != "b" or node.name == "b" or block.height % 2 == 0

    sc = scenario(
        [{"group": "a", "role": "miner", "hashrate": 1.0},
         {"group": "b", "role": "miner", "hashrate": 1.0,
          "behaviour": {"name": "constant_mining", "interval": 0.2}},
         {"group": "r", "count": 3}],
        general={"duration": 60},
        network={"topology": "mesh", "verification_s": 0.5},  # children queue behind parents
    )
    result = run_scenario(sc, registry, components=[RejectMinerB()], snapshot_interval_s=None)
    by_b = [blk for blk in result.blocks.values() if blk.miner == "b"]
    assert len(by_b) > 100
    assert all(set(blk.arrivals) == {"b"} for blk in by_b)
    for name in ("a", "r-0", "r-1", "r-2"):
        assert all(blk.miner != "b" for blk in result.main_chain(name))
