"""A gray list's merge of a peer-list answer, compiled with numba, on the list's own arrays.

Imported only by :mod:`.gray_kernel` (the loader, which decides whether the kernel may be used
at all), and only when numba is there.

:func:`push_trim` is :meth:`~.gray.GrayList.push_id` of every id of an answer that is not listed
yet, then :meth:`~.gray.GrayList.evict` down to the list's limit (``merge_peerlist`` and
``trim_gray_peerlist`` in monerod's terms), in one call: in the mainnet twin a node merges about
250 addresses a minute from probes and handshakes, most of them unknown, and each one pushed
and then evicted again cost about a quarter of a microsecond a step in Python (half of the
twin's CPU). The arrays are numpy views of the list's ``array.array`` buffers (``pos``,
``order``, ``fifo``), written in place; the list's caller made room for the pushes beforehand
and truncates ``order`` afterwards. The stale entries of the insertion order (a dict in the list)
come as two arrays, sorted ids and their counts, which the kernel decrements.
"""
# ruff: noqa: ANN001, ANN202

from __future__ import annotations

import numpy as np

from .stream_nb import jit


@jit
def push_trim(fresh, pos, order, fifo, count, end, head, limit, stale_ids, stale_counts, cut):
    """Push the ids of ``fresh`` that are not listed (``pos[i] == 0``; an id listed twice is
    pushed once), then evict the oldest insertions while the list holds more than ``limit``,
    skipping stale insertion-order entries as :meth:`~.gray.GrayList.evict` does, and move the
    insertion order back to its start once its head passes ``cut``.

    ``count`` is the list's length (``order`` has room for ``count + len(fresh)``), ``end`` and
    ``head`` the insertion order's (``fifo`` has room past ``end`` for every push). Returns the
    new ``(count, end, head, evicted, stale_skipped)``.
    """
    for k in range(fresh.shape[0]):
        i = fresh[k]
        if pos[i] != 0:  # listed twice in the answer
            continue
        count += 1
        pos[i] = count
        order[count - 1] = i
        fifo[end] = i
        end += 1
    over = count - limit
    if over <= 0:
        return count, end, head, 0, 0
    n_stale = stale_ids.shape[0]
    skipped = 0
    left = over
    while True:
        if n_stale:
            i = fifo[head]
            j = np.searchsorted(stale_ids, i)
            if j < n_stale and stale_ids[j] == i and stale_counts[j] > 0:
                stale_counts[j] -= 1
                head += 1
                skipped += 1
                continue
        if left == 0:
            break
        i = fifo[head]
        head += 1
        left -= 1
        p = np.int64(pos[i])
        pos[i] = 0
        count -= 1
        last = order[count]
        if p <= count:
            order[p - 1] = last
            pos[last] = p
    if head > cut:
        for k in range(end - head):  # (moving down: a forward copy is safe)
            fifo[k] = fifo[head + k]
        end -= head
        head = 0
    return count, end, head, over, skipped


@jit
def unknown(ids, pos):
    """The ids of ``ids`` in neither list (``pos[i] == 0``, or past the index), in order: the
    merge's first step, compiled because in a large network each read of ``pos`` (one book's
    index among tens of thousands) is a cache miss, which a compiled loop overlaps and the
    interpreter does not (about 40 against 8 us for 250 ids read in random books)."""
    n = pos.shape[0]
    out = np.empty(ids.shape[0], np.int64)
    m = 0
    for k in range(ids.shape[0]):
        i = ids[k]
        if i >= n or pos[i] == 0:
            out[m] = i
            m += 1
    return out[:m]
