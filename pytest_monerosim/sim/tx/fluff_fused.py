"""The fluff engine's per-window steps fused into fewer calls, in numpy and (optionally) numba.

A window used to run some dozen kernel calls with Python between them: join the pending
arrivals, split off the due ones, pick the learns, commit them, ask the bandwidth hook for
each batch's transfer times (``np.unique`` per batch), then sort the window's learns, find
the timers and set them. The steps below do the same work in four calls, on a pending-arrival
buffer that is partitioned in place instead of re-joined:

* ``flush`` — :func:`~.fluff_kernels.flush_np` and the flushes' transfer times;
* ``take`` — the pending arrivals due by a time, split off in place (the rest keeps its order
  at the front of the buffer), and :func:`~.fluff_learn.pick_np` of them;
* ``commit`` — :func:`~.fluff_learn.commit_np` and the ride-alongs' transfer times;
* ``start`` — the window's learns by node then time, the timers they start, and the delays.

Transfer time (:mod:`.bandwidth`): every arrival of a batch from one sender to one receiver is
one message; it lands ``8 * bytes / min(up[sender], down[receiver])`` seconds after its latency,
and the bytes count as sent. Empty ``up``: no transfer time. As in :mod:`.fluff_kernels`, the
numba twins give the numpy steps' arrays in the same order and the same updates, bit for bit.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .fluff_kernels import INF, flush_np, timers_np
from .fluff_learn import by_key_then_time, commit_np, pick_np, set_timers_np

_I64 = np.int64


def delays_np(senders: np.ndarray, receivers: np.ndarray, sizes: np.ndarray, up: np.ndarray,
              down: np.ndarray, sent: np.ndarray) -> np.ndarray:
    """Per arrival: the transfer time of its (sender, receiver) message; counts the bytes sent."""
    if not senders.size:
        return np.zeros(0)
    n = up.size
    key = senders * n + receivers
    uniq, inverse = np.unique(key, return_inverse=True)
    total = np.bincount(inverse, weights=sizes.astype(np.float64), minlength=uniq.size)
    s, r = uniq // n, uniq % n
    bw = np.minimum(up[s], down[r])
    np.add.at(sent, s, total.astype(np.int64))
    return (8.0 * total / bw)[inverse]


def flush_np_bw(due: np.ndarray, next_flush: np.ndarray, last_flush: np.ndarray, known: np.ndarray,
                snap: np.ndarray, c_src: np.ndarray, c_dst: np.ndarray, c_lat: np.ndarray,
                up: np.ndarray, down: np.ndarray, sent: np.ndarray, slot_w: np.ndarray,
                due_lo: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """(``due_lo``: filled with where each node's connections start in ``due``.)"""
    due_lo[:] = np.searchsorted(c_src[due], np.arange(due_lo.size))
    a_node, a_slot, a_t, a_from, messages = flush_np(due, next_flush, last_flush, known, snap, c_src,
                                                      c_dst, c_lat)
    if up.size and a_node.size:
        a_t = a_t + delays_np(a_from, a_node, slot_w[a_slot], up, down, sent)
    return a_node, a_slot, a_t, a_from, messages


def take_np(a_node: np.ndarray, a_slot: np.ndarray, a_t: np.ndarray, a_from: np.ndarray, count: int,
            until: float, known: np.ndarray, n_slots: int, tracked: np.ndarray,
            flagged_slot: np.ndarray, best: np.ndarray) -> tuple[Any, ...]:
    """Pick the learns among the first ``count`` buffered arrivals due by ``until``; the rest
    move (in order) to the buffer's front. Returns the picks, the new count and its minimum time.
    (``best``: the compiled twin's scratch.)"""
    t = a_t[:count]
    now = t <= until
    keep = ~now
    due = (a_node[:count][now], a_slot[:count][now], t[now], a_from[:count][now])
    m = int(keep.sum())
    for arr in (a_node, a_slot, a_t, a_from):
        arr[:m] = arr[:count][keep]
    a_min = float(a_t[:m].min()) if m else INF
    return (*pick_np(*due, known, n_slots, tracked, flagged_slot), m, a_min)


def commit_np_bw(nodes: np.ndarray, slots: np.ndarray, ts: np.ndarray, sender: np.ndarray,
                 known: np.ndarray, count_known: np.ndarray, relays: np.ndarray, snap: np.ndarray,
                 ptr: np.ndarray, c_key: np.ndarray, n: int, due_mark: np.ndarray, wid: int,
                 last_flush: np.ndarray, c_src: np.ndarray, c_dst: np.ndarray, c_lat: np.ndarray,
                 up: np.ndarray, down: np.ndarray, sent: np.ndarray, slot_w: np.ndarray,
                 acc: np.ndarray, due: np.ndarray, due_lo: np.ndarray) -> tuple[np.ndarray, ...]:
    """(``acc``, ``due``, ``due_lo``: the compiled twin's scratch, the window's flushed connections
    and where each node's start among them.)"""
    a_node, a_slot, a_t, a_from, *rest = commit_np(nodes, slots, ts, sender, known, count_known, relays,
                                                   snap, ptr, c_key, n, due_mark, wid, last_flush, c_src,
                                                   c_dst, c_lat)
    if up.size and a_node.size:
        a_t = a_t + delays_np(a_from, a_node, slot_w[a_slot], up, down, sent)
    return (a_node, a_slot, a_t, a_from, *rest)


def start_np(nodes: np.ndarray, ts: np.ndarray, senders: np.ndarray, ptr: np.ndarray,
             next_flush: np.ndarray, last_flush: np.ndarray, c_dst: np.ndarray, c_out: np.ndarray,
             first_t: np.ndarray, second_t: np.ndarray, first_from: np.ndarray, q_out: np.ndarray,
             q_in: np.ndarray, u: np.ndarray, u_at: int) -> int:
    """Start the timers of the window's relaying learns; the table indices come from ``u`` at
    ``u_at`` on (the caller leaves room for one per connection). Returns how many it took."""
    order, first = by_key_then_time(nodes, ts)
    conns, t1 = timers_np(nodes[order], ts[order], senders[order], first, ptr, next_flush, last_flush,
                          c_dst, first_t, second_t, first_from)
    if conns.size:
        set_timers_np(next_flush, conns, t1, c_out, q_out, q_in, u[u_at:u_at + conns.size])
    return int(conns.size)
