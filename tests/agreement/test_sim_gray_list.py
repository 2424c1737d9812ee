"""The simulator's gray list follows monerod 0.18's (what the peers agreement forced).

Fast, simulator-only checks; ``test_peers_monerod.py`` measures the real daemons.
Each test fails on the model before the change (noted per test).

* ``handle_remote_peerlist`` → ``merge_peerlist`` (src/p2p/net_node.inl) filters
  recently failed and blocked hosts only: a node hears its own address back from
  peers that dialled it and keeps it on its gray list.
* ``gray_peerlist_housekeeping`` probes one gray address a minute: a probe of the
  node's own address fails (the probed end drops a handshake carrying its own peer
  id), the entry is removed and the host recorded as failed (``record_addr_failed``).
* The probe is skipped while ``needs_new_sync_connections`` (cryptonote_protocol_handler.inl):
  fewer outgoing connections than ``out_peers`` and no target height reached (a node
  that never synced a chain from a peer has target height 0: relayed blocks do not set it).
"""

from __future__ import annotations

from typing import Any

import pytest

from pytest_monerosim.backends.sim import build_world
from pytest_monerosim.registry import Registry
from pytest_monerosim.sim.peers import PeerBook, host_of, own_address_known
from tests.sim.conftest import scenario

OWN = "1.2.3.4:18080"
DEAD = "9.9.9.9:18080"
"""An address no node of these worlds has (a probe of it fails)."""


def test_a_merge_keeps_the_own_address_on_the_gray_list() -> None:
    """Old model: ``gray_unknown`` skipped ``a == own``."""
    book = PeerBook()
    book.merge([OWN, "5.6.7.8:18080"], OWN, 0.0)
    assert OWN in book.gray and "5.6.7.8:18080" in book.gray
    assert own_address_known(book, OWN, 0.0)
    book.remove_gray(OWN)
    book.record_failed(OWN, 10.0)
    book.merge([OWN], OWN, 20.0)  # recently failed: filtered like any failed host
    assert OWN not in book.gray and own_address_known(book, OWN, 20.0)
    assert not own_address_known(book, OWN, 10.0 + 3600.0)
    book.merge([OWN], OWN, 10.0 + 3600.0)
    assert OWN in book.gray


def test_a_failure_skips_every_port_of_the_host() -> None:
    """monerod keys its failed-connection cache by ``host_str()``, the IP without the port
    (``record_addr_failed``, ``is_addr_recently_failed``; v0.18.0.0 net_node.inl): after one
    address of a host failed, its other addresses are neither merged nor dialled for an hour.
    Old model: the cache was keyed by address, so another port was tried at once."""
    book = PeerBook()
    book.record_failed("9.9.9.9:18080", 100.0)
    assert book.recently_failed("9.9.9.9:28080", 200.0)
    assert not book.recently_failed("9.9.9.8:18080", 200.0)
    book.merge(["9.9.9.9:28080", "9.9.9.8:18080"], OWN, 200.0)
    assert list(book.gray) == ["9.9.9.8:18080"]
    book.merge(["9.9.9.9:28080"], OWN, 100.0 + 3600.0)
    assert "9.9.9.9:28080" in book.gray


@pytest.mark.parametrize("ids", [False, True], ids=["addresses", "ids"])
def test_each_failure_expires_on_its_own_hour(ids: bool) -> None:
    """With an older failure expired and a newer one not, a merge skips only the newer host
    (merges skip the filter once the newest failure is an hour old: the older ones are then
    too), through both merge paths."""
    book = PeerBook()
    book.record_failed("9.9.9.9:18080", 100.0)
    book.record_failed("9.9.9.7:18080", 3000.0)
    answer = ["9.9.9.9:28080", "9.9.9.7:28080", "9.9.9.8:18080"]
    if ids:
        book.merge_ids([book.gray.table.register(a) for a in answer], 3700.0)
    else:
        book.merge(answer, OWN, 3700.0)
    assert list(book.gray) == ["9.9.9.9:28080", "9.9.9.8:18080"]
    later = ["9.9.9.7:38080"]
    book.merge(later, OWN, 6600.0)
    assert "9.9.9.7:38080" in book.gray


def network(seed: int = 3, duration: float = 600.0, **p2p: Any) -> Any:
    return scenario([{"group": "m", "count": 2, "role": "miner", "hashrate": 1.0},
                     {"group": "r", "count": 10}],
                    general={"duration": duration, "seed": seed},
                    network={"latency": {"name": "uniform", "low": 0.02, "high": 0.2}},
                    p2p={"out_peers": 4, **p2p})


def _probe(registry: Registry, prepare: Any) -> tuple[Any, Any]:
    """Run a small world to 300 s, call ``prepare(world, node)``, then one housekeeping probe."""
    world = build_world(network(), registry, snapshot_interval_s=None)
    node = world.node("r-4")
    out: dict[str, Any] = {}

    def at() -> None:
        prepare(world, node)
        world.p2p._housekeeping(node, world.engine.now)
        out["white"] = dict(node.book.white)
        out["gray"] = list(node.book.gray)
        out["failed"] = dict(node.book.failed)

    world.engine.at(300.0, at)
    world.run()
    return node, out


def test_a_gray_probe_of_the_own_address_fails_and_is_recorded(registry: Registry) -> None:
    """Old model: the node itself is online and accepts connections, so the probe
    "succeeded" and the node put its own address on its white list."""
    def prepare(world: Any, node: Any) -> None:
        book = node.book
        for a in list(book.gray):
            book.remove_gray(a)
        book.add_gray(node.address)
        assert not world.p2p.needs_sync_connections(node), (node.out_count, node.out_limit)

    node, out = _probe(registry, prepare)
    assert node.address not in out["white"] and node.address not in out["gray"]
    assert host_of(node.address) in out["failed"]


