"""The fluff engine's three per-window steps, in numpy and (optionally) compiled with numba.

:class:`~.fluff.FluffEngine` spends most of a window in many small numpy
calls (a flush window touches a few thousand connections and a few txs), so
the cost is per call, not per element. Each step below exists twice:

* ``*_np`` — plain numpy, always available (the reference);
* ``*_nb`` — the same step as one loop compiled by numba (``pip install
  'pytest-monerosim[fast]'``), used when numba imports.

Both produce the same arrays in the same order (and the same updates of the
engine's arrays), so a run gives identical results either way; the tests run
both. ``MONEROSIM_FLUFF_KERNEL=numpy`` forces the numpy steps.

Steps:

* ``flush`` — the due connections send their queues (``known[src] & ~snapshot``):
  the arrivals (receiver, slot, time, sender) of what the receivers lack, in
  (connection, slot) order, and the number of messages that carried something.
* ``ride_along`` — learns made before a flush their node took later in the same
  window go with that flush: the (connection, slot) pairs, marked in the snapshots.
* ``mark`` / ``not_back`` — record learns in the known bitsets and counts; keep a
  learned tx off the connection back to its sender.
* ``timers`` — from the window's relaying learns (sorted by node, then time), the
  idle connections of the learning nodes that start a timer, and when.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import Any

import numpy as np

WORD = 64
ONE = np.uint64(1)
_I64 = np.int64
INF = math.inf


def set_bits(words: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(i, b)`` for every set bit ``b`` of ``words[i]``, in ``(i, b)`` order.

    Peels the lowest set bit off every word at once (``x & -x``; its index is
    exact through ``frexp`` of the power of two), so the cost follows the
    largest number of bits in one word (a flush carries a few txs), not 64 per word.
    """
    idx = np.arange(words.size, dtype=_I64)
    x = words.astype(np.uint64, copy=True)
    out_i: list[np.ndarray] = []
    out_b: list[np.ndarray] = []
    while x.size:
        low = x & (~x + ONE)
        out_i.append(idx)
        out_b.append(np.frexp(low.astype(np.float64))[1].astype(_I64) - 1)
        x ^= low
        more = x != 0
        if not more.any():
            break
        x, idx = x[more], idx[more]
    if len(out_i) == 1:
        return out_i[0], out_b[0]
    key = np.sort(np.concatenate(out_i) * WORD + np.concatenate(out_b))
    return key >> 6, key & (WORD - 1)


def bits(slots: np.ndarray) -> np.ndarray:
    return np.left_shift(ONE, (slots & (WORD - 1)).astype(np.uint64))


