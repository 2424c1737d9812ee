"""The integer-id gray list (``sim/gray.py``) against the structure it replaced: an
insertion-ordered dict of address → position into a list, removals moving the last entry
into the freed place, the trim evicting the oldest insertion first. Same picks, same
evictions, in the same order, through random pushes, promotions, evictions and re-insertions."""

from __future__ import annotations

import random

import pytest

from pytest_monerosim.sim.gray import AddressIds, GrayList
from pytest_monerosim.sim.peers import PeerBook


class Reference:
    """The dict-and-list gray list (the model's until session 9)."""

    def __init__(self) -> None:
        self.pos: dict[str, int] = {}
        self.lst: list[str] = []

    def push(self, a: str) -> None:
        self.pos[a] = len(self.lst)
        self.lst.append(a)

    def take(self, a: str) -> bool:
        p = self.pos.pop(a, None)
        if p is None:
            return False
        last = self.lst.pop()
        if p < len(self.lst):
            self.lst[p] = last
            self.pos[last] = p
        return True

    def pop_oldest(self) -> str:
        a = next(iter(self.pos))
        self.take(a)
        return a


def drive(seed: int, universe: int, steps: int, limit: int) -> tuple[GrayList, Reference]:
    rng = random.Random(seed)
    table = AddressIds()
    gray, ref = GrayList(table, limit), Reference()
    addresses = [f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{i // 256}.{i % 256}:18080"
                 for i in range(universe)]
    for step in range(steps):
        r = rng.random()
        a = addresses[rng.randrange(universe)]
        if r < 0.02:  # a burst of new addresses, then one trim (a merge's)
            for b in rng.sample(addresses, 8):
                if b not in ref.pos:
                    gray.push(b)
                    ref.push(b)
        elif r < 0.6:
            assert (a in gray) == (a in ref.pos)
            if a not in ref.pos:
                gray.push(a)
                ref.push(a)
        elif r < 0.8 and ref.lst:
            k = rng.randrange(len(ref.lst))
            assert gray[k] == ref.lst[k]
            assert gray.take(ref.lst[k]) and ref.take(ref.lst[k])
        elif r < 0.85:
            assert gray.take(a) == ref.take(a)
        over = len(ref.lst) - limit
        if over > 0 and step % 2:
            gray.evict(over)
            for _ in range(over):
                ref.pop_oldest()
        while len(ref.lst) > limit:
            assert gray.pop_oldest() == ref.pop_oldest()
        if step % 97 == 0:
            assert list(gray) == ref.lst
            assert list(gray.oldest_first()) == list(ref.pos)
    return gray, ref


@pytest.mark.parametrize("seed, universe, limit", [(1, 300, 100), (2, 3000, 250), (3, 60, 40),
                                                   (4, 2000, 5000)])
def test_same_picks_and_evictions_as_the_dict_and_list(seed: int, universe: int, limit: int) -> None:
    gray, ref = drive(seed, universe, 20_000, limit)
    assert list(gray) == ref.lst
    assert list(gray.oldest_first()) == list(ref.pos)
    assert len(gray) == len(ref.lst)
    # the insertion order's array stays bounded by the live entries (stale ones are dropped)
    assert gray.end - gray.head <= 2 * len(gray) + 64
    assert sum(gray.stale.values()) == gray.end - gray.head - len(gray)


def test_an_address_the_world_never_listed_is_absent() -> None:
    gray = GrayList(AddressIds(), 10)
    assert "9.9.9.9:18080" not in gray
    assert not gray.take("9.9.9.9:18080")
    gray.push("1.2.3.4:18080")
    assert "1.2.3.4:18080" in gray and "9.9.9.9:18080" not in gray


def test_positions_widen_past_two_bytes() -> None:
    """A list may run past 65,535 entries before its trim (a merge burst): the positions widen
    to four bytes, and the list stays the same."""
    gray = GrayList(AddressIds(), 1000)
    assert gray.pos.typecode == "H"
    addresses = [f"10.{i // 65536}.{i // 256 % 256}.{i % 256}:18080" for i in range(70_000)]
    for a in addresses:
        gray.push(a)
    assert gray.pos.typecode == "I"
    assert len(gray) == 70_000 and gray[69_999] == addresses[-1]
    assert all(a in gray for a in addresses[::997])
    assert gray.pop_oldest() == addresses[0] and addresses[0] not in gray


def test_a_book_trims_and_counts_what_it_forgets() -> None:
    book = PeerBook(gray_limit=5)
    book.merge([f"2.2.0.{i}:18080" for i in range(8)], "1.1.1.1:18080", 0.0)
    assert list(book.gray.oldest_first()) == [f"2.2.0.{i}:18080" for i in range(3, 8)]
    assert book.forgets == 3
    book.add_white("2.2.0.5:18080", 1.0)  # a gray address seen alive moves to the white list
    assert "2.2.0.5:18080" not in book.gray and book.forgets == 3


def test_evicting_the_last_entry_drops_the_stale_ones_behind_it() -> None:
    gray = GrayList(AddressIds(), 10)
    for a in ("1.1.1.1:1", "2.2.2.2:2", "3.3.3.3:3"):
        gray.push(a)
    assert gray.take("2.2.2.2:2") and gray.take("3.3.3.3:3")
    gray.evict(1)
    assert len(gray) == 0 and not gray.stale and gray.head == gray.end
    gray.push("2.2.2.2:2")
    assert list(gray.oldest_first()) == ["2.2.2.2:2"] and gray.pop_oldest() == "2.2.2.2:2"
