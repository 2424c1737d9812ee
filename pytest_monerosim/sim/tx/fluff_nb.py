"""The numba twins of the fluff engine's steps (imported only when numba is there).

One module-level function per step of :mod:`.fluff_kernels` and :mod:`.fluff_learn` (see those
for what each does; :mod:`.fused_nb` holds the fused steps of :mod:`.fluff_fused`); each gives
its numpy twin's arrays in the same order and the same updates of the engine's arrays.
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
def _due_range(due, c_src, node):
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
def ride_along_nb(due, nodes, slots, ts, sender, last_flush, snap, c_src, c_dst, c_lat):
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
def timers_nb(nodes, ts, senders, first, ptr, next_flush, last_flush, c_dst,
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
def mark_nb(known, count_known, nodes, slots):
    for i in range(nodes.size):
        slot = slots[i]
        known[nodes[i], slot >> 6] |= np.uint64(1) << np.uint64(slot & 63)
        count_known[slot] += 1

@jit
def not_back_nb(snap, c_key, n, nodes, sender, slots):
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
def commit_nb(nodes, slots, ts, sender, known, count_known, relays, snap, ptr, c_key, n,
              due_mark, wid, last_flush, c_src, c_dst, c_lat):
    r_n, r_s, r_t, r_f = learn_nb(nodes, slots, ts, sender, known, count_known, relays, snap, ptr)
    r = r_n.size
    nc = c_key.size
    if nc:
        for i in range(r):
            if r_f[i] < 0:
                continue
            key = r_n[i] * n + r_f[i]
            c = min(np.searchsorted(c_key, key), nc - 1)
            if c_key[c] == key:
                s = r_s[i]
                snap[c, s >> 6] |= np.uint64(1) << np.uint64(s & 63)
    total = 0
    for i in range(r):
        u = r_n[i]
        for c in range(ptr[u], ptr[u + 1]):
            if due_mark[c] == wid and last_flush[c] > r_t[i] and c_dst[c] != r_f[i]:
                total += 1
    a_node = np.empty(total, dtype=np.int64)
    a_slot = np.empty(total, dtype=np.int64)
    a_t = np.empty(total)
    a_from = np.empty(total, dtype=np.int64)
    k = 0
    for i in range(r):
        u = r_n[i]
        for c in range(ptr[u], ptr[u + 1]):
            if due_mark[c] == wid and last_flush[c] > r_t[i] and c_dst[c] != r_f[i]:
                s = r_s[i]
                snap[c, s >> 6] |= np.uint64(1) << np.uint64(s & 63)
                a_node[k] = c_dst[c]
                a_slot[k] = s
                a_t[k] = last_flush[c] + c_lat[c]
                a_from[k] = c_src[c]
                k += 1
    return a_node, a_slot, a_t, a_from, r_n, r_t, r_f

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

@jit
def set_timers_nb(next_flush, conns, t1, c_out, q_out, q_in, i):
    for j in range(conns.size):
        c = conns[j]
        next_flush[c] = t1[j] + (q_out[i[j]] if c_out[c] else q_in[i[j]])

@jit
def order_nb(key, t):
    m = key.size
    first = np.ones(m, dtype=np.bool_)
    if m == 0:
        return np.zeros(0, dtype=np.int64), first
    tmin = t.min()
    span = t.max() - tmin
    frac = (t - tmin) / (span * 1.000001 + 1e-9)
    order = np.argsort(key.astype(np.float64) + frac, kind="mergesort")
    for i in range(1, m):
        first[i] = key[order[i]] != key[order[i - 1]]
    return order, first

@jit
def split_nb(a_node, a_slot, a_t, a_from, until):
    m = a_t.size
    now = 0
    for i in range(m):
        if a_t[i] <= until:
            now += 1
    idx_now = np.empty(now, dtype=np.int64)
    idx_keep = np.empty(m - now, dtype=np.int64)
    p = q = 0
    for i in range(m):
        if a_t[i] <= until:
            idx_now[p] = i
            p += 1
        else:
            idx_keep[q] = i
            q += 1
    return (a_node[idx_now], a_slot[idx_now], a_t[idx_now], a_from[idx_now],
            a_node[idx_keep], a_slot[idx_keep], a_t[idx_keep], a_from[idx_keep])
