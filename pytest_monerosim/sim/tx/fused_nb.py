"""The numba twins of :mod:`.fluff_fused`'s steps, and of two hot loops outside the fluff engine
(decoy picks, a fluffy block's missing bytes). Imported only when numba is there; module-level
(not closures) so that numba's on-disk cache finds them in the next process.
"""
# ruff: noqa: ANN001, ANN202

from __future__ import annotations

import numpy as np

from .fluff_nb import jit, learn_nb, mark_nb, mark_seen_nb, pick_nb


@jit
def _arrivals(total):
    """Empty arrival arrays (receiver, slot, time, sender) for ``total`` arrivals."""
    return (np.empty(total, dtype=np.int64), np.empty(total, dtype=np.int64), np.empty(total),
            np.empty(total, dtype=np.int64))


@jit
def flush_bw_nb(due, next_flush, last_flush, known, snap, c_src, c_dst, c_lat,
                up, down, sent, slot_w, due_lo):
    n, width = due.size, known.shape[1]
    j = 0
    for u in range(due_lo.size):
        while j < n and c_src[due[j]] < u:
            j += 1
        due_lo[u] = j
    has_bw = up.size > 0
    new = np.zeros((n, width), dtype=np.uint64)
    f = np.empty(n)
    delay = np.zeros(n)
    total = 0
    messages = 0
    for i in range(n):
        c = due[i]
        f[i] = next_flush[c]
        next_flush[c] = np.inf
        last_flush[c] = f[i]
        s, d = c_src[c], c_dst[c]
        carried = False
        size = 0.0
        for w in range(width):
            sk = known[s, w]
            x = sk & ~snap[c, w] & ~known[d, w]
            snap[c, w] = sk
            if x:
                new[i, w] = x
                carried = True
                b = 0
                while x:
                    if x & np.uint64(1):
                        total += 1
                        if has_bw:
                            size += slot_w[w * 64 + b]
                    x >>= np.uint64(1)
                    b += 1
        if carried:
            messages += 1
            if has_bw:
                delay[i] = 8.0 * size / min(up[s], down[d])
                sent[s] += np.int64(size)
    a_node, a_slot, a_t, a_from = _arrivals(total)
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
                    t = f[i] + c_lat[c]
                    if has_bw:
                        t = t + delay[i]
                    a_t[k] = t
                    a_from[k] = c_src[c]
                    k += 1
                x >>= np.uint64(1)
                b += 1
    return a_node, a_slot, a_t, a_from, messages

@jit
def take_nb(a_node, a_slot, a_t, a_from, count, until, known, n_slots, tracked, flagged_slot, best):
    """:func:`split_nb` then :func:`pick_nb` in one pass, the split in place; the earliest
    arrival per (node, slot) found through ``best`` (per key: -1, or the index of the best so
    far; left all -1) instead of a sort, the picks then ordered by key as the sort orders them
    (an empty ``best``: by :func:`pick_nb`'s sort)."""
    d_node, d_slot, d_t, d_from = _arrivals(count)
    p = q = 0
    a_min = np.inf
    for i in range(count):
        t = a_t[i]
        if t <= until:
            s = a_slot[i]
            if (known[a_node[i], s >> 6] & (np.uint64(1) << np.uint64(s & 63))) == 0:
                d_node[p], d_slot[p], d_t[p], d_from[p] = a_node[i], s, t, a_from[i]
                p += 1
        else:
            a_node[q], a_slot[q], a_t[q], a_from[q] = a_node[i], a_slot[i], t, a_from[i]
            if t < a_min:
                a_min = t
            q += 1
    if best.size == 0:  # no scratch (a table too large to keep): pick by sorting
        nodes_o, slots_o, ts_o, sender_o, ask_o = pick_nb(d_node[:p], d_slot[:p], d_t[:p], d_from[:p],
                                                          known, n_slots, tracked, flagged_slot)
        return nodes_o, slots_o, ts_o, sender_o, ask_o, q, a_min
    k = p
    sel = np.arange(k)
    if k > 1:
        tmin = d_t[:k].min()
        span = d_t[:k].max() - tmin
        den = span * 1.000001 + 1e-9
        vs = np.empty(k)
        keys = np.empty(k, dtype=np.int64)
        nu = 0
        for j in range(k):
            key = d_node[j] * n_slots + d_slot[j]
            v = float(key) + (d_t[j] - tmin) / den
            vs[j] = v
            b = best[key]
            if b < 0:
                best[key] = j
                keys[nu] = key
                nu += 1
            elif v < vs[b]:
                best[key] = j
        if nu < k:
            ks = np.sort(keys[:nu])
            sel = np.empty(nu, dtype=np.int64)
            for j in range(nu):
                sel[j] = best[ks[j]]
        for j in range(nu):
            best[keys[j]] = -1
    nodes_o, slots_o, ts_o, sender_o = d_node[sel], d_slot[sel], d_t[sel], d_from[sel]
    ask = np.empty(sel.size, dtype=np.int64)
    na = 0
    for i in range(sel.size):
        if tracked[nodes_o[i]] or flagged_slot[slots_o[i]]:
            ask[na] = i
            na += 1
    return nodes_o, slots_o, ts_o, sender_o, ask[:na], q, a_min


