"""The head-of-white-list index (``PeerBook.index_white``) changes nothing observable.

A white pick on a long white list reads only the index's ``top`` (the entries seen since
some time) instead of sorting the whole list (:func:`~pytest_monerosim.sim.peer_choice.
pick_white`). These runs compare, list by list, a world whose picks use the index from 4
entries on with one that sorts every list whole; small white lists (so entries are evicted),
sync search and turnover (white picks every few minutes), churn and an eclipse attack.
"""

from __future__ import annotations

from typing import Any

import pytest

from pytest_monerosim.backends.sim import build_world
from pytest_monerosim.config.model import Scenario
from pytest_monerosim.registry import default_registry
from pytest_monerosim.result.summary import summarize, without_wall_clock
from pytest_monerosim.sim import peer_choice, peers
from pytest_monerosim.sim.peers import PeerBook


def scenario(attack: dict[str, Any] | None) -> Scenario:
    data: dict[str, Any] = {
        "general": {"name": "white-index", "seed": 11, "duration": "4h"},
        "network": {"topology": {"name": "monero", "seeds": 2},
                    "latency": {"name": "uniform", "low": 0.02, "high": 0.1}},
        "p2p": {"out_peers": 5, "white_list_limit": 24, "turnover_mean_s": "15m"},
        "nodes": [
            {"group": "seeds", "count": 2, "role": "relay", "seed_node": True},
            {"group": "miners", "count": 3, "role": "miner", "hashrate": 1.0},
            {"group": "relays", "count": 35, "role": "relay", "churn": {"mean_session_s": "40m", "mean_downtime_s": "5m"}},
        ],
    }
    if attack:
        data["attacks"] = [attack]
    return Scenario.model_validate(data)


def state(sc: Scenario) -> tuple[Any, int]:
    world = build_world(sc, default_registry())
    result = world.run()
    for node in world.nodes.values():  # last-seen times are refreshed lazily: bring them up
        world.p2p.refresh_seen(node)
    books = {n.name: (list(n.book.white.items()), list(n.book.gray), n.rng.getstate())
             for n in world.nodes.values()}
    indexed = sum(1 for n in world.nodes.values() if n.book.top)  # a pick index was built
    return (without_wall_clock(summarize(result)), [s.edges for s in result.peer_snapshots],
            books), indexed


@pytest.mark.parametrize("attack", [None, {"name": "eclipse", "params": {}}], ids=["plain", "eclipse"])
def test_the_white_index_is_invisible(monkeypatch: pytest.MonkeyPatch,
                                      attack: dict[str, Any] | None) -> None:
    sc = scenario(attack)
    monkeypatch.setattr(peer_choice, "INDEX_MIN", 4)
    monkeypatch.setattr(peer_choice, "INDEX_MARGIN", 2)
    from_top = peer_choice._white_from_top
    reads = [0]

    def checked(p2p: Any, book: PeerBook, subnets: dict[str, int]) -> list[str] | None:
        # the index's own copy of each member's last-seen time is the list's
        assert all(book.white[a] == seen for a, seen in book.top.members.items())
        reads[0] += 1
        return from_top(p2p, book, subnets)

    monkeypatch.setattr(peer_choice, "_white_from_top", checked)
    fast, indexed = state(sc)
    monkeypatch.setattr(peer_choice, "INDEX_MIN", 10**9)
    slow, none = state(sc)
    assert indexed > 0 and reads[0] > 0, "no white list was ever indexed: the case tests nothing"
    assert none == 0
    assert fast[0] == slow[0]
    assert fast[1] == slow[1]
    assert fast[2] == slow[2]


def _evict_by_scan(book: PeerBook) -> None:
    """The eviction as it was: a scan for the first least recently seen entry."""
    white = book.white
    book.remove_white(min(white.items(), key=lambda item: item[1])[0])


@pytest.mark.parametrize("low_k", [2, 5, peers.LOW_K])
@pytest.mark.parametrize("attack", [None, {"name": "eclipse", "params": {}}], ids=["plain", "eclipse"])
def test_the_head_and_eviction_views_are_invisible(monkeypatch: pytest.MonkeyPatch,
                                                   attack: dict[str, Any] | None, low_k: int) -> None:
    """The advertised head read from ``head_top`` and the eviction's oldest from the ``low``
    bucket give what a whole sort and a scan give (short advertised lists, so heads are cut
    from longer white lists; a white list smaller than the network, so every new address
    evicts one; the pick index on as well; buckets of 2 and 5 entries, refilled often, and
    the default, larger than these 24-entry lists)."""
    data = scenario(attack).model_dump(mode="json")
    data["p2p"]["handshake_peers"] = 8
    sc = Scenario.model_validate(data)
    monkeypatch.setattr(peer_choice, "INDEX_MIN", 4)
    monkeypatch.setattr(peers, "HEAD_MARGIN", 2)
    monkeypatch.setattr(peers, "LOW_K", low_k)
    built = {"head": 0, "low": 0}
    index_head, evict = PeerBook._index_head, PeerBook.evict_oldest

    def counting_index(self: PeerBook, entries: list[int], k: int) -> None:
        built["head"] += 1
        index_head(self, entries, k)

    def counting_evict(self: PeerBook) -> None:
        built["low"] += self.low is None
        evict(self)

    monkeypatch.setattr(PeerBook, "_index_head", counting_index)
    monkeypatch.setattr(PeerBook, "evict_oldest", counting_evict)
    fast, _ = state(sc)
    assert built["head"] > 0 and built["low"] > 0, built
    monkeypatch.setattr(peers, "HEAD_MARGIN", 10**9)
    monkeypatch.setattr(PeerBook, "evict_oldest", _evict_by_scan)
    slow, _ = state(sc)
    assert fast == slow


