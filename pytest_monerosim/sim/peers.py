"""A node's peer lists (monerod's ``peerlist_manager``) and IPv4 addresses.

* **white** list: peers this node has talked to (an outgoing handshake, a
  successful ping-back of an incoming peer, a gray-list probe), address →
  last-seen time, capped at 1000 by evicting the least recently seen. Held as
  arrays by address id, indexed with the gray list (:mod:`.white`).
* **gray** list: addresses heard of in other peers' lists, capped at 5000.
  Entries from the network carry no trusted last-seen time (monerod zeroes
  it), so the cap evicts the oldest insertion first. Held as arrays of address
  ids (:mod:`.gray`).
* **anchors**: outgoing peers, address → first-seen time. Closing a connection
  in normal operation forgets the anchor; shutting down keeps them, and a
  restarted node reconnects to them first.
* **failed**: host → time of the last failed connection attempt to any of its
  addresses; every address of such a host is skipped for an hour
  (``P2P_FAILED_ADDR_FORGET_SECONDS``; monerod keys ``m_conn_fails_cache`` by
  ``host_str()``, the IP without the port).

The white list also keeps an append-only *journal* of additions. Timed syncs
send the same head of the white list again and again; merging what a peer has
already merged is a no-op, so a receiver only merges the journal entries it has
not seen from that peer (see ``Link.seen_journal``). This turns an O(250)
merge per connection per minute into O(new entries), which is what makes
10,000-node runs affordable; the gray list ends up with the same addresses.
"""

from __future__ import annotations

import heapq
import random
from array import array
from bisect import insort
from collections.abc import Iterable
from itertools import count
from typing import TypeVar

import numpy as np

from .gray import AddressIds, GrayList, host_of
from .gray_kernel import MERGES, MIN_FRESH, NO_TRIM
from .stream_twin import MAX_BOUND, STREAMS
from .white import WhiteList

T = TypeVar("T")
L = TypeVar("L", list[int], np.ndarray)
FAILED_ADDR_FORGET_S = 3600.0
JOURNAL_CUT = 2
"""A journal is cut back to its newest ``depth + 1`` entries once it holds this many times as
many (see :class:`Journal`)."""
LOW_K = 64
"""Entries the eviction's bucket (``PeerBook.low``) takes from the bottom of the white list at a
time: a full list that evicts on every new address scans itself once per about this many
evictions."""
DEFAULT_PORT = 18080
_RESERVED_FIRST_OCTETS = frozenset({0, 10, 100, 127, 169, 172, 192, 198})


def subnet_of(address: str) -> str:
    """The /16 ("class B") of an IPv4 address: ``"1.2.3.4:18080"`` → ``"1.2"``."""
    a, b = address.split(".", 2)[:2]
    return f"{a}.{b}"


def random_address(rng: random.Random, port: int = DEFAULT_PORT) -> str:
    """A public-looking IPv4 address (private and special ranges avoided)."""
    while True:
        first = rng.randint(1, 223)
        if first not in _RESERVED_FIRST_OCTETS:
            break
    return f"{first}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}:{port}"


def sample(rng: random.Random, population: list[T], k: int) -> list[T]:
    """``rng.sample(population, k)``, same draws and same result, for ``k <= n <= 3 * k``.

    ``random.Random.sample`` takes its pool branch there (``n`` at most the set size it
    compares with, ``21 + 4 ** ceil(log(3k, 4))``) and draws each index with
    ``_randbelow_with_getrandbits``; this is that loop without a method call per draw
    (CPython 3.10-3.13; tests/sim/test_peer_sample.py compares the two), or its compiled twin
    (:mod:`.stream_twin`) once the process has made enough such calls. Any other ``rng``
    type, or sizes outside that range, go to ``rng.sample`` itself.
    """
    n = len(population)
    if type(rng) is not random.Random or not 0 < k <= n <= 3 * k:
        return rng.sample(population, k)
    twin = STREAMS.twin
    if twin is not None and n < MAX_BOUND:
        return [population[i] for i in twin.picks(rng, n, k)]
    STREAMS.count()
    getrandbits = rng.getrandbits
    pool = list(population)
    result: list[T] = []
    append = result.append
    for m in range(n, n - k, -1):
        bits = m.bit_length()
        j = getrandbits(bits)
        while j >= m:
            j = getrandbits(bits)
        append(pool[j])
        pool[j] = pool[m - 1]
    return result


