"""The partition attack: the cut, the heal, its checks, its determinism."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_monerosim.attacks.partition import SPEC, Partition
from pytest_monerosim.config.errors import ScenarioError
from pytest_monerosim.runner import prepare

from .conftest import component, make_registry, small_network, world_for

CUT = {"parts": [["miners-0", "miners-1", "seeds-0", "relays"]], "start": 900, "heal": 2700}


def partition(**params: Any) -> list[dict[str, Any]]:
    return [{"name": "partition", "params": {**CUT, **params}}]


def scenario(**params: Any) -> Any:
    return small_network(partition(**params), duration="1h", relays=20,
                         p2p={"turnover_mean_s": 1200})


def test_parts_resolve_nodes_groups_and_the_rest() -> None:
    world = world_for(scenario(), SPEC)
    attack = component(world, Partition)
    world.run()
    part = {n.name: attack.part(n) for n in world.nodes.values()}
    assert part["miners-0"] == part["relays-7"] == part["seeds-0"] == "a"
    assert part["miners-2"] == part["victim"] == part["seeds-1"] == "rest"


def test_no_link_and_no_block_crosses_the_cut() -> None:
    world = world_for(scenario(), SPEC)
    attack = component(world, Partition)
    crossing: list[tuple[float, str, str]] = []

    class Watch:
        def on_connect(self, node: Any, peer: Any, outgoing: bool) -> None:
            now = world.engine.now
            if 900 <= now < 2700 and attack.part(node) != attack.part(peer):
                crossing.append((now, node.name, peer.name))

    live: list[int] = []

    def probe() -> None:
        live.append(sum(1 for n in world.nodes.values() for p in n.links
                        if attack.part(n) != attack.part(p)))

    world.add_component(Watch())
    for t in (901, 1800, 2699):
        world.engine.at(t, probe)
    result = world.run()
    assert not crossing
    assert live == [0, 0, 0]
    # Blocks found during the cut stay on their side until the heal.
    for block in result.blocks.values():
        if not 900 <= block.found_at < 2700:
            continue
        side = attack.part(world.nodes[block.miner])
        for node, arrived in block.arrivals.items():
            if arrived < 2700:
                assert attack.part(world.nodes[node]) == side, f"{block.id} reached {node} at {arrived}"


def test_heal_reconnects_and_the_network_reconverges() -> None:
    world = world_for(scenario(), SPEC)
    attack = component(world, Partition)
    result = world.run()
    m = result.attacks["partition"]
    assert m["healed_at"] == 2700
    assert any(attack.part(n) != attack.part(p) for n in world.nodes.values() for p in n.links)
    assert m["reconverged"] and m["reconverge_s"] is not None
    assert len({result.tips[n] for n in result.honest_nodes()}) <= 2
    # The cut splits the chain: the run saw more than one tip while it lasted.
    assert max(v for t, v in m["series"]["distinct_tips"] if 900 < t < 2700) >= 2


def test_blocks_per_side_and_the_heavier_side_wins() -> None:
    result = world_for(scenario(), SPEC).run()
    m = result.attacks["partition"]
    assert set(m["blocks"]) == {"a", "rest"}
    assert sum(m["blocks"].values()) == sum(1 for b in result.blocks.values()
                                            if b.parent and 900 <= b.found_at < 2700)
    assert m["heavier"] in ("a", "rest")
    if m["reconverged"]:
        assert m["winner"] is not None
    assert m["lighter_blocks"] <= m["reorg_depth"] <= m["lighter_mined"]
    assert m["txs_reversed"] is None, "no tx layer in this scenario"


def test_a_cut_that_never_heals_never_reconverges() -> None:
    m = world_for(scenario(heal=None), SPEC).run().attacks["partition"]
    assert m["healed_at"] is None and not m["reconverged"] and m["reconverge_s"] is None


def test_default_split_shares_every_group() -> None:
    world = world_for(small_network(partition(parts=None, split=0.5), duration="1h", relays=20),
                      SPEC)
    attack = component(world, Partition)
    world.run()
    sides: dict[str, dict[str, int]] = {}
    for node in world.nodes.values():
        sides.setdefault(node.group, {}).setdefault(attack.part(node), 0)
        sides[node.group][attack.part(node)] += 1
    assert sides["relays"] == {"a": 10, "b": 10}
    assert sides["miners"] == {"a": 2, "b": 1}


def test_regions_resolve_when_the_run_starts() -> None:
    latency = {"name": "regions", "regions": [{"name": "eu", "weight": 0.5},
                                              {"name": "us", "weight": 0.5}],
               "latency_s": {"eu": {"eu": 0.01, "us": 0.05}, "us": {"us": 0.01}}}
    sc = small_network(partition(parts=[["region:eu"]]), duration="1h", relays=20,
                       network={"topology": {"name": "monero", "seeds": 2}, "latency": latency})
    world = world_for(sc, SPEC)
    attack = component(world, Partition)
    world.run()
    for node in world.nodes.values():
        assert attack.part(node) == ("a" if node.region == "eu" else "rest")


def test_same_seed_same_metrics() -> None:
    a = world_for(scenario(), SPEC).run().attacks["partition"]
    b = world_for(scenario(), SPEC).run().attacks["partition"]
    assert a == b


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"parts": [["nobody"]]}, "parts.a='nobody' is not a node, group or region"),
        ({"parts": [["miners"], ["miners-1", "relays"]]},
         "parts overlap: node 'miners-1' is in part 'a' and in part 'b'"),
        ({"parts": [["region:mars"]]}, "no region 'mars'"),
        ({"parts": [["seeds", "miners", "victim", "relays"]]}, "holds every node"),
        ({"heal": 3600}, "heal=3600 s is not before the end of the run"),
        ({"start": 3600, "heal": None}, "start=3600"),
    ],
)
def test_bad_input_is_one_clear_error_before_the_run(params: dict[str, Any], message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        prepare(scenario(**params), make_registry(SPEC))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start": 600, "heal": 600}, "heal=600 must be after start=600"),
        ({"start": 600, "heal": 300}, "t2 > t1"),
        ({"parts": {"rest": ["miners"]}}, "reserved"),
        ({"parts": {"a": []}}, "part 'a' has no members"),
        ({"split": 1.0}, "split"),
    ],
)
def test_bad_params_fail_validation(params: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SPEC.validate(params)


def test_txs_confirmed_on_the_losing_side_are_reversed_at_the_heal() -> None:
    from pytest_monerosim.backends.sim import build_world

    from .test_sybil import transacting, tx_registry

    data = transacting().model_dump()
    data["general"]["duration"] = 3600
    side = ["miners-0", "miners-1", "seeds-0"] + [f"users-{i}" for i in range(10)]
    data["attacks"] = [{"name": "partition",
                        "params": {"parts": [side], "start": 1500, "heal": 2400}}]
    registry = tx_registry()
    registry.add(SPEC)
    result = build_world(type(scenario()).model_validate(data), registry).run()
    m = result.attacks["partition"]
    assert m["reorg_depth"] > 0 and m["orphaned"] > 0
    settled = m["healed_at"] + m["reconverge_s"]
    main = {x.id for x in result.main_chain()}
    orphaned = [b for b in result.blocks.values()
                if b.id not in main and 1500 <= b.found_at <= settled]
    in_orphans = {t for b in orphaned for t in b.tx_ids}
    assert m["txs_reversed"] == len(in_orphans) > 0
    assert 0 <= m["txs_not_reconfirmed"] <= m["txs_reversed"]
