"""The peer list's sample draws exactly what ``random.Random.sample`` draws (same result, same
stream afterwards): the simulator's results depend on it."""

from __future__ import annotations

import random

import pytest

from pytest_monerosim.sim import peers
from pytest_monerosim.sim.peers import PeerBook, sample, sample_draws
from pytest_monerosim.sim.stream_twin import LazyTwin


@pytest.fixture(autouse=True)
def pure_loops(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests are about the pure loops: the process's compiled twin (which a long run
    earlier in the same process may have loaded) is pinned off; tests/sim/test_stream_twin.py
    checks the twin."""
    off = LazyTwin()
    off.set(None)
    monkeypatch.setattr(peers, "STREAMS", off)


@pytest.mark.parametrize("k", [1, 5, 6, 30, 250])
def test_sample_is_random_sample(k: int) -> None:
    for seed in range(50):
        for n in (k, k + k // 5, 3 * k):
            population = [f"a{i}" for i in range(n)]
            ours, theirs = random.Random(seed), random.Random(seed)
            assert sample(ours, population, k) == theirs.sample(population, k)
            assert ours.random() == theirs.random()
            drawn, theirs = random.Random(seed), random.Random(seed)
            sample_draws(drawn, n, k)
            theirs.sample(population, k)
            assert drawn.random() == theirs.random()


def test_sample_outside_its_range_is_random_sample() -> None:
    population = [f"a{i}" for i in range(100)]
    ours, theirs = random.Random(3), random.Random(3)
    assert sample(ours, population, 10) == theirs.sample(population, 10)  # n > 3k: set branch
    assert ours.random() == theirs.random()


def test_head_draws_what_head_draws() -> None:
    book = PeerBook()
    rng = random.Random(9)
    for i in range(400):
        book.add_white(f"1.{i % 7}.0.{i}:18080", float(rng.randint(0, 50)))  # ties on purpose
    for depth in (250, 500):
        a, b = random.Random(1), random.Random(1)
        head = book.head(a, depth)
        book.head_draws(b, depth)
        assert a.random() == b.random()
        top = sorted(book.white.items(), key=lambda kv: kv[1], reverse=True)[:depth + depth // 5]
        expect = [x for x, _ in random.Random(1).sample(top, depth)] if len(book.white) > depth \
            else list(book.white)
        assert head == expect
