"""Tests for analysis.theory and analysis.stats, against scipy/numpy and published tables."""

from __future__ import annotations

import math
import random
from typing import Any

import numpy as np
import pytest
import scipy.special as sp
import scipy.stats as st

from pytest_monerosim.analysis import (
    binomial_cdf,
    binomial_sf,
    binomial_test,
    clopper_pearson_interval,
    coefficient_of_variation,
    describe,
    double_spend_exact,
    interblock_stats,
    inverse_regularized_incomplete_beta,
    kolmogorov_sf,
    ks_exponential,
    mean_ci,
    min_confirmations,
    nakamoto_double_spend,
    percentile,
    regularized_incomplete_beta,
    selfish_mining_revenue,
    selfish_mining_threshold,
    stale_rate,
    std,
    wilson_interval,
)

# --- incomplete beta ----------------------------------------------------------------

A_GRID = [0.1, 0.5, 1.0, 2.5, 10.0, 50.0, 300.0]
B_GRID = [0.5, 1.0, 3.0, 20.0, 150.0]
X_GRID = [0.0, 1e-6, 0.01, 0.2, 0.5, 0.8, 0.99, 1 - 1e-6, 1.0]


@pytest.mark.parametrize("a", A_GRID)
@pytest.mark.parametrize("b", B_GRID)
def test_incomplete_beta_matches_scipy(a: float, b: float) -> None:
    for x in X_GRID:
        ours, ref = regularized_incomplete_beta(a, b, x), float(sp.betainc(a, b, x))
        assert ours == pytest.approx(ref, rel=1e-10, abs=1e-14), (a, b, x)


@pytest.mark.parametrize("a", [0.5, 1.0, 6.0, 80.0])
@pytest.mark.parametrize("b", [0.5, 2.0, 40.0])
def test_inverse_incomplete_beta_matches_scipy(a: float, b: float) -> None:
    for p in [1e-6, 0.025, 0.3, 0.5, 0.975, 1 - 1e-6]:
        x = inverse_regularized_incomplete_beta(p, a, b)
        assert x == pytest.approx(float(sp.betaincinv(a, b, p)), rel=1e-9, abs=1e-14)
        # x is the float where I crosses p (up to I's own rounding, ~1e-13 here).
        below, above = math.nextafter(x, 0.0), math.nextafter(x, 1.0)
        assert regularized_incomplete_beta(a, b, below) - 1e-13 <= p
        assert p <= regularized_incomplete_beta(a, b, above) + 1e-13


@pytest.mark.parametrize("args,name", [((0, 1, 0.5), "a"), ((1, -2, 0.5), "b"),
                                        ((1, 1, 1.5), "x")])
def test_incomplete_beta_rejects_bad_arguments(args: tuple[float, float, float],
                                               name: str) -> None:
    with pytest.raises(ValueError, match=f"^{name} must be"):
        regularized_incomplete_beta(*args)


# --- block arrivals -----------------------------------------------------------------


def test_interblock_stats_for_monero() -> None:
    s = interblock_stats(120.0)
    ref = st.expon(scale=120.0)
    assert (s.mean, s.std, s.cv) == (120.0, 120.0, 1.0)
    assert s.median == pytest.approx(ref.median()) == pytest.approx(83.18, abs=0.01)
    assert s.quantile(0.9) == pytest.approx(ref.ppf(0.9))
    assert s.cdf(s.median) == pytest.approx(0.5) and s.cdf(-1) == 0.0


def test_exponential_samples_pass_the_checks() -> None:
    """What a simulator's block times must look like: the checks accept true exponentials."""
    rng = random.Random(2024)
    times = [rng.expovariate(1 / 120) for _ in range(20_000)]
    assert ks_exponential(times, 120.0).pvalue > 0.05
    assert coefficient_of_variation(times) == pytest.approx(1.0, abs=0.03)
    assert percentile(times, 50) == pytest.approx(interblock_stats(120).median, rel=0.03)
    assert 120.0 in mean_ci(times, confidence=0.999)


def test_fixed_interval_blocks_fail_the_checks() -> None:
    """Blocks every 120 s exactly (no Poisson mining) must be rejected."""
    times = [120.0] * 500
    assert ks_exponential(times, 120.0).pvalue < 1e-6
    assert coefficient_of_variation(times) == 0.0


def test_stale_rate() -> None:
    assert stale_rate(0.0, 120.0) == 0.0
    assert stale_rate(2.0, 120.0) == pytest.approx(1 - math.exp(-1 / 60))
    assert stale_rate(0.001, 600.0) == pytest.approx(0.001 / 600, rel=1e-3)
    assert stale_rate(120.0, 120.0) == pytest.approx(1 - 1 / math.e)


