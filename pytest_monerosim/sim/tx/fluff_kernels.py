"""The fluff engine's per-window steps in numpy, and the choice between them and numba's.

:class:`~.fluff.FluffEngine` spends most of a window in many small numpy
calls (a flush window touches a few thousand connections and a few txs), so
the cost is per call, not per element. The engine runs the steps below (plain
numpy, always available: the reference) through the fused steps of
:mod:`.fluff_fused`; :class:`Kernels` gives it those or their twins compiled
by numba (:mod:`.fused_nb`, ``pip install 'pytest-monerosim[fast]'``), used
when numba imports. Both produce the same arrays in the same order (and the
same updates of the engine's arrays), so a run gives identical results either
way; the tests run both. ``MONEROSIM_FLUFF_KERNEL=numpy`` forces numpy.

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

_TWINS: dict[str, Callable[..., Any] | None] = {}


def compiled_twin(name: str) -> Callable[..., Any] | None:
    """``fused_nb.<name>``, the numba twin of a numpy step outside the engine (decoy picks,
    missing bytes): None without numba, or with ``MONEROSIM_FLUFF_KERNEL=numpy`` when first
    asked, as for the engine's steps."""
    if name not in _TWINS:
        fn = None
        if os.environ.get("MONEROSIM_FLUFF_KERNEL", "").lower() != "numpy":
            try:
                from . import fused_nb
            except ImportError:
                pass
            else:
                fn = getattr(fused_nb, name)
        _TWINS[name] = fn
    return _TWINS[name]


def _compile() -> dict[str, Callable[..., Any]] | None:
    """The numba twins of the steps (:mod:`.fluff_nb`, :mod:`.fused_nb`), or None without numba."""
    try:
        from .fused_nb import STEPS
    except ImportError:
        return None
    return STEPS


class Kernels:
    """The steps a :class:`~.fluff.FluffEngine` runs (the four fused ones of a window, and the
    marks of a refusal and of first-seen times): compiled when numba is there."""

    def __init__(self, compiled: bool | None = None) -> None:
        if compiled is None:
            compiled = None if os.environ.get("MONEROSIM_FLUFF_KERNEL", "").lower() != "numpy" else False
        nb = _numba() if compiled is not False else None
        if compiled and nb is None:
            raise RuntimeError("numba is not available (pip install 'pytest-monerosim[fast]')")
        self.compiled = nb is not None
        from .fluff_fused import commit_np_bw, flush_np_bw, start_np, take_np
        from .fluff_learn import mark_seen_np

        self.mark = nb["mark"] if nb else mark_np
        self.mark_seen = nb["mark_seen"] if nb else mark_seen_np

        self.flush_bw = nb["flush_bw"] if nb else flush_np_bw
        self.take = nb["take"] if nb else take_np
        self.commit_bw = nb["commit_bw"] if nb else commit_np_bw
        self.start = nb["start"] if nb else start_np


_CACHE: list[dict[str, Callable[..., Any]] | None] = []


def _numba() -> dict[str, Callable[..., Any]] | None:
    if not _CACHE:
        _CACHE.append(_compile())
    return _CACHE[0]