def sample_ids(rng: random.Random, ids: np.ndarray, k: int) -> np.ndarray:
    """:func:`sample` of an array of address ids (the same draws and the same picks), as an
    array, picked in numpy through the compiled twin: no list is built."""
    n = len(ids)
    twin = STREAMS.twin
    if twin is not None and type(rng) is random.Random and 0 < k <= n <= 3 * k and n < MAX_BOUND:
        return ids[twin.pick_array(rng, n, k)]
    return np.array(sample(rng, ids.tolist(), k), dtype=np.int64)


def sample_draws(rng: random.Random, n: int, k: int) -> None:
    """Advance ``rng`` exactly as ``rng.sample`` of ``k`` out of ``n`` items would (through the
    compiled twin once the process has made enough such calls, as :func:`sample`)."""
    if type(rng) is not random.Random or not 0 < k <= n <= 3 * k:
        rng.sample(range(n), k)
        return
    twin = STREAMS.twin
    if twin is not None and n < MAX_BOUND:
        twin.draws(rng, n, k)
        return
    STREAMS.count()
    getrandbits = rng.getrandbits
    m = n
    stop = n - k
    while m > stop:  # one pass per bit length of the bound, which only shrinks
        bits = m.bit_length()
        low = 1 << (bits - 1)
        if low <= stop:
            low = stop + 1
        for bound in range(m, low - 1, -1):
            while getrandbits(bits) >= bound:
                pass
        m = low - 1


class Gossip:
    """What every peer book of one world shares, so a timed sync can tell it has nothing to do.

    * ``tick()`` — a counter stamped on every journal entry (and by timed syncs and new
      links), so "what had a peer journaled when I last synced" is a bisection.
    * ``last_journaled`` — every address any journal ever held (the universe), with the
      stamp of its newest entry: a book that knows all of them (white, gray or its own)
      merges nothing from any journal.
    * ``max_burst`` — the largest stamp of any journal's ``depth + 1``-th newest entry: while
      it is older than a node's last sync, no peer's journal grew by more than ``depth``
      since (beyond that a sync merges the peer's whole advertised list instead).
    * ``advertisers`` — nodes whose advertised list is overridden (attackers).
    * ``ids`` — the world's address ids, which the gray lists hold (:mod:`.gray`).
    """

    __slots__ = ("tick", "max_burst", "depth", "advertisers", "last_journaled", "ids")

    def __init__(self, depth: int = 250) -> None:
        self.tick = count(1).__next__
        self.ids = AddressIds()
        """The world's address ids (the gray lists hold ids, see :mod:`.gray`)."""
        self.last_journaled: dict[str, int] = {}
        """Address → stamp of its newest journal entry anywhere (see :func:`own_address_known`)."""
        self.max_burst = 0
        self.depth = depth
        self.advertisers = 0


class Journal(list[int]):
    """A white list's additions in order, as address ids (what peers merge at their timed
    syncs; the ids are the world's table's own int objects, so an entry is a pointer), cut at the
    front as it grows: ``base`` entries are gone, so the entry at position ``i`` (positions
    count from the first addition ever, as ``Link.seen_journal`` does) is ``self[i - base]``,
    and ``base + len(self)`` is the position after the newest.

    A sync merges a peer's journal entries only when the link is at most ``depth`` entries
    behind (otherwise it merges the peer's advertised list; :mod:`.timed_sync`), so no entry
    older than the newest ``depth + 1`` is read again: :meth:`PeerBook.journal_append` cuts
    the journal back to those once it holds :data:`JOURNAL_CUT` times as many. (A journal
    that kept every entry grew by about 18 MB every 30 simulated minutes in the mainnet twin.)"""

    __slots__ = ("base",)

    def __init__(self) -> None:
        super().__init__()
        self.base = 0

    def end(self) -> int:
        """The position after the newest entry (the per-link loops of :mod:`.timed_sync` add
        ``base`` inline, which they also need to index)."""
        return self.base + len(self)


