"""Small statistics toolkit for checking simulation output against theory.

Pure Python (no numpy/scipy at runtime). Each function documents the method
so a failing check can be read without the source; the tests compare them
with scipy/numpy where those have the same function.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import NamedTuple

from .theory import inverse_regularized_incomplete_beta, regularized_incomplete_beta

_NORMAL = NormalDist()


class Interval(NamedTuple):
    low: float
    high: float

    def __contains__(self, value: object) -> bool:
        return isinstance(value, (int, float)) and self.low <= value <= self.high


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1); got {confidence!r}")


def _check_binomial(successes: int, trials: int) -> None:
    if trials < 1:
        raise ValueError(f"trials must be >= 1; got {trials!r}")
    if not 0 <= successes <= trials:
        raise ValueError(f"successes must be in [0, trials={trials}]; got {successes!r}")


def _values(values: Iterable[float], minimum: int = 1) -> list[float]:
    data = [float(v) for v in values]
    if len(data) < minimum:
        raise ValueError(f"values needs at least {minimum} item(s); got {len(data)}")
    return data


def z_score(confidence: float) -> float:
    """Two-sided standard-normal critical value: 1.96 for 95%."""
    _check_confidence(confidence)
    return _NORMAL.inv_cdf(0.5 + confidence / 2)


# --- binomial proportions ---------------------------------------------------------


def wilson_interval(successes: int, trials: int, confidence: float = 0.95) -> Interval:
    """Wilson score interval (Wilson 1927) for a binomial proportion.

    Inverts the normal score test, so unlike the plain ±z·√(p(1−p)/n) interval
    it stays inside [0, 1] and behaves at 0 or n successes.
    """
    _check_binomial(successes, trials)
    z = z_score(confidence)
    n, k = trials, successes
    center = (k + z * z / 2) / (n + z * z)
    half = z / (n + z * z) * math.sqrt(k * (n - k) / n + z * z / 4)
    return Interval(max(0.0, center - half), min(1.0, center + half))


def clopper_pearson_interval(successes: int, trials: int,
                             confidence: float = 0.95) -> Interval:
    """Exact (Clopper & Pearson 1934) interval: conservative, coverage >= ``confidence``.

    The bounds are Beta quantiles: low = B⁻¹(α/2; k, n−k+1) and
    high = B⁻¹(1−α/2; k+1, n−k), with low = 0 at k = 0 and high = 1 at k = n.
    """
    _check_binomial(successes, trials)
    _check_confidence(confidence)
    alpha = 1 - confidence
    k, n = successes, trials
    low = 0.0 if k == 0 else inverse_regularized_incomplete_beta(alpha / 2, k, n - k + 1)
    high = 1.0 if k == n else inverse_regularized_incomplete_beta(1 - alpha / 2, k + 1, n - k)
    return Interval(low, high)


def binomial_pmf(k: int, n: int, p: float) -> float:
    if p in (0.0, 1.0):
        return float(k == (0 if p == 0.0 else n))
    log = (math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
           + k * math.log(p) + (n - k) * math.log1p(-p))
    return math.exp(log)


def binomial_cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p), via I_{1−p}(n−k, k+1)."""
    if k < 0:
        return 0.0
    if k >= n:
        return 1.0
    return regularized_incomplete_beta(n - k, k + 1, 1 - p)


def binomial_sf(k: int, n: int, p: float) -> float:
    """P(X > k) for X ~ Binomial(n, p), via I_p(k+1, n−k); exact in the far tail."""
    if k < 0:
        return 1.0
    if k >= n:
        return 0.0
    return regularized_incomplete_beta(k + 1, n - k, p)


def binomial_test(successes: int, trials: int, p: float = 0.5) -> float:
    """Two-sided exact binomial test p-value, as ``scipy.stats.binomtest``.

    Sums the probabilities of every outcome no more likely than the one
    observed (with a 1e-7 relative tolerance for ties). The pmf is unimodal
    around n·p, so the far tail starts where the pmf drops below the observed
    one; a bisection finds it and both tails come from the incomplete beta.
    """
    _check_binomial(successes, trials)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be in [0, 1]; got {p!r}")
    k, n = successes, trials
    if p in (0.0, 1.0):
        return 1.0 if k == (0 if p == 0.0 else n) else 0.0
    expected = n * p
    if k == expected:
        return 1.0
    limit = binomial_pmf(k, n, p) * (1 + 1e-7)
    if k < expected:
        # First j in [ceil(np), n] with pmf(j) <= limit (pmf decreases there).
        lo, hi = math.ceil(expected), n + 1
        while lo < hi:
            mid = (lo + hi) // 2
            if binomial_pmf(mid, n, p) <= limit:
                hi = mid
            else:
                lo = mid + 1
        value = binomial_cdf(k, n, p) + binomial_sf(lo - 1, n, p)
    else:
        # Last j in [0, floor(np)] with pmf(j) <= limit (pmf increases there).
        lo, hi = -1, math.floor(expected)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if binomial_pmf(mid, n, p) <= limit:
                lo = mid
            else:
                hi = mid - 1
        value = binomial_cdf(lo, n, p) + binomial_sf(k - 1, n, p)
    return min(1.0, value)