@pytest.mark.parametrize("call,name", [
    (lambda: stale_rate(-1.0, 120.0), "delay_s"),
    (lambda: stale_rate(1.0, 0.0), "interval_s"),
    (lambda: interblock_stats(0.0), "target_s"),
    (lambda: interblock_stats(120).quantile(1.5), "q"),
])
def test_block_arrival_argument_checks(call: Any, name: str) -> None:
    with pytest.raises(ValueError, match=f"^{name} must be"):
        call()


# --- double spends ------------------------------------------------------------------

# Nakamoto (2008), §11: the two printed tables, to 7 decimals.
NAKAMOTO_Q01 = [1.0, 0.2045873, 0.0509779, 0.0131722, 0.0034552, 0.0009137, 0.0002428,
                0.0000647, 0.0000173, 0.0000046, 0.0000012]
NAKAMOTO_Q03 = {0: 1.0, 5: 0.1773523, 10: 0.0416605, 15: 0.0101008, 20: 0.0024804,
                25: 0.0006132, 30: 0.0001522, 35: 0.0000379, 40: 0.0000095, 45: 0.0000024,
                50: 0.0000006}
# "Solving for P less than 0.1%".
NAKAMOTO_Z = {0.10: 5, 0.15: 8, 0.20: 11, 0.25: 15, 0.30: 24, 0.35: 41, 0.40: 89, 0.45: 340}


def test_nakamoto_tables() -> None:
    assert [round(nakamoto_double_spend(0.1, z), 7) for z in range(11)] == NAKAMOTO_Q01
    assert {z: round(nakamoto_double_spend(0.3, z), 7) for z in NAKAMOTO_Q03} == NAKAMOTO_Q03


@pytest.mark.parametrize("q,z", NAKAMOTO_Z.items())
def test_nakamoto_confirmations_for_one_in_a_thousand(q: float, z: int) -> None:
    assert min_confirmations(q, 0.001, exact=False) == z
    assert nakamoto_double_spend(q, z) < 0.001 <= nakamoto_double_spend(q, z - 1)


def rosenfeld_sum(q: float, n: int) -> float:
    """Rosenfeld (2014): 1 − Σ_{m=0..n} C(m+n−1, m)(p^n q^m − q^n p^m), for n >= 1."""
    p = 1 - q
    return 1 - math.fsum(math.comb(m + n - 1, m) * (p ** n * q ** m - q ** n * p ** m)
                         for m in range(n + 1))


@pytest.mark.parametrize("q", [0.01, 0.05, 0.1, 0.2, 0.25, 0.3, 0.4, 0.45, 0.49])
def test_exact_double_spend_matches_rosenfeld_and_betainc(q: float) -> None:
    for z in range(1, 61):
        exact = double_spend_exact(q, z)
        assert exact == pytest.approx(float(sp.betainc(z, 0.5, 4 * q * (1 - q))), rel=1e-10)
        # The sum cancels badly once the risk is tiny; compare where it is meaningful.
        if exact > 1e-9:
            assert exact == pytest.approx(rosenfeld_sum(q, z), rel=1e-6)


def test_exact_known_values() -> None:
    # z = 1: the attacker must find one block before the honest network's next one,
    # then catch up from even: P = q + p·q/p = 2q.
    for q in [0.05, 0.2, 0.4]:
        assert double_spend_exact(q, 1) == pytest.approx(2 * q)
    assert [min_confirmations(q, 0.001) for q in NAKAMOTO_Z] == [6, 9, 13, 20, 32, 58, 133, 539]


def test_nakamoto_underestimates_the_exact_risk() -> None:
    """Poisson progress is a fair approximation for a few blocks, too low for many."""
    for q in [0.05, 0.1, 0.2, 0.3, 0.4, 0.45]:
        for z in range(25, 80):
            assert nakamoto_double_spend(q, z) < double_spend_exact(q, z)
    assert double_spend_exact(0.3, 24) > 3 * nakamoto_double_spend(0.3, 24)


@pytest.mark.parametrize("fn", [nakamoto_double_spend, double_spend_exact])
def test_double_spend_edge_cases(fn: Any) -> None:
    assert fn(0.5, 10) == 1.0 and fn(0.7, 3) == 1.0
    assert fn(0.2, 0) == 1.0
    assert fn(0.0, 4) == 0.0
    values = [fn(0.2, z) for z in range(30)]
    assert values == sorted(values, reverse=True)


