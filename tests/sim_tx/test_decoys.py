"""Decoy selection follows wallet2's gamma picker."""

from __future__ import annotations

import math
import os
import random
import statistics
from typing import Any

import numpy as np
import pytest

from pytest_monerosim.sim.tx.decoys import (
    DEFAULT_UNLOCK_TIME,
    GAMMA_SCALE,
    GAMMA_SHAPE,
    GammaPicker,
    NotEnoughOutputs,
    global_index,
    output_at,
)

PER_BLOCK = 10
BLOCKS = 100_000  # ~139 days of 120 s blocks


@pytest.fixture(scope="module")
def offsets() -> list[int]:
    return [PER_BLOCK * (h + 1) for h in range(BLOCKS)]


@pytest.mark.parametrize("batched", [False, True], ids=["random", "numpy"])
def test_pick_ages_follow_the_gamma_in_log_seconds(offsets: list[int], batched: bool) -> None:
    rng: Any = np.random.default_rng(7) if batched else random.Random(7)
    picker = GammaPicker(offsets, rng)
    newest = offsets[picker.end - 1] - 1
    logs = []
    picks = picker.pick_many(20_000).tolist() if batched else [picker.pick() for _ in range(20_000)]
    for i in picks:
        if i is None or i < 0:
            continue
        age_s = (newest - i) * picker.average_output_time
        logs.append(math.log(age_s + DEFAULT_UNLOCK_TIME))
    mean, sd = statistics.fmean(logs), statistics.pstdev(logs)
    # Gamma(19.28, 1/1.61) in log-seconds (mean 11.975, sd 2.727), cut where the chain
    # starts: picks older than the chain are thrown away and redrawn
    cut = math.log(picker.num_outputs * picker.average_output_time + DEFAULT_UNLOCK_TIME)
    want_mean, want_sd = _truncated_gamma(GAMMA_SHAPE, GAMMA_SCALE, cut)
    assert want_mean < GAMMA_SHAPE * GAMMA_SCALE
    assert mean == pytest.approx(want_mean, abs=0.05)
    assert sd == pytest.approx(want_sd, rel=0.05)
    # about 1.5 days: the median pick is ~ exp(11.7) s old
    median_age = math.exp(statistics.median(logs)) - DEFAULT_UNLOCK_TIME
    want_median = math.exp(_truncated_median(GAMMA_SHAPE, GAMMA_SCALE, cut)) - DEFAULT_UNLOCK_TIME
    assert 100_000 < want_median < 130_000
    assert median_age == pytest.approx(want_median, rel=0.1)


def _truncated_median(shape: float, scale: float, cut: float, steps: int = 20_000) -> float:
    norm = math.lgamma(shape) + shape * math.log(scale)
    dx = cut / steps
    dens = [math.exp((shape - 1) * math.log((k - 0.5) * dx) - (k - 0.5) * dx / scale - norm) * dx
            for k in range(1, steps + 1)]
    total, acc = sum(dens), 0.0
    for k, p in enumerate(dens, start=1):
        acc += p
        if acc >= total / 2:
            return k * dx
    return cut


def _truncated_gamma(shape: float, scale: float, cut: float, steps: int = 20_000) -> tuple[float, float]:
    """Mean and sd of Gamma(shape, scale) conditioned on being below ``cut`` (numerically)."""
    norm = math.lgamma(shape) + shape * math.log(scale)
    dx = cut / steps
    m0 = m1 = m2 = 0.0
    for k in range(1, steps + 1):
        x = (k - 0.5) * dx
        p = math.exp((shape - 1) * math.log(x) - x / scale - norm) * dx
        m0, m1, m2 = m0 + p, m1 + p * x, m2 + p * x * x
    mean = m1 / m0
    return mean, math.sqrt(m2 / m0 - mean * mean)


def test_never_picks_the_last_nine_blocks(offsets: list[int]) -> None:
    picker = GammaPicker(offsets, random.Random(1))
    limit = offsets[BLOCKS - 10]
    picks = [picker.pick() for _ in range(5_000)]
    assert all(p is None or p < limit for p in picks)


@pytest.mark.parametrize("batched", [False, True], ids=["random", "numpy"])
def test_ring_holds_real_plus_distinct_decoys_sorted(offsets: list[int], batched: bool) -> None:
    picker = GammaPicker(offsets, np.random.default_rng(3) if batched else random.Random(3))
    real = offsets[-50] - 3
    ring, pos = picker.ring(real, 16)
    assert len(ring) == len(set(ring)) == 16
    assert ring == sorted(ring) and ring[pos] == real


def test_small_chain_gives_a_smaller_ring() -> None:
    offsets = [1 + h for h in range(12)]  # 12 outputs, 3 unlocked
    picker = GammaPicker(offsets, random.Random(3))
    ring, pos = picker.ring(0, 16)
    assert 1 <= len(ring) <= picker.num_outputs and ring[pos] == 0


def test_too_short_a_chain_is_refused() -> None:
    with pytest.raises(NotEnoughOutputs):
        GammaPicker([1, 2, 3], random.Random(1))


def test_global_index_round_trip() -> None:
    blocks = {0: (100,), 1: (101, 102, 103), 2: (104,)}
    offsets = [1, 4, 5]
    for h, outs in blocks.items():
        for oid in outs:
            g = global_index(oid, h, offsets, blocks.__getitem__)
            assert output_at(g, offsets, blocks.__getitem__) == oid


@pytest.mark.parametrize("blocks", [30, 480, 5000])
def test_compiled_picks_are_the_numpy_picks(monkeypatch: pytest.MonkeyPatch, blocks: int) -> None:
    """pick_many's arithmetic compiled with numba (the fast extra) gives the numpy path's picks
    and rings, draw for draw: young chains (most picks thrown away) and older ones."""
    pytest.importorskip("numba")
    if os.environ.get("MONEROSIM_FLUFF_KERNEL", "").lower() == "numpy":
        pytest.skip("MONEROSIM_FLUFF_KERNEL=numpy: the compiled twins are switched off")
    from pytest_monerosim.sim.tx import decoys, fluff_kernels

    offs = np.cumsum(np.random.default_rng(blocks).integers(0, 60, blocks)).tolist()
    runs = []
    for compiled in (True, False):
        monkeypatch.setattr(fluff_kernels, "_TWINS", {} if compiled else {"decoy_picks_nb": None})
        picker = GammaPicker(offs, np.random.Generator(np.random.PCG64(7)))
        picks = [picker.pick_many(64) for _ in range(500)]
        rings = [picker.ring(offs[-12] - 1, 16)[0] for _ in range(200)]
        assert (decoys._compiled_picks() is not None) == compiled
        runs.append((np.concatenate(picks).tolist(), rings))
    assert runs[0] == runs[1]
    assert any(p < 0 for p in runs[0][0]) and any(p >= 0 for p in runs[0][0])