# --- location and spread ----------------------------------------------------------


def mean(values: Iterable[float]) -> float:
    data = _values(values)
    return math.fsum(data) / len(data)


def std(values: Iterable[float], ddof: int = 1) -> float:
    """Standard deviation with ``ddof`` degrees of freedom removed (1 = sample)."""
    data = _values(values, ddof + 1)
    m = math.fsum(data) / len(data)
    return math.sqrt(math.fsum((x - m) ** 2 for x in data) / (len(data) - ddof))


def coefficient_of_variation(values: Iterable[float], ddof: int = 1) -> float:
    """std / mean: 1 for exponential inter-block times, whatever the target."""
    data = _values(values, ddof + 1)
    m = mean(data)
    if m == 0:
        raise ValueError("coefficient of variation is undefined for a zero mean")
    return std(data, ddof) / m


@dataclass(frozen=True)
class MeanEstimate:
    mean: float
    low: float
    high: float
    stderr: float
    n: int

    def __contains__(self, value: float) -> bool:
        return self.low <= value <= self.high


def mean_ci(values: Iterable[float], confidence: float = 0.95) -> MeanEstimate:
    """Sample mean with a normal-approximation interval: mean ± z·s/√n.

    Fine for the hundreds of samples a simulation yields (central limit
    theorem); for a handful of samples a Student-t interval would be wider.
    """
    data = _values(values, 2)
    z = z_score(confidence)
    m = mean(data)
    se = std(data) / math.sqrt(len(data))
    return MeanEstimate(m, m - z * se, m + z * se, se, len(data))


def percentile(values: Iterable[float], q: float) -> float:
    """q-th percentile (0..100) with linear interpolation, like ``numpy.percentile``."""
    if not 0.0 <= q <= 100.0:
        raise ValueError(f"q must be in [0, 100]; got {q!r}")
    data = sorted(_values(values))
    pos = (len(data) - 1) * q / 100.0
    i = math.floor(pos)
    if i + 1 >= len(data):
        return data[-1]
    return data[i] + (pos - i) * (data[i + 1] - data[i])


@dataclass(frozen=True)
class Description:
    n: int
    mean: float
    std: float
    min: float
    p25: float
    median: float
    p75: float
    p90: float
    p99: float
    max: float


def describe(values: Iterable[float]) -> Description:
    """Count, mean, sample std (NaN for one value), min, quartiles, p90, p99, max."""
    data = sorted(_values(values))
    return Description(
        n=len(data),
        mean=mean(data),
        std=std(data) if len(data) > 1 else math.nan,
        min=data[0],
        p25=percentile(data, 25),
        median=percentile(data, 50),
        p75=percentile(data, 75),
        p90=percentile(data, 90),
        p99=percentile(data, 99),
        max=data[-1],
    )


# --- goodness of fit --------------------------------------------------------------


class KSResult(NamedTuple):
    statistic: float
    pvalue: float
    n: int


def kolmogorov_sf(lam: float) -> float:
    """P(K > λ) for the Kolmogorov distribution (limit of √n·D_n).

    Two series, each fast where the other is slow:
    for λ >= 1, 2 Σ_{k>=1} (−1)^{k−1} e^{−2k²λ²};
    for λ < 1, 1 − (√(2π)/λ) Σ_{k>=1} e^{−(2k−1)²π²/(8λ²)}.
    """
    if lam <= 0:
        return 1.0
    if lam >= 1.0:
        total = 0.0
        for k in range(1, 101):
            term = math.exp(-2.0 * k * k * lam * lam)
            total += term if k % 2 else -term
            if term < 1e-18:
                break
        return max(0.0, min(1.0, 2.0 * total))
    total = 0.0
    for k in range(1, 101):
        term = math.exp(-((2 * k - 1) ** 2) * math.pi ** 2 / (8.0 * lam * lam))
        total += term
        if term < 1e-18 * max(total, 1e-300):
            break
    return max(0.0, min(1.0, 1.0 - math.sqrt(2 * math.pi) / lam * total))


def ks_exponential(values: Sequence[float] | Iterable[float], mean_s: float) -> KSResult:
    """One-sample Kolmogorov–Smirnov test against Exponential(mean ``mean_s``).

    D = sup |F_n(x) − F(x)| with F(x) = 1 − e^{−x/mean}; the p-value is the
    asymptotic one, P(K > √n·D) (as ``scipy.stats.kstest(..., method="asymp")``).
    ``mean_s`` must be fixed in advance (e.g. the 120 s target): estimating
    it from the same data makes the test conservative (Lilliefors).
    """
    if not mean_s > 0:
        raise ValueError(f"mean_s must be > 0; got {mean_s!r}")
    data = sorted(_values(values))
    n = len(data)
    d = 0.0
    for i, x in enumerate(data):
        f = -math.expm1(-x / mean_s) if x > 0 else 0.0
        d = max(d, (i + 1) / n - f, f - i / n)
    return KSResult(d, kolmogorov_sf(math.sqrt(n) * d), n)
