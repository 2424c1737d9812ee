"""monerod's sync search: a node with every outgoing slot taken drops one every 101 s.

``update_sync_search`` (cryptonote_protocol_handler.inl, ``m_sync_search_checker``,
``once_a_time_seconds<101>``) drops the last synced non-anchor outgoing peer of a synced
node whose outgoing slots are all taken; the connection maker then fills the slot. The
comparison with real daemons after an hour (``tests/agreement/test_lists_hour_monerod.py``)
is what showed the simulator lacked it.
"""

from __future__ import annotations

from typing import Any

from pytest_monerosim.backends.sim import build_world
from pytest_monerosim.registry import Registry
from pytest_monerosim.sim.network import World

from .conftest import scenario

PERIOD = 101.0


class Dials:
    """Every outgoing connection made, as (time, dialler, peer)."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.made: list[tuple[float, str, str]] = []

    def on_connect(self, node: Any, peer: Any, outgoing: bool) -> None:
        if outgoing:
            self.made.append((self.world.engine.now, node.name, peer.name))


def relays(p2p: dict[str, Any]) -> Any:
    """40 relays and no miner: blocks would make nodes sync, and this is the P2P layer alone."""
    return scenario([{"group": "r", "count": 40}], general={"duration": 3600.0, "seed": 5},
                    network={"latency": {"name": "uniform", "low": 0.02, "high": 0.2}},
                    p2p={"out_peers": 4, **p2p})


def run(registry: Registry, p2p: dict[str, Any]) -> tuple[World, Dials]:
    sc = relays(p2p)
    world = build_world(sc, registry, snapshot_interval_s=None)
    dials = Dials(world)
    world.hooks.add(dials)
    world.run()
    return world, dials


def test_a_full_node_replaces_one_outgoing_peer_every_101_s(registry: Registry) -> None:
    world, dials = run(registry, {})
    late = [(t, a, b) for t, a, b in dials.made if t > PERIOD - 1]
    by_node: dict[str, list[float]] = {}
    for t, a, _ in late:
        by_node.setdefault(a, []).append(t)
    for node in world.nodes.values():
        times = by_node.get(node.name, [])
        # one drop per period (35 in the hour after the first 101 s), each refilled at once
        assert 30 <= len(times) <= 36, (node.name, len(times))
        for t in times:
            phase = (t - node.start_time) % PERIOD
            assert phase < 15.0, (node.name, t, phase)  # the maker redials within seconds
        assert node.out_count == 4


def test_without_sync_search_a_full_node_keeps_its_peers(registry: Registry) -> None:
    world, dials = run(registry, {"sync_search_s": None})
    assert all(t < PERIOD for t, _, _ in dials.made), [d for d in dials.made if d[0] >= PERIOD][:5]
    assert all(n.out_count == 4 for n in world.nodes.values())


def test_sync_search_never_drops_an_anchor_connection(registry: Registry) -> None:
    sc = relays({"anchors": 2})
    world = build_world(sc, registry, snapshot_interval_s=None)
    victim = world.nodes["r-10"]
    victim.restart(at=600.0, downtime=30.0)
    anchored: list[Any] = []
    world.engine.at(700.0, lambda: anchored.extend(
        p for p, link in victim.links.items() if link.outgoing and link.anchor))
    world.run()
    assert len(anchored) == 1  # one anchor reconnects (the list is emptied when taken)
    link = victim.links.get(anchored[0])
    assert link is not None and link.outgoing and link.anchor
    assert victim.out_count == 4
