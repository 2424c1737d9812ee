"""The eclipse attack: its mechanisms one by one, its checks, its determinism."""

from __future__ import annotations

import random
from typing import Any

import pytest

from pytest_monerosim.attacks.eclipse import SPEC, Eclipse, subnet_addresses
from pytest_monerosim.config.errors import ScenarioError
from pytest_monerosim.runner import prepare
from pytest_monerosim.sim.peers import subnet_of

from .conftest import component, make_registry, small_network, world_for

FAST = {"start": 300, "restart_at": 1200, "restart_downtime": 60}


def eclipse(**params: Any) -> list[dict[str, Any]]:
    return [{"name": "eclipse", "params": {**FAST, **params}}]


NO_SYNC_SEARCH = {"sync_search_s": None}
"""monerod's sync search off: the victim keeps the outgoing peers it takes at the restart
(an ablation, to look at a victim that stays eclipsed)."""


def run(p2p: dict[str, Any] | None = None, **params: Any) -> tuple[Any, Eclipse, dict[str, Any]]:
    world = world_for(small_network(eclipse(**params), **({"p2p": p2p} if p2p else {})), SPEC)
    attack = component(world, Eclipse)
    result = world.run()
    return world, attack, result.attacks["eclipse"]


# -- addresses ---------------------------------------------------------------------------
def test_attacker_addresses_span_exactly_the_requested_subnets() -> None:
    taken = ["5.6.7.8:18080", "9.9.1.1:18080"]
    addresses = subnet_addresses(random.Random(3), 40, 6, taken)
    assert len(addresses) == 40
    assert len({a.rsplit(":", 1)[0] for a in addresses}) == 40, "hosts must be distinct"
    subnets = {subnet_of(a) for a in addresses}
    assert len(subnets) == 6
    assert not subnets & {"5.6", "9.9"}, "attacker /16s avoid the honest nodes' /16s"


def test_subnets_must_fit_the_addresses() -> None:
    with pytest.raises(ValueError, match="subnets=5"):
        subnet_addresses(random.Random(1), 4, 5, [])


# -- mechanisms --------------------------------------------------------------------------
def test_attackers_poison_white_and_gray_lists_and_stay_newest() -> None:
    world = world_for(small_network(eclipse(attackers=16, fake_addresses=40)), SPEC)
    attack = component(world, Eclipse)
    seen: dict[str, Any] = {}

    def probe() -> None:
        victim = world.nodes["victim"]
        attackers = {n.address for n in attack.identities}
        white = victim.book.white
        seen["white_attackers"] = len(attackers & set(white))
        seen["gray_fakes"] = sum(1 for a in victim.book.gray if a not in world.by_address)
        world.p2p.refresh_seen(victim)
        top = sorted(white, key=white.__getitem__, reverse=True)[:10]
        seen["top10_attackers"] = sum(1 for a in top if a in attackers)
        seen["in_from_attackers"] = sum(1 for p, link in victim.links.items()
                                        if p in attack.attacker_nodes and not link.outgoing)

    world.engine.at(1190, probe)
    world.run()
    assert seen["white_attackers"] == 16, "every attacker address is in the victim's white list"
    assert seen["gray_fakes"] > 0, "the fake addresses reached the gray list"
    assert seen["top10_attackers"] >= 9, "attacker entries are the newest in the white list"
    assert seen["in_from_attackers"] >= 14, "attacker addresses hold incoming slots"


def test_attackers_take_no_more_incoming_slots_than_the_victim_has() -> None:
    world = world_for(small_network(eclipse(attackers=16, victim_in_peers=3, restart_at=None)),
                      SPEC)
    attack = component(world, Eclipse)
    counts: list[int] = []

    def probe() -> None:
        victim = world.nodes["victim"]
        counts.append(victim.in_count)
        # incoming only: the victim may dial attacker addresses from its gray list itself
        # (outgoing slots, not the attacker taking incoming ones)
        counts.append(sum(1 for p, link in victim.links.items()
                          if p in attack.attacker_nodes and not link.outgoing))

    for t in (600, 1200, 2000):
        world.engine.at(t, probe)
    world.run()
    assert max(counts) <= 3


def test_only_the_victim_talks_to_attacker_addresses() -> None:
    world, attack, _ = run(attackers=12)
    victim = world.nodes["victim"]
    for node in world.nodes.values():
        if node is victim or node in attack.attacker_nodes:
            continue
        assert not set(node.links) & attack.attacker_nodes, f"{node.name} reached an attacker"


def test_without_anchors_enough_addresses_fully_eclipse_the_victim_after_restart() -> None:
    """Without sync search the eclipse holds to the end and the starved victim stalls."""
    world, attack, m = run(NO_SYNC_SEARCH, attackers=32, victim_anchors=0)
    victim = world.nodes["victim"]
    assert m["eclipsed"] and m["isolated_at_end"]
    assert m["out_fraction"] == 1.0 and m["honest_out"] == 0
    assert all(p in attack.attacker_nodes for p in victim.out_peers())
    assert m["time_to_eclipse_s"] is not None and 60 <= m["time_to_eclipse_s"] <= 120
    assert m["eclipse_held_s"] == pytest.approx(2400 - 1200 - m["time_to_eclipse_s"])  # to the end
    assert m["victim_chain"] == "stalled" and m["height_lag"] >= 2


