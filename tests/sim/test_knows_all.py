"""``PeerBook.knows_all`` (cached, with a witness of the last unknown address) answers what a
scan of every journaled address answers, through random writes to the lists."""

from __future__ import annotations

import random

import pytest

from pytest_monerosim.sim.peers import Gossip, PeerBook


def scan(book: PeerBook, own: str) -> bool:
    return all(a in book.white or a in book.gray or a == own for a in book.shared.last_journaled)


@pytest.mark.parametrize("seed", range(6))
def test_knows_all_is_the_scan_through_random_writes(seed: int) -> None:
    rng = random.Random(seed)
    gossip = Gossip(depth=4)
    addresses = [f"{i}.{i}.0.1:18080" for i in range(1, 25)]
    own = addresses[0]
    book = PeerBook(white_limit=8, gray_limit=10, shared=gossip)
    other = PeerBook(shared=gossip)  # another node's journal: grows the universe
    answers = set()
    for step in range(3000):
        a = rng.choice(addresses)
        op = rng.randrange(6)
        if op == 0:
            other.journal_append(a)
        elif op == 1:
            book.add_white(a, float(step))
        elif op == 2:
            book.add_gray(a)
        elif op == 3:
            book.remove_white(a)
        elif op == 4:
            book.remove_gray(a)
        else:
            book.merge(rng.sample(addresses, 3), own, float(step))
        got = book.knows_all(own)
        assert got == scan(book, own), step
        answers.add(got)
    assert answers == {True, False}, "one answer only: the case tests nothing"