@pytest.mark.parametrize("fn", [nakamoto_double_spend, double_spend_exact])
@pytest.mark.parametrize("q,z,name", [(1.5, 3, "q"), (-0.1, 3, "q"), (0.1, -1, "z"),
                                      (0.1, 2.5, "z")])
def test_double_spend_argument_checks(fn: Any, q: float, z: Any, name: str) -> None:
    with pytest.raises(ValueError, match=f"^{name} must be"):
        fn(q, z)


def test_min_confirmations_impossible() -> None:
    with pytest.raises(ValueError, match="q=0.5: no number of confirmations"):
        min_confirmations(0.5, 0.01)
    with pytest.raises(ValueError, match="max_risk must be"):
        min_confirmations(0.1, 0.0)


# --- selfish mining -----------------------------------------------------------------


def test_selfish_threshold_known_values() -> None:
    assert selfish_mining_threshold(0.0) == pytest.approx(1 / 3)
    assert selfish_mining_threshold(0.5) == pytest.approx(1 / 4)
    assert selfish_mining_threshold(1.0) == 0.0


@pytest.mark.parametrize("gamma", [0.0, 0.1, 0.25, 0.5, 0.75, 0.9])
def test_selfish_revenue_equals_share_at_threshold(gamma: float) -> None:
    t = selfish_mining_threshold(gamma)
    assert selfish_mining_revenue(t, gamma) == pytest.approx(t, abs=1e-12)
    assert selfish_mining_revenue(t + 0.02, gamma) > t + 0.02
    if t > 0.02:
        assert selfish_mining_revenue(t - 0.02, gamma) < t - 0.02


def test_selfish_revenue_shape() -> None:
    assert selfish_mining_revenue(0.0, 0.3) == 0.0
    assert selfish_mining_revenue(0.5, 0.0) == pytest.approx(1.0)
    # Worked by hand: α = 0.4, γ = 0 gives (0.4·0.36·1.6 − 0.064) / (1 − 0.4·1.64) = 0.1664/0.344.
    assert selfish_mining_revenue(0.4, 0.0) == pytest.approx(0.1664 / 0.344)
    for alpha in [0.1, 0.3, 0.45]:
        rs = [selfish_mining_revenue(alpha, g / 10) for g in range(11)]
        assert rs == sorted(rs)


@pytest.mark.parametrize("alpha,gamma,name", [(0.6, 0.5, "alpha"), (-0.1, 0.5, "alpha"),
                                              (0.3, 1.2, "gamma"), (0.3, -0.5, "gamma")])
def test_selfish_argument_checks(alpha: float, gamma: float, name: str) -> None:
    with pytest.raises(ValueError, match=f"^{name} must be"):
        selfish_mining_revenue(alpha, gamma)
    if name == "gamma":
        with pytest.raises(ValueError, match="^gamma must be"):
            selfish_mining_threshold(gamma)


# --- binomial proportions -----------------------------------------------------------

BINOMIAL_CASES = [(0, 1), (1, 1), (0, 10), (3, 10), (10, 10), (1, 50), (25, 50), (49, 50),
                  (7, 1000), (500, 1000), (998, 1000)]


@pytest.mark.parametrize("k,n", BINOMIAL_CASES)
@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.999])
def test_intervals_match_scipy(k: int, n: int, confidence: float) -> None:
    ref = st.binomtest(k, n)
    low, high = wilson_interval(k, n, confidence)
    want = ref.proportion_ci(confidence_level=confidence, method="wilson")
    assert (low, high) == pytest.approx((want.low, want.high), abs=1e-12)
    low, high = clopper_pearson_interval(k, n, confidence)
    want = ref.proportion_ci(confidence_level=confidence, method="exact")
    assert (low, high) == pytest.approx((want.low, want.high), rel=1e-8, abs=1e-13)


def test_interval_contains() -> None:
    ci = wilson_interval(30, 100)
    assert 0.3 in ci and 0.5 not in ci


@pytest.mark.parametrize("k,n", [(0, 10), (4, 10), (130, 400), (3, 7)])
@pytest.mark.parametrize("p", [0.01, 0.2, 0.5, 0.63, 0.99])
def test_binomial_test_and_cdf_match_scipy(k: int, n: int, p: float) -> None:
    assert binomial_test(k, n, p) == pytest.approx(st.binomtest(k, n, p).pvalue, rel=1e-9,
                                                   abs=1e-300)
    assert binomial_cdf(k, n, p) == pytest.approx(float(st.binom.cdf(k, n, p)), rel=1e-9)
    assert binomial_sf(k, n, p) == pytest.approx(float(st.binom.sf(k, n, p)), rel=1e-9)