def test_sync_search_breaks_the_eclipse_and_the_victim_catches_up() -> None:
    """monerod's sync search: every 101 s the full victim drops one outgoing peer and draws
    another; honest entries in its lists win some draws, so the eclipse ends and the victim
    gets the honest chain again."""
    _, _, m = run(attackers=32, victim_anchors=0)
    assert m["eclipsed"] and m["peak_out_fraction"] == 1.0
    assert m["time_to_eclipse_s"] is not None and 60 <= m["time_to_eclipse_s"] <= 120
    assert m["eclipse_held_s"] is not None and m["eclipse_held_s"] < 2400 - 1200 - m["time_to_eclipse_s"]
    assert m["out_fraction"] < 1.0 and m["honest_out"] >= 1
    assert m["victim_chain"] == "honest", m


def test_an_anchor_reconnects_first_after_the_restart() -> None:
    """monerod 0.18 reconnects ONE anchor (get_and_empty_anchor_peerlist empties the list
    when one call takes it), which the attacker cannot displace: no full eclipse."""
    world = world_for(small_network(eclipse(attackers=32, victim_anchors=2)), SPEC)
    attack = component(world, Eclipse)
    first: list[tuple[str, str | None]] = []

    class Watch:
        def on_connect(self, node: Any, peer: Any, outgoing: bool) -> None:
            if node.name == "victim" and outgoing and world.engine.now > 1200 and not first:
                r = world.p2p.rounds.get(node)
                first.append((peer.name, r.kind if r else None))

    world.add_component(Watch())
    m = world.run().attacks["eclipse"]
    assert len(first) == 1 and not first[0][0].startswith("eclipse") and first[0][1] == "anchor"
    assert not m["eclipsed"] and m["honest_out"] >= 1
    assert attack.victims  # the victim was resolved


def test_few_subnets_cap_the_attackers_outgoing_share() -> None:
    _, _, m = run(attackers=32, subnets=3, victim_anchors=0)
    assert round(m["out_fraction"] * 12) <= 3
    assert not m["eclipsed"]


def test_relaying_attacker_keeps_the_eclipsed_victim_in_sync() -> None:
    world, attack, m = run(attackers=32, victim_anchors=0, relay_blocks=True)
    assert attack.feed is not None and attack.feed.name in m["attackers"]
    assert m["eclipsed"]
    assert m["victim_chain"] == "honest" and m["height_lag"] <= 1


def test_attacker_mining_feeds_the_eclipsed_victim_its_own_chain() -> None:
    world, _, m = run(NO_SYNC_SEARCH, attackers=32, victim_anchors=0, hashrate=2.0)
    assert m["eclipsed"]
    assert m["victim_chain"] == "attacker"
    assert world.nodes["victim"].chain.tip.miner.startswith("eclipse-")


def test_a_group_victim_reports_each_node() -> None:
    _, attack, m = run(victim="miners", attackers=8)
    assert sorted(m["victim"]) == ["miners-0", "miners-1", "miners-2"]
    assert set(m["victims"]) == set(m["victim"])
    assert len(attack.victims) == 3


def test_metrics_follow_the_convention() -> None:
    _, _, m = run(attackers=8)
    assert m["params"]["attackers"] == 8
    assert m["victim"] == ["victim"]
    assert len(m["attackers"]) == 8
    for name in ("out_fraction", "all_fraction", "honest_out", "height_lag"):
        series = m["series"][name]
        assert series and all(len(point) == 2 for point in series)
        times = [t for t, _ in series]
        assert times == sorted(times)
    scalars = ("out_fraction", "eclipsed", "time_to_eclipse_s", "height_lag", "victim_chain")
    for key in scalars:
        assert key in m


def test_same_seed_same_metrics() -> None:
    a = run(attackers=20, victim_anchors=0)[2]
    b = run(attackers=20, victim_anchors=0)[2]
    assert a == b


# -- check() ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("params", "sections", "message"),
    [
        ({"victim": "nobody"}, {}, "victim='nobody' is not a node or group"),
        ({"victim": "relays"}, {"nodes": [{"group": "relays", "count": 5}]},
         "covers every honest node"),
        ({}, {"network": {"topology": "mesh"}}, "topology='mesh'"),
        ({"restart_at": 2350}, {}, "restart_at=2350"),
        ({"start": 9999, "restart_at": None}, {}, "start=9999"),
    ],
)
def test_bad_input_is_one_clear_error_before_the_run(params: dict[str, Any],
                                                     sections: dict[str, Any],
                                                     message: str) -> None:
    scenario = small_network([{"name": "eclipse", "params": {**FAST, **params}}], **sections)
    with pytest.raises(ScenarioError, match=message):
        prepare(scenario, make_registry(SPEC))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"attackers": 4, "subnets": 5}, "subnets=5 exceeds attackers=4"),
        ({"start": 600, "restart_at": 300}, "restart_at=300 is before start=600"),
        ({"attackers": 0}, "attackers"),
        ({"victim_anchors": -1}, "victim_anchors"),
    ],
)
def test_bad_params_fail_validation(params: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SPEC.validate(params)
