"""Debian's monerod 0.18.0.0 limits the connections it opens by its per-host limit.

Debian bookworm's ``monero`` (0.18.0.0+~0+20200826-1+deb12u1) runs ``is_host_limit`` on
every new connection, where upstream runs it on incoming ones only (``is_income &&`` in
abstract_tcp_server2.inl): a node cannot open a connection to a host that already has an
incoming connection to it, nor any connection once its incoming slots are taken. The real
daemons log it (``CONNECTION FROM <peer> REFUSED, too many connections from the same
address``, then ``back ping connect failed`` or a gray entry evicted). ``p2p.outgoing_host_limit``
models it; each test fails without it.
"""

from __future__ import annotations

from typing import Any

from pytest_monerosim.backends.sim import build_world
from pytest_monerosim.registry import Registry
from tests.sim.conftest import scenario

from .test_sim_gray_list import network


def _probe_incoming_peer(registry: Registry, limit: bool) -> tuple[str, dict[str, Any]]:
    # add_peer: seeds hand out empty white lists when back pings fail
    world = build_world(network(outgoing_host_limit=limit, add_peer=True), registry, snapshot_interval_s=None)
    out: dict[str, Any] = {}

    def at() -> None:
        node = next(n for n in world.nodes.values() if n.out_count >= n.out_limit
                    and any(not link.outgoing for link in n.links.values()))
        peer = next(p for p, link in node.links.items() if not link.outgoing)
        book = node.book
        book.remove_white(peer.address)
        for a in list(book.gray):
            book.remove_gray(a)
        book.add_gray(peer.address)
        failed_before = book.failed.get(peer.host)
        assert not world.p2p.needs_sync_connections(node)
        world.p2p._housekeeping(node, world.engine.now)
        out.update(peer=peer.address, white=set(book.white), gray=set(book.gray),
                   recorded=book.failed.get(peer.host) != failed_before)

    world.engine.at(300.0, at)
    world.run()
    return out["peer"], out


def test_a_gray_probe_of_a_host_connected_in_fails(registry: Registry) -> None:
    peer, out = _probe_incoming_peer(registry, limit=True)
    assert peer not in out["white"] and peer not in out["gray"] and out["recorded"]
    peer, out = _probe_incoming_peer(registry, limit=False)  # upstream: the probe succeeds
    assert peer in out["white"] and not out["recorded"]


def test_back_pings_fail_so_seeds_hand_out_nothing(registry: Registry) -> None:
    """``ping_back: true`` is overruled: a back ping is a connection to a connected host. So
    a seed never whitelists the nodes that contact it, hands out an empty list, and a network
    bootstrapped by its seeds alone never forms (why the monerod backend gives each daemon
    ``--add-peer`` entries, ``p2p.add_peer``)."""
    for limit in (True, False):
        world = build_world(network(duration=120.0, outgoing_host_limit=limit), registry,
                            snapshot_interval_s=None)
        world.run()
        made = sum(n.out_count for n in world.nodes.values())
        assert (made == 0) == limit, (limit, made)


def test_with_its_incoming_slots_taken_a_node_opens_no_connection(registry: Registry) -> None:
    """What made ``--in-peers 0`` cut a Debian daemon off (see ``backends/monerod/nat.py``)."""
    def closed_node(limit: bool) -> int:
        sc = scenario([{"group": "m", "count": 2, "role": "miner", "hashrate": 1.0},
                       {"group": "r", "count": 10}, {"group": "closed", "in_peers": 0}],
                      general={"duration": 300.0, "seed": 3},
                      network={"latency": {"name": "uniform", "low": 0.02, "high": 0.2}},
                      p2p={"out_peers": 4, "outgoing_host_limit": limit, "add_peer": True})
        world = build_world(sc, registry, snapshot_interval_s=None)
        world.run()
        return world.node("closed").out_count

    assert closed_node(limit=True) == 0
    assert closed_node(limit=False) == 4


def test_the_limit_is_the_honest_daemons_build(registry: Registry) -> None:
    """An attack's nodes stand for other software (the real backend's spies and attackers are
    this project's Levin peers): Debian's limit does not stop the connections they open."""
    world = build_world(network(outgoing_host_limit=True, add_peer=True), registry, snapshot_interval_s=None)
    world.run()
    node, peer = next((n, p) for n in world.nodes.values() for p, link in n.links.items() if not link.outgoing)
    assert world.p2p.host_limited(node, peer)
    node.honest = False
    assert not world.p2p.host_limited(node, peer)
