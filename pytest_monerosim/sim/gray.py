"""A node's gray list over integer address ids (monerod's ``m_peers_gray``).

monerod keeps the gray list in a multi-index container: by address (is it known?), by
last-seen time (the eviction's order: entries merged from peers carry no last-seen time, so
the oldest insertion goes first, ``trim_gray_peerlist``), and by index for uniform random
picks. The model needs the same three views of up to 5,000 entries per node, in tens of
thousands of nodes (the mainnet twin: 33,047), so each view is an array of small integers
instead of a dict of strings (about 38 bytes an entry in a dict and a list: 6.3 GB for the
twin's lists filled to monerod's limit):

* ``pos`` — by address id, the entry's position in ``order`` plus one (0: not listed).
  Two bytes an address of the world (a 4-byte array when the list may hold more than
  32,767 entries), grown as the world's addresses are. The book's white list
  (:mod:`.white`) keeps its entries' places in the same array, from ``mark`` up: one
  index of both lists, so "is this address known at all" (what a merge asks of every
  address it is given) is one read, and the white list needs no per-node dict.
* ``order`` — address ids in pick order (2 bytes each while the ids fit, 4 from the first
  larger id the list takes): a removal moves the last entry into the freed
  place, so a pick is one index (the positions are the model's since its first version;
  the same seed picks the same addresses).
* ``fifo`` — address ids in insertion order, from ``head`` to ``end``. A removal other
  than the eviction leaves the id's entry where it is and counts it in ``stale``: an id's
  stale entries are all older than its live one (a re-insertion appends), so the first
  ``stale[id]`` entries of an id met from the head are skipped. Once ``head`` passes
  ``FIFO_CUT`` the entries are moved back to the start in place, and the array keeps its
  length (its slots past ``end`` are free): in the mainnet twin, arrays that were cut and
  grown again left a gigabyte of the allocator's heap free but unusable after two simulated
  hours. It is rebuilt when stale entries outnumber the live ones.

The world's addresses are numbered once, in :class:`AddressIds` (one per world, shared by
its books through :class:`~.peers.Gossip`); id 0 is never an address, so ``pos[0]`` is 0
and ``ids.get(address, 0)`` looks up an address the world has never listed as absent.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

MARKS = {"H": 1 << 15, "I": 1 << 31}
"""Where the white list's places start in a ``pos`` array of each type: a gray position is below
the mark, a white place at or above it. A gray list whose limit comes near the 2-byte mark
starts with 4-byte positions, and one that a burst of insertions takes past it before its trim
widens them (:meth:`GrayList.widen`)."""
TOPS = {"H": (1 << 16) - 1, "I": (1 << 32) - 1}
"""The largest value of an array of each type."""
DTYPES = {"H": np.uint16, "I": np.uint32}
"""numpy's type of each array type (the views the compiled steps are handed)."""
_NO_STALE = np.zeros(0, np.int64)
Kernel = Callable[..., Any]
"""A compiled step's type (numba's dispatcher: :mod:`.gray_nb`)."""
_STALE_SLACK = 64
FIFO_CUT = 512
"""Evictions after which the insertion order's entries move back to its start."""


def host_of(address: str) -> str:
    """``"1.2.3.4:18080"`` → ``"1.2.3.4"``."""
    return address.rsplit(":", 1)[0]


class AddressIds:
    """Every address a world's gray lists have held, numbered from 1."""

    __slots__ = ("ids", "names", "hosts")

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.names: list[str] = [""]  # id 0: no address
        self.hosts: list[str] = [""]
        """Each id's host (:func:`host_of` of its name: the merges' recently-failed filter
        reads it for every unknown address of an answer)."""

    def register(self, address: str) -> int:
        """The id of ``address``, numbered now if it has none."""
        i = self.ids.get(address)
        if i is None:
            i = self.ids[address] = len(self.names)
            self.names.append(address)
            self.hosts.append(host_of(address))
        return i


