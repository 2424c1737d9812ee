"""The simulator against published results, with tolerances from the sample size.

Each test states the estimator's standard error for its sample and allows
four of them (plus any stated model error), so a correct simulator fails
about once in 16,000 runs of a test, and the runs are seeded anyway.
"""

from __future__ import annotations

import math

import pytest

from pytest_monerosim.analysis.stats import coefficient_of_variation, ks_exponential, mean
from pytest_monerosim.analysis.theory import interblock_stats, stale_rate
from pytest_monerosim.backends.sim import run_scenario
from pytest_monerosim.registry import Registry
from pytest_monerosim.result.model import Result
from pytest_monerosim.result.summary import percentile

from .conftest import miners_mesh, scenario

TARGET = 120.0


def intervals(result: Result, first: int = 1, last: int | None = None) -> list[float]:
    chain = result.main_chain()
    chain = chain[first:last]
    return [b.found_at - a.found_at for a, b in zip(chain, chain[1:], strict=False)]


def test_interblock_times_are_exponential_with_mean_target(registry: Registry) -> None:
    # ~3000 blocks from 5 equal miners on a fast mesh (stales are negligible).
    result = run_scenario(miners_mesh(5, duration=3000 * TARGET, seed=21), registry,
                          snapshot_interval_s=None)
    xs = intervals(result)
    n = len(xs)
    assert n > 2500
    theory = interblock_stats(TARGET)
    se = TARGET / math.sqrt(n)  # exponential: sd = mean; median's SE is the same
    assert mean(xs) == pytest.approx(theory.mean, abs=4 * se)
    assert percentile(xs, 50) == pytest.approx(TARGET * math.log(2), abs=4 * se)
    assert TARGET * math.log(2) == pytest.approx(83.18, abs=0.01)
    # sample CV of an exponential: SE ~ 1/sqrt(n)
    assert coefficient_of_variation(xs) == pytest.approx(1.0, abs=4 / math.sqrt(n))
    assert ks_exponential(xs, TARGET).pvalue > 1e-4


def test_difficulty_retargets_after_a_hashrate_step(registry: Registry) -> None:
    steps = {"name": "hashrate_mining", "steps": [{"at": "2h", "hashrate": 2.0}]}
    sc = scenario(
        [{"group": "m", "count": 3, "role": "miner", "hashrate": 1.0, "behaviour": steps}],
        general={"duration": "4d", "seed": 3},
        network={"topology": "mesh", "latency": {"name": "constant", "latency_s": 0.05}},
    )
    result = run_scenario(sc, registry, snapshot_interval_s=None)
    chain = result.main_chain()
    step_h = next(b.height for b in chain if b.found_at >= 7200)
    # Right after the step the window still holds the old difficulty: blocks come at ~60 s.
    early = intervals(result, step_h, step_h + 200)
    assert mean(early) == pytest.approx(60.0, abs=4 * 60 / math.sqrt(len(early)) + 5)
    # 735 blocks later the window holds only post-step blocks: back to ~120 s.
    late = intervals(result, step_h + 800)
    assert len(late) > 900
    assert mean(late) == pytest.approx(TARGET, abs=4 * TARGET / math.sqrt(len(late)))
    d_before = chain[step_h - 1].difficulty
    d_after = chain[-1].difficulty
    assert d_after / d_before == pytest.approx(2.0, rel=0.1)


@pytest.mark.parametrize("latency_s", [1.0, 6.0, 15.0])
def test_stale_rate_grows_as_one_minus_exp_of_delay(registry: Registry, latency_s: float) -> None:
    # M equal miners, all directly linked: a block reaches every other miner after
    # the link latency (verification 0, bandwidth ample). A fork needs one of the
    # other M-1 miners to find a block in that window, so the delay that matters is
    # d = latency * (M-1)/M and forks per main-chain block ~ 1 - exp(-d/T).
    miners = 10
    blocks = 2000
    sc = miners_mesh(miners, latency_s=latency_s, duration=blocks * TARGET, seed=31)
    result = run_scenario(sc, registry, snapshot_interval_s=None)
    height = result.height()
    stale = len(result.stale_blocks())
    expected = stale_rate(latency_s * (miners - 1) / miners, TARGET)
    # binomial SE of the fork count, plus 15% for second-order effects (a fork
    # found during a fork, forks of three) that the closed form leaves out
    se = math.sqrt(height * expected * (1 - expected))
    assert stale == pytest.approx(height * expected, abs=4 * se + 0.15 * height * expected)
    assert result.reorgs, "every fork that resolves against a node's first choice is a reorg"
    assert max(r.depth for r in result.reorgs) >= 1
