"""Peer selection on the dynamic ``monero`` topology, and the P2P extension points."""

from __future__ import annotations

from typing import Any

import networkx as nx

from pytest_monerosim.backends.sim import build_world
from pytest_monerosim.registry import Registry
from pytest_monerosim.sim.maker import CONNECTION_TIMEOUT_S
from pytest_monerosim.sim.network import World
from pytest_monerosim.sim.peers import host_of, subnet_of

from .conftest import scenario


def monero_net(n: int, *, duration: str | float = "1h", seed: int = 2, p2p: dict[str, Any] | None = None,
               extra_groups: list[dict[str, Any]] | None = None) -> Any:
    groups = [{"group": "m", "count": 3, "role": "miner", "hashrate": 1.0},
              {"group": "r", "count": n - 3}] + (extra_groups or [])
    return scenario(groups, general={"duration": duration, "seed": seed},
                    network={"latency": {"name": "uniform", "low": 0.02, "high": 0.2}},
                    p2p=p2p or {})


def out_degrees(world: World) -> dict[str, int]:
    return {n.name: n.out_count for n in world.nodes.values()}


def test_out_peers_fill_lists_stay_bounded_graph_connected(registry: Registry) -> None:
    sc = monero_net(80, p2p={"white_list_limit": 40, "gray_list_limit": 60})
    world = build_world(sc, registry, snapshot_interval_s=900)
    result = world.run()
    assert all(d == 12 for d in out_degrees(world).values())
    for node in world.nodes.values():
        assert len(node.book.white) <= 40 and len(node.book.gray) <= 60
        assert sorted(node.book.gray) == sorted(node.book.gray.oldest_first())
        assert not set(node.book.white) & set(node.book.gray)
        assert node.out_count == sum(1 for link in node.links.values() if link.outgoing)
        assert node.in_count == len(node.links) - node.out_count
        assert node.address not in node.book.white
    snap = result.peer_snapshots[-1]
    assert snap.time == 3600 and len(snap.edges) == 80 * 12
    graph = nx.DiGraph(snap.edges)
    assert graph.number_of_nodes() == 80
    assert nx.is_weakly_connected(graph)
    assert not any(graph.has_edge(b, a) for a, b in snap.edges), "no pair is linked twice"
    # peers of one node are in distinct /16s when there are enough of them
    for node in world.nodes.values():
        subnets = [p.subnet for p in node.out_peers()]
        assert len(set(subnets)) == len(subnets)
    assert len({result.tips[n] for n in result.nodes}) == 1


def test_in_peers_limit_is_respected(registry: Registry) -> None:
    sc = monero_net(40, p2p={"in_peers": 14, "out_peers": 8})
    world = build_world(sc, registry, snapshot_interval_s=None)
    world.run()
    assert max(n.in_count for n in world.nodes.values()) <= 14
    assert all(n.out_count == 8 for n in world.nodes.values())


def test_seed_nodes_bootstrap_everyone(registry: Registry) -> None:
    sc = monero_net(30, duration=120)
    world = build_world(sc, registry, snapshot_interval_s=None)
    seeds = {n.name for n in world.p2p.seeds}
    assert seeds == {"m-0", "m-1", "m-2", "r-0", "r-1", "r-2"}  # the topology's default 6
    world.run()
    # 12 outgoing each, unless a node is already linked to all 29 others
    assert all(n.out_count == 12 or len(n.links) == 29 for n in world.nodes.values())
    assert sum(n.out_count for n in world.nodes.values()) > 0.9 * 30 * 12


def test_the_oldest_anchor_is_reconnected_first_after_a_restart(registry: Registry) -> None:
    """monerod 0.18 empties its anchor list when it takes it (get_and_empty_anchor_peerlist):
    one anchor reconnects, the oldest, and the rest of the slots are refilled from the lists
    (measured on real daemons: tests/agreement/test_peers_monerod.py)."""
    sc = monero_net(60, duration=1900)
    world = build_world(sc, registry, snapshot_interval_s=None)
    victim = world.node("r-10")
    before: dict[str, Any] = {}

    def remember() -> None:
        links = [(link.since, p.name) for p, link in victim.links.items() if link.outgoing]
        before["oldest"] = [name for _, name in sorted(links)[:1]]
        before["all"] = {name for _, name in links}

    world.engine.at(1799, remember)
    victim.restart(at=1800, downtime=30)
    world.run()
    first = sorted(victim.out_peers(), key=lambda p: victim.links[p].since)[:1]
    assert [p.name for p in first] == before["oldest"]
    assert victim.out_count == 12
    assert set(victim.book.anchors) >= {world.node(n).address for n in before["oldest"]}


def test_zero_anchors_means_no_anchor_reconnection(registry: Registry) -> None:
    sc = monero_net(60, duration=1900, p2p={"anchors": 0})
    world = build_world(sc, registry, snapshot_interval_s=None)
    victim = world.node("r-10")
    queued: list[list[str]] = []
    victim.restart(at=1800, downtime=30)
    world.engine.at(1830, lambda: queued.append(list(victim.anchor_queue)))
    world.run()
    assert queued == [[]]
    assert victim.out_count == 12