class GrayList:
    """Up to ``limit`` addresses (the caller trims: :meth:`evict`), in pick order for
    ``len``, indexing and iteration, in insertion order for :meth:`pop_oldest` and
    :meth:`oldest_first`."""

    __slots__ = ("table", "ids", "names", "pos", "mark", "top", "order", "fifo", "head", "end",
                 "stale", "id_top")

    def __init__(self, table: AddressIds, limit: int) -> None:
        self.table = table
        self.ids = table.ids
        """The world's address → id dict (read-only here; hot loops read ``pos`` through it:
        ``gray.pos[i]`` for ``i = gray.ids.get(address, 0)``, absent when ``i >= len(pos)``)."""
        self.names = table.names
        code = "H" if limit + _STALE_SLACK < MARKS["H"] else "I"
        self.pos = array(code)
        self.mark = MARKS[code]
        """Values of ``pos`` at or above this are the white list's (:mod:`.white`)."""
        self.top = TOPS[code]
        self.order = array("H")
        self.fifo = array("H")
        self.id_top = TOPS["H"]
        """The largest id ``order`` and ``fifo`` hold (:meth:`push_id` widens them past it)."""
        self.head = 0
        self.end = 0
        self.stale: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self.order)

    def __contains__(self, address: object) -> bool:
        i = self.ids.get(address, 0)  # type: ignore[call-overload]
        pos = self.pos
        return i < len(pos) and 0 < pos[i] < self.mark

    def __getitem__(self, k: int) -> str:
        """The address at pick position ``k``."""
        return self.names[self.order[k]]

    def __iter__(self) -> Iterator[str]:
        names = self.names
        return (names[i] for i in self.order)

    def __repr__(self) -> str:
        return f"GrayList({len(self.order)} addresses)"

    def push(self, address: str) -> None:
        """Append an address that is in neither list (the caller checked)."""
        self.push_id(self.table.register(address))

    def push_id(self, i: int) -> None:
        """:meth:`push` of a numbered address by its id."""
        if i > self.id_top:
            self.order, self.fifo = array("I", self.order), array("I", self.fifo)
            self.id_top = TOPS["I"]
        pos = self.pos
        if i >= len(pos):
            self.grow()
        order = self.order
        n = len(order) + 1
        if n >= self.mark:  # more than 32,767 entries before a trim: 4-byte positions
            self.widen()
        self.pos[i] = n
        order.append(i)
        fifo, end = self.fifo, self.end
        if end < len(fifo):
            fifo[end] = i
        else:
            fifo.append(i)
        self.end = end + 1

    def grow(self) -> None:
        """``pos`` covers every id the world has numbered."""
        pos = self.pos
        pos.frombytes(bytes(pos.itemsize * (len(self.names) - len(pos))))

    def widen(self) -> None:
        """4-byte positions (the white list's places move to the new mark)."""
        old, mark = self.pos, self.mark
        if old.typecode == "I":
            raise OverflowError("more than 2**31 entries in a peer list")
        new = array("I", old)
        shift = MARKS["I"] - mark
        for i, v in enumerate(old):
            if v >= mark:
                new[i] = v + shift
        self.pos, self.mark, self.top = new, MARKS["I"], TOPS["I"]

    def _drop(self, i: int, p: int) -> None:
        """Take id ``i`` (at position ``p - 1``) out of ``pos`` and ``order``."""
        pos = self.pos
        pos[i] = 0
        order = self.order
        last = order.pop()
        if p <= len(order):
            order[p - 1] = last
            pos[last] = p

    def take(self, address: str) -> bool:
        """Take ``address`` out of the list; False if it is not listed."""
        i = self.ids.get(address, 0)
        pos = self.pos
        if i >= len(pos):
            return False
        p = pos[i]
        if not p or p >= self.mark:
            return False
        self._drop(i, p)
        stale = self.stale
        stale[i] = stale.get(i, 0) + 1
        if self.end - self.head > 2 * len(self.order) + _STALE_SLACK:
            self._rebuild_fifo()
        return True

    def pop_oldest(self) -> str:
        """Take out and return the oldest insertion (the list must not be empty)."""
        if self.stale:
            self.evict(0)  # (evict would skip them too: done first to name the live one)
        name = self.names[self.fifo[self.head]]
        self.evict(1)
        return name

    def evict(self, k: int) -> None:
        """Take out the ``k`` oldest insertions, oldest first (``trim_gray_peerlist``): the same
        as :meth:`pop_oldest` ``k`` times, in one loop. ``k = 0`` drops the stale entries at the
        head, if any, up to the first live one (there is one while stale entries are left: their
        count is the entries from the head to the end less the live ones)."""
        fifo, stale, pos, order = self.fifo, self.stale, self.pos, self.order
        pop = order.pop
        head = self.head
        while True:
            if stale:
                i = fifo[head]
                s = stale.get(i)
                if s:
                    head += 1
                    if s == 1:
                        del stale[i]
                    else:
                        stale[i] = s - 1
                    continue
            if not k:
                break
            i = fifo[head]
            head += 1
            k -= 1
            p = pos[i]  # (_drop, inlined: this is the trim's loop)
            pos[i] = 0
            last = pop()
            if p <= len(order):
                order[p - 1] = last
                pos[last] = p
        if head > FIFO_CUT:
            end = self.end
            fifo[:end - head] = fifo[head:end]  # (same length: moved in place, not reallocated)
            self.end = end - head
            head = 0
        self.head = head

    def push_unlisted(self, ids: Iterable[int]) -> None:
        """:meth:`push_id` of each id of ``ids`` not listed by then (in neither list: an id the
        answer lists twice is pushed once): the pure path of :meth:`push_trim`'s pushes."""
        for i in ids:
            pos = self.pos  # (a push may have grown or widened it)
            if i < len(pos) and pos[i]:
                continue
            self.push_id(i)

    def unknown_ids(self, ids: list[int] | np.ndarray, kernel: Kernel) -> np.ndarray:
        """``[i for i in ids if i >= len(pos) or not pos[i]]`` (the ids in neither list) through
        the compiled ``kernel`` (:func:`.gray_nb.unknown`), as an array (``ids`` as a list or
        an ``int64`` array)."""
        if not isinstance(ids, np.ndarray):
            ids = np.fromiter(ids, np.int64, len(ids))
        return kernel(ids, array_view(self.pos))

    def push_trim(self, fresh: list[int] | np.ndarray, limit: int, kernel: Kernel) -> int | None:
        """:meth:`push_unlisted` of ``fresh``, then :meth:`evict` of what exceeds ``limit`` (if
        anything), through the compiled ``kernel`` (:func:`.gray_nb.push_trim`): the same lists
        as the pure calls. Returns how many were evicted, or None (nothing done) when the
        pushes could take the list past 32,767 entries before the trim (:meth:`widen`: the
        pure path does that)."""
        order, fifo = self.order, self.fifo
        m = len(fresh)
        count = len(order)
        if count + m + 1 >= self.mark:
            return None
        ids = fresh if isinstance(fresh, np.ndarray) else np.fromiter(fresh, np.int64, m)
        if m:
            names = len(self.names)  # (ids are below it: max() only if an id could need more room)
            top = int(ids.max()) if names > min(self.id_top + 1, len(self.pos)) else 0
            if top > self.id_top:  # (as push_id would at that id)
                self.order, self.fifo = order, fifo = array("I", order), array("I", fifo)
                self.id_top = TOPS["I"]
            if top >= len(self.pos):
                self.grow()
            order.frombytes(bytes(order.itemsize * m))  # room for the pushes: truncated after
            room = self.end + m - len(fifo)
            if room > 0:
                fifo.frombytes(bytes(fifo.itemsize * room))
        elif count <= limit:
            return 0
        stale = self.stale
        keys: list[int] = sorted(stale) if stale and count + m > limit else []
        # (the trim skips stale entries: given as sorted ids and their counts)
        if keys:
            stale_ids = np.fromiter(keys, np.int64, len(keys))
            stale_counts = np.fromiter(map(stale.__getitem__, keys), np.int64, len(keys))
        else:
            stale_ids = stale_counts = _NO_STALE
        count, self.end, self.head, evicted, skipped = kernel(
            ids, array_view(self.pos), array_view(order), array_view(fifo), count, self.end, self.head, limit,
            stale_ids, stale_counts, FIFO_CUT)
        # (the views are gone with the call: an array exporting its buffer cannot be resized)
        del order[count:]
        if skipped:
            self.stale = {i: c for i, c in zip(keys, stale_counts.tolist(), strict=True) if c}
        return evicted

    def oldest_first(self) -> Iterator[str]:
        """The listed addresses in insertion order (the eviction's)."""
        names = self.names
        return (names[i] for i in self._live_ids())

    def _live_ids(self) -> Iterator[int]:
        """The listed ids in insertion order: the insertion array past the head, its stale
        entries skipped."""
        stale = dict(self.stale)
        for i in self.fifo[self.head:self.end]:
            s = stale.get(i)
            if s:
                stale[i] = s - 1
                continue
            yield i

    def _rebuild_fifo(self) -> None:
        """The insertion order without its stale entries (memory, not order)."""
        self.fifo = array(self.fifo.typecode, self._live_ids())
        self.head = 0
        self.end = len(self.fifo)
        self.stale.clear()

    def nbytes(self) -> int:
        """Bytes held by the arrays (for memory figures)."""
        return sum(a.buffer_info()[1] * a.itemsize for a in (self.pos, self.order, self.fifo))


def array_view(a: array) -> np.ndarray:
    """A numpy view of an array's buffer, written in place (the array cannot be resized while
    the view lives)."""
    return np.frombuffer(a, dtype=DTYPES[a.typecode])
