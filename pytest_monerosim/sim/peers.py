"""A node's peer lists (monerod's ``peerlist_manager``) and IPv4 addresses.

* **white** list: peers this node has talked to (an outgoing handshake, a
  successful ping-back of an incoming peer, a gray-list probe), address →
  last-seen time, capped at 1000 by evicting the least recently seen.
* **gray** list: addresses heard of in other peers' lists, capped at 5000.
  Entries from the network carry no trusted last-seen time (monerod zeroes
  it), so the cap evicts the oldest insertion first.
* **anchors**: outgoing peers, address → first-seen time. Closing a connection
  in normal operation forgets the anchor; shutting down keeps them, and a
  restarted node reconnects to them first.
* **failed**: address → time of the last failed connection attempt; such
  addresses are skipped for an hour (``P2P_FAILED_ADDR_FORGET_SECONDS``).

The white list also keeps an append-only *journal* of additions. Timed syncs
send the same head of the white list again and again; merging what a peer has
already merged is a no-op, so a receiver only merges the journal entries it has
not seen from that peer (see ``Link.seen_journal``). This turns an O(250)
merge per connection per minute into O(new entries), which is what makes
10,000-node runs affordable; the gray list ends up with the same addresses.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from heapq import nlargest
from itertools import islice
from operator import itemgetter

FAILED_ADDR_FORGET_S = 3600.0
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


class PeerBook:
    """White, gray and anchor lists of one node."""

    __slots__ = ("white", "journal", "gray_pos", "gray_list", "anchors", "failed",
                 "white_limit", "gray_limit")

    def __init__(self, white_limit: int = 1000, gray_limit: int = 5000) -> None:
        self.white: dict[str, float] = {}
        self.journal: list[str] = []
        # Gray list: insertion-ordered dict (for FIFO eviction) of address -> index
        # into gray_list (for O(1) uniform random picks).
        self.gray_pos: dict[str, int] = {}
        self.gray_list: list[str] = []
        self.anchors: dict[str, float] = {}
        self.failed: dict[str, float] = {}
        self.white_limit = white_limit
        self.gray_limit = gray_limit

    # -- white ---------------------------------------------------------------
    def add_white(self, address: str, now: float) -> None:
        """The peer was just seen alive: into (or refreshed in) the white list."""
        white = self.white
        if address not in white:
            self.journal.append(address)
            if address in self.gray_pos:
                self.remove_gray(address)
        white[address] = now
        if len(white) > self.white_limit:
            oldest = min(white.items(), key=itemgetter(1))[0]
            del white[oldest]

    def remove_white(self, address: str) -> None:
        self.white.pop(address, None)

    def head(self, rng: random.Random, depth: int = 250) -> list[str]:
        """What this node advertises: up to ``depth`` recently seen white peers.

        monerod picks ``depth`` at random among the ``depth * 1.2`` most recent
        (so two requests cannot tell exactly when an address was last seen).
        """
        white = self.white
        if len(white) <= depth:
            return list(white)
        top = nlargest(depth + depth // 5, white.items(), key=itemgetter(1))
        return [a for a, _ in rng.sample(top, depth)]

    # -- gray ----------------------------------------------------------------
    def add_gray(self, address: str) -> None:
        if address in self.white or address in self.gray_pos:
            return
        self.gray_pos[address] = len(self.gray_list)
        self.gray_list.append(address)
        if len(self.gray_list) > self.gray_limit:
            self.remove_gray(next(iter(self.gray_pos)))

    def remove_gray(self, address: str) -> None:
        pos = self.gray_pos.pop(address, None)
        if pos is None:
            return
        lst = self.gray_list
        last = lst.pop()
        if pos < len(lst):
            lst[pos] = last
            self.gray_pos[last] = pos

    def merge(self, addresses: Iterable[str], own: str, now: float) -> None:
        """monerod's ``merge_peerlist``: unknown addresses go to the gray list."""
        white = self.white
        pos = self.gray_pos
        lst = self.gray_list
        failed = self.failed
        for a in addresses:
            if a in white or a in pos or a == own:
                continue
            if failed and a in failed and now - failed[a] < FAILED_ADDR_FORGET_S:
                continue
            pos[a] = len(lst)
            lst.append(a)
        if len(lst) > self.gray_limit:
            self.trim_gray()

    def trim_gray(self) -> None:
        """Evict the oldest insertions down to the limit (``trim_gray_peerlist``)."""
        over = len(self.gray_list) - self.gray_limit
        if over > 0:
            for a in list(islice(self.gray_pos, over)):
                self.remove_gray(a)

    # -- failures --------------------------------------------------------------
    def recently_failed(self, address: str, now: float) -> bool:
        t = self.failed.get(address)
        return t is not None and now - t < FAILED_ADDR_FORGET_S

    def __repr__(self) -> str:
        return (f"PeerBook(white={len(self.white)}, gray={len(self.gray_list)}, "
                f"anchors={len(self.anchors)})")
