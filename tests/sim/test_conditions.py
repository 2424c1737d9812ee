"""Mainnet conditions: NAT, --hide-my-port, churn, spies, ban lists (sim/conditions.py)."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from pydantic import ValidationError

from pytest_monerosim.layout import build_layout
from pytest_monerosim.registry import Registry
from pytest_monerosim.sim.network import World

from .conftest import scenario


def net(groups: list[dict[str, Any]], duration: str = "1h", seed: int = 5) -> Any:
    base = [{"group": "seeds", "count": 2, "role": "relay", "seed_node": True},
            {"group": "miners", "count": 2, "role": "miner", "hashrate": 1.0}]
    return scenario(base + groups, general={"seed": seed, "duration": duration},
                    network={"topology": {"name": "monero", "seeds": 2}})


def run(sc: Any, registry: Registry) -> tuple[World, Any]:
    world = World(build_layout(sc, registry), registry)
    return world, world.run()


def whitelisted(world: World) -> set[str]:
    return {a for n in world.nodes.values() for a in n.book.white}


def test_nat_nodes_connect_out_but_are_never_whitelisted(registry: Registry) -> None:
    world, result = run(net([{"group": "users", "count": 30, "role": "user", "reachable": 0.25}]),
                        registry)
    nat = [n for n in world.nodes.values() if n.group == "users" and n.in_limit == 0]
    assert len(nat) == 30 - round(0.25 * 30)
    assert all(n.out_count > 0 for n in nat), "NAT nodes still connect out"
    assert all(n.in_count == 0 for n in nat)
    white = whitelisted(world)
    assert not any(n.address in white for n in nat)
    assert result.extra["reachability"]["unreachable"] == len(nat)


def test_hidden_nodes_are_never_advertised(registry: Registry) -> None:
    world, _ = run(net([{"group": "users", "count": 20, "role": "user", "hidden": 0.5}]), registry)
    hidden = [n for n in world.nodes.values() if n.hidden]
    assert len(hidden) == 10
    assert all(n.accepts_incoming and n.out_count > 0 for n in hidden)
    white = whitelisted(world)
    assert not any(n.address in white for n in hidden)
    shown = [n for n in world.nodes.values() if n.group == "users" and not n.hidden]
    assert sum(n.address in white for n in shown) > len(shown) // 2


def test_churn_keeps_peer_lists_and_reconnects(registry: Registry) -> None:
    churn = {"mean_session_s": "20m", "mean_downtime_s": "5m", "fraction": 0.5, "min_downtime_s": 60}
    world, result = run(net([{"group": "relays", "count": 20, "churn": churn}], duration="3h"), registry)
    info = result.extra["churn"]
    assert info["nodes"] == 10 and info["stops"] > 20
    churned = [n for n in world.nodes.values() if n.gen > 3]  # stopped and started again
    assert churned and all(n.book.white for n in churned), "peer lists survive a restart"
    back = [n for n in churned if n.online]
    assert back and all(n.out_count > 0 for n in back)
    honest_tips = {result.tips[n] for n in result.honest_nodes() if n not in result.extra["offline_at_end"]}
    assert len(honest_tips) <= 2


def test_the_layouts_churn_schedule_is_the_simulators_churn(registry: Registry) -> None:
    """``churn_schedule`` (what the real backends replay) draws what the simulator's churn
    draws: every stop and return, at the same times."""
    from pytest_monerosim.backends.sim import build_world
    from pytest_monerosim.layout.conditions import churn_schedule

    churn = {"mean_session_s": "20m", "mean_downtime_s": "5m", "fraction": 0.5, "min_downtime_s": 60}
    sc = net([{"group": "relays", "count": 20, "churn": churn},
              {"group": "late", "count": 4, "start_time": "10m", "churn": {**churn, "fraction": 1.0}}],
             duration="3h")
    world = build_world(sc, registry, snapshot_interval_s=None)
    seen: dict[str, list[float]] = {}
    stop, start = world.p2p.stop, world.p2p.start

    def stopping(node: Any) -> None:
        seen.setdefault(node.name, []).append(world.engine.now)
        stop(node)

    def starting(node: Any) -> None:
        if node.name in seen:  # a return (the first start is the node's own)
            seen[node.name].append(world.engine.now)
        start(node)

    world.p2p.stop, world.p2p.start = stopping, starting  # type: ignore[method-assign]
    world.run()
    planned = churn_schedule(world.layout)
    assert len(planned) == 14 and sum(map(len, planned.values())) > 20
    for name, downs in planned.items():
        flat = [t for down in downs for t in down if t <= world.duration]
        assert seen.get(name, []) == pytest.approx(flat, abs=1e-9), name


def test_spies_sit_in_few_subnets_and_relay_nothing(registry: Registry) -> None:
    spies = {"group": "spies", "count": 40, "honest": False, "out_peers": 0,
             "spy": {"subnets": 2, "announce": 10}}
    world, result = run(net([{"group": "relays", "count": 20}, spies]), registry)
    nodes = [n for n in world.nodes.values() if n.group == "spies"]
    assert len({n.subnet for n in nodes}) == 2
    assert len({n.host for n in nodes}) == 40
    assert all(not n.relaying and n.out_count == 0 for n in nodes)
    m = result.extra["spies"]
    assert m["spies"] == 40 and m["announced"] > 0 and m["out_share"] > 0
    # monerod takes one outgoing peer per /16 while others exist (it falls back to a second one
    # in a /16 only when a pick finds nothing else): 2 /16s hold about 2 of 12 slots
    full = [n for n in world.nodes.values() if n.honest and n.out_count >= 12]
    per_node = [sum(p.group == "spies" for p in n.out_peers()) for n in full]
    assert full and sum(per_node) / len(per_node) <= 2.5


def test_ban_list_keeps_spies_out(registry: Registry) -> None:
    spies = {"group": "spies", "count": 40, "honest": False, "out_peers": 0,
             "spy": {"subnets": 2, "announce": 10}}
    relays = {"group": "relays", "count": 20, "ban_list": ["group:spies", "203.0.113.7"]}
    world, result = run(net([relays, spies]), registry)
    banned = [ipaddress.ip_network(x) for x in result.extra["reachability"]["ban_lists"]["relays"]]
    assert ipaddress.ip_network("203.0.113.7/32") in banned
    spy_hosts = {n.address for n in world.nodes.values() if n.group == "spies"}
    for n in world.nodes.values():
        if n.group == "relays":
            assert not any(p.group == "spies" for p in n.links)
            assert not spy_hosts & set(n.book.white)


@pytest.mark.parametrize("group, field", [
    ({"ban_list": ["10.0.0.0/33x"]}, "ban_list"),
    ({"ban_list": ["group:nope"]}, "group:nope"),
    ({"churn": {"mean_session_s": 60, "mean_downtime_s": 60, "min_session_s": 100,
                "max_session_s": 50}}, "max_session_s"),
    ({"reachable": 1.5}, "reachable"),
    ({"spy": {"relay": "some"}}, "relay"),
])
def test_bad_values_name_the_field(group: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as err:
        net([{"group": "users", "count": 3, **group}])
    assert field in str(err.value)
