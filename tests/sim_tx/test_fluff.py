"""The fluff engine: Poisson flush timers per connection, batching, embargoes, refusals."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest

from pytest_monerosim.sim.tx.fluff import FluffEngine


def engine_with(n: int, edges: list[tuple[int, int]], latency: float = 0.05, seed: int = 1,
                **kw: float) -> FluffEngine:
    """Bidirectional links; ``(a, b)``: a opened the connection (a→b flushes on the out timer)."""
    src, dst, out = [], [], []
    for a, b in edges:
        src += [a, b]
        dst += [b, a]
        out += [True, False]
    eng = FluffEngine(n, seed=seed, **kw)  # type: ignore[arg-type]
    eng.set_connections(np.array(src), np.array(dst), np.full(len(src), latency), np.array(out))
    return eng


def test_a_tx_crosses_a_line_one_flush_per_hop() -> None:
    eng = engine_with(3, [(0, 1), (1, 2)], latency=0.05)
    eng.inject(0, 0, 10.0)
    eng.advance(120.0)
    t0, t1, t2 = (eng.seen.get(0, i) for i in range(3))
    assert t0 == 10.0
    wait = t1 - 0.05 - t0
    assert wait >= 0 and math.isclose(wait * 4, round(wait * 4), abs_tol=1e-4)  # quarter seconds
    assert t2 > t1 + 0.05
    assert eng.active() == 0  # every node has it: the slot is free again


def test_txs_queued_before_a_flush_go_together() -> None:
    eng = engine_with(2, [(0, 1)], seed=4)
    eng.inject(0, 0, 0.0)
    eng.inject(0, 1, 0.1)
    eng.advance(60.0)
    assert eng.seen.get(0, 1) == eng.seen.get(1, 1) > 0.1
    assert eng.messages == 1  # one message carried both


def test_nothing_is_queued_back_to_the_source() -> None:
    eng = engine_with(2, [(0, 1)])
    eng.inject(0, 0, 0.0)
    eng.advance(60.0)
    back = int(np.flatnonzero((eng.c_src == 1) & (eng.c_dst == 0))[0])
    assert math.isinf(eng.next_flush[back])
    assert eng.messages == 1


def test_outgoing_flushes_average_2_5_s_incoming_5_s() -> None:
    leaves = 40
    edges = [(0, i) for i in range(1, 21)] + [(i, 0) for i in range(21, leaves + 1)]
    eng = engine_with(leaves + 1, edges, latency=0.01, seed=7)
    for k in range(150):  # far apart: every timer starts afresh
        eng.inject(0, k, 100.0 * k)
        eng.advance(100.0 * k + 60.0)
    out_waits, in_waits = [], []
    for k in range(150):
        for leaf in range(1, leaves + 1):
            wait = eng.seen.get(k, leaf) - 0.01 - 100.0 * k
            (out_waits if leaf <= 20 else in_waits).append(wait)
    assert statistics.fmean(out_waits) == pytest.approx(2.5, rel=0.05)
    assert statistics.fmean(in_waits) == pytest.approx(5.0, rel=0.05)
    # Poisson in quarter seconds: variance = mean * 0.25
    assert statistics.pvariance(in_waits) == pytest.approx(5.0 * 0.25, rel=0.15)


def test_embargo_fires_when_no_fluff_comes_back() -> None:
    eng = engine_with(3, [(0, 1), (1, 2)])
    eng.seen.mark(0, 2, 1.0)  # node 2 holds tx 0 as a stem; the stem died beyond it
    eng.add_embargo(2, 0, 40.0)
    eng.advance(39.0)
    assert math.isinf(eng.seen.get(0, 0))
    eng.advance(120.0)
    assert eng.embargo_fired == 1
    assert 40.0 < eng.seen.get(0, 1) < eng.seen.get(0, 0)


def test_embargo_stays_quiet_once_the_fluff_arrived() -> None:
    eng = engine_with(2, [(0, 1)])
    eng.inject(0, 0, 0.0)
    eng.add_embargo(1, 0, 39.0)
    eng.advance(120.0)
    assert eng.embargo_fired == 0


def test_a_refusing_node_stops_the_tx() -> None:
    eng = engine_with(3, [(0, 1), (1, 2)])
    eng.track(1)
    eng.admit = lambda node, tx, t, sender: node != 1
    eng.inject(0, 0, 0.0)
    eng.advance(120.0)
    assert math.isinf(eng.seen.get(0, 1)) and math.isinf(eng.seen.get(0, 2))
    assert not eng.knows(1, 0) or not eng.knows(2, 0)
    assert not eng.knows(2, 0)


def test_a_non_relaying_node_learns_but_does_not_relay() -> None:
    eng = engine_with(3, [(0, 1), (1, 2)])
    eng.set_relaying(1, False)
    eng.inject(0, 0, 0.0)
    eng.advance(120.0)
    assert math.isfinite(eng.seen.get(0, 1)) and math.isinf(eng.seen.get(0, 2))


def test_links_can_change_mid_flight_and_nodes_can_join() -> None:
    eng = engine_with(3, [(0, 1)])
    eng.inject(0, 0, 0.0)
    eng.advance(0.1)
    eng.grow(4)
    src, dst = np.array([0, 1, 1, 2, 2, 3]), np.array([1, 0, 2, 1, 3, 2])
    eng.set_connections(src, dst, np.full(6, 0.05), np.array([True, False] * 3))
    eng.advance(120.0)
    assert all(math.isfinite(eng.seen.get(0, i)) for i in range(4))


def test_many_txs_at_once_share_flushes() -> None:
    rng = np.random.default_rng(3)
    n = 200
    edges = sorted({(int(u), int(v)) for u in range(n) for v in rng.choice(n, 8) if u != v})
    eng = engine_with(n, edges, seed=2)
    for k in range(300):
        eng.inject(int(rng.integers(n)), k, k * 0.2)
    eng.advance(400.0)
    reached = [int(np.isfinite(eng.seen.row(k)).sum()) for k in range(300)]
    assert min(reached) == n
    # batching: a tx crosses every directed link once, yet the links flushed far fewer times
    crossings = 300 * eng.c_src.size
    assert eng.flushes < crossings / 5
    assert eng.active() == 0 and eng.slots <= 512


def test_an_embargo_after_the_fluff_finished_spreads_it_again() -> None:
    eng = engine_with(4, [(0, 1), (2, 3)])  # two islands
    eng.inject(0, 0, 0.0)
    eng.advance(60.0)
    eng._sweep()  # nothing carries tx 0 any more: its slot is recycled
    assert 0 in eng.done and list(eng.unreached[0]) == [2, 3]
    src, dst = np.array([0, 1, 1, 2, 2, 3]), np.array([1, 0, 2, 1, 3, 2])
    eng.set_connections(src, dst, np.full(6, 0.05), np.array([True, False] * 3))
    eng.seen.mark(0, 2, 62.0)  # node 2 gets tx 0 on a stem and arms its embargo
    eng.add_embargo(2, 0, 100.0)
    eng.advance(200.0)
    assert eng.embargo_fired == 1
    assert 100.0 < eng.seen.get(0, 3) < 120.0  # the re-fluff reaches the other island node


def test_changed_connections_give_the_whole_sets_results() -> None:
    """``change_connections`` with the pairs that changed leaves the engine as ``set_connections``
    with the whole new set does: same rows, queues, timers, and the same first-seen times
    after hundreds of opens, closes, reopens in the other direction and joins, between
    windows that flush, learn and embargo."""
    rng = np.random.default_rng(11)
    n = 40
    whole, delta = FluffEngine(n, seed=5), FluffEngine(n, seed=5)
    links: dict[tuple[int, int], tuple[float, bool]] = {}
    touched: set[tuple[int, int]] = set()
    tx = 0
    t = 0.0
    for step in range(300):
        for _ in range(int(rng.integers(0, 12))):
            a, b = (int(x) for x in rng.choice(whole.n, 2, replace=False))
            if (a, b) in links:  # close both ends
                del links[(a, b)], links[(b, a)]
            else:
                lat = float(rng.uniform(0.01, 0.3))
                links[(a, b)], links[(b, a)] = (lat, True), (lat, False)
            touched |= {(a, b), (b, a)}
        if step == 150:
            whole.grow(n + 5)
            delta.grow(n + 5)
        if rng.random() < 0.3:
            node = int(rng.integers(0, whole.n))
            for eng in (whole, delta):
                eng.inject(node, tx, t)
                eng.add_embargo(node, tx, t + 30.0)
            tx += 1
        ends = np.array(sorted(links), dtype=np.int64).reshape(-1, 2)
        vals = np.array([links[k] for k in sorted(links)], dtype=np.float64).reshape(-1, 2)
        whole.set_connections(ends[:, 0], ends[:, 1], vals[:, 0], vals[:, 1] != 0.0)
        keys = sorted(touched)
        touched.clear()
        if keys:
            got = [links.get(k) for k in keys]
            delta.change_connections(np.array([k[0] for k in keys]), np.array([k[1] for k in keys]),
                                     np.array([g is not None for g in got]),
                                     np.array([g[0] if g else 0.0 for g in got]),
                                     np.array([bool(g[1]) if g else False for g in got]))
        for name in ("c_src", "c_dst", "c_lat", "c_out", "c_key", "ptr", "snap", "next_flush",
                     "last_flush"):
            assert np.array_equal(getattr(whole, name), getattr(delta, name)), (step, name)
        t += float(rng.uniform(0.0, 3.0))
        whole.advance(t)
        delta.advance(t)
    assert tx > 50 and whole.flushes > 1000
    for serial in range(tx):
        assert all(whole.seen.get(serial, i) == delta.seen.get(serial, i) for i in range(whole.n))


@pytest.mark.parametrize("reopened", [False, True])
def test_a_connection_closed_and_opened_again_loses_its_queue(reopened: bool) -> None:
    """monerod queues a fluffed tx on the connections open at the time; a connection closed
    and opened again is a new one, with an empty queue (levin_notify: the queue is the
    connection context's). Marked ``reopened``, it starts afresh; unmarked, it keeps the tx."""
    eng = engine_with(2, [(0, 1)], seed=2)
    eng.inject(0, 0, 0.0)
    eng.advance(0.01)  # node 0 has it queued on its only connection, not yet flushed
    assert eng.knows(0, 0) and not eng.knows(1, 0)
    ends = np.array([0, 1]), np.array([1, 0])
    eng.change_connections(*ends, np.array([True, True]), np.full(2, 0.05), np.array([True, False]),
                           np.array([reopened, reopened]))
    eng.advance(120.0)
    assert math.isinf(eng.seen.get(0, 1)) == reopened
