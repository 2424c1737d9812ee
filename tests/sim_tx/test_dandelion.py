"""Dandelion++ stems: per-epoch fluff decision, stem peers, geometric stem lengths."""

from __future__ import annotations

import random
import statistics
from collections import Counter

import pytest

from pytest_monerosim.sim.tx.dandelion import LOCAL, DandelionRouter


def random_out_peers(n: int, k: int, seed: int = 1) -> dict[str, list[str]]:
    rng = random.Random(seed)
    names = [f"n{i}" for i in range(n)]
    return {u: rng.sample([v for v in names if v != u], k) for u in names}


def stem_length(router: DandelionRouter, origin: str, now: float) -> tuple[int, bool]:
    """Hops until a fluff node takes the tx (and whether the stem looped back)."""
    seen = {origin}
    node, source, hops = origin, LOCAL, 0
    while True:
        nxt = router.next_hop(node, source, now)
        if nxt is None:
            return hops, False
        hops += 1
        if nxt in seen:
            return hops, True
        seen.add(nxt)
        node, source = nxt, node


def test_stem_length_is_geometric_with_p_0_2() -> None:
    peers = random_out_peers(3000, 12)
    router = DandelionRouter(random.Random(5), peers.__getitem__)
    rng = random.Random(9)
    lengths = []
    for i in range(4000):
        now = i * 7.0  # spans ~45 epochs: fresh fluff/stem draws as time goes on
        length, looped = stem_length(router, f"n{rng.randrange(3000)}", now)
        if not looped:
            lengths.append(length)
    assert len(lengths) > 3800
    counts = Counter(lengths)
    # P(L = k) = 0.8**(k-1) * 0.2: mean 5, P(1) = 0.2, P(2) = 0.16
    assert statistics.fmean(lengths) == pytest.approx(5.0, rel=0.08)
    assert counts[1] / len(lengths) == pytest.approx(0.2, abs=0.025)
    assert counts[2] / len(lengths) == pytest.approx(0.16, abs=0.025)
    assert min(lengths) == 1  # the origin never fluffs its own tx


def test_fluff_decision_is_per_epoch_and_about_20_percent() -> None:
    peers = random_out_peers(2000, 8)
    router = DandelionRouter(random.Random(2), peers.__getitem__)
    first = [router.fluffing(n, 10.0) for n in peers]
    assert [router.fluffing(n, 500.0) for n in peers] == first  # same epoch
    assert sum(first) / len(first) == pytest.approx(0.2, abs=0.03)
    later = [router.fluffing(n, 700.0) for n in peers]  # epochs end at 600..630 s
    assert later != first
    assert sum(later) / len(later) == pytest.approx(0.2, abs=0.03)


def test_epochs_last_ten_minutes_plus_up_to_thirty_seconds() -> None:
    router = DandelionRouter(random.Random(2), lambda n: ["a", "b", "c"])
    lengths = []
    for i in range(300):
        st = router.state(f"x{i}", 0.0)
        lengths.append(st.end - st.start)
    assert all(600.0 <= d <= 630.0 for d in lengths)


def test_two_stems_and_a_stable_route_per_source() -> None:
    peers = {"me": ["a", "b", "c", "d", "e"]}
    router = DandelionRouter(random.Random(4), lambda n: peers.get(n, []), fluff_probability=0.0)
    stems = router.state("me", 0.0).stems
    assert len(stems) == 2 and set(stems) <= set(peers["me"])
    route = {src: router.next_hop("me", src, 1.0) for src in ("p", "q", "r", "s", LOCAL)}
    assert set(route.values()) == set(stems)  # sources spread over both stems
    assert all(router.next_hop("me", src, 2.0) == hop for src, hop in route.items())


def test_local_txs_always_stem_even_in_a_fluff_epoch() -> None:
    router = DandelionRouter(random.Random(4), lambda n: ["a", "b"], fluff_probability=1.0)
    assert router.fluffing("me", 0.0)
    assert router.next_hop("me", "a", 0.0) is None  # a peer's stem tx is fluffed
    assert router.next_hop("me", LOCAL, 0.0) in {"a", "b"}  # our own goes out on a stem


def test_no_outgoing_connection_means_fluff() -> None:
    router = DandelionRouter(random.Random(4), lambda n: [], fluff_probability=0.0)
    assert router.next_hop("me", LOCAL, 0.0) is None


def test_a_dead_stem_is_replaced() -> None:
    peers = {"me": ["a", "b", "c"]}
    router = DandelionRouter(random.Random(4), lambda n: peers[n], fluff_probability=0.0)
    stems = list(router.state("me", 0.0).stems)
    gone = stems[0]
    peers["me"] = [p for p in peers["me"] if p != gone]
    hops = {router.next_hop("me", src, 1.0) for src in ("p", "q", "r", "s")}
    assert gone not in hops and hops <= set(peers["me"])
