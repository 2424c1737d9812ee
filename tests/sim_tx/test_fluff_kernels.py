"""The fluff engine's compiled steps (numba, the ``fast`` extra) give exactly the numpy path's results."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from pytest_monerosim.sim.tx import fluff_kernels
from pytest_monerosim.sim.tx.bandwidth import TxBandwidth
from pytest_monerosim.sim.tx.fluff import FluffEngine

pytest.importorskip("numba")
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "scenarios"


def _spread(compiled: bool, minutes: float = 1.5, n: int = 200, bandwidth: str = "") -> FluffEngine:
    """Random connections, silent nodes, embargoes and a refusing node: every step's branches."""
    rng = random.Random(5)
    links: dict[tuple[int, int], bool] = {}
    for u in range(n):
        for v in rng.sample([x for x in range(n) if x != u], 8):
            links.setdefault((u, v), True)
            links.setdefault((v, u), False)
    src = np.array([k[0] for k in links])
    dst = np.array([k[1] for k in links])
    eng = FluffEngine(n, seed=3, compiled=compiled, initial_slots=64)
    eng.set_connections(src, dst, np.array([0.02 + (i % 13) * 0.015 for i in range(src.size)]),
                        np.array(list(links.values())))
    for i in range(0, n, 37):
        eng.set_relaying(i, False)
    eng.track(7)
    eng.admit = lambda node, tx, t, sender: tx % 5 != 0
    if bandwidth:  # slow links (1-8 Mbit/s up): transfer times of many bytes per message
        up = 1e6 * (1 + np.arange(n) % 8)
        bw = SimpleNamespace(up=up, down=up * 4, sent=np.zeros(n, dtype=np.int64))
        bw.message_delays = TxBandwidth.message_delays.__get__(bw)
        weights = 1500 + (np.arange(100_000) * 7919) % 40_000
        if bandwidth == "hook":
            eng.transfer = lambda s, r, txs: bw.message_delays(s, r, weights[txs])
        else:
            eng.set_bandwidth(bw, lambda tx: int(weights[tx]))
        eng.bw = bw  # type: ignore[attr-defined]
    t, k = 0.0, 0
    while True:
        t += rng.expovariate(12.0)  # 12 txs/s: several slot words in flight
        if t > minutes * 60:
            break
        eng.inject(rng.randrange(n), k, t)
        if k % 4 == 0:
            eng.add_embargo(rng.randrange(n), k, t + 8.0)
        k += 1
        eng.sync(t)
    eng.advance(minutes * 60 + 90)
    return eng


def test_compiled_steps_give_the_numpy_results() -> None:
    a, b = _spread(False), _spread(True)
    assert not a.k.compiled and b.k.compiled
    assert (a.flushes, a.messages, a.learns, a.windows, a.embargo_fired) == \
        (b.flushes, b.messages, b.learns, b.windows, b.embargo_fired)
    assert a.learns > 100_000 and a.W > 1
    for x, y in zip(a.seen.chunks, b.seen.chunks, strict=True):
        assert np.array_equal(x, y)
    for name in ("known", "snap", "next_flush", "last_flush", "count_known"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert a.unreached.keys() == b.unreached.keys()


def _same(a: FluffEngine, b: FluffEngine) -> None:
    assert (a.flushes, a.messages, a.learns, a.windows, a.embargo_fired) == \
        (b.flushes, b.messages, b.learns, b.windows, b.embargo_fired)
    for x, y in zip(a.seen.chunks, b.seen.chunks, strict=True):
        assert np.array_equal(x, y)
    for name in ("known", "snap", "next_flush", "last_flush", "count_known"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert np.array_equal(a.bw.sent, b.bw.sent)  # type: ignore[attr-defined]


def test_transfer_times_inside_the_steps_are_the_hooks() -> None:
    """set_bandwidth (transfer times computed in the window's steps, compiled or numpy) gives
    what the generic transfer hook gives."""
    hook = _spread(False, minutes=1.0, bandwidth="hook")
    assert hook.bw.sent.sum() > 0  # type: ignore[attr-defined]
    _same(hook, _spread(False, minutes=1.0, bandwidth="inline"))
    _same(hook, _spread(True, minutes=1.0, bandwidth="inline"))


def test_a_run_is_identical_with_and_without_numba(monkeypatch: pytest.MonkeyPatch) -> None:
    from pytest_monerosim.backends.sim import run_scenario
    from pytest_monerosim.config.loader import apply_run_overrides, load_scenario
    from pytest_monerosim.registry import default_registry
    from pytest_monerosim.result.summary import summarize, without_wall_clock

    def fingerprint() -> str:
        scenario = apply_run_overrides(load_scenario(FIXTURES / "quickstart.yaml"), duration=3 * 3600.0)
        result = run_scenario(scenario, default_registry())
        h = hashlib.sha256(json.dumps(without_wall_clock(summarize(result)), sort_keys=True,
                                      default=str).encode())
        for txid in sorted(result.txs, key=str):
            h.update(repr(sorted(result.txs[txid].seen_by(list(result.nodes)).items())).encode())
        return h.hexdigest()

    compiled = fingerprint()
    monkeypatch.setenv("MONEROSIM_FLUFF_KERNEL", "numpy")
    assert not fluff_kernels.Kernels().compiled
    assert fingerprint() == compiled


def test_the_numpy_path_is_chosen_by_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONEROSIM_FLUFF_KERNEL", "numpy")
    from pytest_monerosim.sim.tx.fluff_fused import flush_np_bw

    assert FluffEngine(4, seed=1).k.flush_bw is flush_np_bw
    monkeypatch.delenv("MONEROSIM_FLUFF_KERNEL")
    assert FluffEngine(4, seed=1).k.compiled


def test_flush_delays_drawn_ahead_are_the_ones_drawn_one_window_at_a_time() -> None:
    """The engine draws its table indices in blocks; numpy's generator must give the same
    sequence as drawing each window's count on its own (one 32-bit draw per index)."""
    from pytest_monerosim.sim.tx.fluff import DRAW_AHEAD, TABLE

    sizes = [1, 7, 300, 0, 33, 2501, 5, DRAW_AHEAD, 3]
    each = np.random.Generator(np.random.PCG64(3))
    parts = np.concatenate([each.integers(0, TABLE, size=s) for s in sizes])
    eng = FluffEngine(2, seed=3)
    drawn = np.concatenate([eng._draw(np.zeros(s, dtype=bool)) for s in sizes])
    assert np.array_equal(drawn, eng._q_in[parts])


def test_the_compiled_pick_without_its_scratch_table_picks_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    """Beyond BEST_CELLS nodes x slots the compiled pick sorts instead of using its table."""
    from pytest_monerosim.sim.tx import fluff

    table = _spread(True, minutes=1.0, bandwidth="inline")
    monkeypatch.setattr(fluff, "BEST_CELLS", 0)
    sorting = _spread(True, minutes=1.0, bandwidth="inline")
    assert table._best.size and not sorting._best.size
    _same(table, sorting)
