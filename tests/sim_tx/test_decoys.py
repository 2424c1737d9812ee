"""Decoy selection follows wallet2's gamma picker."""

from __future__ import annotations

import math
import random
import statistics

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


def test_pick_ages_follow_the_gamma_in_log_seconds(offsets: list[int]) -> None:
    picker = GammaPicker(offsets, random.Random(7))
    newest = offsets[picker.end - 1] - 1
    logs = []
    for _ in range(20_000):
        i = picker.pick()
        if i is None:
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
    # about 1.5 days: the median pick is ~ exp(11.77) s old
    median_age = math.exp(statistics.median(logs)) - DEFAULT_UNLOCK_TIME
    assert 0.8 * 129_000 < median_age < 1.2 * 129_000


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


def test_ring_holds_real_plus_distinct_decoys_sorted(offsets: list[int]) -> None:
    picker = GammaPicker(offsets, random.Random(3))
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