def _ranges(starts: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For ranges ``[starts[i], starts[i] + counts[i])``: (owner i, position) of every element."""
    total = int(counts.sum())
    rep = np.repeat(np.arange(starts.size), counts)
    return rep, np.arange(total) + np.repeat(starts - (np.cumsum(counts) - counts), counts)


# -- numpy ---------------------------------------------------------------------------------

def flush_np(due: np.ndarray, next_flush: np.ndarray, last_flush: np.ndarray, known: np.ndarray,
             snap: np.ndarray, c_src: np.ndarray, c_dst: np.ndarray,
             c_lat: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    f = next_flush[due]
    next_flush[due] = INF
    last_flush[due] = f
    src_known = known[c_src[due]]
    payload = src_known & ~snap[due]
    snap[due] = src_known
    new = payload & ~known[c_dst[due]]
    r, w = np.nonzero(new)
    if not r.size:
        empty = np.zeros(0, dtype=_I64)
        return empty, empty, np.zeros(0), empty, 0
    k, b = set_bits(new[r, w])
    rows = r[k]
    slots = w[k] * WORD + b
    conn = due[rows]
    return (c_dst[conn], slots, f[rows] + c_lat[conn], c_src[conn],
            int(np.count_nonzero(np.diff(r)) + 1))


def ride_along_np(due: np.ndarray, nodes: np.ndarray, slots: np.ndarray, ts: np.ndarray,
                  sender: np.ndarray, last_flush: np.ndarray, snap: np.ndarray, c_src: np.ndarray,
                  c_dst: np.ndarray, c_lat: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    due_src = c_src[due]
    lo = np.searchsorted(due_src, nodes, side="left")
    hi = np.searchsorted(due_src, nodes, side="right")
    counts = hi - lo
    if not int(counts.sum()):
        return None
    rep, pos = _ranges(lo, counts)
    conns = due[pos]
    f = last_flush[conns]
    dst = c_dst[conns]
    late = (f > ts[rep]) & (dst != sender[rep])
    if not late.any():
        return None
    conns, rep, f = conns[late], rep[late], f[late]
    slot_r = slots[rep]
    np.bitwise_or.at(snap, (conns, slot_r >> 6), bits(slot_r))
    return c_dst[conns], slot_r, f + c_lat[conns], c_src[conns]


def timers_np(nodes: np.ndarray, ts: np.ndarray, senders: np.ndarray, first: np.ndarray,
              ptr: np.ndarray, next_flush: np.ndarray, last_flush: np.ndarray, c_dst: np.ndarray,
              first_t: np.ndarray, second_t: np.ndarray,
              first_from: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``nodes`` sorted (then by time) with ``first`` marking each node's first learn; the
    per-node scratch arrays are INF / -2 on entry and on return."""
    i1 = np.flatnonzero(first)
    first_t[nodes[i1]] = ts[i1]
    first_from[nodes[i1]] = senders[i1]
    i2 = i1 + 1
    has = i2 < nodes.size
    i1, i2 = i1[has], i2[has]
    has = nodes[i2] == nodes[i1]
    if has.any():
        second_t[nodes[i1[has]]] = ts[i2[has]]
    # Only connections of a node that learned something can start: the nodes' ranges of
    # the (src-sorted) connection arrays, ascending, so the draws come in the same order
    # as over all idle connections.
    learned = nodes[first]
    lo = ptr[learned]
    counts = ptr[learned + 1] - lo
    conns = np.zeros(0, dtype=_I64)
    t1 = np.zeros(0)
    if int(counts.sum()):
        rep, cand = _ranges(lo, counts)
        idle = np.isinf(next_flush[cand])
        cand, src = cand[idle], learned[rep[idle]]
        t1 = first_t[src]
        live = np.isfinite(t1)
        if live.any():
            cand, src, t1 = cand[live], src[live], t1[live]
            use_second = (first_from[src] == c_dst[cand]) | (t1 < last_flush[cand])
            t1 = np.where(use_second, second_t[src], t1)
            go = np.isfinite(t1)
            conns, t1 = cand[go], t1[go]
        else:
            t1 = np.zeros(0)
    first_t[nodes] = INF
    second_t[nodes] = INF
    first_from[nodes] = -2
    return conns, t1


def mark_np(known: np.ndarray, count_known: np.ndarray, nodes: np.ndarray, slots: np.ndarray) -> None:
    """``nodes[i]`` now knows ``slots[i]`` (pairs distinct)."""
    np.bitwise_or.at(known, (nodes, slots >> 6), bits(slots))
    np.add.at(count_known, slots, 1)


def not_back_np(snap: np.ndarray, c_key: np.ndarray, n: int, nodes: np.ndarray, sender: np.ndarray,
                slots: np.ndarray) -> None:
    """Mark ``slots[i]`` as sent on the connection ``nodes[i]`` → ``sender[i]`` (if any)."""
    c = c_key.size
    if not c:
        return
    key = nodes * n + sender
    idx = np.minimum(np.searchsorted(c_key, key), c - 1)
    has = (c_key[idx] == key) & (sender >= 0)
    if has.any():
        np.bitwise_or.at(snap, (idx[has], slots[has] >> 6), bits(slots[has]))


# -- numba ---------------------------------------------------------------------------------

def _compile() -> dict[str, Callable[..., Any]] | None:
    """The numba twins of the steps above, or None without numba."""
    try:
        from numba import njit
    except ImportError:
        return None

    def jit(fn: Callable[..., Any]) -> Callable[..., Any]:
        try:  # compiled once per installation, into __pycache__ or numba's user-wide cache
            return njit(cache=True, nogil=True)(fn)
        except RuntimeError:  # nowhere writable to cache: compile in each process
            return njit(nogil=True)(fn)

    @jit
    def flush_nb(due, next_flush, last_flush, known, snap, c_src, c_dst, c_lat):  # type: ignore[no-untyped-def]
        n, width = due.size, known.shape[1]
        new = np.zeros((n, width), dtype=np.uint64)
        f = np.empty(n)
        total = 0
        messages = 0
        for i in range(n):
            c = due[i]
            f[i] = next_flush[c]
            next_flush[c] = np.inf
            last_flush[c] = f[i]
            s, d = c_src[c], c_dst[c]
            carried = False
            for w in range(width):
                sk = known[s, w]
                x = sk & ~snap[c, w] & ~known[d, w]
                snap[c, w] = sk
                if x:
                    new[i, w] = x
                    carried = True
                    while x:
                        x &= x - np.uint64(1)
                        total += 1
            if carried:
                messages += 1
        a_node = np.empty(total, dtype=np.int64)
        a_slot = np.empty(total, dtype=np.int64)
        a_t = np.empty(total)
        a_from = np.empty(total, dtype=np.int64)
        k = 0
        for i in range(n):
            c = due[i]
            for w in range(width):
                x = new[i, w]
                b = 0
                while x:
                    if x & np.uint64(1):
                        a_node[k] = c_dst[c]
                        a_slot[k] = w * 64 + b
                        a_t[k] = f[i] + c_lat[c]
                        a_from[k] = c_src[c]
                        k += 1
                    x >>= np.uint64(1)
                    b += 1
        return a_node, a_slot, a_t, a_from, messages

    @jit
    def _due_range(due, c_src, node):  # type: ignore[no-untyped-def]
        lo, hi = 0, due.size
        while lo < hi:
            mid = (lo + hi) // 2
            if c_src[due[mid]] < node:
                lo = mid + 1
            else:
                hi = mid
        end = lo
        while end < due.size and c_src[due[end]] == node:
            end += 1
        return lo, end

    @jit
    def ride_along_nb(due, nodes, slots, ts, sender, last_flush, snap, c_src, c_dst, c_lat):  # type: ignore[no-untyped-def]
        total = 0
        for i in range(nodes.size):
            lo, hi = _due_range(due, c_src, nodes[i])
            for j in range(lo, hi):
                c = due[j]
                if last_flush[c] > ts[i] and c_dst[c] != sender[i]:
                    total += 1
        a_node = np.empty(total, dtype=np.int64)
        a_slot = np.empty(total, dtype=np.int64)
        a_t = np.empty(total)
        a_from = np.empty(total, dtype=np.int64)
        k = 0
        for i in range(nodes.size):
            lo, hi = _due_range(due, c_src, nodes[i])
            for j in range(lo, hi):
                c = due[j]
                if last_flush[c] > ts[i] and c_dst[c] != sender[i]:
                    slot = slots[i]
                    snap[c, slot >> 6] |= np.uint64(1) << np.uint64(slot & 63)
                    a_node[k] = c_dst[c]
                    a_slot[k] = slot
                    a_t[k] = last_flush[c] + c_lat[c]
                    a_from[k] = c_src[c]
                    k += 1
        return a_node, a_slot, a_t, a_from

    @jit
    def timers_nb(nodes, ts, senders, first, ptr, next_flush, last_flush, c_dst,  # type: ignore[no-untyped-def]
                  first_t, second_t, first_from):
        n = nodes.size
        for i in range(n):
            if first[i]:
                u = nodes[i]
                first_t[u] = ts[i]
                first_from[u] = senders[i]
                if i + 1 < n and nodes[i + 1] == u:
                    second_t[u] = ts[i + 1]
        total = 0
        for i in range(n):
            if first[i]:
                u = nodes[i]
                total += ptr[u + 1] - ptr[u]
        conns = np.empty(total, dtype=np.int64)
        t1s = np.empty(total)
        k = 0
        for i in range(n):
            if not first[i]:
                continue
            u = nodes[i]
            t = first_t[u]
            if not np.isfinite(t):
                continue
            for c in range(ptr[u], ptr[u + 1]):
                if not np.isinf(next_flush[c]):
                    continue
                t1 = t
                if first_from[u] == c_dst[c] or t < last_flush[c]:
                    t1 = second_t[u]
                if np.isfinite(t1):
                    conns[k] = c
                    t1s[k] = t1
                    k += 1
        for i in range(n):
            u = nodes[i]
            first_t[u] = np.inf
            second_t[u] = np.inf
            first_from[u] = -2
        return conns[:k], t1s[:k]

    @jit
    def mark_nb(known, count_known, nodes, slots):  # type: ignore[no-untyped-def]
        for i in range(nodes.size):
            slot = slots[i]
            known[nodes[i], slot >> 6] |= np.uint64(1) << np.uint64(slot & 63)
            count_known[slot] += 1

    @jit
    def not_back_nb(snap, c_key, n, nodes, sender, slots):  # type: ignore[no-untyped-def]
        c = c_key.size
        if c == 0:
            return
        for i in range(nodes.size):
            if sender[i] < 0:
                continue
            key = nodes[i] * n + sender[i]
            j = min(np.searchsorted(c_key, key), c - 1)
            if c_key[j] == key:
                slot = slots[i]
                snap[j, slot >> 6] |= np.uint64(1) << np.uint64(slot & 63)

    from .fluff_learn import compile_learn

    return {"flush": flush_nb, "ride_along": ride_along_nb, "timers": timers_nb, "mark": mark_nb,
            "not_back": not_back_nb, **compile_learn(jit)}


class Kernels:
    """The steps a :class:`~.fluff.FluffEngine` runs: compiled when numba is there."""

    def __init__(self, compiled: bool | None = None) -> None:
        if compiled is None:
            compiled = None if os.environ.get("MONEROSIM_FLUFF_KERNEL", "").lower() != "numpy" else False
        nb = _numba() if compiled is not False else None
        if compiled and nb is None:
            raise RuntimeError("numba is not available (pip install 'pytest-monerosim[fast]')")
        self.compiled = nb is not None
        self.flush = nb["flush"] if nb else flush_np
        self.ride_along = nb["ride_along"] if nb else ride_along_np
        self.timers = nb["timers"] if nb else timers_np
        self.mark = nb["mark"] if nb else mark_np
        self.not_back = nb["not_back"] if nb else not_back_np
        from .fluff_learn import by_key_then_time, commit_np, mark_seen_np, pick_np, set_timers_np, split_np

        self.pick = nb["pick"] if nb else pick_np
        self.commit = nb["commit"] if nb else commit_np
        self.split = nb["split"] if nb else split_np
        self.order = nb["order"] if nb else by_key_then_time
        self.mark_seen = nb["mark_seen"] if nb else mark_seen_np
        self.set_timers = nb["set_timers"] if nb else set_timers_np


_CACHE: list[dict[str, Callable[..., Any]] | None] = []


def _numba() -> dict[str, Callable[..., Any]] | None:
    if not _CACHE:
        _CACHE.append(_compile())
    return _CACHE[0]
