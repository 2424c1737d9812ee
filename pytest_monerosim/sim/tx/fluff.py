"""Fluff-phase diffusion of every transaction at once, vectorised with numpy.

What monerod does (``fluff_notify`` / ``fluff_flush`` in levin_notify.cpp):
a node that fluffs a tx appends it to the queue of every connection except
the one it came from; a connection whose queue was empty starts a timer of
Poisson(20) quarter seconds (5 s on average) for an incoming connection and
Poisson(10) quarters (2.5 s) for an outgoing one; when the timer fires the
whole queue goes out as one message. A message carries many txs, and the
number of flushes, not of txs, is what costs.

How the engine does it: txs still spreading hold *slots*; each node has a
bitset (``uint64`` words) of the slots it knows, and each directed connection
a pending flush time (``inf`` when idle) and a *snapshot* of what its sender
knew at its last flush: the queue is ``known[sender] & ~snapshot``, so
queuing a tx on twenty connections costs nothing. Time advances in windows
of ``step_s`` (half a second; monerod's timers tick in quarter seconds). In a window
the due connections flush together; the txs their receivers lack become
arrivals at ``flush time + latency``; arrivals inside the window become
*learns*. A learn earlier than a flush its node took later in the same
window rides with that flush; an idle connection starts its timer at the
first learn of its sender that did not come from its receiver (monerod
never queues a tx back to its source). A slot is recycled once every node
knows its tx, or no connection still queues it and no arrival carries it.

Everything else (Dandelion++ stems, pools, wallets) is Python around it:
:meth:`inject` puts a tx into the fluff phase at a node, :meth:`add_embargo`
arms an embargo timer, and ``admit`` is asked before a tracked node (a
miner, a spy) or a flagged tx (a double spend) is accepted.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np

from .fluff_kernels import Kernels
from .fluff_learn import hide_np
from .poisson import PoissonTable
from .seen import SeenTable

INF = math.inf
WORD = 64
ONE = np.uint64(1)
SWEEP_EVERY = 16
BEST_CELLS = 1 << 22
"""Largest nodes x slots for the compiled pick's per-(node, slot) scratch (32 MB); beyond it the
pick sorts instead (same picks)."""
"""Windows between full sweeps for slots nothing carries any more."""
AdmitFn = Callable[[int, int, float, int], bool]
"""``admit(node, tx, time, sender)`` (sender -1: the node's own); False rejects it there."""

_I64 = np.int64
_NO_BW = (np.zeros(0), np.zeros(0), np.zeros(0, dtype=_I64))


TABLE = 1 << 16
DRAW_AHEAD = 1 << 16


def _quantiles(lam: float) -> np.ndarray:
    """Poisson(``lam``) quantiles at ``(i + 0.5) / TABLE``, i = 0 .. TABLE-1."""
    cdf = np.array(PoissonTable(lam).cdf)
    u = (np.arange(TABLE) + 0.5) / TABLE
    return np.minimum(np.searchsorted(cdf, u, side="right"), cdf.size - 1).astype(np.float64)


class FluffEngine:
    def __init__(
        self,
        n_nodes: int,
        *,
        seed: int,
        flush_in_s: float = 5.0,
        flush_out_s: float = 2.5,
        step_s: float = 0.5,
        initial_slots: int = 64,
        seen: SeenTable | None = None,
        compiled: bool | None = None,
    ) -> None:
        self.n = n_nodes
        self.k = Kernels(compiled)
        """The per-window steps (numba-compiled when available; identical results)."""
        self.step = step_s
        self.now = 0.0
        self.rng = np.random.Generator(np.random.PCG64(seed))
        self._u = np.zeros(0, dtype=_I64)
        """Table indices drawn ahead from :attr:`rng` (``_draw`` takes them in order)."""
        self._u_at = 0
        # quarter seconds, as float32: exact (small multiples of 0.25), and the two tables the
        # timers index at random take half the cache (the timer step about 10% faster)
        self._q_in = (_quantiles(flush_in_s * 4) * 0.25).astype(np.float32)
        self._q_out = (_quantiles(flush_out_s * 4) * 0.25).astype(np.float32)
        self.seen = seen if seen is not None else SeenTable(n_nodes)
        # connections, sorted by (src, dst); c_key = src * n + dst
        self.c_src = np.zeros(0, dtype=_I64)
        self.c_dst = np.zeros(0, dtype=_I64)
        self.c_lat = np.zeros(0, dtype=np.float64)
        self.c_out = np.zeros(0, dtype=bool)
        self.c_key = np.zeros(0, dtype=_I64)
        self.ptr = np.zeros(n_nodes + 1, dtype=_I64)
        self.next_flush = np.zeros(0, dtype=np.float64)
        self.last_flush = np.zeros(0, dtype=np.float64)
        # slots
        self.W = max(1, -(-initial_slots // WORD))
        self.snap = np.zeros((0, self.W), dtype=np.uint64)
        self.known = np.zeros((n_nodes, self.W), dtype=np.uint64)
        self.slot_tx = np.full(self.W * WORD, -1, dtype=_I64)
        self.count_known = np.zeros(self.W * WORD, dtype=_I64)
        self.flagged_slot = np.zeros(self.W * WORD, dtype=bool)
        self.free: list[int] = list(range(self.W * WORD - 1, -1, -1))
        self.slot_of: dict[int, int] = {}
        self.unreached: dict[int, np.ndarray] = {}
        """Tx → nodes its fluff never reached (kept when its slot is recycled)."""
        self.done: set[int] = set()
        self.flagged: set[int] = set()
        # nodes
        self.relays = np.ones(n_nodes, dtype=bool)
        self.tracked = np.zeros(n_nodes, dtype=bool)
        self.admit: AdmitFn | None = None
        self.transfer: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray] | None = None
        """``transfer(senders, receivers, txs)``: seconds each flush arrival takes on its link
        beyond the latency (tx bandwidth, :mod:`.bandwidth`); None: none. :meth:`set_bandwidth`
        does the same inside the window's steps."""
        self.bandwidth: Any = None
        """What :meth:`set_bandwidth` gave: per node ``up``, ``down`` (bit/s) and ``sent`` (bytes)."""
        self.tx_weight: Callable[[int], int] | None = None
        self.slot_w = np.zeros(self.W * WORD)
        """Per slot: its tx's weight in bytes (with :attr:`bandwidth`)."""
        self._acc = np.zeros(0)
        # arrivals not yet applied (the first _a_n of these buffers, in push order): node, slot,
        # time, sender node (-1: the node's own)
        self._a_node = np.zeros(1024, dtype=_I64)
        self._a_slot = np.zeros(1024, dtype=_I64)
        self._a_t = np.zeros(1024, dtype=np.float64)
        self._a_from = np.zeros(1024, dtype=_I64)
        self._a_n = 0
        self._best = np.zeros(0, dtype=_I64)
        """Scratch of the compiled ``take``: per (node, slot) key, -1 between calls."""
        self._a_min = INF
        self._inj: deque[tuple[int, int, float]] = deque()
        self._embargo: list[tuple[float, int, int, int]] = []
        self._eseq = 0
        # this window: flushed connections, and the relaying learns (node, time, sender)
        self._w_start = 0.0
        self._due_mark = np.zeros(0, dtype=_I64)
        self._due = np.zeros(0, dtype=_I64)
        """The connections flushed in this window (sorted)."""
        self._due_lo = np.zeros(n_nodes + 1, dtype=_I64)
        """Where each node's connections start in :attr:`_due` (set by the window's flush)."""
        """Per connection: the window in which it last flushed (ride-along looks for this one)."""
        self._w_learns: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._sweep_in = SWEEP_EVERY
        self._first_t = np.full(n_nodes, INF)
        self._second_t = np.full(n_nodes, INF)
        self._first_from = np.full(n_nodes, -2, dtype=_I64)
        # statistics
        self.windows = 0
        self.flushes = 0
        self.messages = 0
        self.learns = 0
        self.embargo_fired = 0

    @property
    def slots(self) -> int:
        return self.W * WORD

    # -- topology --------------------------------------------------------------
    def set_connections(self, src: np.ndarray, dst: np.ndarray, latency: np.ndarray,
                        outgoing: np.ndarray) -> None:
        """Replace the directed connections; surviving ones keep their queue and timer.

        ``outgoing[i]`` is True when ``src[i]`` opened the connection (it then
        flushes on the shorter, outgoing timer). A new connection starts with
        an empty queue; the queue of a closed one is lost, as in monerod.
        """
        n = self.n
        src = np.asarray(src, dtype=_I64)
        dst = np.asarray(dst, dtype=_I64)
        order = np.lexsort((dst, src))
        src, dst = src[order], dst[order]
        lat = np.maximum(np.asarray(latency, dtype=np.float64)[order], 1e-6)
        out = np.asarray(outgoing, dtype=bool)[order]
        key_new = src * n + dst
        c_new = key_new.size
        snap = self.known[src].copy()
        nxt = np.full(c_new, INF)
        last = np.full(c_new, -INF)
        key_old = self.c_key
        if key_old.size and c_new:
            idx = np.minimum(np.searchsorted(key_old, key_new), key_old.size - 1)
            match = key_old[idx] == key_new
            rows = idx[match]
            snap[match] = self.snap[rows]
            nxt[match] = self.next_flush[rows]
            last[match] = self.last_flush[rows]
        self.c_src, self.c_dst, self.c_lat, self.c_out, self.c_key = src, dst, lat, out, key_new
        self.snap, self.next_flush, self.last_flush = snap, nxt, last
        self._connections_set()

    def _connections_set(self) -> None:
        """After the connection rows changed: each node's first row, and the window's scratch
        sized to the rows."""
        self.ptr = np.searchsorted(self.c_src, np.arange(self.n + 1)).astype(_I64)
        self._due_mark = np.full(self.c_key.size, -1, dtype=_I64)
        self._acc = np.zeros(self.c_key.size)

    def change_connections(self, src: np.ndarray, dst: np.ndarray, present: np.ndarray,
                           latency: np.ndarray, outgoing: np.ndarray,
                           reopened: np.ndarray | None = None) -> None:
        """:meth:`set_connections` given only the connections that may have changed: each
        ``(src[i], dst[i])`` (unique) is open now if ``present[i]`` (with ``latency[i]`` and
        ``outgoing[i]``), closed if not; every other connection is as it was. Without
        ``reopened`` the result is the one ``set_connections`` gives for the whole new set (a
        connection open before and now keeps its queue and timer and takes the new latency
        and direction); a connection marked ``reopened`` was closed in between and starts
        afresh, as a new one (monerod loses a closed connection's queue). The cost follows the
        connections, not a Python loop over them: in the mainnet twin a whole set is up to
        about 790,000 rows, and a few hundred change between two reads."""
        n = self.n
        src = np.asarray(src, dtype=_I64)
        dst = np.asarray(dst, dtype=_I64)
        present = np.asarray(present, dtype=bool)
        lat = np.maximum(np.asarray(latency, dtype=np.float64), 1e-6)
        out = np.asarray(outgoing, dtype=bool)
        key = src * n + dst
        key_old = self.c_key
        had = np.zeros(key.size, dtype=bool)
        idx = np.searchsorted(key_old, key)
        if key_old.size:
            inside = idx < key_old.size
            had[inside] = key_old[idx[inside]] == key[inside]
        renew = had & present
        if reopened is None:
            renew[:] = False
        else:
            renew &= np.asarray(reopened, dtype=bool)
        had_kept = had & ~renew
        stay = had_kept & present
        if stay.any():
            rows = idx[stay]
            self.c_lat[rows] = lat[stay]
            self.c_out[rows] = out[stay]
        gone = idx[had & (~present | renew)]
        if gone.size:
            keep = np.ones(key_old.size, dtype=bool)
            keep[gone] = False
            self.c_src, self.c_dst = self.c_src[keep], self.c_dst[keep]
            self.c_lat, self.c_out, self.c_key = self.c_lat[keep], self.c_out[keep], self.c_key[keep]
            self.snap = self.snap[keep]
            self.next_flush, self.last_flush = self.next_flush[keep], self.last_flush[keep]
        new = present & ~had_kept
        if new.any():
            order = np.argsort(key[new])
            k_new, s_new = key[new][order], src[new][order]
            at = np.searchsorted(self.c_key, k_new)
            self.c_src = np.insert(self.c_src, at, s_new)
            self.c_dst = np.insert(self.c_dst, at, dst[new][order])
            self.c_lat = np.insert(self.c_lat, at, lat[new][order])
            self.c_out = np.insert(self.c_out, at, out[new][order])
            self.c_key = np.insert(self.c_key, at, k_new)
            self.snap = np.insert(self.snap, at, self.known[s_new], axis=0)
            self.next_flush = np.insert(self.next_flush, at, INF)
            self.last_flush = np.insert(self.last_flush, at, -INF)
        self._connections_set()

    def set_bandwidth(self, bandwidth: Any, tx_weight: Callable[[int], int]) -> None:
        """Arrivals later by their message's transfer time, as :meth:`.TxBandwidth.message_delays`
        gives it (``bandwidth``: its ``up``, ``down`` and ``sent`` arrays, read at every window)."""
        self.bandwidth, self.tx_weight = bandwidth, tx_weight
        for tx, slot in self.slot_of.items():
            self.slot_w[slot] = tx_weight(tx)

    def _bw(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        bw = self.bandwidth
        if bw is None or self.transfer is not None:
            return _NO_BW
        return bw.up, bw.down, bw.sent

    def grow(self, n_nodes: int) -> None:
        """Room for nodes that joined after the start (indices ``n .. n_nodes-1``)."""
        extra = n_nodes - self.n
        if extra <= 0:
            return
        self.known = np.concatenate((self.known, np.zeros((extra, self.W), dtype=np.uint64)))
        self.relays = np.concatenate((self.relays, np.ones(extra, dtype=bool)))
        self.tracked = np.concatenate((self.tracked, np.zeros(extra, dtype=bool)))
        self._first_t = np.concatenate((self._first_t, np.full(extra, INF)))
        self._second_t = np.concatenate((self._second_t, np.full(extra, INF)))
        self._first_from = np.concatenate((self._first_from, np.full(extra, -2, dtype=_I64)))
        self.count_known[:] = 0  # counts are against n; recount the active slots
        for slot in self.slot_of.values():
            w, bit = slot >> 6, ONE << np.uint64(slot & 63)
            self.count_known[slot] = int(((self.known[:, w] & bit) != 0).sum())
        self.n = n_nodes
        self._due_lo = np.concatenate((self._due_lo, np.full(extra, self._due.size, dtype=_I64)))
        self.c_key = self.c_src * n_nodes + self.c_dst
        self.seen.grow(n_nodes)

    def set_relaying(self, node: int, relay: bool) -> None:
        self.relays[node] = relay

    def track(self, node: int, on: bool = True) -> None:
        """Ask ``admit`` before ``node`` accepts any tx."""
        self.tracked[node] = on

    def flag(self, tx: int) -> None:
        """Ask ``admit`` before any node accepts ``tx`` (it conflicts with another)."""
        self.flagged.add(tx)
        slot = self.slot_of.get(tx)
        if slot is not None:
            self.flagged_slot[slot] = True

    # -- external inputs -------------------------------------------------------
    def inject(self, node: int, tx: int, t: float) -> None:
        """``node`` fluffs ``tx`` at ``t`` (end of a stem, an embargo, plain diffusion).

        Injections come in time order (the world's clock), never before :attr:`now`.
        """
        if self._inj and t < self._inj[-1][2]:
            t = self._inj[-1][2]
        self._inj.append((node, tx, max(t, self.now)))

    def add_embargo(self, node: int, tx: int, deadline: float) -> None:
        """``node`` fluffs ``tx`` itself at ``deadline`` unless it has seen it fluffed by then."""
        self._eseq += 1
        heapq.heappush(self._embargo, (deadline, self._eseq, node, tx))

    # -- queries ---------------------------------------------------------------
    def knows(self, node: int, tx: int) -> bool:
        """Has ``node`` taken ``tx`` in the fluff phase (as of :attr:`now`)?"""
        slot = self.slot_of.get(tx)
        if slot is not None:
            return bool((int(self.known[node, slot >> 6]) >> (slot & 63)) & 1)
        if tx in self.done:
            miss = self.unreached.get(tx)
            return miss is None or node not in set(miss.tolist())
        return False

    def active(self) -> int:
        return len(self.slot_of)

    # -- time ------------------------------------------------------------------
    def sync(self, t: float) -> None:
        """Advance to ``t`` unless the engine is already within one step of it."""
        if self.behind(t):
            self.advance(t)

    def behind(self, t: float) -> bool:
        """Would :meth:`sync` to ``t`` advance (is the engine more than a step behind ``t``)?"""
        return t > self.now + self.step

    def advance(self, t: float) -> None:
        """Process every flush, arrival, injection and embargo up to time ``t``."""
        inj = self._inj
        embargo = self._embargo
        while True:
            nf = float(self.next_flush.min()) if self.next_flush.size else INF
            na = self._a_min
            ni = inj[0][2] if inj else INF
            ne = embargo[0][0] if embargo else INF
            nxt = min(nf, na, ni, ne)
            if nxt > t:
                break
            w_end = min(nxt + self.step, t)
            if inj and inj[0][2] <= w_end:
                self._take_injections(w_end)
            due: list[tuple[float, int, int]] = []
            while embargo and embargo[0][0] <= w_end:
                deadline, _, node, tx = heapq.heappop(embargo)
                due.append((deadline, node, tx))
            self._window(nxt, w_end, due)
        self.now = max(self.now, t)

    def _take_injections(self, until: float) -> None:
        """Injections up to ``until`` become arrivals (slots are taken only now, so only
        txs actually spreading hold one)."""
        inj = self._inj
        taken: list[tuple[int, int, float]] = []
        while inj and inj[0][2] <= until:
            taken.append(inj.popleft())
        slots = np.array([self._slot(tx) for _, tx, _ in taken], dtype=_I64)
        nodes = np.array([i[0] for i in taken], dtype=_I64)
        ts = np.array([i[2] for i in taken], dtype=np.float64)
        self._push(nodes, slots, ts, np.full(nodes.size, -1, dtype=_I64))

    def _push(self, nodes: np.ndarray, slots: np.ndarray, ts: np.ndarray, senders: np.ndarray) -> None:
        m = nodes.size
        if not m:
            return
        n = self._a_n
        end = n + m
        if end > self._a_t.size:
            cap = max(2 * self._a_t.size, end)
            for name in ("_a_node", "_a_slot", "_a_t", "_a_from"):
                old = getattr(self, name)
                grown = np.zeros(cap, dtype=old.dtype)
                grown[:n] = old[:n]
                setattr(self, name, grown)
        self._a_node[n:end] = nodes
        self._a_slot[n:end] = slots
        self._a_t[n:end] = ts
        self._a_from[n:end] = senders
        self._a_n = end
        self._a_min = min(self._a_min, float(ts.min()))

    def _window(self, w_start: float, w_end: float,
                embargoes: list[tuple[float, int, int]] | None = None) -> None:
        self.windows += 1
        self._w_start = w_start
        due = np.flatnonzero(self.next_flush <= w_end)
        self._due = due
        if due.size:
            self._due_mark[due] = self.windows
            self._flush(due)
        self._w_learns = []
        self._apply_arrivals(w_end)
        if embargoes:
            self._fire_embargoes(embargoes, w_end)
        if self._w_learns:
            self._start_timers()
        self._recycle()
        self.now = max(self.now, w_end)

    def _fire_embargoes(self, embargoes: list[tuple[float, int, int]], w_end: float) -> None:
        """Embargo timers due in this window: a node still without the fluffed tx fluffs it
        itself, at its deadline (checked at the window's end, so a fluff arriving within the
        same half second after the deadline counts as in time)."""
        fired = [(d, node, tx) for d, node, tx in embargoes
                 if self.relays[node] and not self.knows(node, tx)]
        if not fired:
            return
        self.embargo_fired += len(fired)
        slots = np.array([self._slot(tx) for _, _, tx in fired], dtype=_I64)
        self._push(np.array([f[1] for f in fired], dtype=_I64), slots,
                   np.array([f[0] for f in fired]), np.full(len(fired), -1, dtype=_I64))
        self._apply_arrivals(w_end)

    def _flush(self, due: np.ndarray) -> None:
        self.flushes += due.size
        *arrivals, messages = self.k.flush_bw(due, self.next_flush, self.last_flush, self.known, self.snap,
                                              self.c_src, self.c_dst, self.c_lat, *self._bw(), self.slot_w,
                                              self._due_lo)
        self.messages += messages
        self._push(*self._transfer(*arrivals))

    def _apply_arrivals(self, w_end: float) -> None:
        cells = self.n * self.slots
        if self._best.size < cells <= BEST_CELLS:
            self._best = np.full(cells, -1, dtype=_I64)
        elif cells > BEST_CELLS and self._best.size:
            self._best = np.zeros(0, dtype=_I64)
        while self._a_min <= w_end:
            nodes, slots, ts, senders, ask, self._a_n, self._a_min = self.k.take(
                self._a_node, self._a_slot, self._a_t, self._a_from, self._a_n, w_end, self.known,
                self.slots, self.tracked, self.flagged_slot, self._best)
            self._learn(nodes, slots, ts, senders, ask)

    # -- slots -----------------------------------------------------------------
    def _slot(self, tx: int) -> int:
        slot = self.slot_of.get(tx)
        if slot is not None:
            return slot
        if not self.free:
            self._grow()
        slot = self.free.pop()
        self.slot_of[tx] = slot
        self.slot_tx[slot] = tx
        self.flagged_slot[slot] = tx in self.flagged
        if self.tx_weight is not None:
            self.slot_w[slot] = self.tx_weight(tx)
        if tx in self.done:  # re-activated (an embargo after the fluff finished)
            self.done.discard(tx)
            miss = self.unreached.pop(tx, None)
            w, bit = slot >> 6, ONE << np.uint64(slot & 63)
            self.known[:, w] |= bit
            self.snap[:, w] |= bit
            if miss is not None:
                self.known[miss, w] &= ~bit
                self.snap[np.isin(self.c_src, miss), w] &= ~bit
            self.count_known[slot] = self.n - (0 if miss is None else miss.size)
        return slot

    def _grow(self) -> None:
        old = self.W * WORD
        self.snap = np.concatenate((self.snap, np.zeros_like(self.snap)), axis=1)
        self.known = np.concatenate((self.known, np.zeros_like(self.known)), axis=1)
        self.slot_tx = np.concatenate((self.slot_tx, np.full(old, -1, dtype=_I64)))
        self.count_known = np.concatenate((self.count_known, np.zeros(old, dtype=_I64)))
        self.flagged_slot = np.concatenate((self.flagged_slot, np.zeros(old, dtype=bool)))
        self.slot_w = np.concatenate((self.slot_w, np.zeros(old)))
        self.free.extend(range(2 * old - 1, old - 1, -1))
        self.W *= 2

    def _recycle(self) -> None:
        """Free the slots of txs every node knows; every :data:`SWEEP_EVERY` windows also
        those no queue or arrival carries any more (they will never reach some nodes)."""
        if not self.slot_of:
            return
        done = np.flatnonzero((self.slot_tx >= 0) & (self.count_known >= self.n))
        if done.size:
            self._release(done.tolist())
        self._sweep_in -= 1
        if self._sweep_in <= 0:
            self._sweep()
            self.seen.settle(self.now, self._live_txs, np.flatnonzero(self.tracked))

    def _live_txs(self) -> set[int]:
        """Txs that may still be marked: spreading, queued to fluff, or under an embargo."""
        return set(self.slot_of) | {i[1] for i in self._inj} | {e[3] for e in self._embargo}

    def _sweep(self) -> None:
        self._sweep_in = SWEEP_EVERY
        queued = np.zeros(self.slots, dtype=bool)
        if self.snap.shape[0]:
            words = np.bitwise_or.reduce(self.known[self.c_src] & ~self.snap, axis=0)
            queued = np.unpackbits(words.view(np.uint8), bitorder="little").astype(bool)
        if self._a_n:
            queued[self._a_slot[:self._a_n]] = True
        gone = np.flatnonzero((self.slot_tx >= 0) & ~queued)
        if gone.size:
            self._release(gone.tolist())

    def _release(self, slots: list[int]) -> None:
        """Free ``slots`` (in this order: the free list takes them so): what their txs never
        reached is kept, their pending arrivals dropped, their bits cleared word by word."""
        n = self._a_n
        if n:
            stale = np.isin(self._a_slot[:n], slots)
            if stale.any():
                keep = ~stale
                m = int(keep.sum())
                for arr in (self._a_node, self._a_slot, self._a_t, self._a_from):
                    arr[:m] = arr[:n][keep]
                self._a_n = m
                self._a_min = float(self._a_t[:m].min()) if m else INF
        masks: dict[int, int] = {}
        for slot in slots:
            tx = int(self.slot_tx[slot])
            w = slot >> 6
            if self.count_known[slot] < self.n:
                bit = ONE << np.uint64(slot & 63)
                self.unreached[tx] = np.flatnonzero((self.known[:, w] & bit) == 0)
            masks[w] = masks.get(w, 0) | (1 << (slot & 63))
            del self.slot_of[tx]
            self.done.add(tx)
            self.free.append(slot)
        for w, mask in masks.items():
            keep_bits = ~np.uint64(mask)
            self.snap[:, w] &= keep_bits
            self.known[:, w] &= keep_bits
        self.count_known[slots] = 0
        self.slot_tx[slots] = -1
        self.flagged_slot[slots] = False

    # -- learning --------------------------------------------------------------
    def _learn(self, nodes: np.ndarray, slots: np.ndarray, ts: np.ndarray, sender: np.ndarray,
               ask: np.ndarray) -> None:
        """Apply picked learns (``ask``: those ``admit`` must be asked about)."""
        if not nodes.size:
            return
        if self.admit is not None and ask.size:
            txs = self.slot_tx[slots]
            ok = np.ones(nodes.size, dtype=bool)
            for i in ask.tolist():
                ok[i] = self.admit(int(nodes[i]), int(txs[i]), float(ts[i]), int(sender[i]))
            if not ok.all():
                # a rejecting node keeps it out of its pool and never relays it; marking it
                # known there (and in the snapshots of its connections) stops redeliveries
                no = ~ok
                self.k.mark(self.known, self.count_known, nodes[no], slots[no])
                hide_np(self.snap, self.ptr, nodes[no], slots[no])
                nodes, slots, ts, sender = nodes[ok], slots[ok], ts[ok], sender[ok]
                if not nodes.size:
                    return
        # mark them known; keep them off silent nodes' queues and off the connections back
        # to their senders (monerod never queues a tx back to its source); what a node
        # learned before a flush it took later in this window rides along with that flush
        *arrivals, r_nodes, r_ts, r_sender = self.k.commit_bw(
            nodes, slots, ts, sender, self.known, self.count_known, self.relays, self.snap, self.ptr,
            self.c_key, self.n, self._due_mark, self.windows, self.last_flush, self.c_src, self.c_dst,
            self.c_lat, *self._bw(), self.slot_w, self._acc, self._due, self._due_lo)
        self.learns += nodes.size
        self._mark_seen(self.slot_tx[slots], nodes, ts)
        self._push(*self._transfer(*arrivals))
        if r_nodes.size:
            self._w_learns.append((r_nodes, r_ts, r_sender))

    def _mark_seen(self, rows: np.ndarray, nodes: np.ndarray, ts: np.ndarray) -> None:
        """First-seen times: in one step when every row is in one dense chunk (the usual case)."""
        seen = self.seen
        k = int(rows[0]) // seen.chunk
        if k < len(seen.chunks) and seen.chunks[k].size and k not in seen.sparse:
            latest = self.k.mark_seen(seen.chunks[k], k * seen.chunk, rows, nodes, ts)
            if latest == latest:  # NaN: some row is in another chunk
                seen.latest[k] = max(seen.latest[k], latest)
                return
        seen.mark_many(rows, nodes, ts)

    def _transfer(self, nodes: np.ndarray, slots: np.ndarray, ts: np.ndarray,
                  senders: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Arrivals later by their message's transfer time (``transfer`` hook; mainnet, #14)."""
        if self.transfer is None or not nodes.size:
            return nodes, slots, ts, senders
        return nodes, slots, ts + self.transfer(senders, nodes, self.slot_tx[slots]), senders

    def _start_timers(self) -> None:
        """Idle connections whose sender learned something this window start a timer.

        The timer starts at the sender's first learn after the connection's
        last flush that did not come from the receiver (its second learn when
        the first does not qualify: close enough, since nodes learn a few txs
        per window at most).
        """
        nodes = np.concatenate([x[0] for x in self._w_learns])
        ts = np.concatenate([x[1] for x in self._w_learns])
        senders = np.concatenate([x[2] for x in self._w_learns])
        self._w_learns = []
        self._table_indices(self.c_src.size)  # room for a timer on every connection
        self._u_at -= self.c_src.size
        self._u_at += self.k.start(nodes, ts, senders, self.ptr, self.next_flush, self.last_flush,
                                   self.c_dst, self.c_out, self._first_t, self._second_t, self._first_from,
                                   self._q_out, self._q_in, self._u, self._u_at)

    def _draw(self, outgoing: np.ndarray) -> np.ndarray:
        """Flush delays: Poisson quarter seconds, shorter on outgoing connections.

        By table: the Poisson quantile of ``(i + 0.5) / 2**16`` for a uniform ``i``
        (probabilities right to 1.5e-5, which no run can tell apart).
        """
        i = self._table_indices(outgoing.size)
        return np.where(outgoing, self._q_out[i], self._q_in[i])

    def _table_indices(self, n: int) -> np.ndarray:
        """The next ``n`` uniform table indices of :attr:`rng`."""
        if self._u_at + n > self._u.size:
            # drawn ahead in blocks: the generator gives the same sequence whatever the
            # block sizes (each index takes one 32-bit draw), so this is what drawing
            # exactly ``n`` each time gives, at a fraction of the calls
            rest = self._u[self._u_at:]
            self._u = np.concatenate((rest, self.rng.integers(0, TABLE, size=max(DRAW_AHEAD, n))))
            self._u_at = 0
        i = self._u[self._u_at:self._u_at + n]
        self._u_at += n
        return i