@jit
def commit_bw_nb(nodes, slots, ts, sender, known, count_known, relays, snap, ptr, c_key, n,
                 due_mark, wid, last_flush, c_src, c_dst, c_lat, up, down, sent, slot_w, acc, due, due_lo):
    """:func:`commit_nb` with transfer times; the ride-along looks only at the window's flushed
    connections (``due``, those whose ``due_mark`` is ``wid``; node ``u``'s are
    ``due[due_lo[u]:due_lo[u + 1]]``) and the connection back to a sender is found among its
    node's own (sorted by receiver)."""
    r_n, r_s, r_t, r_f = learn_nb(nodes, slots, ts, sender, known, count_known, relays, snap, ptr)
    r = r_n.size
    for i in range(r):
        f = r_f[i]
        if f < 0:
            continue
        u = r_n[i]
        lo, hi = ptr[u], ptr[u + 1]
        while lo < hi:
            mid = (lo + hi) // 2
            if c_dst[mid] < f:
                lo = mid + 1
            else:
                hi = mid
        if lo < ptr[u + 1] and c_dst[lo] == f:
            s = r_s[i]
            snap[lo, s >> 6] |= np.uint64(1) << np.uint64(s & 63)
    nd = due.size
    total = 0
    if nd:
        for i in range(r):
            u = r_n[i]
            for q in range(due_lo[u], due_lo[u + 1]):
                c = due[q]
                if last_flush[c] > r_t[i] and c_dst[c] != r_f[i]:
                    total += 1
    a_node, a_slot, a_t, a_from = _arrivals(total)
    conn = np.empty(total, dtype=np.int64)
    k = 0
    for i in range(r if total else 0):
        u = r_n[i]
        for q in range(due_lo[u], due_lo[u + 1]):
            c = due[q]
            if last_flush[c] > r_t[i] and c_dst[c] != r_f[i]:
                s = r_s[i]
                snap[c, s >> 6] |= np.uint64(1) << np.uint64(s & 63)
                a_node[k] = c_dst[c]
                a_slot[k] = s
                a_t[k] = last_flush[c] + c_lat[c]
                a_from[k] = c_src[c]
                conn[k] = c
                k += 1
    if up.size > 0 and total > 0:
        # one message per connection this batch rides on
        for k in range(total):
            acc[conn[k]] += slot_w[a_slot[k]]
        for k in range(total):
            c = conn[k]
            a_t[k] = a_t[k] + 8.0 * acc[c] / min(up[a_from[k]], down[a_node[k]])
        for k in range(total):
            c = conn[k]
            if acc[c] != 0.0:
                sent[a_from[k]] += np.int64(acc[c])
                acc[c] = 0.0
    return a_node, a_slot, a_t, a_from, r_n, r_t, r_f