def test_partition_filter_blocks_links_and_heal_allows_them(registry: Registry) -> None:
    sc = monero_net(40, duration="2h", p2p={"turnover_mean_s": 600})
    world = build_world(sc, registry, snapshot_interval_s=300)
    side = {n.name: i % 2 for i, n in enumerate(world.nodes.values())}

    def same_side(a: Any, b: Any) -> bool:
        return side[a.name] == side[b.name]

    def cut() -> None:
        world.add_filter(same_side)
        world.drop_links(lambda a, b: not same_side(a, b))

    world.engine.at(600, cut)
    world.engine.at(2400, world.remove_filter, same_side)
    result = world.run()
    during = [s for s in result.peer_snapshots if 600 < s.time <= 2400]
    assert during and all(side[a] == side[b] for s in during for a, b in s.edges)
    # Right after the heal the other side's addresses are still marked failed (monerod
    # forgets a failure after an hour); once that passes, turnover links across again.
    final = result.peer_snapshots[-1]
    assert final.time == 7200
    assert any(side[a] != side[b] for a, b in final.edges), "turnover reconnects across"


def test_advertise_override_and_nodes_added_at_run_time(registry: Registry) -> None:
    sc = monero_net(30, duration=1800)
    world = build_world(sc, registry, snapshot_interval_s=None)
    fake = [f"203.0.113.{i}:18080" for i in range(1, 41)]  # addresses nobody answers on

    def join() -> None:
        spy = world.add_node("spy", address="198.51.100.7:18080", out_peers=4)
        spy.advertise = lambda requester: list(fake)
        for address in fake:
            world.register_address(address)

    world.engine.at(300, join)
    world.run()
    spy = world.node("spy")
    assert spy.address == "198.51.100.7:18080" and spy.subnet == "198.51" == subnet_of(spy.address)
    assert spy.out_count == 4 and spy.online
    told = [n for n in spy.links if not set(fake).isdisjoint(n.book.gray)]
    assert told, "the spy's peers merged its advertised list"
    # Dead addresses never pass a handshake or a probe, so they never reach a white
    # list; since only white lists are advertised, nobody but the spy's peers and the
    # nodes that probed the spy from their gray lists (a probe is a handshake: its answer's
    # list is merged, as monerod's do_handshake_with_peer does) knows them.
    assert all(not set(fake) & set(n.book.white) for n in world.nodes.values())
    knowing = {n.name for n in world.nodes.values()
               if not set(fake).isdisjoint(n.book.gray) or not {host_of(a) for a in fake}.isdisjoint(n.book.failed)}
    probed = {n.name for n in world.nodes.values() if spy.address in n.book.white}
    assert knowing <= {p.name for p in spy.links} | probed


def test_max_connections_per_ip(registry: Registry) -> None:
    sc = monero_net(20, duration=300)
    world = build_world(sc, registry, snapshot_interval_s=None)
    target = world.node("r-0")

    def arrive() -> None:  # three nodes behind one IP (different ports)
        for i in range(3):
            # (slots to spare at the dial below: with 2, their own makers had filled them by
            # then and the dials did nothing, the count resting on one maker's draw)
            world.add_node(f"s{i}", address=f"192.0.2.1:{18080 + i}", out_peers=8)

    dialled = {"free": 0}

    def dial() -> None:
        for i in range(3):
            node = world.node(f"s{i}")
            dialled["free"] += node.out_count < node.out_limit and target not in node.links
            world.p2p._attempt(node, target.address)

    world.engine.at(200, arrive)
    world.engine.at(201, dial)
    world.run()
    assert dialled["free"] >= 2, "fewer than two dials with a free slot: the case tests nothing"
    assert world.host_count["192.0.2.1"] == 3
    # monerod limits incoming connections per IP (the target may still dial one of them)
    incoming = [p for p, link in target.links.items()
                if p.host == "192.0.2.1" and not link.outgoing]
    assert len(incoming) == 1


def test_static_links_survive_restarts(registry: Registry) -> None:
    sc = scenario([{"group": "n", "count": 5}], general={"duration": 400},
                  network={"topology": "star"})
    world = build_world(sc, registry, snapshot_interval_s=None)
    hub = world.node("n-0")
    hub.restart(at=100, downtime=50)
    seen: list[int] = []
    world.engine.at(120, lambda: seen.append(len(hub.links)))
    world.run()
    assert seen == [0] and len(hub.links) == 4


def test_peers_of_a_stopping_node_refill_their_slots_at_once(registry: Registry) -> None:
    sc = monero_net(60, duration=1810)
    world = build_world(sc, registry, snapshot_interval_s=None)
    victim = world.node("r-10")
    dialers: list[Any] = []
    counts: list[int] = []
    world.engine.at(1799, lambda: dialers.extend(victim.in_peers()))
    victim.restart(at=1800, downtime=600)
    # A dialer whose first pick is the stopped victim (still fresh on its white list) waits
    # for the connect timeout (CONNECTION_TIMEOUT_S, 5 s) before its next pick.
    world.engine.at(1800 + CONNECTION_TIMEOUT_S + 3, lambda: counts.extend(p.out_count for p in dialers))
    world.run()
    assert dialers and not victim.online
    assert counts == [12] * len(dialers)  # within seconds, not at the next timed sync
