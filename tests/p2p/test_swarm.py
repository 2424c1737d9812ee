"""The peer against itself on loopback: the protocol paths daemons do not exercise in CI tests."""

from __future__ import annotations

import asyncio

import pytest

from pytest_monerosim.p2p import PeerEntry, PeerError, Swarm, TxNote, crawl, levin
from pytest_monerosim.p2p.crawler import label
from pytest_monerosim.p2p.messages import NETWORK_IDS


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(asyncio.wait_for(coro, 30))


def test_handshake_ping_notifications_and_relay() -> None:
    async def main() -> None:
        hub, a, b = Swarm(seed=1), Swarm(seed=2), Swarm(seed=3)
        try:
            server = await hub.serve("127.77.0.1")
            a_ident = await a.serve("127.77.0.2")
            hub.advertise([("203.0.113.5", 18080), server, a_ident.address])
            got: list[TxNote] = []
            hub.on_tx(got.append)
            hub.relay("tx")
            seen_b: list[TxNote] = []
            b.on_tx(seen_b.append)
            ca = await a.connect(server.address, source=a_ident)
            cb = await b.connect(server.address, source="127.77.0.3")
            assert ca.remote_node.peer_id == server.peer_id
            assert ca.remote_node.my_port == server.port
            # a listening identity advertises its port; a bare one does not
            incoming = {c.remote[0]: c for c in server.connections}
            assert incoming["127.77.0.2"].remote_node.my_port != 0
            assert incoming["127.77.0.3"].remote_node.my_port == 0
            # each address once per connection, never the peer's own
            assert [p.address for p in ca.peers_received] == [("203.0.113.5", 18080), server.address]
            assert await ca.timed_sync() == []
            code, pong = await ca.invoke(levin.PING, {})
            assert (code, pong["status"], pong["peer_id"]) == (levin.RETURN_OK, b"OK", server.peer_id)
            code, flags = await ca.invoke(levin.SUPPORT_FLAGS, {})
            assert flags["support_flags"] == 1
            code, _ = await ca.invoke(4242, {})
            assert code == levin.ERROR_HANDLER_NOT_DEFINED

            await a.send_txs(ca, [b"tx-1", b"tx-2"], fluff=False)
            for _ in range(100):
                if seen_b:
                    break
                await asyncio.sleep(0.02)
            assert got[0].txs == (b"tx-1", b"tx-2") and got[0].fluff is False
            assert got[0].remote == ("127.77.0.2", a.identities[0].port)  # its listening address
            # relayed to b, as fluff, not back to a
            assert seen_b[0].txs == (b"tx-1", b"tx-2") and seen_b[0].fluff is True
            assert cb.handshaked
        finally:
            for s in (a, b, hub):
                await s.close()

    run(main())


def test_wrong_network_is_refused() -> None:
    async def main() -> None:
        main_net, test_net = Swarm("mainnet"), Swarm("testnet")
        try:
            server = await test_net.serve("127.77.0.9")
            with pytest.raises(PeerError):
                await main_net.connect(server.address, source="127.77.0.10", timeout=3)
        finally:
            await main_net.close()
            await test_net.close()

    assert NETWORK_IDS["regtest"] == NETWORK_IDS["mainnet"] != NETWORK_IDS["testnet"]
    run(main())
    with pytest.raises(ValueError, match="accepted: mainnet, regtest, stagenet, testnet"):
        Swarm("moneronet")


def test_crawler_walks_advertised_peer_lists() -> None:
    async def main() -> None:
        net = Swarm(seed=5)
        try:
            nodes = [await net.serve(f"127.77.1.{i + 1}") for i in range(6)]
            ring = {n.address: [nodes[(i + 1) % 6], nodes[(i + 2) % 6]] for i, n in enumerate(nodes)}
            net.advertise(lambda conn: [p.entry() for p in ring[conn.identity.address]]
                          + [PeerEntry("127.77.2.1", 1)])  # a dead address
            result = await crawl([nodes[0].address], source="127.77.3.1", timed_syncs=1)
            labels = [label(n.address) for n in nodes]
            assert result.reachable == set(labels)
            assert result.failed.keys() == {"127.77.2.1:1"}
            for i, name in enumerate(labels):
                assert set(result.graph.successors(name)) == {labels[(i + 1) % 6], labels[(i + 2) % 6],
                                                              "127.77.2.1:1"}
            g = result.undirected()
            assert g.number_of_nodes() == 6 and g.number_of_edges() == 12
            # addresses the filter refuses are listed but never contacted
            kept = await crawl([nodes[0].address], source="127.77.3.2",
                               visit=lambda a: a != nodes[3].address and a[1] != 1)
            assert kept.reachable == set(labels) - {labels[3]} and not kept.failed
            assert kept.graph.has_edge(labels[1], labels[3]) and labels[3] not in kept.reachable
        finally:
            await net.close()

    run(main())
