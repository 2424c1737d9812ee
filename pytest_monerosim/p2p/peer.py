"""A Levin peer: one asyncio process holding many P2P identities, as a real attacker runs.

Each :class:`Identity` is an IPv4 address (and, when it listens, a port and a
listening socket of its own) with a random 64-bit peer id. Outgoing
connections are bound to the identity's address, so a daemon sees as many
distinct peers as there are identities; addresses are plain ``(host, port)``
tuples, which is all the peer needs on loopback (``127.x.y.z``) and inside
network namespaces alike.

What the peer does on the wire (checked against monerod 0.18):

* ``connect``: a handshake (1001) with our node data (``my_port`` is the
  identity's listening port, so monerod pings it back (1003) before putting us
  on its white list) and chain data; then one timed sync (1002) mirroring the
  daemon's own chain data, so the daemon counts us as a synchronized peer.
* ``serve``: answers handshakes, timed syncs, pings and support-flag requests
  (1007) from daemons that connect to us; handshake and timed-sync answers
  carry the peer list set by :meth:`Swarm.advertise` (at most 250 entries,
  each address once per connection, as monerod does).
* chain data: by default each connection is told the daemon's own
  ``CORE_SYNC_DATA`` back (its height, top block and version), which it has,
  so it never asks us for blocks and may pick us as a Dandelion++ stem peer
  (it stems only to outgoing peers at least as high as itself); before the
  daemon has spoken we claim the genesis block.
* notifications: NEW_TRANSACTIONS (2002, with its ``dandelionpp_fluff`` flag),
  NEW_FLUFFY_BLOCK (2008) and NEW_BLOCK (2001) go to the ``on_tx`` /
  ``on_block`` callbacks with the receive time; with :meth:`Swarm.relay` the
  peer forwards them (txs as fluff) to its other connections, with
  :meth:`Swarm.withhold` it keeps them (the default).

This module knows nothing of pytest or the simulator (the "p2p wire" layer).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import random
import socket
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from . import levin, messages
from .messages import GENESIS_SYNC, NETWORK_IDS, BlockNote, CoreSync, NodeData, PeerEntry
from .storage import StorageError, dumps, loads

log = logging.getLogger(__name__)

Address = tuple[str, int]
HANDSHAKE_TIMEOUT_S = 10.0


class PeerError(ConnectionError):
    """A handshake refused or failed (wrong network, timeout, connection dropped)."""


@dataclass(eq=False)
class Identity:
    """One attacker identity: an address, maybe a listening port, a peer id."""

    host: str
    port: int = 0
    peer_id: int = 0
    server: asyncio.base_events.Server | None = None
    connections: list[Connection] = field(default_factory=list)

    @property
    def address(self) -> Address:
        return (self.host, self.port)

    def entry(self, last_seen: int = 0) -> PeerEntry:
        return PeerEntry(self.host, self.port, self.peer_id, last_seen=last_seen)


@dataclass(frozen=True)
class TxNote:
    """Transactions received on one connection."""

    time: float
    identity: Address
    remote: Address
    remote_peer_id: int
    outgoing: bool
    txs: tuple[bytes, ...]
    fluff: bool


@dataclass(frozen=True)
class BlockEvent:
    time: float
    identity: Address
    remote: Address
    remote_peer_id: int
    outgoing: bool
    note: BlockNote


def blob_id(blob: bytes) -> str:
    """A stable key for a tx or block blob (sha256; Monero's own ids need Keccak and parsing)."""
    return hashlib.sha256(blob).hexdigest()


class Connection:
    """One TCP connection of an identity, after (or during) the handshake."""

    def __init__(self, swarm: Swarm, identity: Identity, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter, outgoing: bool) -> None:
        self.swarm = swarm
        self.identity = identity
        self.reader = reader
        self.writer = writer
        self.outgoing = outgoing
        peer = writer.get_extra_info("peername") or ("", 0)
        self.remote: Address = (str(peer[0]), int(peer[1]))
        self.remote_node: NodeData | None = None
        self.remote_sync: CoreSync | None = None
        self.peers_received: list[PeerEntry] = []
        self.sent_addresses: set[Address] = set()
        self.opened_at = time.time()
        self.handshaked = False
        self.received: Counter[int] = Counter()
        """Requests and notifications received on this connection, by command."""
        self._waiting: dict[int, deque[asyncio.Future[tuple[int, dict[str, Any]]]]] = {}
        self._task: asyncio.Task[None] | None = None
        self.closed = asyncio.Event()
        self._resync_dirty = False
        self._resync_task: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        way = "->" if self.outgoing else "<-"
        me, them = self.identity, self.remote
        return f"<Connection {me.host}:{me.port} {way} {them[0]}:{them[1]}>"

    @property
    def listening_address(self) -> Address:
        """The remote's P2P address: its advertised port when it connected to us."""
        if self.outgoing or self.remote_node is None or not self.remote_node.my_port:
            return self.remote
        return (self.remote[0], self.remote_node.my_port)

    # -- sending --------------------------------------------------------------------
    def _write(self, data: bytes) -> None:
        if self.writer.is_closing():
            raise PeerError(f"{self!r} is closed")
        self.writer.write(data)

    async def notify(self, command: int, body: dict[str, Any]) -> None:
        self._write(levin.frame(command, dumps(body)))
        await self.writer.drain()

    async def invoke(self, command: int, body: dict[str, Any],
                     timeout: float = HANDSHAKE_TIMEOUT_S) -> tuple[int, dict[str, Any]]:
        """Send a request and wait for its response: ``(return_code, body)``."""
        fut: asyncio.Future[tuple[int, dict[str, Any]]] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(command, deque()).append(fut)
        self._write(levin.frame(command, dumps(body), expect_response=True))
        await self.writer.drain()
        return await asyncio.wait_for(fut, timeout)

    def _respond(self, command: int, body: dict[str, Any], code: int = levin.RETURN_OK) -> None:
        self._write(levin.frame(command, dumps(body), response=True, return_code=code))

    # -- receiving ------------------------------------------------------------------
    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._read_loop())

    async def _read_loop(self) -> None:
        try:
            while True:
                limit = levin.MAX_BODY if self.handshaked else levin.MAX_BODY_BEFORE_HANDSHAKE
                head, body = await levin.read_message(self.reader, limit)
                if head.is_response:
                    self._resolve(head, body)
                    continue
                self.received[head.command] += 1
                try:
                    payload = loads(body) if body else {}
                except StorageError as exc:
                    log.debug("%r: undecodable %s: %s", self, head.command, exc)
                    if head.expect_response:
                        self._respond(head.command, {}, levin.ERROR_FORMAT)
                    continue
                self.swarm._dispatch(self, head, payload)
        except (asyncio.IncompleteReadError, ConnectionError, levin.LevinError, OSError) as exc:
            log.debug("%r closed: %s", self, exc)
        except asyncio.CancelledError:
            pass
        finally:
            self._shutdown()

    def _resolve(self, head: levin.Header, body: bytes) -> None:
        queue = self._waiting.get(head.command)
        if not queue:
            return
        fut = queue.popleft()
        if fut.done():
            return
        try:
            fut.set_result((head.return_code, loads(body) if body else {}))
        except StorageError as exc:
            fut.set_exception(PeerError(f"undecodable response to {head.command}: {exc}"))

    def _shutdown(self) -> None:
        for queue in self._waiting.values():
            for fut in queue:
                if not fut.done():
                    fut.set_exception(PeerError(f"{self!r} closed"))
        self._waiting.clear()
        with contextlib.suppress(Exception):
            self.writer.close()
        if self in self.identity.connections:
            self.identity.connections.remove(self)
        self.closed.set()

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()
        if self._resync_task is not None and not self._resync_task.done():
            self._resync_task.cancel()
        if self._task is not None and self._task is not asyncio.current_task():
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
        self._shutdown()

    def sync_for_remote(self) -> CoreSync:
        """The chain data we tell this remote (its own, mirrored, once we know it)."""
        return self.swarm.sync_for(self)

    def resync(self) -> None:
        """Learn the remote's new chain data and tell it back (after it sent us a block).

        A daemon stems transactions only to outgoing peers it believes at
        least as high as itself, and learns our height only from timed syncs;
        so after a new block we ask for its chain data (one timed sync) and
        send it back (a second), as a synchronized node's next timed sync would.
        """
        self._resync_dirty = True
        if self._resync_task is None or self._resync_task.done():
            self._resync_task = asyncio.get_running_loop().create_task(self._resync_loop())

    async def _resync_loop(self) -> None:
        while self._resync_dirty and not self.closed.is_set():
            self._resync_dirty = False
            try:
                await self.timed_sync()
                await self.timed_sync()
            except (PeerError, asyncio.TimeoutError, OSError):
                return

    async def timed_sync(self) -> list[PeerEntry]:
        """A timed sync request: the remote's new peer-list entries (and its chain data)."""
        code, body = await self.invoke(levin.TIMED_SYNC, messages.timed_sync_request(self.sync_for_remote()))
        if code <= 0:
            raise PeerError(f"{self!r}: timed sync refused (code {code})")
        self.remote_sync = CoreSync.from_storage(body.get("payload_data") or {})
        peers = messages.parse_peerlist(body)
        self.peers_received.extend(peers)
        return peers