@pytest.mark.parametrize("attack", [None, {"name": "eclipse", "params": {}}], ids=["plain", "eclipse"])
def test_every_read_of_a_kept_order_is_the_whole_sort(monkeypatch: pytest.MonkeyPatch,
                                                      attack: dict[str, Any] | None) -> None:
    """``KeptOrder.prefix`` (the advertised head's view) keeps its last order and moves only
    what was written since: every read of a whole run (short lists, so heads are read often)
    equals sorting the members whole, and the run equals one that always sorts."""
    data = scenario(attack).model_dump(mode="json")
    data["p2p"]["handshake_peers"] = 8
    sc = Scenario.model_validate(data)
    monkeypatch.setattr(peer_choice, "INDEX_MIN", 4)
    monkeypatch.setattr(peers, "HEAD_MARGIN", 2)
    kept = peers.KeptOrder.prefix
    reads = {"all": 0, "kept": 0}

    def listed(self: peers.KeptOrder) -> dict[int, float]:
        """The white list being read, address id → last seen, in the list's order."""
        white = reading[-1].white
        return dict(zip(white.id_list(), white.values(), strict=True))

    def whole_sort(self: peers.KeptOrder) -> list[int]:
        """The members sorted whole: by last-seen, newest first, ties in the list's order
        (read from the list itself, not from the view)."""
        seen = listed(self)
        return sorted([i for i in seen if i in self.members], key=seen.__getitem__, reverse=True)
    reading: list[PeerBook] = []  # the book whose head is being built
    head = PeerBook.head_ids

    def tracked_head(self: PeerBook, rng: Any, depth: int = 250) -> list[int]:
        reading.append(self)
        try:
            return head(self, rng, depth)
        finally:
            reading.pop()

    def checked(self: peers.KeptOrder) -> list[int]:
        reads["kept"] += self.keys is not None
        reads["all"] += 1
        listed_seen = listed(self)
        assert all(listed_seen[i] == seen for i, seen in self.members.items())  # the view's times: the list's
        got = list(kept(self))
        assert got == whole_sort(self)
        return got

    monkeypatch.setattr(PeerBook, "head_ids", tracked_head)
    monkeypatch.setattr(peers.KeptOrder, "prefix", checked)
    fast, _ = state(sc)
    assert reads["kept"] > reads["all"] // 2, reads

    monkeypatch.setattr(peers.KeptOrder, "prefix", whole_sort)
    slow, _ = state(sc)
    assert fast == slow


@pytest.mark.parametrize("low_k", [1, 3, 64])
def test_the_eviction_bucket_is_the_scan_under_random_writes(monkeypatch: pytest.MonkeyPatch,
                                                            low_k: int) -> None:
    """A full white list written at random times (raised, lowered, tied, below the bucket's
    ceiling and above it), with removals, evicts what a scan for the first oldest entry does."""
    import random
    from operator import itemgetter

    monkeypatch.setattr(peers, "LOW_K", low_k)
    rng = random.Random(5)
    book = PeerBook(white_limit=40)
    want: dict[str, float] = {}  # the list as a plain dict, evicted by a scan
    addresses = [f"10.0.{i // 256}.{i % 256}:18080" for i in range(120)]
    refills = 0
    for _ in range(20_000):
        op = rng.random()
        a = rng.choice(addresses)
        t = float(rng.randrange(60)) if rng.random() < 0.5 else rng.uniform(0.0, 60.0)
        if op < 0.55:
            refills += book.low is None and len(book.white) >= book.white_limit and a not in book.white
            book.add_white(a, t)  # (in, then the oldest out: it may be the new entry)
            want[a] = t
            if len(want) > book.white_limit:
                del want[min(want.items(), key=itemgetter(1))[0]]
        elif op < 0.85 and a in want:
            book.set_seen(a, t)
            want[a] = t
        elif a in want:
            book.remove_white(a)
            del want[a]
        assert list(book.white.items()) == list(want.items())
    assert refills > 10