class PeerBook:
    """White, gray and anchor lists of one node."""

    __slots__ = ("white", "journal", "journal_clock", "gray", "anchors", "failed", "failed_last",
                 "white_limit", "gray_limit", "shared", "forgets", "sat_key", "sat", "head_pool", "head_at",
                 "low", "low_i", "low_ceiling")

    def __init__(self, white_limit: int = 1000, gray_limit: int = 5000,
                 shared: Gossip | None = None) -> None:
        self.journal = Journal()
        self.journal_clock = array("q")
        """``shared.tick()`` of each journal entry (8 bytes each, not an int object)."""
        self.shared = shared if shared is not None else Gossip()
        self.gray = GrayList(self.shared.ids, gray_limit)
        self.white = WhiteList(self.gray)
        self.forgets = 0
        """Addresses dropped from the white or gray list (not gray → white moves)."""
        self.sat_key: tuple[int, int, int] | None = None
        self.sat = False
        # The one view of the white list kept by its write paths: ``low``, the bottom of the
        # list for the eviction (see evict_oldest). The head a white pick reads is sorted from
        # the list's arrays at each pick (WhiteList.newest_first); the advertised head's pool
        # is sorted likewise and kept until the list changes (head_ids).
        self.head_pool: np.ndarray | None = None
        """The advertised head's pool (see head_ids) as sorted at ``head_at``: the list's
        ``version`` and the pool's size."""
        self.head_at: tuple[int, int] = (-1, 0)
        self.low: list[tuple[float, int, int]] | None = None
        """(last seen, insertion number, address id) of every entry last seen at or before
        ``low_ceiling``, sorted, from ``low_i`` on; items of entries since removed or written
        again are left in (stale)."""
        self.low_i = 0
        self.low_ceiling = float("-inf")
        self.anchors: dict[str, float] = {}
        self.failed: dict[str, float] = {}
        self.failed_last = float("-inf")
        """The newest time in ``failed``: none is recent an hour after it (merges then skip the
        filter; the entries stay, as monerod's cache keeps them)."""
        self.white_limit = white_limit
        self.gray_limit = gray_limit

    # -- white ---------------------------------------------------------------
    def add_white(self, address: str, now: float) -> None:
        """The peer was just seen alive: into (or refreshed in) the white list."""
        white = self.white
        p = white.place(address)
        if p < 0:
            self.journal_append(address)
            self.gray.take(address)
            self.insert_white(address, now)
        else:
            self.set_place(p, now)
        if white.live > self.white_limit:
            self.evict_oldest()

    def evict_oldest(self) -> None:
        """Drop the least recently seen entry, the first in the list's order among equals:
        ``min(white.items(), key=itemgetter(1))``, from the ``low`` bucket instead of a scan (a
        node of a network larger than the list evicts on every new address).

        The bucket holds every entry last seen at or before its ceiling, the ``LOW_K``-th
        oldest time when it was filled: the write paths add an entry written at or below the
        ceiling, so the first live item is the oldest entry. When none is left, the bucket is
        filled again from the whole list. (It replaces a heap of every entry, about 74 bytes
        an entry: 2.4 GB in the mainnet twin's full white lists.)
        """
        white = self.white
        low, k = self.low, self.low_i
        while True:
            if low is None or k >= len(low):
                low, k = self._fill_low(), 0
            w, o, i = low[k]
            k += 1
            p = white.place_of_id(i)
            if p >= 0 and white.order[p] == o and white.seen[p] == w:
                break
        self.low_i = k
        self._remove_place(p)

    def _fill_low(self) -> list[tuple[float, int, int]]:
        """The eviction's bucket from the whole list: the entries last seen at or before the
        ``LOW_K``-th oldest time, sorted."""
        white = self.white
        ceiling = heapq.nsmallest(LOW_K, white.values())[-1]
        self.low = low = white.at_or_before(ceiling)
        self.low_ceiling = ceiling
        return low

    def _drop_low(self) -> None:
        """No bucket (the next eviction fills one); its ceiling then admits no write."""
        self.low = None
        self.low_i = 0
        self.low_ceiling = float("-inf")

    def _low_note(self, when: float, order: int, i: int) -> None:
        """An entry written at or below the bucket's ceiling joins the bucket (a ceiling above
        ``-inf`` means there is one)."""
        low = self.low
        assert low is not None
        k = self.low_i
        if len(low) - k > 4 * LOW_K:  # many writes below the ceiling (stale items): refill
            self._drop_low()
            return
        if k > LOW_K:
            del low[:k]
            self.low_i = k = 0
        insort(low, (when, order, i), lo=k)

    # The white list's write paths keep the eviction's bucket; write the list through them (the
    # list's own writes are for these only).
    def insert_white(self, address: str, when: float) -> None:
        """Put an address that is in neither list into the white list, last seen at ``when``."""
        white = self.white
        p = white.insert(address, when)
        if when <= self.low_ceiling:
            self._low_note(when, white.order[p], white.ids[p])

    def set_seen(self, address: str, when: float) -> None:
        """Set the last-seen time of an address in the white list."""
        p = self.white.place(address)
        if p < 0:
            raise KeyError(address)
        self.set_place(p, when)

    def touch(self, address: str, when: float) -> None:
        """:meth:`set_seen` if the address is in the white list."""
        p = self.white.place(address)
        if p >= 0:
            self.set_place(p, when)

    def set_place(self, p: int, when: float) -> None:
        """:meth:`set_seen` of the entry at place ``p`` (the caller looked it up)."""
        white = self.white
        seen = white.seen
        if seen[p] == when:
            return  # (most writes: refresh_seen writes the same times until the next tick)
        seen[p] = when
        white.version += 1
        if when <= self.low_ceiling:
            self._low_note(when, white.order[p], white.ids[p])

    def journal_append(self, address: str) -> None:
        """Record a white-list addition (what peers merge at their next timed sync)."""
        shared = self.shared
        stamp = shared.tick()
        self.journal.append(shared.ids.register(address))
        clock = self.journal_clock
        clock.append(stamp)
        shared.last_journaled[address] = stamp
        depth = shared.depth
        n = len(clock)
        if n > depth:
            burst = clock[-depth - 1]
            if burst > shared.max_burst:
                shared.max_burst = burst
            if n > JOURNAL_CUT * (depth + 1):  # (the entries no sync reads again: see Journal)
                cut = n - depth - 1
                journal = self.journal
                del journal[:cut]
                del clock[:cut]
                journal.base += cut

    def remove_white(self, address: str) -> None:
        p = self.white.place(address)
        if p >= 0:
            self._remove_place(p)

    def _remove_place(self, p: int) -> None:
        self.white.remove(p)
        self.forgets += 1

    def knows_all(self, own: str) -> bool:
        """Does this book hold every address any journal has held (white, gray or ``own``)?

        Then merging any journal's entries changes nothing, but for ``own`` itself: see
        :func:`own_address_known`. Cached until an
        address is forgotten, the universe grows or the lists grow.
        """
        universe = self.shared.last_journaled  # its keys: every address ever journaled
        gray = self.gray
        size = self.white.live + len(gray)
        key = (len(universe), self.forgets, size)
        if key == self.sat_key:
            return self.sat
        if size + 1 < len(universe):
            return False
        get, pos = gray.ids.get, gray.pos  # (both lists' index: see .gray)
        n = len(pos)
        self.sat = all((i := get(a, 0)) < n and pos[i] or a == own for a in universe)
        self.sat_key = key
        return self.sat

    def head(self, rng: random.Random, depth: int = 250) -> list[str]:
        """What this node advertises: up to ``depth`` recently seen white peers.

        monerod picks ``depth`` at random among the ``depth * 1.2`` most recent
        (so two requests cannot tell exactly when an address was last seen).
        """
        names = self.gray.names
        return [names[i] for i in self.head_ids(rng, depth).tolist()]

    def head_ids(self, rng: random.Random, depth: int = 250) -> np.ndarray:
        """:meth:`head` as an array of address ids (what a merge in the model reads, into the
        gray list's compiled kernels without a list between).

        The newest ``depth * 1.2`` are sorted from the list's arrays (about 15 us at 1,000
        entries), and the sort is kept until the list changes: a node answers several peers
        between two of its timed syncs. A kept order of the list's head, updated by its writes,
        was about as fast per answer, but its dicts and tuples took 80 KB a node: 2.6 GB over
        the mainnet twin's 33,047 nodes (docs/performance.md, session 14)."""
        white = self.white
        n = white.live
        if n <= depth:
            return white.id_array()
        k = depth + depth // 5
        at = (white.version, k)
        pool = self.head_pool
        if pool is None or self.head_at != at:
            self.head_pool = pool = white.newest_id_array(k)
            self.head_at = at
        return sample_ids(rng, pool, depth)

    def head_draws(self, rng: random.Random, depth: int = 250) -> None:
        """Draw from ``rng`` exactly what :meth:`head` would, without building the list (for an
        answer the requester cannot learn anything from)."""
        n = self.white.live
        if n > depth:
            sample_draws(rng, min(n, depth + depth // 5), depth)

    # -- gray ----------------------------------------------------------------
    def add_gray(self, address: str) -> None:
        """One address into the gray list (unless white or gray), trimmed to the limit."""
        gray = self.gray
        i = gray.ids.get(address, 0)
        if i < len(gray.pos) and gray.pos[i]:  # (in either list: see .gray)
            return
        gray.push(address)
        if len(gray) > self.gray_limit:
            gray.pop_oldest()
            self.forgets += 1

    def remove_gray(self, address: str) -> None:
        """Forget a gray address."""
        if self.gray.take(address):
            self.forgets += 1

    def take_gray(self, address: str) -> bool:
        """Take ``address`` out of the gray list (to move it to the white one); False if absent."""
        return self.gray.take(address)

    def merge(self, addresses: Iterable[str], own: str, now: float) -> None:
        """monerod's ``merge_peerlist``: unknown addresses go to the gray list."""
        self.gray_unknown(addresses, own, now)
        if len(self.gray) > self.gray_limit:
            self.trim_gray()

    def merge_ids(self, ids: list[int] | np.ndarray, now: float) -> None:
        """:meth:`merge` of a list of address ids (a head of another book's white list)."""
        self._merge_ids(ids, now, self.gray_limit)

    def gray_unknown_ids(self, ids: list[int], now: float) -> None:
        """:meth:`gray_unknown` of a list of address ids (no trim)."""
        self._merge_ids(ids, now, None)

    def _merge_ids(self, ids: list[int] | np.ndarray, now: float, limit: int | None) -> None:
        """The unknown ids of ``ids`` to the gray list, then a trim to ``limit`` (None: none).
        The pushes and the trim run compiled once the process has made enough large merges
        (:mod:`.gray_kernel`: same results)."""
        gray = self.gray
        kernels = MERGES.twin
        if kernels is not None and len(ids) >= MIN_FRESH:
            unknown = gray.unknown_ids(ids, kernels.unknown)
            if len(unknown) >= MIN_FRESH:
                chosen = self._without_failed(unknown, now)
                evicted = gray.push_trim(chosen, NO_TRIM if limit is None else limit, kernels.push_trim)
                if evicted is not None:
                    self.forgets += evicted
                    return
            fresh = unknown.tolist()
        else:
            if isinstance(ids, np.ndarray):
                ids = ids.tolist()
            pos = gray.pos  # (both lists' index: see .gray)
            n = len(pos)
            # Most answers hold nothing new: the unknown ones first, in one comprehension (a
            # third of the loop's time), then the loop for those.
            fresh = [i for i in ids if i >= n or not pos[i]]
            if kernels is None and len(fresh) >= MIN_FRESH:
                MERGES.count()
        self._push_unknown(fresh, now)
        if limit is not None and len(gray) > limit:
            self.trim_gray()

    def gray_unknown(self, addresses: Iterable[str], own: str, now: float) -> None:
        """Unknown addresses (not white, gray or recently failed) to the gray list.

        The node's own address is not filtered (see :func:`own_address_known`). No trim:
        :meth:`merge` trims at once, a timed sync once after all its links.
        """
        gray = self.gray
        get, pos = gray.ids.get, gray.pos  # (both lists' index: see .gray)
        n = len(pos)
        register = gray.table.register
        self._push_unknown([register(a) for a in addresses if (i := get(a, 0)) >= n or not pos[i]], now)

    def _push_unknown(self, fresh: list[int], now: float) -> None:
        """Push the ids of ``fresh`` (in neither list when the answer was read) to the gray list
        but for recently failed hosts and ids the answer lists twice."""
        if fresh:
            self.gray.push_unlisted(self._without_failed(fresh, now))

    def _without_failed(self, ids: L, now: float) -> L | list[int]:
        """``ids`` (a list or an array) but those of recently failed hosts (:func:`host_failed`),
        in order; ``ids`` itself when no failure is within the hour (``failed_last``)."""
        if now - self.failed_last >= FAILED_ADDR_FORGET_S:
            return ids
        if isinstance(ids, np.ndarray):
            ids = ids.tolist()
        get = self.failed.get
        hosts = self.gray.table.hosts
        # (host_failed, inlined on the ids' hosts)
        return [i for i in ids if (when := get(hosts[i])) is None or now - when >= FAILED_ADDR_FORGET_S]

    def trim_gray(self) -> None:
        """Evict the oldest insertions down to the limit (``trim_gray_peerlist``)."""
        gray = self.gray
        over = len(gray) - self.gray_limit
        if over > 0:
            gray.evict(over)
            self.forgets += over

    # -- failures --------------------------------------------------------------
    def record_failed(self, address: str, now: float) -> None:
        """``record_addr_failed``: a connection to ``address`` failed; its host is skipped."""
        self.failed[host_of(address)] = now
        if now > self.failed_last:
            self.failed_last = now

    def recently_failed(self, address: str, now: float) -> bool:
        """``is_addr_recently_failed``: did a connection to this address's host fail within the
        hour?"""
        return host_failed(self.failed, address, now)

    def __repr__(self) -> str:
        return (f"PeerBook(white={len(self.white)}, gray={len(self.gray)}, "
                f"anchors={len(self.anchors)})")


def host_failed(failed: dict[str, float], address: str, now: float) -> bool:
    """Did a connection to ``address``'s host fail within the hour (``failed``: host → time)?
    (Merges call it only for unknown addresses of a node with failures on record.)"""
    when = failed.get(host_of(address))
    return when is not None and now - when < FAILED_ADDR_FORGET_S


def own_address_known(book: PeerBook, own: str, now: float) -> bool:
    """Would merging a list that holds the node's own address change nothing?

    (:meth:`PeerBook.knows_all` leaves the own address out; a timed sync asks this too.)

    monerod 0.18's ``handle_remote_peerlist`` → ``merge_peerlist`` filters only recently
    failed and blocked hosts, never the node's own address (src/p2p/net_node.inl,
    ``handle_remote_peerlist``; ``append_with_peer_gray`` in net_peerlist.h). So a node
    whose peers whitelisted it (they dialled it) hears its own address back and keeps it
    on its gray list, until a gray-list probe of it fails (the probed end drops a
    handshake carrying its own peer id: "Connection to self detected") and the host is
    recorded as failed for an hour (``record_addr_failed``). Measured on Debian's
    0.18.0.0 (tests/agreement/test_peers_monerod.py): half of 8 daemons held their own
    address on the gray list after 130 s.
    """
    return own in book.gray or own in book.white or book.recently_failed(own, now)
