"""The compiled gray-list merge (``sim/gray_kernel.py``, ``sim/gray_nb.py``) leaves every list as
the pure pushes and trim do, a whole run gives the same results with it and without it, and the
loader falls back to the pure path when it must."""

from __future__ import annotations

import random
import warnings

import pytest

from pytest_monerosim.sim import gray_kernel, peers
from pytest_monerosim.sim.gray import AddressIds, GrayList
from pytest_monerosim.sim.gray_kernel import ENV, ListKernels, pure_push_trim, state
from pytest_monerosim.sim.stream_twin import LazyTwin

from .conftest import compiled, make_registry


@pytest.fixture
def kernel(monkeypatch: pytest.MonkeyPatch) -> ListKernels:
    return compiled(monkeypatch, ENV, gray_kernel.load)


def table_of(n: int) -> AddressIds:
    table = AddressIds()
    for k in range(1, n + 1):
        table.register(f"10.{k // 65536}.{k // 256 % 256}.{k % 256}:18080")
    return table


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_the_kernel_leaves_the_lists_the_pure_calls_leave(kernel: ListKernels, seed: int) -> None:
    """Random answers (unknown ids, listed ones, ids listed twice, none at all) into lists over
    and under their limit, takes between merges (stale insertion-order entries, which the trim
    skips), the insertion order's cut, and ids registered as the run goes: past the index's
    length (``pos`` grows) and past 65,535 (``order`` and ``fifo`` widen)."""
    rng = random.Random(seed)
    table = table_of(2000)
    ours, theirs = GrayList(table, 300), GrayList(table, 300)
    cuts = evicted = 0
    for step in range(1500):
        if step == 900:  # ids past 65,535 from now on
            while len(table.names) <= 70_000:
                table.register(f"11.{len(table.names) // 65536}.{len(table.names) // 256 % 256}."
                               f"{len(table.names) % 256}:18080")
        top = len(table.names) - 1
        low = 1 if step < 900 else top - 1500
        fresh = [rng.randrange(low, top + 1) for _ in range(rng.choice((0, 5, 40, 120)))]
        fresh += fresh[: rng.randrange(3)]  # listed twice
        limit = rng.choice((50, 300, 600))
        head_before = theirs.head
        got = ours.push_trim(fresh, limit, kernel.push_trim)
        want = pure_push_trim(theirs, fresh, limit)
        assert got == want
        assert state(ours) == state(theirs), f"step {step}"
        evicted += want
        cuts += theirs.head < head_before
        for _ in range(rng.randrange(8)):  # takes: some listed, some not
            a = table.names[rng.randrange(low, top + 1)]
            assert ours.take(a) == theirs.take(a)
    assert ours.order.typecode == "I" and len(ours.pos) > 65_535
    assert evicted > 10_000 and cuts > 5, (evicted, cuts)


def test_a_list_near_the_two_byte_mark_is_left_to_the_pure_path(kernel: ListKernels) -> None:
    """Pushes that could take a 2-byte index past its mark before the trim return None and
    change nothing (the pure path widens the index)."""
    table = table_of(40_000)
    gray = GrayList(table, 30_000)
    for i in range(1, 32_700):
        gray.push_id(i)
    before = state(gray)
    assert gray.push_trim(list(range(32_700, 32_800)), 30_000, kernel.push_trim) is None
    assert state(gray) == before


def test_the_self_check_passes_and_catches_a_wrong_kernel(kernel: ListKernels) -> None:
    assert gray_kernel.self_check(kernel) is None

    def off_by_one(fresh, pos, order, fifo, count, end, head, limit, *rest):  # noqa: ANN001, ANN202
        return kernel.push_trim(fresh, pos, order, fifo, count, end, head, limit + 1, *rest)

    def one_short(ids, pos):  # noqa: ANN001, ANN202
        return kernel.unknown(ids, pos)[:-1]

    assert gray_kernel.self_check(kernel._replace(push_trim=off_by_one)) is not None
    assert gray_kernel.self_check(kernel._replace(unknown=one_short)) is not None


def test_the_loader_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, "python")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert gray_kernel.load(eager=True) is None  # the switch itself does not warn
    monkeypatch.delenv(ENV)
    pytest.importorskip("numba")
    monkeypatch.setattr(gray_kernel, "self_check", lambda kernel: "seed 0, step 0: the lists differ")
    with pytest.warns(RuntimeWarning, match="compiled gray-list merge is not used"):
        assert gray_kernel.load() is None


def test_the_merge_asks_for_the_kernel_after_enough_large_merges(kernel: ListKernels,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    lazy: LazyTwin[ListKernels] = LazyTwin(after=3, loader=lambda eager: kernel)
    monkeypatch.setattr(peers, "MERGES", lazy)
    shared = peers.Gossip()
    for k in range(1, 2001):
        shared.ids.register(f"10.0.{k // 256}.{k % 256}:18080")
    book = peers.PeerBook(100, 200, shared)
    book.merge_ids(list(range(1, 10)), 0.0)  # fewer than MIN_FRESH unknown: not counted
    assert lazy.twin is None
    for k in range(3):
        book.merge_ids(list(range(100 * k + 10, 100 * k + 60)), 0.0)
    assert lazy.twin is kernel


def test_a_run_is_the_same_with_the_kernel_and_without(kernel: ListKernels,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """300 nodes for 3 h with monerod's lists cut to 60 white and 150 gray entries, so answers
    are mostly unknown and merges trim."""
    from pytest_monerosim.backends.sim import run_scenario
    from pytest_monerosim.config.model import Scenario
    from pytest_monerosim.result.summary import summarize, without_wall_clock

    scenario = Scenario.model_validate({
        "general": {"name": "kernel-300", "seed": 5, "duration": "3h"},
        "network": {"topology": "monero", "latency": {"name": "uniform", "low": 0.02, "high": 0.2}},
        "p2p": {"out_peers": 8, "white_list_limit": 60, "gray_list_limit": 150},
        "nodes": [{"group": "miner", "count": 10, "role": "miner", "hashrate": 1.0},
                  {"group": "relay", "count": 290}],
    })
    calls = {"n": 0, "evicted": 0}

    def counting_push_trim(*args):  # noqa: ANN002, ANN202
        out = kernel.push_trim(*args)
        calls["n"] += 1
        calls["evicted"] += out[3]
        return out

    runs = []
    for use in (kernel._replace(push_trim=counting_push_trim), None):
        pinned: LazyTwin[ListKernels] = LazyTwin()
        pinned.set(use)
        monkeypatch.setattr(peers, "MERGES", pinned)
        result = run_scenario(scenario, make_registry(), snapshot_interval_s=1800)
        runs.append((without_wall_clock(summarize(result)),
                     [(s.time, sorted(s.edges)) for s in result.peer_snapshots]))
    assert calls["n"] > 1000 and calls["evicted"] > 10_000, calls
    assert runs[0] == runs[1]
