"""The compiled merge of peer-list answers into gray lists: whether it may run here, and loading it.

:meth:`.peers.PeerBook.merge_ids` merges an answer (up to 250 address ids) into the node's gray
list and trims the list to its limit. In networks larger than a white list (the 10,000-node
benchmark, the mainnet twin) most of an answer is unknown, so each merge pushes and then evicts
about 200 entries; in Python that was about 100 us a merge and half of the mainnet twin's CPU.
:func:`.gray_nb.push_trim` does the pushes and the trim compiled, on the list's own arrays
(:meth:`.gray.GrayList.push_trim`), with the same results; :func:`.gray_nb.unknown` picks the
answer's unknown ids first (a cache miss an id in a large network, which a compiled loop
overlaps). They are used when (else :func:`load` gives None and the pure path runs):

* ``MONEROSIM_LIST_KERNEL`` is not ``python`` (the switch to force the pure path; ``numba`` asks
  for the kernel at the first merge, to check it on small runs);
* numba imports (``pip install 'pytest-monerosim[fast]'``);
* a self-check passes: two gray lists, one merged through the kernel and one through the pure
  calls, with removals between merges (stale insertion-order entries), end equal after every
  step. A mismatch warns once and keeps the pure path.

It is loaded lazily, like the sample draws' twin (:class:`.stream_twin.LazyTwin`), after
:data:`LOAD_AFTER` merges of at least :data:`MIN_FRESH` unknown addresses.
"""

from __future__ import annotations

import random
from typing import NamedTuple

from .gray import AddressIds, GrayList, Kernel
from .stream_twin import LazyTwin, load_checked

ENV = "MONEROSIM_LIST_KERNEL"
"""``python`` forces the pure path; ``numba`` asks for the kernel at the first merge."""
MIN_FRESH = 16
"""Merges with fewer unknown addresses (or answers with fewer addresses) stay in Python (a kernel
call costs a few microseconds of conversions; the pure path about a quarter of a microsecond an
address)."""
NO_TRIM = 1 << 62
"""The limit of a merge that pushes only (a timed sync's journal merges: the sync trims once after
all of them)."""
LOAD_AFTER = 5_000
"""Pure merges of at least :data:`MIN_FRESH` unknown addresses (per process) before the kernel is
asked for. Importing numba costs about 0.3 s CPU and 100 MB (shared with the sample draws' twin),
loading the cached kernels and the self-check 0.35 s; a pure merge of an answer of 250 mostly
unknown addresses about 100 us against 11 us compiled (``benchmarks/bench_peer_lists.py
--merges``). So the kernels pay back after about 5,000 merges.
The fixture scenarios make fewer (``large_relays``, the most, about 3,700) and never load it."""


class ListKernels(NamedTuple):
    """The compiled steps of a merge (:mod:`.gray_nb`)."""

    push_trim: Kernel
    """The pushes and the trim (:meth:`.gray.GrayList.push_trim` calls it)."""
    unknown: Kernel
    """The answer's ids in neither list (:meth:`.gray.GrayList.unknown_ids` calls it)."""


def load(eager: bool = False) -> ListKernels | None:
    """The kernels, or None when it may not be used here (see the module's docstring). A failed
    self-check warns; with ``eager``, any reason but the switch itself does."""
    return load_checked(ENV, _build, self_check, eager,
                        "the compiled gray-list merge is not used ({why}); the pure-Python merge "
                        "runs instead (same results, slower)")


def _build() -> ListKernels | str:
    """The kernels, unchecked, or why they cannot be had here."""
    try:
        from .gray_nb import push_trim, unknown
    except ImportError:
        return "numba is not installed (pip install 'pytest-monerosim[fast]')"
    return ListKernels(push_trim, unknown)


def pure_push_trim(gray: GrayList, fresh: list[int], limit: int) -> int:
    """What :meth:`~.gray.GrayList.push_trim` does, by the pure calls: how many were evicted."""
    gray.push_unlisted(fresh)
    over = len(gray) - limit
    if over > 0:
        gray.evict(over)
        return over
    return 0


def state(gray: GrayList) -> tuple[object, ...]:
    """Everything of a gray list that a later call can read."""
    return (gray.pos.tolist(), gray.mark, gray.order.tolist(), gray.fifo[gray.head:gray.end].tolist(),
            gray.head, gray.end, dict(sorted(gray.stale.items())))


def self_check(kernels: ListKernels, seeds: range = range(3), steps: int = 300) -> str | None:
    """None if merges through ``kernels`` and through the pure calls leave equal lists (and the
    unknown ids are the comprehension's), else where they first differed. Answers of 0 to 60
    ids out of 400 (many unknown, some listed twice), limits small enough that most merges
    trim, and takes of listed addresses between merges."""
    for seed in seeds:
        rng = random.Random(seed)
        table = AddressIds()
        for n in range(1, 401):
            table.register(f"10.0.{n // 256}.{n % 256}:18080")
        ours, theirs = GrayList(table, 100), GrayList(table, 100)
        for step in range(steps):
            fresh = [rng.randrange(1, 401) for _ in range(rng.randrange(61))]
            limit = rng.choice((40, 100, 150))
            pos = theirs.pos
            want_unknown = [i for i in fresh if i >= len(pos) or not pos[i]]
            if ours.unknown_ids(fresh, kernels.unknown).tolist() != want_unknown:
                return f"seed {seed}, step {step}: the unknown ids differ"
            got = ours.push_trim(fresh, limit, kernels.push_trim)
            want = pure_push_trim(theirs, fresh, limit)
            if got != want or state(ours) != state(theirs):
                return f"seed {seed}, step {step}: the lists differ"
            for _ in range(rng.randrange(6)):
                a = table.names[rng.randrange(1, 401)]
                if ours.take(a) != theirs.take(a):
                    return f"seed {seed}, step {step}: a take differs"
    return None


MERGES: LazyTwin[ListKernels] = LazyTwin(loader=load, env=ENV, wait=LOAD_AFTER)
"""The process's compiled merge (None until loaded, or where it cannot be), which
:mod:`.peers` asks."""
