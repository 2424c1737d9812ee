"""A crawler on the Levin peer: walk a network's peer lists by handshakes.

As the measurement studies of Monero's network did (Cao et al., "Exploring
the Monero peer-to-peer network", FC 2020), the crawler connects to every
address it learns of, handshakes, reads the peer list the node hands out
(``local_peerlist_new``: the head of its white list, at most 250 entries)
and, with ``timed_syncs``, asks for more with timed syncs (each answer holds
only addresses not sent on that connection before). It never listens
(``my_port`` 0), so the nodes it visits do not add it to their peer lists.

The graph: a ``networkx.DiGraph`` whose nodes are ``"host:port"`` strings and
whose edge ``a → b`` says that ``a`` listed ``b``. monerod 0.18 zeroes
``last_seen`` in the lists it hands out (a change made after the timestamp
inference Cao et al. used), so an edge means "knows of and found alive", not
"is connected to"; node attributes ``reachable`` (handshake succeeded),
``peer_id``, ``height`` and ``error`` say what the crawl saw.

Where it finds edges: monerod never lists loopback or private addresses
(``sanitize_peerlist``), so a crawl of daemons on loopback finds nodes but no
edges; on the monerod backend's namespaced network (240.x addresses) it finds
both (``tests/agreement/test_peers_monerod.py``: 7 of 8 daemons, 27 edges after
two timed syncs; Debian's 0.18.0.0 lists only peers it dialled, so a daemon no
one has dialled yet is not reached).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import networkx as nx

from .peer import Address, PeerError, Swarm


def label(address: Address) -> str:
    return f"{address[0]}:{address[1]}"


@dataclass
class CrawlResult:
    graph: nx.DiGraph
    reachable: set[str] = field(default_factory=set)
    failed: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def undirected(self, reachable_only: bool = True) -> nx.Graph:
        """The graph as the connectivity checks take it (optionally only nodes that answered)."""
        g = self.graph.to_undirected()
        if reachable_only:
            g = g.subgraph(self.reachable).copy()
        return g

    def relabel(self, names: dict[str, str]) -> nx.DiGraph:
        """The graph with ``host:port`` labels replaced by node names (unknown ones kept)."""
        return nx.relabel_nodes(self.graph, names, copy=True)


async def crawl(seeds: Iterable[Address], *, source: str | None = None, swarm: Swarm | None = None,
                network: str = "regtest", timed_syncs: int = 0, max_nodes: int = 10_000,
                concurrency: int = 32, timeout: float = 5.0, skip: Iterable[Address] = (),
                visit: Callable[[Address], bool] | None = None) -> CrawlResult:
    """Crawl from ``seeds``; bind outgoing connections to ``source`` (an address of this host).

    Addresses in ``skip``, or for which ``visit`` says no, join the graph as
    listed peers but are not contacted (keep a test's traffic on its own
    network: ``visit=lambda a: a[0].startswith("127.")``).
    """
    own = swarm or Swarm(network)
    ident = own.identity(source or "0.0.0.0")
    graph = nx.DiGraph()
    result = CrawlResult(graph)
    skipped = {label(a) for a in skip}
    queue: asyncio.Queue[Address] = asyncio.Queue()
    queued: set[str] = set()
    started = time.monotonic()

    def enqueue(address: Address) -> None:
        key = label(address)
        graph.add_node(key, reachable=graph.nodes.get(key, {}).get("reachable", False))
        if key in queued or key in skipped or len(queued) >= max_nodes:
            return
        if visit is not None and not visit(address):
            return
        queued.add(key)
        queue.put_nowait(address)

    for seed in seeds:
        enqueue((seed[0], int(seed[1])))

    async def contact(address: Address) -> None:
        key = label(address)
        try:
            conn = await own.connect(address, source=ident, timeout=timeout, sync_after=False)
        except PeerError as exc:
            result.failed[key] = str(exc)
            graph.nodes[key]["error"] = str(exc)
            return
        try:
            peers = list(conn.peers_received)
            for _ in range(timed_syncs):
                try:
                    more = await conn.timed_sync()
                except (PeerError, asyncio.TimeoutError):
                    break
                if not more:
                    break
                peers.extend(more)
            node = graph.nodes[key]
            node["reachable"] = True
            node["peer_id"] = conn.remote_node.peer_id if conn.remote_node else 0
            node["height"] = conn.remote_sync.height if conn.remote_sync else 0
            result.reachable.add(key)
            for entry in peers:
                enqueue(entry.address)
                graph.add_edge(key, label(entry.address))
        finally:
            await conn.close()

    async def worker() -> None:
        while True:
            address = await queue.get()
            try:
                await contact(address)
            finally:
                queue.task_done()

    workers = [asyncio.create_task(worker()) for _ in range(max(1, concurrency))]
    try:
        await queue.join()
    finally:
        for w in workers:
            w.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        if swarm is None:
            await own.close()
    result.seconds = time.monotonic() - started
    return result


def crawl_sync(seeds: Iterable[Address], **kwargs: object) -> CrawlResult:
    """:func:`crawl` from synchronous code (its own event loop)."""
    return asyncio.run(crawl(seeds, **kwargs))  # type: ignore[arg-type]


__all__ = ["CrawlResult", "crawl", "crawl_sync", "label"]
