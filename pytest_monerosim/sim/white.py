"""A node's white list over integer address ids (monerod's ``m_peers_white``).

The white list maps an address to its last-seen time, in insertion order (which breaks
last-seen ties wherever the model sorts the list, as monerod's container does), capped by
evicting the least recently seen (:meth:`~.peers.PeerBook.evict_oldest`). In the mainnet
twin every node's list fills to monerod's 1,000: as a dict of strings to floats with a dict of
places beside it that was 133 bytes an entry, 4.4 GB in a day. Here it is three arrays by
*place* (an entry's index, in insertion order) and a list of the addresses by place, 22
bytes an entry (24 with ids past 65,535) and a quarter more at most for the places left by
removals:

* ``ids`` — the entry's address id (0: the place is free; 2 bytes while ids fit, as the
  gray list's ``order``);
* ``seen`` — its last-seen time;
* ``order`` — its insertion number in the book (``PeerBook``'s views sort on it: it does
  not change when the places are compacted);
* ``addrs`` — its address (``None``: free), the string the world's table holds: the
  advertised list of a short white list is a copy of it, and a sort of the list maps places
  to addresses through it.

An address's place is in the book's gray list's ``pos`` array (:mod:`.gray`), at ``mark +
place``: the two lists share one index, so the white list needs no per-node dict, and a
merge asks "is this address in either list" with one read. A removal frees the place; the
places are compacted, in order, once a quarter of them are free.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Iterator

import numpy as np

from .gray import TOPS, GrayList, array_view

_FREE_SLACK = 32
_NUMPY_SORT = 40
"""From this many places up, :meth:`WhiteList.newest_first` sorts with numpy (about 2x faster at 250
places; below, the call's own cost outweighs it)."""
_FREED = float("-inf")
"""The last-seen time of a free place: older than any entry, so sorts by time put the free
places last."""


class WhiteList:
    """Address → last-seen time, in insertion order (``len``, ``in``, ``[]``, ``get``,
    iteration, ``keys``/``values``/``items``). Written by :class:`~.peers.PeerBook` only
    (through ``insert``, ``seen`` and ``remove``), which keeps its views of the list."""

    __slots__ = ("gray", "table", "id_of", "id_top", "ids", "seen", "order", "addrs", "live",
                 "end", "next_order", "version")

    def __init__(self, gray: GrayList) -> None:
        self.gray = gray
        """The book's gray list: its ``pos`` is the index of both lists."""
        self.table = gray.table
        self.id_of = gray.ids
        self.ids = array("H")
        self.id_top = TOPS["H"]
        self.seen = array("d")
        self.order = array("I")
        self.addrs: list[str | None] = []
        self.live = 0
        self.end = 0
        """Places in use are below ``end`` (free ones among them have id 0); the arrays keep
        their length when compacted, zeroed past ``end``."""
        self.next_order = 0
        self.version = 0
        """Counts the list's changes: inserts, removals and last-seen writes (the last by
        :class:`~.peers.PeerBook`, which caches a sort of the list while this is unchanged)."""

    # -- reads -------------------------------------------------------------------
    def place(self, address: object) -> int:
        """The entry's place, -1 if the address is not listed."""
        return self.place_of_id(self.id_of.get(address, 0))  # type: ignore[call-overload]

    def place_of_id(self, i: int) -> int:
        """The place of the entry with address id ``i``, -1 if it is not listed."""
        gray = self.gray
        pos = gray.pos
        if i < len(pos):
            p = pos[i]
            if p >= gray.mark:
                return p - gray.mark
        return -1

    def __len__(self) -> int:
        return self.live

    def __bool__(self) -> bool:
        return self.live > 0

    def __contains__(self, address: object) -> bool:
        return self.place(address) >= 0

    def __getitem__(self, address: str) -> float:
        p = self.place(address)
        if p < 0:
            raise KeyError(address)
        return self.seen[p]

    def get(self, address: str, default: float | None = None) -> float | None:
        p = self.place(address)
        return default if p < 0 else self.seen[p]

    def __iter__(self) -> Iterator[str]:
        return (a for a in self.addrs if a is not None)

    def keys(self) -> Iterator[str]:
        return iter(self)

    def id_array(self) -> np.ndarray:
        """The address ids in the list's order, as an array (``int64``, as the gray list's
        kernels take them)."""
        ids = array_view(self.ids)[:self.end]
        if self.end != self.live:
            ids = ids[ids != 0]
        return ids.astype(np.int64)

    def id_list(self) -> list[int]:
        """The address ids in the list's order."""
        end = self.end
        if end == self.live:  # (no free place)
            return self.ids[:end].tolist()
        return [i for i in self.ids[:end] if i]

    def addresses(self) -> list[str]:
        """``list(self)``, without a generator."""
        end = self.end
        if end == self.live:  # (no free place)
            return self.addrs[:end]  # type: ignore[return-value]
        return [a for a in self.addrs[:end] if a is not None]

    def values(self) -> list[float]:
        ids = self.ids
        return [t for p, t in enumerate(self.seen[:self.end]) if ids[p]]

    def items(self) -> list[tuple[str, float]]:
        seen = self.seen
        return [(a, seen[p]) for p, a in enumerate(self.addrs) if a is not None]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, WhiteList):
            return self.items() == other.items()
        if isinstance(other, dict):
            return dict(self.items()) == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"WhiteList({self.live} addresses)"

    def newest_first(self, limit: int | None = None) -> list[str]:
        """The addresses by last-seen time, newest first, ties in insertion order; only the
        first ``limit`` if given."""
        return list(self.newest_iter(limit))

    def newest_iter(self, limit: int | None = None) -> Iterator[str]:
        """:meth:`newest_first`, each address read from its place as the iteration reaches
        it (a white pick sorts 128 places and reads about 40 to 130 of them)."""
        n = self._newest_count(limit)
        if self.end < _NUMPY_SORT:
            places = sorted(range(self.end), key=self.seen.__getitem__, reverse=True)[:n]
        else:
            places = self._newest_places(n).tolist()
        return map(self.addrs.__getitem__, places)  # type: ignore[arg-type]

    def newest_id_array(self, limit: int | None = None) -> np.ndarray:
        """:meth:`newest_first` as an array of address ids (``int64``, as :meth:`id_array`):
        the advertised head's pool, picked from in numpy."""
        places = self._newest_places(self._newest_count(limit))
        return array_view(self.ids)[places].astype(np.int64)

    def _newest_count(self, limit: int | None) -> int:
        """How many entries a read of the first ``limit`` (all without one) gives."""
        return self.live if limit is None else min(limit, self.live)

    def _newest_places(self, n: int) -> np.ndarray:
        """The places of the first ``n`` entries by last-seen time, newest first, ties in place
        order (numpy's stable sort). The free places' time sorts last (see :meth:`remove`), so
        the first ``live`` places of the sort are the entries."""
        keys = -np.frombuffer(self.seen, count=self.end)
        if 0 < 2 * n <= self.live:
            # (the first n are among the places at or above the n-th newest time: sort only
            # those, about 20% cheaper at 1,000 places and 300 wanted)
            cut = np.partition(keys, n - 1)[n - 1]
            places = np.flatnonzero(keys <= cut)
            places = places[np.argsort(keys[places], kind="stable")[:n]]
        else:
            places = np.argsort(keys, kind="stable")[:n]
        return places

    def at_or_before(self, ceiling: float) -> list[tuple[float, int, int]]:
        """``(last seen, insertion number, address id)`` of every entry seen at or before
        ``ceiling``, sorted."""
        ids, order = self.ids, self.order
        return sorted([(t, order[p], ids[p]) for p, t in enumerate(self.seen[:self.end])
                       if t <= ceiling and ids[p]])

    # -- writes (PeerBook's) -------------------------------------------------------
    def insert(self, address: str, when: float) -> int:
        """List an address that is in neither list (the caller checked); its place."""
        i = self.table.register(address)
        if i > self.id_top:
            self.ids = array("I", self.ids)
            self.id_top = TOPS["I"]
        gray = self.gray
        pos = gray.pos
        if i >= len(pos):
            gray.grow()
        p = self.end
        if gray.mark + p > gray.top:
            gray.widen()
            pos = gray.pos
        assert not pos[i], f"{address} is listed already"
        pos[i] = gray.mark + p
        n = self.next_order
        self.next_order = n + 1
        ids = self.ids
        if p < len(ids):
            ids[p] = i
            self.seen[p] = when
            self.addrs[p] = address
            try:
                self.order[p] = n
            except OverflowError:  # (4 G insertions in one book)
                self.order = array("Q", self.order)
                self.order[p] = n
        else:
            ids.append(i)
            self.seen.append(when)
            self.addrs.append(address)
            try:
                self.order.append(n)
            except OverflowError:
                self.order = array("Q", self.order)
                self.order.append(n)
        self.end = p + 1
        self.live += 1
        self.version += 1
        return p

    def remove(self, place: int) -> None:
        """Free a place (compacting the places once a quarter of them are free)."""
        ids = self.ids
        self.gray.pos[ids[place]] = 0
        ids[place] = 0
        self.seen[place] = _FREED
        self.addrs[place] = None
        self.live -= 1
        self.version += 1
        free = self.end - self.live
        if free > _FREE_SLACK and 4 * free > self.end:
            self._compact()

    def _compact(self) -> None:
        """The entries moved down over the free places, in order (the arrays keep their
        length: see ``end``)."""
        ids, seen, order, addrs = self.ids, self.seen, self.order, self.addrs
        gray = self.gray
        pos, mark = gray.pos, gray.mark
        w = 0
        for p in range(self.end):
            i = ids[p]
            if i:
                if p != w:
                    ids[w] = i
                    seen[w] = seen[p]
                    order[w] = order[p]
                    addrs[w] = addrs[p]
                    pos[i] = mark + w
                w += 1
        ids[w:self.end] = array(ids.typecode, bytes(ids.itemsize * (self.end - w)))
        addrs[w:self.end] = [None] * (self.end - w)
        self.end = w

    def nbytes(self) -> int:
        """Bytes held by the arrays and the address list (for memory figures; ``pos`` is the gray
        list's, the strings the world's)."""
        return (sum(a.buffer_info()[1] * a.itemsize for a in (self.ids, self.seen, self.order))
                + sys.getsizeof(self.addrs))
