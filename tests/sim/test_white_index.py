"""The head-of-white-list index (``PeerBook.index_white``) changes nothing observable.

A white pick on a long white list reads only the index's ``top`` (the entries seen since
some time) instead of sorting the whole list (:func:`~pytest_monerosim.sim.peer_choice.
pick_white`). These runs compare, list by list, a world whose picks use the index from 4
entries on with one that sorts every list whole; small white lists (so entries are evicted),
sync search and turnover (white picks every few minutes), churn and an eclipse attack.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from pytest_monerosim.backends.sim import build_world
from pytest_monerosim.config.model import Scenario
from pytest_monerosim.registry import default_registry
from pytest_monerosim.result.summary import summarize, without_wall_clock
from pytest_monerosim.sim import peer_choice, peers
from pytest_monerosim.sim.peers import PeerBook
from pytest_monerosim.sim.white import WhiteList


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


def _newest_by_sort(white: WhiteList, limit: int | None = None) -> np.ndarray:
    """The advertised head's pool as it was: the list's ids sorted whole in Python, newest
    first, ties in the list's order."""
    seen = dict(zip(white.id_list(), white.values(), strict=True))
    return np.array(sorted(seen, key=seen.__getitem__, reverse=True)[:limit], dtype=np.int64)


@pytest.mark.parametrize("low_k", [2, 5, peers.LOW_K])
@pytest.mark.parametrize("attack", [None, {"name": "eclipse", "params": {}}], ids=["plain", "eclipse"])
def test_the_head_and_eviction_views_are_invisible(monkeypatch: pytest.MonkeyPatch,
                                                   attack: dict[str, Any] | None, low_k: int) -> None:
    """The advertised head's pool from numpy (the partial sort, once the list holds twice the
    pool) and the eviction's oldest from the ``low`` bucket give what a whole sort and a scan
    give (short advertised lists, so heads are cut from longer white lists; a white list
    smaller than the network, so every new address evicts one and leaves free places; the
    pick index on as well; buckets of 2 and 5 entries, refilled often, and the default,
    larger than these 24-entry lists)."""
    data = scenario(attack).model_dump(mode="json")
    data["p2p"]["handshake_peers"] = 8
    sc = Scenario.model_validate(data)
    monkeypatch.setattr(peer_choice, "INDEX_MIN", 4)
    monkeypatch.setattr(peers, "LOW_K", low_k)
    built = {"partial": 0, "low": 0}
    newest, evict = WhiteList.newest_id_array, PeerBook.evict_oldest

    def counting_newest(self: WhiteList, limit: int | None = None) -> np.ndarray:
        built["partial"] += limit is not None and 2 * limit <= self.live
        return newest(self, limit)

    def counting_evict(self: PeerBook) -> None:
        built["low"] += self.low is None
        evict(self)

    monkeypatch.setattr(WhiteList, "newest_id_array", counting_newest)
    monkeypatch.setattr(PeerBook, "evict_oldest", counting_evict)
    fast, _ = state(sc)
    assert built["partial"] > 0 and built["low"] > 0, built
    monkeypatch.setattr(WhiteList, "newest_id_array", _newest_by_sort)
    monkeypatch.setattr(PeerBook, "evict_oldest", _evict_by_scan)
    slow, _ = state(sc)
    assert fast == slow


@pytest.mark.parametrize("limit", [1, 5, 12, 30, None])
def test_the_newest_ids_are_the_whole_sort_under_random_writes(limit: int | None) -> None:
    """The advertised head's pool (``newest_id_array``) equals the whole sort after every write
    of a list written at random times (tied often), with removals that leave free places:
    cut short (the partial sort), at the list's length and past it."""
    import random

    rng = random.Random(7)
    book = PeerBook(white_limit=30)
    addresses = [f"10.0.{i // 256}.{i % 256}:18080" for i in range(60)]
    partial = 0
    for _ in range(5_000):
        a = rng.choice(addresses)
        if rng.random() < 0.8:
            book.add_white(a, float(rng.randrange(40)))
        else:
            book.remove_white(a)
        white = book.white
        partial += limit is not None and 2 * limit <= white.live
        assert white.newest_id_array(limit).tolist() == _newest_by_sort(white, limit).tolist()
    assert limit is None or limit > 15 or partial > 1000, partial


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
