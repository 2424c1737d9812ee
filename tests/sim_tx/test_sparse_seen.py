"""Sparse first-seen records: a run beyond the seen table's dense budget keeps the watched
nodes' times and a per-tx summary, and runs exactly as with every time kept."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pytest

from pytest_monerosim.sim.tx import fluff_kernels
from pytest_monerosim.sim.tx import seen as seen_mod
from pytest_monerosim.sim.tx.seen import SeenTable

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "scenarios"


def test_a_settled_chunk_turns_sparse_and_answers_from_its_summary() -> None:
    table = SeenTable(6, chunk=4, budget=0)
    for row in range(9):  # rows 0-3: chunk 0, 4-7: chunk 1, 8: the filling chunk 2
        for node in range(6):
            if (row, node) != (1, 5) and row != 2:
                table.mark(row, node, 10.0 * row + node)
    assert table.settle(now=100.0, active=lambda: set(), watched=np.array([0, 3])) == 0  # too recent
    assert table.settle(now=5000.0, active=lambda: {5}, watched=np.array([3, 0])) == 1  # chunk 1 live
    assert table.is_sparse(1) and not table.is_sparse(5)
    assert table.get(1, 0) == 10.0 and table.get(1, 3) == 13.0  # watched: exact
    assert table.get(1, 2) == 14.0  # unwatched: the tx's last time
    assert math.isinf(table.get(1, 5)) and math.isinf(table.get(2, 0))
    cols, times, reached, last, never = table.sparse_row(1)
    assert cols.tolist() == [0, 3] and times.tolist() == [10.0, 13.0]
    assert (reached, last, never.tolist()) == (5, 14.0, [5])
    assert table.unseen_by(0, np.array([1, 2]), 5, now=6000.0).tolist() == [True, True]
    assert table.mark(1, 5, 6000.0)  # a late sight of an old tx
    assert table.get(1, 5) == 6000.0
    assert table.sparse_row(1)[2:4] == (6, 6000.0) and table.sparse_row(1)[4].size == 0
    table.grow(7)
    assert math.isinf(table.get(0, 6)) and 6 in table.sparse_row(0)[4].tolist()


def _run(monkeypatch: pytest.MonkeyPatch, sparse: bool) -> object:
    from pytest_monerosim.backends.sim import run_scenario
    from pytest_monerosim.config.loader import apply_run_overrides, load_scenario
    from pytest_monerosim.registry import default_registry

    if sparse:
        monkeypatch.setattr(seen_mod, "CHUNK", 16)
        monkeypatch.setattr(seen_mod, "DENSE_BUDGET", 0)
        monkeypatch.setattr(seen_mod, "SETTLE_S", 600.0)
    scenario = apply_run_overrides(load_scenario(FIXTURES / "quickstart.yaml"), duration=3 * 3600.0)
    return run_scenario(scenario, default_registry())


def test_a_sparse_run_is_the_dense_run_with_fewer_times(monkeypatch: pytest.MonkeyPatch) -> None:
    from pytest_monerosim.checks.transactions import all_txs_relayed
    from pytest_monerosim.result.summary import summarize, without_wall_clock

    dense = _run(monkeypatch, False)
    sparse = _run(monkeypatch, True)
    assert json.dumps(without_wall_clock(summarize(dense)), sort_keys=True, default=str) == \
        json.dumps(without_wall_clock(summarize(sparse)), sort_keys=True, default=str)
    names = list(dense.nodes)
    thin = [t for t in sparse.txs.values() if t.seen_sparse]
    assert len(thin) > 30 and any(not t.seen_sparse for t in sparse.txs.values())
    for t in thin:
        full = dense.txs[t.id].seen_by(names)
        watched = t.seen_by(names)
        assert watched and t.seen_nodes and len(t.seen_times) == len(t.seen_nodes) < len(names)
        assert watched == {n: v for n, v in full.items() if n in t.seen_nodes}
        assert t.reached == dense.txs[t.id].reached == len(full)
        assert t.seen_last == (max(full.values()) if full else None)
        assert t.unseen == sorted(set(names) - set(full))
    assert all_txs_relayed(sparse, within_s=60.0) == all_txs_relayed(dense, within_s=60.0)


def test_unseen_weight_compiled_is_the_numpy_mask(monkeypatch: pytest.MonkeyPatch) -> None:
    """The compiled sum of unseen weights compares as numpy does: in float32 with a Python
    number, in float64 with a numpy float64 (times right next to a stored float32 differ)."""
    pytest.importorskip("numba")
    if os.environ.get("MONEROSIM_FLUFF_KERNEL", "").lower() == "numpy":
        pytest.skip("MONEROSIM_FLUFF_KERNEL=numpy: the compiled twins are switched off")
    monkeypatch.setattr(fluff_kernels, "_TWINS", {})
    rng = np.random.default_rng(3)
    table = SeenTable(50, chunk=4096)
    table.mark_many(np.arange(4096).repeat(50), np.tile(np.arange(50), 4096),
                    rng.uniform(0, 100, 4096 * 50))
    block = table.chunks[0]
    for trial in range(3000):
        rows = rng.integers(0, 4096, int(rng.integers(1, 80)))
        node = int(rng.integers(0, 50))
        near = float(block[rows[0], node]) + float(rng.choice([-1e-9, 1e-9, 0.0, -1e-6, 0.3]))
        now: object = (near, np.float64(near), int(near))[trial % 3]
        weights = rng.integers(1000, 5000, rows.size)
        want = int(weights[table.unseen_by(0, rows, node, now)].sum())  # type: ignore[arg-type]
        assert table.unseen_weight(0, rows, node, now, weights) == want  # type: ignore[arg-type]
    assert seen_mod._compiled_unseen() is not None


@pytest.mark.parametrize("n_nodes", [1, 9, 1_011, 4_096, 4_097, 10_000, 33_047, 500_000])
def test_a_chunk_never_takes_more_than_its_cells(n_nodes: int) -> None:
    """A chunk is allocated whole at its first tx: in the mainnet twin (33,047 nodes) 4,096 rows
    were 541 MB at once; rows shrink with the network so that a chunk stays within
    ``CHUNK_CELLS`` (64 MB), down to ``MIN_CHUNK`` rows."""
    table = SeenTable(n_nodes)
    table.mark(0, n_nodes - 1, 1.0)
    cells = table.chunks[0].size
    assert table.chunk == (seen_mod.CHUNK if n_nodes <= 4_096 else
                           max(seen_mod.MIN_CHUNK, seen_mod.CHUNK_CELLS // n_nodes))
    assert cells <= seen_mod.CHUNK_CELLS or table.chunk == seen_mod.MIN_CHUNK
    assert table.chunk * 2 * n_nodes > seen_mod.CHUNK_CELLS or table.chunk == seen_mod.CHUNK
    table.mark(table.chunk, 0, 2.0)  # the next chunk starts at row ``chunk``
    assert len(table.chunks) == 2 and table.get(table.chunk, 0) == 2.0 and table.get(0, n_nodes - 1) == 1.0