def test_binomial_test_edges() -> None:
    assert binomial_test(5, 10, 0.5) == 1.0
    assert binomial_test(0, 10, 0.0) == 1.0 and binomial_test(1, 10, 0.0) == 0.0
    assert binomial_test(10, 10, 1.0) == 1.0
    assert binomial_test(0, 20) == pytest.approx(2 * 0.5 ** 20)


@pytest.mark.parametrize("call,name", [
    (lambda: wilson_interval(11, 10), "successes"),
    (lambda: clopper_pearson_interval(0, 0), "trials"),
    (lambda: wilson_interval(1, 10, 1.0), "confidence"),
    (lambda: binomial_test(1, 10, 1.5), "p"),
])
def test_binomial_argument_checks(call: Any, name: str) -> None:
    with pytest.raises(ValueError, match=f"^{name} must be"):
        call()


# --- location, spread, goodness of fit ---------------------------------------------


def sample(n: int, seed: int = 3) -> list[float]:
    rng = random.Random(seed)
    return [rng.lognormvariate(0, 1) for _ in range(n)]


def test_mean_ci_matches_scipy_normal_interval() -> None:
    xs = sample(400)
    est = mean_ci(xs, 0.95)
    want = st.norm.interval(0.95, loc=np.mean(xs), scale=st.sem(xs))
    assert (est.mean, est.low, est.high) == pytest.approx((np.mean(xs), *want), rel=1e-12)
    assert est.n == 400 and est.stderr == pytest.approx(st.sem(xs))


@pytest.mark.parametrize("n", [1, 2, 3, 10, 101])
def test_percentile_matches_numpy(n: int) -> None:
    xs = sample(n)
    for q in [0, 1, 10, 25, 33.3, 50, 75, 90, 99, 100]:
        assert percentile(xs, q) == pytest.approx(float(np.percentile(xs, q)), rel=1e-12)


def test_describe_matches_numpy() -> None:
    xs = sample(257)
    d = describe(xs)
    assert d.n == 257
    assert d.mean == pytest.approx(np.mean(xs)) and d.std == pytest.approx(np.std(xs, ddof=1))
    assert (d.min, d.max) == (min(xs), max(xs))
    for field, q in [("p25", 25), ("median", 50), ("p75", 75), ("p90", 90), ("p99", 99)]:
        assert getattr(d, field) == pytest.approx(float(np.percentile(xs, q)))
    assert math.isnan(describe([4.0]).std)


def test_cv_and_std_match_scipy() -> None:
    xs = sample(50)
    assert coefficient_of_variation(xs) == pytest.approx(st.variation(xs, ddof=1))
    assert coefficient_of_variation(xs, ddof=0) == pytest.approx(st.variation(xs))
    assert std(xs, ddof=0) == pytest.approx(np.std(xs))


@pytest.mark.parametrize("call,name", [
    (lambda: percentile([1.0], 101), "q"),
    (lambda: percentile([], 50), "values"),
    (lambda: mean_ci([1.0]), "values"),
    (lambda: coefficient_of_variation([0.0, 0.0]), "coefficient of variation"),
    (lambda: ks_exponential([1.0], 0.0), "mean_s"),
])
def test_stats_argument_checks(call: Any, name: str) -> None:
    with pytest.raises(ValueError, match=f"^{name}"):
        call()


@pytest.mark.parametrize("lam", [0.05, 0.2, 0.5, 0.8, 0.99, 1.0, 1.36, 2.0, 3.0, 6.0])
def test_kolmogorov_sf_matches_scipy(lam: float) -> None:
    assert kolmogorov_sf(lam) == pytest.approx(float(st.kstwobign.sf(lam)), rel=1e-9,
                                               abs=1e-15)


@pytest.mark.parametrize("kind", ["expon", "expon-wrong-mean", "uniform", "tiny"])
def test_ks_exponential_matches_scipy(kind: str) -> None:
    rng = random.Random(11)
    xs = {
        "expon": [rng.expovariate(1 / 120) for _ in range(300)],
        "expon-wrong-mean": [rng.expovariate(1 / 100) for _ in range(300)],
        "uniform": [rng.uniform(0, 240) for _ in range(300)],
        "tiny": [3.0, 50.0, 400.0],
    }[kind]
    ours = ks_exponential(xs, 120.0)
    ref = st.kstest(xs, "expon", args=(0, 120.0), method="asymp")
    assert ours.statistic == pytest.approx(ref.statistic, rel=1e-12)
    assert ours.pvalue == pytest.approx(ref.pvalue, rel=1e-8, abs=1e-15)