@jit
def start_nb(nodes, ts, senders, ptr, next_flush, last_flush, c_dst, c_out, first_t, second_t,
             first_from, q_out, q_in, u, u_at):
    """:func:`order_nb`, :func:`timers_nb` and :func:`set_timers_nb` in one pass: each node's
    first and second learn (by the sort's key: node, then time, then index) found without the
    sort, the nodes then taken in order."""
    m = nodes.size
    if m == 0:
        return 0
    n_nodes = first_t.size
    i1 = np.full(n_nodes, -1, dtype=np.int64)
    i2 = np.full(n_nodes, -1, dtype=np.int64)
    v1 = np.empty(n_nodes)
    v2 = np.empty(n_nodes)
    tmin = ts.min()
    span = ts.max() - tmin
    den = span * 1.000001 + 1e-9
    for i in range(m):
        w = nodes[i]
        v = float(w) + (ts[i] - tmin) / den
        if i1[w] < 0:
            i1[w] = i
            v1[w] = v
        elif v < v1[w]:
            i2[w], v2[w] = i1[w], v1[w]
            i1[w], v1[w] = i, v
        elif i2[w] < 0 or v < v2[w]:
            i2[w], v2[w] = i, v
    k = 0
    for w in range(n_nodes):
        if i1[w] < 0:
            continue
        t = ts[i1[w]]
        if not np.isfinite(t):
            continue
        fr = senders[i1[w]]
        t2 = ts[i2[w]] if i2[w] >= 0 else np.inf
        for c in range(ptr[w], ptr[w + 1]):
            if not np.isinf(next_flush[c]):
                continue
            t1 = t
            if fr == c_dst[c] or t < last_flush[c]:
                t1 = t2
            if np.isfinite(t1):
                j = u[u_at + k]
                next_flush[c] = t1 + (q_out[j] if c_out[c] else q_in[j])
                k += 1
    return k


@jit
def decoy_picks_nb(x, recent_s, u, offsets, num_outputs, average_output_time, unlock_s):
    """:meth:`.decoys.GammaPicker.pick_many` after its draws: ``x`` the exp(gamma) seconds,
    ``recent_s`` the recent-window seconds, ``u`` the uniforms; -1 marks a bad pick."""
    size = x.size
    out = np.empty(size, dtype=np.int64)
    last = offsets.size - 1
    for i in range(size):
        xi = x[i]
        if xi <= unlock_s:
            xi = float(recent_s[i])
        else:
            xi = xi - unlock_s
        age = np.int64(xi / average_output_time)
        ok = age < num_outputs
        index = num_outputs - 1 - (age if ok else 0)
        lo, hi = 0, offsets.size
        while lo < hi:  # searchsorted, side left
            mid = (lo + hi) // 2
            if offsets[mid] < index:
                lo = mid + 1
            else:
                hi = mid
        block = lo
        first = offsets[block - 1] if block > 0 else 0
        count = offsets[min(block, last)] - first
        pick = first + np.int64(u[i] * max(count, 1))
        out[i] = pick if (ok and count > 0) else -1
    return out


@jit
def unseen_weight_nb(block, rows, node, now, weights, in_float32):
    """:meth:`.seen.SeenTable.unseen_weight` on a dense chunk. ``in_float32``: compare in
    float32, as numpy compares a float32 array with a Python number (with a numpy float64
    it compares in float64)."""
    total = 0
    if in_float32:
        at = np.float32(now)
        for i in range(rows.size):
            if block[rows[i], node] > at:
                total += weights[i]
    else:
        for i in range(rows.size):
            if block[rows[i], node] > now:
                total += weights[i]
    return total


STEPS = {"flush_bw": flush_bw_nb, "take": take_nb, "commit_bw": commit_bw_nb, "start": start_nb,
         "mark": mark_nb, "mark_seen": mark_seen_nb}
