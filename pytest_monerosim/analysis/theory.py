"""Closed-form results from the literature that the simulator must reproduce.

Pure Python (``math`` only): the special function these formulas need, the
regularized incomplete beta, is implemented here.

References
----------
- S. Nakamoto, "Bitcoin: A Peer-to-Peer Electronic Cash System", 2008, §11.
- M. Rosenfeld, "Analysis of Hashrate-Based Double Spending", 2014, arXiv:1402.2009.
- C. Grunspan, R. Pérez-Marco, "Double spend races", 2017, arXiv:1702.02867
  (Int. J. Theor. Appl. Finance 21(8), 2018).
- I. Eyal, E. G. Sirer, "Majority Is Not Enough: Bitcoin Mining Is Vulnerable",
  Financial Cryptography 2014, arXiv:1311.0243.
- C. Decker, R. Wattenhofer, "Information Propagation in the Bitcoin Network",
  IEEE P2P 2013.
- W. H. Press et al., "Numerical Recipes", 3rd ed., §6.4 (the continued
  fraction for the incomplete beta and the modified Lentz method, §5.2).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# --- argument checks --------------------------------------------------------------


def _check_probability(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0 or math.isnan(value):
        raise ValueError(f"{name} must be in [0, 1]; got {value!r}")


def _check_count(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer; got {value!r}")


def _check_positive(name: str, value: float) -> None:
    if not value > 0 or math.isinf(value):
        raise ValueError(f"{name} must be a positive finite number; got {value!r}")


# --- regularized incomplete beta --------------------------------------------------

_TINY = 1e-300
_EPS = 1e-15
_MAX_TERMS = 100_000


def _beta_continued_fraction(a: float, b: float, x: float) -> float:
    """Value of 1/(1 + d1/(1 + d2/(1 + ...))) by the modified Lentz method.

    With m = 1, 2, ...: d(2m) = m(b-m)x / ((a+2m-1)(a+2m)) and
    d(2m+1) = -(a+m)(a+b+m)x / ((a+2m)(a+2m+1)); d(1) = -(a+b)x/(a+1).
    It converges quickly for x < (a+1)/(a+b+2); callers use the symmetry
    I_x(a, b) = 1 - I_{1-x}(b, a) to stay in that region.
    """
    # Start the continued fraction at its first "1 +": f = 1/(1 + d1/(1 + ...)).
    c = 1.0
    d = 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    f = d
    for m in range(1, _MAX_TERMS):
        for coeff in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1.0 + coeff * d
            d = 1.0 / (d if abs(d) > _TINY else _TINY)
            c = 1.0 + coeff / c
            c = c if abs(c) > _TINY else _TINY
            f *= c * d
        if abs(c * d - 1.0) < _EPS:
            return f
    raise ArithmeticError(f"incomplete beta continued fraction did not converge "
                          f"(a={a}, b={b}, x={x})")


def regularized_incomplete_beta(a: float, b: float, x: float) -> float:
    """I_x(a, b) = B(x; a, b) / B(a, b) for a, b > 0 and 0 <= x <= 1.

    The CDF of a Beta(a, b) variable at x. Continued fraction (Numerical
    Recipes §6.4) with ``math.lgamma`` for the beta function; agrees with
    ``scipy.special.betainc`` to about 1e-13 relative.
    """
    _check_positive("a", a)
    _check_positive("b", b)
    if not 0.0 <= x <= 1.0:
        raise ValueError(f"x must be in [0, 1]; got {x!r}")
    if x == 0.0 or x == 1.0:
        return x
    log_front = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                 + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_continued_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_continued_fraction(b, a, 1.0 - x) / b


def inverse_regularized_incomplete_beta(p: float, a: float, b: float) -> float:
    """The x in [0, 1] with I_x(a, b) = p, by bisection (I_x is increasing in x).

    Bisection is slow next to Newton's method but cannot diverge; it runs
    until the bracket is two adjacent floats (about 50 halvings for x of
    order 1, more for tiny x), so the answer is as exact as I_x allows.
    """
    _check_probability("p", p)
    _check_positive("a", a)
    _check_positive("b", b)
    if p in (0.0, 1.0):
        return p
    lo, hi = 0.0, 1.0
    for _ in range(2100):  # enough to reach the smallest subnormal from [0, 1]
        mid = 0.5 * (lo + hi)
        if mid <= lo or mid >= hi:
            break
        if regularized_incomplete_beta(a, b, mid) < p:
            lo = mid
        else:
            hi = mid
    return hi


# --- block arrivals ---------------------------------------------------------------


@dataclass(frozen=True)
class InterBlockStats:
    """Moments of the exponential inter-block time with mean ``target_s``."""

    target_s: float

    @property
    def mean(self) -> float:
        return self.target_s

    @property
    def median(self) -> float:
        return self.target_s * math.log(2)

    @property
    def std(self) -> float:
        return self.target_s

    @property
    def cv(self) -> float:
        """Coefficient of variation std/mean: 1 for any exponential."""
        return 1.0

    def cdf(self, t: float) -> float:
        return 0.0 if t <= 0 else -math.expm1(-t / self.target_s)

    def quantile(self, q: float) -> float:
        _check_probability("q", q)
        return math.inf if q == 1.0 else -self.target_s * math.log1p(-q)


def interblock_stats(target_s: float) -> InterBlockStats:
    """Inter-block times when blocks are found by a Poisson process of rate 1/T.

    Mining is memoryless: every hash is an independent trial, so block
    arrivals form a Poisson process and the gaps are exponential with mean T,
    median T·ln 2 and coefficient of variation 1 (the model of Nakamoto 2008,
    §11, and of Decker & Wattenhofer 2013). For Monero, T = 120 s gives a
    median of about 83 s.
    """
    _check_positive("target_s", target_s)
    return InterBlockStats(target_s)


def stale_rate(delay_s: float, interval_s: float) -> float:
    """Probability that a block is made stale: 1 − exp(−d/T).

    Decker & Wattenhofer (2013): while a block takes ``d`` seconds to reach
    the network, a competing block is found in that window with probability
    1 − exp(−d/T) under Poisson mining with mean interval ``T``.
    """
    if not delay_s >= 0 or math.isinf(delay_s):
        raise ValueError(f"delay_s must be a non-negative finite number; got {delay_s!r}")
    _check_positive("interval_s", interval_s)
    return -math.expm1(-delay_s / interval_s)


# --- double spends ----------------------------------------------------------------


def nakamoto_double_spend(q: float, z: int) -> float:
    """Nakamoto's approximation of the attacker's success probability (whitepaper §11).

    The attacker's progress while the merchant waits for ``z`` blocks is taken
    as Poisson with mean λ = z·q/p; from a deficit of k blocks the attacker
    catches up with probability (q/p)^k (gambler's ruin):

        P = 1 − Σ_{k=0..z} e^{−λ} λ^k / k! · (1 − (q/p)^{z−k})

    It underestimates the exact risk (see :func:`double_spend_exact`).
    """
    _check_probability("q", q)
    _check_count("z", z)
    p = 1.0 - q
    if q >= p:
        return 1.0
    if q == 0.0:
        return 1.0 if z == 0 else 0.0
    lam = z * q / p
    ratio = q / p

    def poisson(k: int) -> float:
        return math.exp(-lam + k * math.log(lam) - math.lgamma(k + 1)) if lam else float(k == 0)

    # Rearranged as P(K > z) + Σ_{k<=z} P(K = k)·(q/p)^{z−k}: all terms positive, so
    # no cancellation when P is tiny. λ < z, so the tail terms shrink from k = z+1 on.
    caught_up = math.fsum(poisson(k) * ratio ** (z - k) for k in range(z + 1))
    tail, k = [], z + 1
    while True:
        term = poisson(k)
        tail.append(term)
        if term < 1e-17 * max(caught_up, 1e-300) or term == 0.0:
            break
        k += 1
    return min(1.0, caught_up + math.fsum(tail))


def double_spend_exact(q: float, z: int) -> float:
    """Exact probability that an attacker with hash share ``q`` reverses ``z`` confirmations.

    Rosenfeld (2014) models the attacker's blocks while the merchant waits as
    negative binomial rather than Poisson; Grunspan & Pérez-Marco (2017)
    showed his sum equals a regularized incomplete beta:

        P(q, z) = I_{4pq}(z, 1/2),   p = 1 − q,

    and P = 1 when q >= 1/2 (the majority always catches up) or z = 0.
    """
    _check_probability("q", q)
    _check_count("z", z)
    if z == 0 or q >= 0.5:
        return 1.0
    if q == 0.0:
        return 0.0
    return regularized_incomplete_beta(float(z), 0.5, 4.0 * q * (1.0 - q))


def min_confirmations(q: float, max_risk: float, *, exact: bool = True,
                      limit: int = 100_000) -> int:
    """Smallest z with success probability < ``max_risk`` (Nakamoto §11's table when not exact).

    Uses :func:`double_spend_exact` (Rosenfeld 2014 / Grunspan & Pérez-Marco
    2017) or, with ``exact=False``, :func:`nakamoto_double_spend`. Raises
    ``ValueError`` when no z up to ``limit`` suffices (always for q >= 1/2).
    """
    _check_probability("q", q)
    if not 0.0 < max_risk <= 1.0:
        raise ValueError(f"max_risk must be in (0, 1]; got {max_risk!r}")
    risk = double_spend_exact if exact else nakamoto_double_spend
    if risk(q, 0) < max_risk:
        return 0
    # Risk falls with z: double until below max_risk, then bisect (lo fails, hi passes).
    lo, hi = 0, 1
    while risk(q, hi) >= max_risk:
        if hi >= limit or q >= 0.5:
            raise ValueError(f"q={q}: no number of confirmations up to {limit} brings the "
                             f"risk below max_risk={max_risk}")
        lo, hi = hi, min(2 * hi, limit)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if risk(q, mid) < max_risk:
            hi = mid
        else:
            lo = mid
    return hi


# --- selfish mining ---------------------------------------------------------------


def selfish_mining_revenue(alpha: float, gamma: float) -> float:
    """Relative revenue of a selfish pool (Eyal & Sirer 2014, eq. 8).

    ``alpha`` is the pool's hash share, ``gamma`` the share of honest miners
    that build on the pool's block during a tie:

        R = [α(1−α)²(4α + γ(1−2α)) − α³] / [1 − α(1 + (2−α)α)]

    Defined for 0 <= α <= 1/2 (the paper's state machine assumes a minority
    pool); selfish mining pays (R > α) above :func:`selfish_mining_threshold`.
    """
    _check_probability("gamma", gamma)
    if not 0.0 <= alpha <= 0.5:
        raise ValueError(f"alpha must be in [0, 0.5]; got {alpha!r}")
    numerator = alpha * (1 - alpha) ** 2 * (4 * alpha + gamma * (1 - 2 * alpha)) - alpha ** 3
    denominator = 1 - alpha * (1 + (2 - alpha) * alpha)
    return numerator / denominator


def selfish_mining_threshold(gamma: float) -> float:
    """Hash share above which selfish mining pays: (1−γ)/(3−2γ) (Eyal & Sirer 2014).

    1/3 when γ = 0, 1/4 when γ = 1/2, 0 when γ = 1.
    """
    _check_probability("gamma", gamma)
    return (1 - gamma) / (3 - 2 * gamma)
