"""A gray list's dict is given back its compact table after deletions grew it (memory only)."""

from __future__ import annotations

import random
import sys

from pytest_monerosim.sim.peers import PeerBook, compact_bytes


def churned_book(seed: int = 3) -> PeerBook:
    """A full gray list (the default 5,000) that lost and took addresses for a while: promotions to
    the white list and evictions of the oldest, as a node's list does."""
    rng = random.Random(seed)
    book = PeerBook()
    fresh = (f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{i // 256 % 256}.{i % 256}:18080"
             for i in range(10**6))
    book.merge([next(fresh) for _ in range(book.gray_limit)], "1.1.1.1:18080", 0.0)
    for step in range(3000):
        book.merge([next(fresh) for _ in range(3)], "1.1.1.1:18080", float(step))
        book.take_gray(book.gray_list[rng.randrange(len(book.gray_list))])  # promoted to white
    return book


def test_compacting_keeps_the_order_and_positions_and_halves_the_table() -> None:
    book = churned_book()
    before_items = list(book.gray_pos.items())
    before_list = list(book.gray_list)
    grown = sys.getsizeof(book.gray_pos)
    assert grown > compact_bytes(book.gray_limit), "the churn did not grow the table: the case tests nothing"
    book.compact_gray()
    assert list(book.gray_pos.items()) == before_items  # insertion order: the eviction order
    assert book.gray_list == before_list
    assert all(book.gray_list[i] == a for a, i in book.gray_pos.items())
    assert sys.getsizeof(book.gray_pos) <= compact_bytes(book.gray_limit) < grown


def test_a_compact_table_is_left_alone() -> None:
    book = PeerBook()
    book.merge([f"2.2.0.{i}:18080" for i in range(200)], "1.1.1.1:18080", 0.0)
    pos = book.gray_pos
    book.compact_gray()
    assert book.gray_pos is pos and len(pos) == 200
