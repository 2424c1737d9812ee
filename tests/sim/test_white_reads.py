"""The white list's sorted reads (a pick's first read, the advertised head's pool) and the
eviction's bucket change nothing observable.

A white pick sorts only the newest entries of the list first, and the whole list only when
those do not give its candidates (:func:`~pytest_monerosim.sim.peer_choice.pick_white`); the
advertised head's pool is a partial sort in numpy; the eviction reads a bucket of the oldest
entries. These runs compare, list by list, worlds that do so with worlds that sort every list
whole and scan for the oldest: small white lists (so entries are evicted), sync search and
turnover (white picks every few minutes), churn and an eclipse attack.
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
from tests.sim.conftest import scenario as sim_scenario


def scenario(attack: dict[str, Any] | None) -> Scenario:
    return sim_scenario(
        [{"group": "seeds", "count": 2, "role": "relay", "seed_node": True},
         {"group": "miners", "count": 3, "role": "miner", "hashrate": 1.0},
         {"group": "relays", "count": 35, "role": "relay",
          "churn": {"mean_session_s": "40m", "mean_downtime_s": "5m"}}],
        general={"name": "white-index", "seed": 11, "duration": "4h"},
        network={"topology": {"name": "monero", "seeds": 2},
                 "latency": {"name": "uniform", "low": 0.02, "high": 0.1}},
        p2p={"out_peers": 5, "white_list_limit": 24, "turnover_mean_s": "15m"},
        **({"attacks": [attack]} if attack else {}),
    )


def state(sc: Scenario) -> tuple[Any, ...]:
    world = build_world(sc, default_registry())
    result = world.run()
    for node in world.nodes.values():  # last-seen times are refreshed lazily: bring them up
        world.p2p.refresh_seen(node)
    books = {n.name: (list(n.book.white.items()), list(n.book.gray), n.rng.getstate())
             for n in world.nodes.values()}
    return (without_wall_clock(summarize(result)), [s.edges for s in result.peer_snapshots],
            books)


@pytest.mark.parametrize(("depth", "first"), [(3, 4), (3, 9), (20, 22)])
@pytest.mark.parametrize("attack", [None, {"name": "eclipse", "params": {}}], ids=["plain", "eclipse"])
def test_a_white_pick_s_first_read_is_invisible(monkeypatch: pytest.MonkeyPatch,
                                               attack: dict[str, Any] | None, depth: int, first: int) -> None:
    """A white pick that sorts only the newest ``FIRST_READ`` entries (the partial sort, and the
    whole sort when those do not give its candidates) picks what one that sorts the whole list
    picks (these 24-entry lists hold few candidates beyond monerod's 20, so the first case
    picks among 3 for more reads of either kind)."""
    sc = scenario(attack)
    monkeypatch.setattr(peer_choice, "WHITE_PICK_DEPTH", depth)
    monkeypatch.setattr(peer_choice, "FIRST_READ", first)
    candidates = peer_choice._white_candidates
    reads = {"prefix": 0, "fallback": 0}

    def counting(p2p: Any, entries: list[str], subnets: dict[str, int], partial: bool) -> list[str] | None:
        filtered = candidates(p2p, entries, subnets, partial)
        if partial:
            reads["prefix" if filtered is not None else "fallback"] += 1
        return filtered

    monkeypatch.setattr(peer_choice, "_white_candidates", counting)
    fast = state(sc)
    assert reads["prefix"] > 0 and reads["fallback"] > 0, reads
    monkeypatch.setattr(peer_choice, "FIRST_READ", 10**9)
    slow = state(sc)
    assert fast == slow


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
    pool; kept while the list is unchanged, and then still the whole sort) and the eviction's
    oldest from the ``low`` bucket give what a whole sort and a scan give (short advertised
    lists, so heads are cut from longer white lists; a white list smaller than the network, so
    every new address evicts one and leaves free places; the first read of a white pick cut
    short as well; buckets of 2 and 5 entries, refilled often, and the default, larger than
    these 24-entry lists)."""
    data = scenario(attack).model_dump(mode="json")
    data["p2p"]["handshake_peers"] = 8
    sc = Scenario.model_validate(data)
    monkeypatch.setattr(peer_choice, "FIRST_READ", 4)
    monkeypatch.setattr(peers, "LOW_K", low_k)
    built = {"partial": 0, "low": 0}
    newest, evict = WhiteList.newest_id_array, PeerBook.evict_oldest

    def counting_newest(self: WhiteList, limit: int | None = None) -> np.ndarray:
        built["partial"] += limit is not None and 2 * limit <= self.live
        return newest(self, limit)

    def counting_evict(self: PeerBook) -> None:
        built["low"] += self.low is None
        evict(self)

    head = PeerBook.head_ids
    kept = [0]

    def checked_head(self: PeerBook, rng: Any, depth: int = 250) -> list[int]:
        """The pool a head draws from, sorted again or kept since the last, is the whole sort."""
        before = self.head_at
        got = head(self, rng, depth)
        if self.white.live > depth:
            kept[0] += self.head_at == before
            assert self.head_pool is not None
            want = _newest_by_sort(self.white, depth + depth // 5)
            assert self.head_pool.tolist() == want.tolist()
        return got

    monkeypatch.setattr(WhiteList, "newest_id_array", counting_newest)
    monkeypatch.setattr(PeerBook, "evict_oldest", counting_evict)
    monkeypatch.setattr(PeerBook, "head_ids", checked_head)
    fast = state(sc)
    assert built["partial"] > 0 and built["low"] > 0 and kept[0] > 0, (built, kept)
    monkeypatch.setattr(PeerBook, "head_ids", head)
    monkeypatch.setattr(WhiteList, "newest_id_array", _newest_by_sort)
    monkeypatch.setattr(PeerBook, "evict_oldest", _evict_by_scan)
    slow = state(sc)
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