def test_gray_probes_wait_while_the_node_needs_sync_connections(registry: Registry) -> None:
    """Old model: a probe every timed sync whatever the outgoing count and the chain."""
    def prepare(world: Any, node: Any) -> None:
        book = node.book
        for a in list(book.gray):
            book.remove_gray(a)
        book.add_gray(DEAD)
        node.out_limit = node.out_count + 1  # a free outgoing slot
        assert world.p2p.needs_sync_connections(node) == (node not in world.p2p.heard_taller)

    node, out = _probe(registry, prepare)
    # A relay at 300 s has taken the miners' blocks as relayed (fluffy) blocks, each on a
    # parent it had: that never sets monerod's target height (only a chain sync does:
    # process_payload_sync_data, handle_response_chain_entry), so with a free slot it still
    # needs sync connections and skips the probe. The model before 2026-12-05 counted any
    # block from a peer as a known target and probed (the real eclipse victim, 28 relayed
    # blocks, never did: see test_eclipse_monerod.py).
    assert node.name.startswith("r-") and node.chain.tip.height > 0
    assert node not in node.world.p2p.heard_taller
    assert out["gray"] == [DEAD] and host_of(DEAD) not in out["failed"]


def test_a_chain_sync_sets_the_target_and_a_restart_clears_it(registry: Registry) -> None:
    """A node that synced a chain from a peer knows a target height; reached, it probes
    with a free slot. A restarted daemon starts from target 0 again. Old model: a relayed
    block set it, and nothing cleared it."""
    def prepare(world: Any, node: Any) -> None:
        book = node.book
        for a in list(book.gray):
            book.remove_gray(a)
        book.add_gray(DEAD)
        node.out_limit = node.out_count + 1
        world.relay.sync_from(node, next(iter(node.links)))  # as a taller peer's payload would
        assert not world.p2p.needs_sync_connections(node)  # target known, at the top: no need

    node, out = _probe(registry, prepare)
    assert out["gray"] == [] and host_of(DEAD) in out["failed"]  # probed: no one answers there
    world = build_world(network(duration=400.0), registry, snapshot_interval_s=None)
    node = world.node("r-4")
    world.engine.at(100.0, lambda: world.relay.sync_from(node, next(iter(node.links))))
    node.restart(at=200.0, downtime=1.0)
    seen: list[bool] = []
    world.engine.at(199.0, lambda: seen.append(node in world.p2p.heard_taller))
    world.engine.at(201.0 + 1e-6, lambda: seen.append(node in world.p2p.heard_taller))
    world.run()
    assert seen == [True, False]


def test_the_target_is_unknown_again_when_the_last_connection_closes(registry: Registry) -> None:
    """monerod's ``on_connection_close`` lowers the target height to the highest remote height
    of the connections left: it stays known while any is left (every height is at least 1) and
    is 0 again after the last one closed. Old model: only a restart cleared it."""
    world = build_world(network(duration=300.0), registry, snapshot_interval_s=None)
    node = world.node("r-4")
    p2p = world.p2p
    seen: list[tuple[int, bool]] = []

    def at() -> None:
        world.relay.sync_from(node, next(iter(node.links)))
        while node.links:
            seen.append((len(node.links), node in p2p.heard_taller))
            p2p.disconnect(node, next(iter(node.links)))
        seen.append((0, node in p2p.heard_taller))

    world.engine.at(150.0, at)
    world.run()
    assert len(seen) >= 3, "the node had fewer than two connections: the case tests nothing"
    assert seen == [(n, n > 0) for n, _ in seen]


def test_without_blocks_a_node_with_a_free_slot_never_probes(registry: Registry) -> None:
    """No block ever mined (target height 0, as in the peers agreement's real half): a node
    with a free outgoing slot keeps its gray list untouched. Old model: probed anyway."""
    sc = scenario([{"group": "r", "count": 8}], general={"duration": 400.0, "seed": 5},
                  p2p={"out_peers": 3})
    world = build_world(sc, registry, snapshot_interval_s=None)
    node = world.node("r-2")
    seen: dict[str, Any] = {}

    def at() -> None:
        node.out_limit = node.out_count + 1
        for a in list(node.book.gray):
            node.book.remove_gray(a)
        node.book.add_gray(DEAD)
        world.p2p._housekeeping(node, world.engine.now)
        seen["gray"] = list(node.book.gray)
        seen["failed"] = dict(node.book.failed)

    world.engine.at(200.0, at)
    world.run()
    assert seen["gray"] == [DEAD] and host_of(DEAD) not in seen["failed"]


def test_a_successful_gray_probe_merges_the_probed_peer_list(registry: Registry) -> None:
    """``do_handshake_with_peer`` merges the answer's peer list for a probe too
    (``handle_remote_peerlist`` before the ``just_take_peerlist`` branch). Old model: a
    probe only moved the address to the white list."""
    heard = "7.7.7.7:18080"

    def prepare(world: Any, node: Any) -> None:
        book = node.book
        target = next(n for n in world.nodes.values() if n is not node and n.online and n not in node.links)
        for a in list(book.gray):
            book.remove_gray(a)
        book.remove_white(target.address)
        book.add_gray(target.address)
        world.p2p.whitelist(target, heard, world.engine.now)
        assert not world.p2p.needs_sync_connections(node)

    node, out = _probe(registry, prepare)
    assert heard in out["gray"]