class Swarm:
    """Many identities in one event loop; the public API of the Levin peer."""

    def __init__(self, network: str = "regtest", *, sync: CoreSync = GENESIS_SYNC, mirror: bool = True,
                 support_flags: int = messages.SUPPORT_FLAG_FLUFFY_BLOCKS, seed: int | None = None) -> None:
        if network not in NETWORK_IDS:
            raise ValueError(f"network={network!r}; accepted: {', '.join(sorted(NETWORK_IDS))}")
        self.network_id = NETWORK_IDS[network]
        self.sync = sync
        self.mirror = mirror
        self.support_flags = support_flags
        self.rng = random.Random(seed)
        self.identities: list[Identity] = []
        self._advertise: Callable[[Connection], list[PeerEntry]] = lambda conn: []
        self._tx_callbacks: list[Callable[[TxNote], None]] = []
        self._block_callbacks: list[Callable[[BlockEvent], None]] = []
        self._relay: set[str] = set()
        self._seen: set[str] = set()

    # -- identities -----------------------------------------------------------------
    def identity(self, host: str, port: int = 0, peer_id: int | None = None) -> Identity:
        """An identity at ``host`` (no listening socket unless :meth:`serve` opens one)."""
        for ident in self.identities:
            if ident.host == host and (ident.port == port or not port):
                return ident
        ident = Identity(host, port, peer_id if peer_id is not None else self.rng.getrandbits(64) or 1)
        self.identities.append(ident)
        return ident

    async def serve(self, host: str, port: int = 0, *, peer_id: int | None = None) -> Identity:
        """Listen at ``host:port`` (0: any free port) as a new identity; answers daemons that connect."""
        ident = Identity(host, port, peer_id if peer_id is not None else self.rng.getrandbits(64) or 1)

        async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            conn = Connection(self, ident, reader, writer, outgoing=False)
            ident.connections.append(conn)
            conn.start()

        ident.server = await asyncio.start_server(accept, host, port, reuse_address=True)
        ident.port = int(ident.server.sockets[0].getsockname()[1])
        self.identities.append(ident)
        return ident

    @property
    def connections(self) -> list[Connection]:
        return [c for ident in self.identities for c in ident.connections if c.handshaked]

    # -- policy ---------------------------------------------------------------------
    def advertise(self, peers: Iterable[PeerEntry | Address | Identity]
                  | Callable[[Connection], list[PeerEntry]]) -> None:
        """What handshake and timed-sync answers carry in ``local_peerlist_new``.

        A list (entries, ``(host, port)`` tuples or identities) or a function
        of the connection. ``last_seen`` of tuples and identities is now.
        """
        if callable(peers):
            self._advertise = peers
            return
        fixed = list(peers)

        def entries(conn: Connection) -> list[PeerEntry]:
            now = int(time.time())
            out = []
            for p in fixed:
                if isinstance(p, PeerEntry):
                    out.append(p)
                elif isinstance(p, Identity):
                    out.append(p.entry(now))
                else:
                    out.append(PeerEntry(p[0], int(p[1]), self.rng.getrandbits(64), last_seen=now))
            return out

        self._advertise = entries

    def on_tx(self, callback: Callable[[TxNote], None]) -> None:
        self._tx_callbacks.append(callback)

    def on_block(self, callback: Callable[[BlockEvent], None]) -> None:
        self._block_callbacks.append(callback)

    def relay(self, *kinds: str) -> None:
        """Forward received ``tx`` / ``block`` notifications to our other connections."""
        self._relay.update(self._kinds(kinds))

    def withhold(self, *kinds: str) -> None:
        """Keep received ``tx`` / ``block`` notifications to ourselves (the default)."""
        self._relay.difference_update(self._kinds(kinds))

    @staticmethod
    def _kinds(kinds: tuple[str, ...]) -> set[str]:
        chosen = set(kinds or ("tx", "block"))
        bad = chosen - {"tx", "block"}
        if bad:
            raise ValueError(f"kinds {sorted(bad)}; accepted: tx, block")
        return chosen

    def sync_for(self, conn: Connection) -> CoreSync:
        if self.mirror and conn.remote_sync is not None and conn.remote_sync.top_id:
            s = conn.remote_sync
            return CoreSync(s.height, s.top_id, s.cumulative_difficulty, s.top_version, 0)
        return self.sync

    def _node_data(self, ident: Identity) -> NodeData:
        return NodeData(peer_id=ident.peer_id, my_port=ident.port if ident.server else 0,
                        network_id=self.network_id, support_flags=self.support_flags)

    def _peers_for(self, conn: Connection) -> list[PeerEntry]:
        out = []
        for entry in self._advertise(conn):
            if entry.address in conn.sent_addresses or entry.address == conn.listening_address:
                continue
            conn.sent_addresses.add(entry.address)
            out.append(entry)
            if len(out) == messages.MAX_PEERS_IN_HANDSHAKE:
                break
        return out

    # -- connecting -----------------------------------------------------------------
    async def connect(self, remote: Address, *, source: Identity | str | None = None,
                      timeout: float = HANDSHAKE_TIMEOUT_S, sync_after: bool = True) -> Connection:
        """Connect to ``remote`` from ``source`` (an identity or an address to bind) and handshake.

        Raises :class:`PeerError` when the daemon refuses (wrong network,
        too many connections, timeout) or the TCP connection fails.
        """
        if source is None:
            ident = self.identity("0.0.0.0")
        elif isinstance(source, Identity):
            ident = source
        else:
            ident = self.identity(source)
        local = None if ident.host == "0.0.0.0" else (ident.host, 0)
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(remote[0], int(remote[1]), local_addr=local), timeout)
        except (OSError, asyncio.TimeoutError) as exc:
            raise PeerError(f"cannot connect to {remote[0]}:{remote[1]} from {ident.host}: {exc}") from exc
        sock = writer.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn = Connection(self, ident, reader, writer, outgoing=True)
        conn.start()
        try:
            code, body = await conn.invoke(
                levin.HANDSHAKE, messages.handshake_request(self._node_data(ident), self.sync), timeout)
        except (PeerError, asyncio.TimeoutError, OSError) as exc:
            await conn.close()
            raise PeerError(f"handshake with {remote[0]}:{remote[1]} from {ident.host} failed: "
                            f"{exc or type(exc).__name__} (the daemon drops peers of another network, "
                            "over its connection limits, or banned)") from exc
        node = NodeData.from_storage(body.get("node_data") or {})
        if code <= 0 or node.network_id != self.network_id:
            await conn.close()
            raise PeerError(f"handshake with {remote[0]}:{remote[1]} refused: code {code}, network id "
                            f"{node.network_id.hex()} (ours {self.network_id.hex()})")
        conn.remote_node = node
        conn.remote_sync = CoreSync.from_storage(body.get("payload_data") or {})
        conn.peers_received = messages.parse_peerlist(body)
        conn.handshaked = True
        ident.connections.append(conn)
        if sync_after and self.mirror:
            with contextlib.suppress(PeerError, asyncio.TimeoutError, OSError):
                await conn.timed_sync()
        return conn

    # -- sending --------------------------------------------------------------------
    async def send_txs(self, conn: Connection, txs: list[bytes], *, fluff: bool = True) -> None:
        """NOTIFY_NEW_TRANSACTIONS to one connection (``fluff=False``: as a Dandelion++ stem)."""
        await conn.notify(levin.NEW_TRANSACTIONS, messages.new_transactions(txs, fluff=fluff))

    async def send_block(self, conn: Connection, block: bytes, txs: list[bytes], height: int) -> None:
        """NOTIFY_NEW_FLUFFY_BLOCK to one connection."""
        await conn.notify(levin.NEW_FLUFFY_BLOCK, messages.new_fluffy_block(block, txs, height))

    # -- receiving ------------------------------------------------------------------
    def _dispatch(self, conn: Connection, head: levin.Header, body: dict[str, Any]) -> None:
        cmd = head.command
        if cmd == levin.HANDSHAKE:
            self._on_handshake(conn, head, body)
        elif cmd == levin.TIMED_SYNC:
            conn.remote_sync = CoreSync.from_storage(body.get("payload_data") or {})
            conn._respond(cmd, messages.timed_sync_response(self.sync_for(conn), self._peers_for(conn)))
        elif cmd == levin.PING:
            conn._respond(cmd, messages.ping_response(conn.identity.peer_id))
        elif cmd == levin.SUPPORT_FLAGS:
            conn._respond(cmd, messages.support_flags_response(self.support_flags))
        elif cmd == levin.NEW_TRANSACTIONS:
            txs = tuple(bytes(t) for t in body.get("txs") or [])
            tx_note = TxNote(time.time(), conn.identity.address, conn.listening_address,
                             conn.remote_node.peer_id if conn.remote_node else 0, conn.outgoing, txs,
                             bool(body.get("dandelionpp_fluff", True)))
            for tx_cb in self._tx_callbacks:
                tx_cb(tx_note)
            if "tx" in self._relay:
                fresh = [t for t in txs if self._first(t)]
                if fresh:
                    self._forward(conn, levin.NEW_TRANSACTIONS, messages.new_transactions(fresh, fluff=True))
        elif cmd in (levin.NEW_FLUFFY_BLOCK, levin.NEW_BLOCK):
            note = messages.parse_block_note(body, fluffy=cmd == levin.NEW_FLUFFY_BLOCK)
            event = BlockEvent(time.time(), conn.identity.address, conn.listening_address,
                               conn.remote_node.peer_id if conn.remote_node else 0, conn.outgoing, note)
            for cb in self._block_callbacks:
                cb(event)
            if self.mirror and conn.handshaked:
                conn.resync()
            if "block" in self._relay and self._first(note.block):
                self._forward(conn, cmd, body)
        elif head.expect_response:
            conn._respond(cmd, {}, levin.ERROR_HANDLER_NOT_DEFINED)

    def _first(self, blob: bytes) -> bool:
        key = blob_id(blob)
        if key in self._seen:
            return False
        self._seen.add(key)
        return True

    def _forward(self, source: Connection, command: int, body: dict[str, Any]) -> None:
        data = levin.frame(command, dumps(body))
        for conn in self.connections:
            if conn is not source and not conn.writer.is_closing():
                conn.writer.write(data)

    def _on_handshake(self, conn: Connection, head: levin.Header, body: dict[str, Any]) -> None:
        node = NodeData.from_storage(body.get("node_data") or {})
        if conn.outgoing or conn.handshaked or node.network_id != self.network_id:
            conn.writer.close()  # as monerod does: a second or foreign handshake ends the connection
            return
        conn.remote_node = node
        conn.remote_sync = CoreSync.from_storage(body.get("payload_data") or {})
        conn.handshaked = True
        conn._respond(head.command, messages.handshake_response(
            self._node_data(conn.identity), self.sync_for(conn), self._peers_for(conn)))

    async def close(self) -> None:
        """Close every connection and listening socket."""
        for ident in self.identities:
            if ident.server is not None:
                ident.server.close()
        for ident in self.identities:
            for conn in list(ident.connections):
                await conn.close()
        for ident in self.identities:
            if ident.server is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(ident.server.wait_closed(), 2.0)


__all__ = ["Address", "BlockEvent", "Connection", "Identity", "PeerError", "Swarm", "TxNote", "blob_id"]
