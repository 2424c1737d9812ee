"""The fluff engine's learn step and arrival split, in numpy and (optionally) compiled with numba.

A window applies its due arrivals as *learns* a few times (the flushes' arrivals, then what
rides along with later flushes, then embargoes); each time the numpy path makes some forty
small calls. Here the step is two calls around the (Python) admission of tracked nodes and
flagged txs, in twins that give the same arrays in the same order, as in
:mod:`.fluff_kernels`:

* ``pick`` — of the arrivals, the (node, slot) pairs the node does not know yet, the earliest
  per pair (ties: the first given), and the indices of those ``admit`` must be asked about;
* ``commit`` — the admitted learns: set the known bits and counts, keep what a silent node
  learned off its connections, keep each learn off the connection back to its sender, and
  send what the node learned before a flush it took later in the same window along with that
  flush (the arrivals); returns those arrivals and the relaying learns;
* ``split`` — the pending arrivals due by a time, and the rest (both in order);
* ``order`` — :func:`by_key_then_time` (the window's learns by node, then time);
* ``mark_seen`` / ``set_timers`` — first-seen times into a dense chunk; started timers.
"""

from __future__ import annotations

import numpy as np

from .fluff_kernels import bits, not_back_np

_I64 = np.int64


def by_key_then_time(key: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Order sorting by ``key`` then ``t`` (one stable argsort), and the mask of each key's first."""
    span = float(t.max() - t.min()) if t.size else 0.0
    frac = (t - t.min()) / (span * 1.000001 + 1e-9) if t.size else t
    order = np.argsort(key.astype(np.float64) + frac, kind="stable")
    ks = key[order]
    first = np.ones(order.size, dtype=bool)
    first[1:] = ks[1:] != ks[:-1]
    return order, first


# -- numpy ---------------------------------------------------------------------------------

def pick_np(nodes: np.ndarray, slots: np.ndarray, ts: np.ndarray, sender: np.ndarray, known: np.ndarray,
            n_slots: int, tracked: np.ndarray, flagged_slot: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    fresh = (known[nodes, slots >> 6] & bits(slots)) == 0
    if not fresh.all():
        nodes, slots, ts, sender = nodes[fresh], slots[fresh], ts[fresh], sender[fresh]
    if nodes.size > 1:
        order, first = by_key_then_time(nodes * n_slots + slots, ts)
        sel = order[first]
        if sel.size < nodes.size:
            nodes, slots, ts, sender = nodes[sel], slots[sel], ts[sel], sender[sel]
    ask = np.flatnonzero(tracked[nodes] | flagged_slot[slots])
    return nodes, slots, ts, sender, ask


def hide_np(snap: np.ndarray, ptr: np.ndarray, nodes: np.ndarray, slots: np.ndarray) -> None:
    """Keep these (node, slot) pairs out of the nodes' outgoing queues."""
    starts = ptr[nodes]
    counts = ptr[nodes + 1] - starts
    total = int(counts.sum())
    if not total:
        return
    rep = np.repeat(np.arange(nodes.size), counts)
    conns = np.arange(total) + np.repeat(starts - (np.cumsum(counts) - counts), counts)
    np.bitwise_or.at(snap, (conns, slots[rep] >> 6), bits(slots[rep]))


def _ride_along_np(due_mark: np.ndarray, wid: int, ptr: np.ndarray, nodes: np.ndarray,
                   slots: np.ndarray, ts: np.ndarray, sender: np.ndarray, last_flush: np.ndarray,
                   snap: np.ndarray, c_src: np.ndarray, c_dst: np.ndarray, c_lat: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    lo = ptr[nodes]
    counts = ptr[nodes + 1] - lo
    total = int(counts.sum())
    if total:
        rep = np.repeat(np.arange(nodes.size), counts)
        conns = np.arange(total) + np.repeat(lo - (np.cumsum(counts) - counts), counts)
        f = last_flush[conns]
        late = (due_mark[conns] == wid) & (f > ts[rep]) & (c_dst[conns] != sender[rep])
        if late.any():
            conns, rep, f = conns[late], rep[late], f[late]
            slot_r = slots[rep]
            np.bitwise_or.at(snap, (conns, slot_r >> 6), bits(slot_r))
            return c_dst[conns], slot_r, f + c_lat[conns], c_src[conns]
    empty = np.zeros(0, dtype=_I64)
    return empty, empty, np.zeros(0), empty


def commit_np(nodes: np.ndarray, slots: np.ndarray, ts: np.ndarray, sender: np.ndarray, known: np.ndarray,
              count_known: np.ndarray, relays: np.ndarray, snap: np.ndarray, ptr: np.ndarray,
              c_key: np.ndarray, n: int, due_mark: np.ndarray, wid: int, last_flush: np.ndarray,
              c_src: np.ndarray, c_dst: np.ndarray, c_lat: np.ndarray) -> tuple[np.ndarray, ...]:
    np.bitwise_or.at(known, (nodes, slots >> 6), bits(slots))
    np.add.at(count_known, slots, 1)
    relay = relays[nodes]
    if not relay.all():
        hide_np(snap, ptr, nodes[~relay], slots[~relay])
        nodes, slots, ts, sender = nodes[relay], slots[relay], ts[relay], sender[relay]
    not_back_np(snap, c_key, n, nodes, sender, slots)
    a = _ride_along_np(due_mark, wid, ptr, nodes, slots, ts, sender, last_flush, snap, c_src, c_dst, c_lat)
    return (*a, nodes, ts, sender)


def mark_seen_np(block: np.ndarray, base: int, rows: np.ndarray, nodes: np.ndarray,
                 ts: np.ndarray) -> float:
    """First-seen times into one dense chunk of the seen table; the latest time marked, or
    NaN (nothing written) when a row lies outside the chunk."""
    r = rows - base
    if int(r.min()) < 0 or int(r.max()) >= block.shape[0]:
        return float("nan")
    t32 = ts.astype(np.float32)
    block[r, nodes] = np.minimum(block[r, nodes], t32)
    return float(t32.max())


def set_timers_np(next_flush: np.ndarray, conns: np.ndarray, t1: np.ndarray, c_out: np.ndarray,
                  q_out: np.ndarray, q_in: np.ndarray, i: np.ndarray) -> None:
    """Timers started at ``t1`` plus a delay from the outgoing or incoming table (index ``i``)."""
    next_flush[conns] = t1 + np.where(c_out[conns], q_out[i], q_in[i])


def split_np(a_node: np.ndarray, a_slot: np.ndarray, a_t: np.ndarray, a_from: np.ndarray,
             until: float) -> tuple[np.ndarray, ...]:
    now = a_t <= until
    keep = ~now
    return (a_node[now], a_slot[now], a_t[now], a_from[now],
            a_node[keep], a_slot[keep], a_t[keep], a_from[keep])
