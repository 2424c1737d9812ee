"""The numba twins of the fluff engine's steps (imported only when numba is there).

The steps of :mod:`.fluff_kernels` and :mod:`.fluff_learn` that the engine calls on their own
(``mark``, ``mark_seen``) or that :mod:`.fused_nb`'s fused steps call (``pick``, ``learn``); see
those modules for what each does. Each gives its numpy twin's arrays in the same order and the
same updates of the engine's arrays.
Module-level, not closures, so that numba's on-disk cache finds the steps that call others
again in the next process.
"""
# ruff: noqa: ANN001, ANN202

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numba import njit


def jit(fn: Callable[..., Any]) -> Callable[..., Any]:
    try:  # compiled once per installation, into __pycache__ or numba's user-wide cache
        return njit(cache=True, nogil=True)(fn)
    except RuntimeError:  # nowhere writable to cache: compile in each process
        return njit(nogil=True)(fn)


@jit
def mark_nb(known, count_known, nodes, slots):
    for i in range(nodes.size):
        slot = slots[i]
        known[nodes[i], slot >> 6] |= np.uint64(1) << np.uint64(slot & 63)
        count_known[slot] += 1

@jit
def pick_nb(nodes, slots, ts, sender, known, n_slots, tracked, flagged_slot):
    m = nodes.size
    keep = np.empty(m, dtype=np.int64)
    k = 0
    for i in range(m):
        s = slots[i]
        if (known[nodes[i], s >> 6] & (np.uint64(1) << np.uint64(s & 63))) == 0:
            keep[k] = i
            k += 1
    sel = keep[:k]
    if k > 1:
        t = ts[sel]
        key = nodes[sel] * n_slots + slots[sel]
        tmin = t.min()
        span = t.max() - tmin
        frac = (t - tmin) / (span * 1.000001 + 1e-9)
        order = np.argsort(key.astype(np.float64) + frac, kind="mergesort")
        firsts = np.empty(k, dtype=np.int64)
        j = 0
        for i in range(k):
            if i == 0 or key[order[i]] != key[order[i - 1]]:
                firsts[j] = order[i]
                j += 1
        if j < k:
            sel = sel[firsts[:j]]
    nodes_o, slots_o, ts_o, sender_o = nodes[sel], slots[sel], ts[sel], sender[sel]
    ask = np.empty(sel.size, dtype=np.int64)
    a = 0
    for i in range(sel.size):
        if tracked[nodes_o[i]] or flagged_slot[slots_o[i]]:
            ask[a] = i
            a += 1
    return nodes_o, slots_o, ts_o, sender_o, ask[:a]

@jit
def learn_nb(nodes, slots, ts, sender, known, count_known, relays, snap, ptr):
    """The learns of a commit: each node now knows its slot; a node that does not relay marks
    the slot on all its connections as sent; the relaying ones are returned (node, slot, time,
    sender) for the ride-along."""
    m = nodes.size
    r = 0
    for i in range(m):
        s = slots[i]
        bit = np.uint64(1) << np.uint64(s & 63)
        known[nodes[i], s >> 6] |= bit
        count_known[s] += 1
        if relays[nodes[i]]:
            r += 1
        else:
            for c in range(ptr[nodes[i]], ptr[nodes[i] + 1]):
                snap[c, s >> 6] |= bit
    r_n = np.empty(r, dtype=np.int64)
    r_s = np.empty(r, dtype=np.int64)
    r_t = np.empty(r)
    r_f = np.empty(r, dtype=np.int64)
    j = 0
    for i in range(m):
        if relays[nodes[i]]:
            r_n[j], r_s[j], r_t[j], r_f[j] = nodes[i], slots[i], ts[i], sender[i]
            j += 1
    return r_n, r_s, r_t, r_f


@jit
def mark_seen_nb(block, base, rows, nodes, ts):
    for j in range(rows.size):
        r = rows[j] - base
        if r < 0 or r >= block.shape[0]:
            return np.nan
    latest = -np.inf
    for j in range(rows.size):
        v = np.float32(ts[j])
        r = rows[j] - base
        if v < block[r, nodes[j]]:
            block[r, nodes[j]] = v
        if v > latest:
            latest = v
    return float(latest)

