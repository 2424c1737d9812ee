"""A node's peer lists (monerod's ``peerlist_manager``) and IPv4 addresses.

* **white** list: peers this node has talked to (an outgoing handshake, a
  successful ping-back of an incoming peer, a gray-list probe), address →
  last-seen time, capped at 1000 by evicting the least recently seen.
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
from bisect import bisect_left, insort
from collections.abc import Iterable
from itertools import count

from .gray import AddressIds, GrayList
from .stream_twin import MAX_BOUND, STREAMS

FAILED_ADDR_FORGET_S = 3600.0
POSITIONS = tuple(range(1 << 16))
"""Shared int objects for the white list's places (``PeerBook.seq``): a dict value that points
to one of these instead of a fresh 28-byte int per entry (CPython caches ints up to 256 only)."""
POSITIONS_N = len(POSITIONS)
JOURNAL_CUT = 2
"""A journal is cut back to its newest ``depth + 1`` entries once it holds this many times as
many (see :class:`Journal`)."""
LOW_K = 64
"""Entries the eviction's bucket (``PeerBook.low``) takes from the bottom of the white list at a
time: a full list that evicts on every new address scans itself once per about this many
evictions."""
HEAD_MARGIN = 32
"""Entries kept in ``PeerBook.head_top`` beyond the advertised head's ``depth * 1.2``."""
DEFAULT_PORT = 18080
_RESERVED_FIRST_OCTETS = frozenset({0, 10, 100, 127, 169, 172, 192, 198})


def host_of(address: str) -> str:
    """``"1.2.3.4:18080"`` → ``"1.2.3.4"``."""
    return address.rsplit(":", 1)[0]


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


def sample(rng: random.Random, population: list[str], k: int) -> list[str]:
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
    result: list[str] = []
    append = result.append
    for m in range(n, n - k, -1):
        bits = m.bit_length()
        j = getrandbits(bits)
        while j >= m:
            j = getrandbits(bits)
        append(pool[j])
        pool[j] = pool[m - 1]
    return result


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


