"""The Levin peer against real regtest daemons: handshakes, ping-back, peer lists, relay."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any

from pytest_monerosim.backends.monerod import MonerodNode, WalletRpcNode
from pytest_monerosim.backends.plan import BURN_ADDRESS
from pytest_monerosim.p2p import BackgroundSwarm, BlockEvent, Identity, TxNote, crawl, levin
from pytest_monerosim.p2p.messages import MAINNET_GENESIS, NETWORK_IDS

COINBASE_UNLOCK = 60
DECOY_BLOCKS = 16  # ring size 16 needs 16 spendable outputs on the chain


def wait_for(what: str, check: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.1)


def hex_id(ident: Identity) -> str:
    return f"{ident.peer_id:016x}"


def connection_of(node: MonerodNode, ident: Identity) -> dict[str, Any] | None:
    for c in node.rpc.get_connections():
        if c.get("peer_id") == hex_id(ident):
            return c
    return None


def peer_list(node: MonerodNode, which: str) -> set[tuple[str, int]]:
    answer = node.rpc.get_peer_list()
    return {(p["host"], int(p["port"])) for p in answer.get(f"{which}_list", []) or []}


def test_handshake_both_ways_ping_and_peer_lists(make_node: Callable[..., MonerodNode],
                                                      free_port: Callable[[], int]) -> None:
    with BackgroundSwarm() as bg:
        sw = bg.swarm
        dialed = bg.call(sw.serve("127.66.0.1", free_port()))
        caller = bg.call(sw.serve("127.66.0.2", free_port()))
        # documentation addresses (TEST-NET-3): public-looking, unroutable, never dialled (exclusive mode)
        public = [(f"203.0.113.{i}", 18080 + i) for i in range(1, 9)]
        private = [("127.66.1.1", 18080), ("10.1.2.3", 18080), ("192.168.7.7", 18080)]
        sw.advertise(public + private)
        node = make_node("a", exclusive_peers=[f"127.66.0.1:{dialed.port}"])

        # the daemon dials our listening identity: it handshakes, we answer
        inbound = wait_for("the daemon to connect to the listening identity",
                           lambda: [c for c in dialed.connections if c.handshaked])
        assert inbound[0].remote_node.network_id == NETWORK_IDS["regtest"]
        assert inbound[0].remote_node.my_port == node.ports.p2p
        seen = wait_for("the daemon to list its outgoing connection",
                        lambda: connection_of(node, dialed))
        assert seen["incoming"] is False and seen["state"] == "normal"

        # we dial the daemon from another address
        conn = bg.call(sw.connect(("127.0.0.1", node.ports.p2p), source=caller))
        assert conn.remote_node.network_id == NETWORK_IDS["mainnet"]  # regtest uses mainnet's id
        assert conn.remote_node.peer_id == inbound[0].remote_node.peer_id
        assert conn.remote_sync.height == 1 and conn.remote_sync.top_id == MAINNET_GENESIS
        mine = wait_for("the daemon to list our connection", lambda: connection_of(node, caller))
        assert mine["incoming"] is True and mine["host"] == "127.66.0.2"
        assert mine["state"] == "normal"  # we claimed its genesis: it does not sync from us

        # a ping answered by the daemon's handler
        code, pong = bg.call(conn.invoke(levin.PING, {}))
        assert code == levin.RETURN_OK and pong["status"] == b"OK"
        assert pong["peer_id"] == conn.remote_node.peer_id

        # the peer list we handed out: public addresses land on its gray list; monerod 0.18
        # ignores loopback and private (10/8, 172.16/12, 192.168/16) entries in gossip
        # (sanitize_peerlist in src/p2p/net_node.inl), whatever --allow-local-ip says
        wait_for("the advertised addresses on the daemon's gray list",
                 lambda: set(public) <= peer_list(node, "gray"))
        assert not set(private) & (peer_list(node, "gray") | peer_list(node, "white"))
        # it never pings a loopback address back, so the caller is on no list of its own
        assert ("127.66.0.2", caller.port) not in peer_list(node, "white")


def test_block_and_tx_notifications_from_a_daemon_and_block_relay(
        make_node: Callable[..., MonerodNode], make_wallet: Callable[..., WalletRpcNode],
        free_port: Callable[[], int]) -> None:
    with BackgroundSwarm() as bg:
        sw = bg.swarm
        spy_a = bg.call(sw.serve("127.66.0.11", free_port()))
        spy_b = bg.call(sw.serve("127.66.0.12", free_port()))
        blocks: list[BlockEvent] = []
        txs: list[TxNote] = []
        sw.on_block(blocks.append)
        sw.on_tx(txs.append)
        sw.relay("block", "tx")
        # a and b never peer with each other: blocks and txs reach b only through our relay
        a = make_node("a", exclusive_peers=[f"127.66.0.11:{spy_a.port}"])
        b = make_node("b", exclusive_peers=[f"127.66.0.12:{spy_b.port}"])
        for node in (a, b):
            node.wait_synchronized(30)
        wallet = make_wallet("w", a)
        address = wallet.open_or_create("miner")

        a.rpc.generateblocks(1, address)
        a.rpc.generateblocks(COINBASE_UNLOCK + DECOY_BLOCKS, BURN_ADDRESS)
        top = 2 + COINBASE_UNLOCK + DECOY_BLOCKS
        wait_for(f"b at height {top} through the relaying peer", lambda: b.rpc.get_height() == top)
        assert b.rpc.get_last_block_header()["hash"] == a.rpc.get_last_block_header()["hash"]
        heights = sorted({e.note.height for e in blocks if e.identity == spy_a.address})
        assert heights == list(range(2, top + 1))
        assert all(e.note.fluffy and e.note.block for e in blocks)

        wallet.rpc.refresh()
        sent = wallet.rpc.transfer([(BURN_ADDRESS, 10**12)], get_tx_hex=True)
        blob = bytes.fromhex(sent["tx_blob"])
        got = wait_for("the daemon to send us the transaction",
                       lambda: [n for n in txs if blob in n.txs], timeout=90.0)
        # a stem (dandelionpp_fluff false) unless the daemon is in a fluff epoch (20 %)
        assert got[0].identity == spy_a.address and got[0].remote[0] == "127.0.0.1"
        assert hashlib.sha256(got[0].txs[got[0].txs.index(blob)]).digest() == hashlib.sha256(blob).digest()
        # we forwarded it (as fluff) to b, which took it into its pool
        wait_for("the tx in b's pool", lambda: sent["tx_hash"] in b.rpc.get_transaction_pool_hashes())
        # our chain data followed the daemon's: it saw us as high as itself
        seen = connection_of(a, spy_a)
        assert seen is not None and int(seen["height"]) == top


def test_crawler_on_real_daemons(make_node: Callable[..., MonerodNode], free_port: Callable[[], int]) -> None:
    """Every daemon answers the crawler's handshakes; on loopback their lists stay empty.

    A handshake answer carries the head of the daemon's white list, and monerod never
    lists a loopback address (is_host_allowed in src/p2p/net_peerlist.h), so the graph
    has the daemons and no edge. Edges need the namespaced network, and there
    addresses outside 10/8, 172.16/12 and 192.168/16, which monerod drops from gossip.
    """
    with BackgroundSwarm() as bg:
        sw = bg.swarm
        hub = bg.call(sw.serve("127.66.0.21", free_port()))
        a = make_node("a", exclusive_peers=[f"127.66.0.21:{hub.port}"])
        b = make_node("b", exclusive_peers=[f"127.66.0.21:{hub.port}", f"127.0.0.1:{a.ports.p2p}"])
        for node in (a, b):
            node.wait_synchronized(30)
        seeds = [("127.0.0.1", a.ports.p2p), ("127.0.0.1", b.ports.p2p)]
        result = bg.call(crawl(seeds, swarm=sw, source="127.66.0.22", timed_syncs=1,
                               visit=lambda addr: addr[0].startswith("127.")))
        assert result.reachable == {f"127.0.0.1:{a.ports.p2p}", f"127.0.0.1:{b.ports.p2p}"}
        assert not result.failed
        ids = {result.graph.nodes[n]["peer_id"] for n in result.reachable}
        assert len(ids) == 2 and 0 not in ids
        assert {result.graph.nodes[n]["height"] for n in result.reachable} == {1}
        # loopback peers are never listed, so no edge between the daemons
        assert result.graph.number_of_edges() == 0
        # the crawler does not listen: the daemons do not keep it on any list
        listed = {p["host"] for n in (a, b) for key in ("white_list", "gray_list")
                  for p in n.rpc.get_peer_list().get(key, []) or []}
        assert "127.66.0.22" not in listed


def test_a_peer_without_fluffy_blocks_gets_asked_for_its_flags_and_full_blocks(
        make_node: Callable[..., MonerodNode], free_port: Callable[[], int]) -> None:
    with BackgroundSwarm(support_flags=0) as bg:
        sw = bg.swarm
        hub = bg.call(sw.serve("127.66.0.51", free_port()))
        blocks: list[BlockEvent] = []
        sw.on_block(blocks.append)
        node = make_node("a", exclusive_peers=[f"127.66.0.51:{hub.port}"])
        caller = bg.call(sw.serve("127.66.0.52", free_port()))
        conn = bg.call(sw.connect(("127.0.0.1", node.ports.p2p), source=caller))
        # we said support_flags 0 in the handshake: the daemon asks again (1007)
        wait_for("a support-flags request", lambda: conn.received[levin.SUPPORT_FLAGS] >= 1)
        seen = wait_for("the daemon to list us", lambda: connection_of(node, caller))
        assert int(seen["support_flags"]) == 0
        node.wait_synchronized(30)
        mined = node.rpc.generateblocks(1, BURN_ADDRESS)["blocks"][0]
        got = wait_for("a full block (NOTIFY_NEW_BLOCK)", lambda: [e for e in blocks if e.note.height == 2])
        assert all(not e.note.fluffy and e.note.block for e in got)
        assert node.rpc.get_block(block_hash=mined)["blob"] == got[0].note.block.hex()
