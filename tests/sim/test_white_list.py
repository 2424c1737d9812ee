"""The white list over address ids (:mod:`pytest_monerosim.sim.white`) behaves as the dict it
replaced: address → last-seen time in insertion order, sharing the gray list's index."""

from __future__ import annotations

import random

import pytest

from pytest_monerosim.sim.gray import MARKS, AddressIds, GrayList
from pytest_monerosim.sim.peers import PeerBook
from pytest_monerosim.sim.white import WhiteList


def addresses(n: int) -> list[str]:
    return [f"10.{i // 65536}.{i // 256 % 256}.{i % 256}:18080" for i in range(n)]


def check(white: WhiteList, gray: GrayList, want: dict[str, float], gray_want: set[str],
          pool: list[str]) -> None:
    assert list(white.items()) == list(want.items())
    assert list(white) == list(want) and len(white) == len(want) and bool(white) == bool(want)
    assert white.values() == list(want.values())
    assert white == want and dict(white) == want
    assert set(gray) == gray_want
    for a in pool[::7]:
        assert (a in white) == (a in want)
        assert (a in gray) == (a in gray_want)
        assert white.get(a) == want.get(a)
    if want:
        newest = sorted(want, key=want.__getitem__, reverse=True)  # (stable: the dict's order)
        assert white.newest_first() == newest
        for limit in (1, 20, len(newest) // 2, len(newest) + 3):  # (partial sorts and past the end)
            assert white.newest_first(limit) == newest[:limit]
            assert [white.table.names[i] for i in white.newest_id_array(limit).tolist()] == newest[:limit]
    # insertion numbers rise along the list
    orders = [white.order[p] for p in range(white.end) if white.ids[p]]
    assert orders == sorted(orders) and len(set(orders)) == len(orders)
    assert white.end - white.live <= max(32, white.end // 4)  # free places are compacted


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_white_list_is_the_dict_it_replaced(seed: int) -> None:
    """Random inserts (new, and of addresses removed before), last-seen writes and removals,
    with gray pushes and takes of other addresses in the same index."""
    rng = random.Random(seed)
    table = AddressIds()
    gray = GrayList(table, 500)
    white = WhiteList(gray)
    pool = addresses(400)
    want: dict[str, float] = {}
    gray_want: set[str] = set()
    compactions = 0
    for step in range(12_000):
        a = rng.choice(pool)
        op = rng.random()
        t = float(rng.randrange(100)) if rng.random() < 0.5 else rng.uniform(0, 100)
        if a in want:
            if op < 0.5:
                white.seen[white.place(a)] = t
                want[a] = t
            else:
                end = white.end
                white.remove(white.place(a))
                compactions += white.end < end - 1
                del want[a]
        elif a in gray_want:
            if op < 0.5:
                assert gray.take(a)
                gray_want.discard(a)
            else:  # gray → white, as a book moves it
                assert gray.take(a)
                gray_want.discard(a)
                white.insert(a, t)
                want[a] = t
        elif op < 0.6:
            white.insert(a, t)
            want[a] = t
        else:
            gray.push(a)
            gray_want.add(a)
        if step % 97 == 0:
            check(white, gray, want, gray_want, pool)
    check(white, gray, want, gray_want, pool)
    assert compactions > 5


def test_an_address_is_in_one_list_at_most() -> None:
    gray = GrayList(AddressIds(), 10)
    white = WhiteList(gray)
    gray.push("1.1.1.1:18080")
    with pytest.raises(AssertionError):
        white.insert("1.1.1.1:18080", 0.0)
    white.insert("2.2.2.2:18080", 0.0)
    assert "2.2.2.2:18080" not in gray and not gray.take("2.2.2.2:18080")
    assert "1.1.1.1:18080" not in white and white.get("1.1.1.1:18080") is None
    with pytest.raises(KeyError):
        white["1.1.1.1:18080"]


def test_widening_the_index_keeps_the_white_places() -> None:
    """A gray burst past the 2-byte mark widens the shared index to 4 bytes: the white list's
    places move with it."""
    gray = GrayList(AddressIds(), 1000)
    white = WhiteList(gray)
    pool = addresses(MARKS["H"] + 200)
    want = {a: float(k) for k, a in enumerate(pool[:150])}
    for a, t in want.items():
        white.insert(a, t)
    for a in pool[:100:3]:
        white.remove(white.place(a))
        del want[a]
    assert gray.pos.typecode == "H"
    for a in pool[150:]:
        gray.push(a)
    assert gray.pos.typecode == "I" and gray.mark == MARKS["I"]
    assert white.items() == list(want.items())
    assert all(a in gray for a in pool[150::1001]) and not any(a in gray for a in want)
    white.insert(pool[0], 7.0)
    want[pool[0]] = 7.0
    assert white.items() == list(want.items())


def test_a_books_lists_share_one_index() -> None:
    """What a book's merge asks of an address (in either list?) is one read of the index, and a
    white address is never merged into the gray list."""
    book = PeerBook(white_limit=3, gray_limit=10)
    book.merge(["1.0.0.1:1", "1.0.0.2:1", "1.0.0.3:1"], "9.9.9.9:1", 0.0)
    book.add_white("1.0.0.2:1", 1.0)  # gray → white
    book.add_white("1.0.0.4:1", 2.0)
    assert list(book.gray) == ["1.0.0.1:1", "1.0.0.3:1"]
    book.merge(["1.0.0.2:1", "1.0.0.4:1", "1.0.0.5:1"], "9.9.9.9:1", 3.0)
    assert set(book.gray) == {"1.0.0.1:1", "1.0.0.3:1", "1.0.0.5:1"}
    assert dict(book.white) == {"1.0.0.2:1": 1.0, "1.0.0.4:1": 2.0}
    book.add_white("1.0.0.6:1", 4.0)
    book.add_white("1.0.0.7:1", 5.0)  # a fourth: the oldest (1.0.0.2) is evicted
    assert list(book.white) == ["1.0.0.4:1", "1.0.0.6:1", "1.0.0.7:1"]
    book.add_gray("1.0.0.2:1")  # forgotten by the white list: may be heard of again
    assert "1.0.0.2:1" in book.gray


def test_a_merge_of_ids_is_the_merge_of_their_addresses() -> None:
    """``merge_ids`` (what a model merge reads: another book's head as address ids) leaves a
    book as ``merge`` of the same addresses does: unknown ones in order, white, gray,
    recently failed hosts and repeats left out, trimmed to the limit."""
    table_a, table_b = PeerBook(gray_limit=6), PeerBook(gray_limit=6)
    pool = addresses(12)
    for book in (table_a, table_b):
        book.add_white(pool[0], 1.0)
        book.add_gray(pool[1])
        book.record_failed(pool[2], 0.5)
    answer = [pool[k] for k in (0, 1, 2, 3, 3, 4, 5, 6, 7, 8, 9, 10, 11)]
    table_a.merge(answer, "9.9.9.9:1", 1.0)
    ids = [table_b.shared.ids.register(a) for a in answer]
    table_b.merge_ids(ids, 1.0)
    assert list(table_a.gray) == list(table_b.gray)
    assert list(table_a.gray.oldest_first()) == list(table_b.gray.oldest_first())
    assert table_a.forgets == table_b.forgets > 0
    assert pool[2] not in table_b.gray and pool[11] in table_b.gray  # (pool[3] was trimmed)


def test_a_head_is_its_ids_named() -> None:
    """``head`` names what ``head_ids`` draws (same draws, short and long lists)."""
    book = PeerBook()
    rng = random.Random(4)
    for k, a in enumerate(addresses(600)):
        book.add_white(a, float(rng.randint(0, 40)))
        if k in (100, 599):
            for depth in (250, 80):
                x, y = random.Random(k), random.Random(k)
                names = book.gray.names
                assert book.head(x, depth) == [names[i] for i in book.head_ids(y, depth)]
                assert x.random() == y.random()


def test_ids_past_two_bytes_widen_the_lists() -> None:
    """Address ids are 2 bytes in a book's arrays until one past 65,535 arrives: the arrays
    widen, and the lists stay the same."""
    table = AddressIds()
    pool = addresses(70_000)
    for a in pool:
        table.register(a)
    gray = GrayList(table, 100)
    white = WhiteList(gray)
    low, high = pool[10], pool[69_999]
    gray.push(low)
    white.insert(pool[11], 1.0)
    assert gray.order.typecode == gray.fifo.typecode == white.ids.typecode == "H"
    gray.push(high)
    white.insert(pool[69_998], 2.0)
    assert gray.order.typecode == gray.fifo.typecode == white.ids.typecode == "I"
    assert list(gray) == [low, high] and list(gray.oldest_first()) == [low, high]
    assert white.items() == [(pool[11], 1.0), (pool[69_998], 2.0)]
    assert gray.pop_oldest() == low and list(gray) == [high]