class Journal(list[str]):
    """A white list's additions in order (what peers merge at their timed syncs), cut at the
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


class SinceFloor:
    """The white entries last seen at or after ``floor``: a sorted prefix of the white list,
    kept as entries are written (:meth:`PeerBook.set_seen`), read without sorting the list.
    Each read sorts the members (the pick index: its list is written many times between two
    picks, see :class:`KeptOrder`)."""

    __slots__ = ("floor", "members")

    def __init__(self, floor: float, members: Iterable[tuple[str, float]] = ()) -> None:
        self.floor = floor
        self.members = dict(members)
        """Member → its last-seen time (the white list's own value, written with it: a read
        then touches this small dict, not the list's, whose entries are scattered in memory)."""

    def __len__(self) -> int:
        return len(self.members)

    def note(self, address: str, when: float) -> None:
        """``address`` is now last seen at ``when``."""
        if when >= self.floor:
            self.members[address] = when
        else:
            self.members.pop(address, None)

    def drop(self, address: str) -> None:
        """``address`` left the white list."""
        self.members.pop(address, None)

    def prefix(self, seq: dict[str, int]) -> list[str]:
        """The members newest first, ties in the list's order (``seq``): the whole list's
        sorted prefix down to ``floor``."""
        members = self.members
        entries = sorted(members, key=seq.__getitem__)
        entries.sort(key=members.__getitem__, reverse=True)
        return entries


class KeptOrder(SinceFloor):
    """A :class:`SinceFloor` that keeps its sorted order between reads: a read moves only the
    entries written or dropped since the last one (``moved``) to their new places by
    bisection, about a microsecond each instead of two sorts of every member. That pays where
    reads come often between writes (the advertised head, read by every answer); for the pick
    index it cost more (docs/performance.md, session 7)."""

    __slots__ = ("keys", "order", "sorted", "moved")

    def __init__(self, floor: float, members: Iterable[tuple[str, float]] = ()) -> None:
        super().__init__(floor, members)
        self.keys: dict[str, tuple[float, int]] | None = None
        """After the first read: each member's key in ``order`` as of the last read."""
        self.order: list[tuple[float, int]] = []
        """``(-last seen, seq)`` of every member, sorted (unique: ``seq`` is)."""
        self.sorted: list[str] = []
        """The addresses in ``order``'s order: what a read returns."""
        self.moved: set[str] = set()
        """Entries written or dropped since the last read: their places in ``order`` are stale."""

    def note(self, address: str, when: float) -> None:
        if when >= self.floor:
            self.members[address] = when
        else:
            self.members.pop(address, None)
        if self.keys is not None:
            self.moved.add(address)

    def drop(self, address: str) -> None:
        self.members.pop(address, None)
        if self.keys is not None:
            self.moved.add(address)

    def prefix(self, seq: dict[str, int]) -> list[str]:
        """As :meth:`SinceFloor.prefix`; the list is the view's own, updated by the next read:
        do not change it, and copy what must outlive that read."""
        members = self.members
        keys = self.keys
        moved = self.moved
        if keys is not None and len(moved) * 8 <= len(members):
            order, addresses = self.order, self.sorted
            for a in moved:
                old = keys.pop(a, None)
                if old is not None:
                    i = bisect_left(order, old)
                    del order[i]
                    del addresses[i]
                when = members.get(a)
                if when is not None:
                    key = (-when, seq[a])
                    i = bisect_left(order, key)
                    order.insert(i, key)
                    addresses.insert(i, a)
                    keys[a] = key
            moved.clear()
            return addresses
        entries = sorted([(-when, seq[a], a) for a, when in members.items()])
        self.order = [(t, s) for t, s, _ in entries]
        self.sorted = [a for _, _, a in entries]
        self.keys = dict(zip(self.sorted, self.order, strict=True))
        moved.clear()
        return self.sorted


class PeerBook:
    """White, gray and anchor lists of one node."""

    __slots__ = ("white", "journal", "journal_clock", "gray", "anchors", "failed",
                 "white_limit", "gray_limit", "shared", "forgets", "sat_key", "sat", "seq", "seq_next",
                 "top", "head_top", "low", "low_i", "low_ceiling")

    def __init__(self, white_limit: int = 1000, gray_limit: int = 5000,
                 shared: Gossip | None = None) -> None:
        self.white: dict[str, float] = {}
        self.journal = Journal()
        self.journal_clock = array("q")
        """``shared.tick()`` of each journal entry (8 bytes each, not an int object)."""
        self.shared = shared if shared is not None else Gossip()
        self.forgets = 0
        """Addresses dropped from the white or gray list (not gray → white moves)."""
        self.sat_key: tuple[int, int, int] | None = None
        self.sat = False
        # The head-of-white-list index (see index_white), built by the first white pick on a
        # long list.
        self.seq: dict[str, int] | None = None
        self.seq_next = 0
        self.top = SinceFloor(float("inf"))
        # Two more views on the indexed list, each built when first needed: ``head_top``, enough
        # of the list's head for the advertised head (see head), and ``low``, the bottom of the
        # list for the eviction (see evict_oldest).
        self.head_top: KeptOrder | None = None
        self.low: list[tuple[float, int, str]] | None = None
        """(last seen, seq, address) of every entry last seen at or before ``low_ceiling``,
        sorted, from ``low_i`` on; items of entries since removed or written again are left in
        (stale)."""
        self.low_i = 0
        self.low_ceiling = float("-inf")
        self.gray = GrayList(self.shared.ids, gray_limit)
        self.anchors: dict[str, float] = {}
        self.failed: dict[str, float] = {}
        self.white_limit = white_limit
        self.gray_limit = gray_limit

    # -- white ---------------------------------------------------------------
    def add_white(self, address: str, now: float) -> None:
        """The peer was just seen alive: into (or refreshed in) the white list."""
        white = self.white
        if address not in white:
            self.journal_append(address)
            self.gray.take(address)
            self.insert_white(address, now)
        else:
            self.set_seen(address, now)
        if len(white) > self.white_limit:
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
        seq = self._sequence()
        low, i = self.low, self.low_i
        while True:
            if low is None or i >= len(low):
                low, i = self._fill_low(seq), 0
            w, o, a = low[i]
            i += 1
            if seq.get(a) == o and white[a] == w:
                break
        self.low_i = i
        self.remove_white(a)

    def _fill_low(self, seq: dict[str, int]) -> list[tuple[float, int, str]]:
        """The eviction's bucket from the whole list: the entries last seen at or before the
        ``LOW_K``-th oldest time, sorted."""
        white = self.white
        ceiling = heapq.nsmallest(LOW_K, white.values())[-1]
        self.low = low = sorted([(w, seq[a], a) for a, w in white.items() if w <= ceiling])
        self.low_ceiling = ceiling
        return low

    def _drop_low(self) -> None:
        """No bucket (the next eviction fills one); its ceiling then admits no write."""
        self.low = None
        self.low_i = 0
        self.low_ceiling = float("-inf")

    def _low_note(self, address: str, when: float, order: int) -> None:
        """An entry written at or below the bucket's ceiling joins the bucket (a ceiling above
        ``-inf`` means there is one)."""
        low = self.low
        assert low is not None
        i = self.low_i
        if len(low) - i > 4 * LOW_K:  # many writes below the ceiling (stale items): refill
            self._drop_low()
            return
        if i > LOW_K:
            del low[:i]
            self.low_i = i = 0
        insort(low, (when, order, address), lo=i)

    # The white list's write paths keep the head-of-list index (``seq``, ``top``) when it is
    # built; write the list through them, not ``white[...] = ...``.
    def insert_white(self, address: str, when: float) -> None:
        """Put an address not in the white list into it, last seen at ``when``."""
        self.white[address] = when
        seq = self.seq
        if seq is not None:
            n = self.seq_next
            seq[address] = order = POSITIONS[n] if n < POSITIONS_N else n
            self.seq_next = n + 1
            self.top.note(address, when)
            if self.head_top is not None:
                self.head_top.note(address, when)
            if when <= self.low_ceiling:
                self._low_note(address, when, order)

    def set_seen(self, address: str, when: float) -> None:
        """Set the last-seen time of an address in the white list."""
        old = self.white.get(address)
        if old == when:
            return  # (most writes: refresh_seen writes the same times until the next tick)
        self.white[address] = when
        seq = self.seq
        if seq is not None:
            self.top.note(address, when)
            if self.head_top is not None:
                self.head_top.note(address, when)
            if when <= self.low_ceiling:
                self._low_note(address, when, seq[address])

    def _sequence(self) -> dict[str, int]:
        """``seq`` (built if need be: then the views that read it are dropped)."""
        if self.seq is None:
            self.seq = dict(zip(self.white, POSITIONS if len(self.white) <= POSITIONS_N else count(),
                                strict=False))
            self.seq_next = len(self.seq)
            # the views that read seq start empty: a pick index that holds nothing (no entry is
            # seen at or after an infinite floor) until index_white, no head_top, no heap
            self.top = SinceFloor(float("inf"))
            self.head_top = None
            self._drop_low()
        return self.seq

    def index_white(self, floor: float, top: Iterable[tuple[str, float]]) -> None:
        """(Re)build the head-of-list index: ``seq``, each entry's place in the list's
        insertion order (the order ``white`` iterates in, which breaks last-seen ties), and
        ``top``, every entry last seen at or after ``floor`` (:func:`~.peer_choice.pick_white`
        reads only these until it needs more)."""
        self._sequence()
        self.top = SinceFloor(floor, top)

    def journal_append(self, address: str) -> None:
        """Record a white-list addition (what peers merge at their next timed sync)."""
        shared = self.shared
        stamp = shared.tick()
        self.journal.append(address)
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
        if self.white.pop(address, None) is not None:
            self.forgets += 1
            if self.seq is not None:
                del self.seq[address]
                self.top.drop(address)
                if self.head_top is not None:
                    self.head_top.drop(address)

    def knows_all(self, own: str) -> bool:
        """Does this book hold every address any journal has held (white, gray or ``own``)?

        Then merging any journal's entries changes nothing, but for ``own`` itself: see
        :func:`own_address_known`. Cached until an
        address is forgotten, the universe grows or the lists grow.
        """
        universe = self.shared.last_journaled  # its keys: every address ever journaled
        white, gray = self.white, self.gray
        size = len(white) + len(gray)
        key = (len(universe), self.forgets, size)
        if key == self.sat_key:
            return self.sat
        if size + 1 < len(universe):
            return False
        get, pos = gray.ids.get, gray.pos
        n = len(pos)
        self.sat = all(a in white or (i := get(a, 0)) < n and pos[i] or a == own for a in universe)
        self.sat_key = key
        return self.sat

    def head(self, rng: random.Random, depth: int = 250) -> list[str]:
        """What this node advertises: up to ``depth`` recently seen white peers.

        monerod picks ``depth`` at random among the ``depth * 1.2`` most recent
        (so two requests cannot tell exactly when an address was last seen).
        """
        white = self.white
        n = len(white)
        if n <= depth:
            return list(white)
        k = depth + depth // 5
        seq = self.seq
        head_top = self.head_top
        if seq is not None and head_top is not None and len(head_top) >= k:
            # Every entry seen at or after head_top's floor, newest first (ties in the list's
            # order): the whole list's sorted prefix.
            entries = head_top.prefix(seq)
            if len(entries) > k + 2 * HEAD_MARGIN:  # raise the floor
                self._index_head(entries, k)
            return sample(rng, entries[:k], depth)
        # A stable sort of the keys by last-seen is what heapq.nlargest documents itself equal to
        # (ties in insertion order), without building a tuple per entry.
        entries = sorted(white, key=white.__getitem__, reverse=True)
        if n > k + 2 * HEAD_MARGIN:
            self._sequence()
            self._index_head(entries, k)
        return sample(rng, entries[:k], depth)

    def _index_head(self, entries: list[str], k: int) -> None:
        """``head_top``: the entries of ``entries`` (sorted, newest first) seen at or after the
        last-seen time of the ``k + HEAD_MARGIN``-th."""
        white = self.white
        floor = white[entries[min(k + HEAD_MARGIN, len(entries)) - 1]]
        self.head_top = KeptOrder(floor, ((a, white[a]) for a in entries if white[a] >= floor))

    def head_draws(self, rng: random.Random, depth: int = 250) -> None:
        """Draw from ``rng`` exactly what :meth:`head` would, without building the list (for an
        answer the requester cannot learn anything from)."""
        n = len(self.white)
        if n > depth:
            sample_draws(rng, min(n, depth + depth // 5), depth)

    # -- gray ----------------------------------------------------------------
    def add_gray(self, address: str) -> None:
        """One address into the gray list (unless white or gray), trimmed to the limit."""
        gray = self.gray
        if address in self.white or address in gray:
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

    def gray_unknown(self, addresses: Iterable[str], own: str, now: float) -> None:
        """Unknown addresses (not white, gray or recently failed) to the gray list.

        The node's own address is not filtered (see :func:`own_address_known`). No trim:
        :meth:`merge` trims at once, a timed sync once after all its links.
        """
        white = self.white
        gray = self.gray
        get, pos = gray.ids.get, gray.pos
        n = len(pos)
        failed = self.failed
        push = gray.push
        # Most answers hold nothing new: the unknown ones first, in one comprehension (a third
        # of the loop's time), then the loop for those (an address listed twice: once).
        fresh = [a for a in addresses if a not in white and ((i := get(a, 0)) >= n or not pos[i])]
        for a in fresh:
            if failed and host_failed(failed, a, now):
                continue
            if a in gray:  # (listed twice in the answer)
                continue
            push(a)

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
