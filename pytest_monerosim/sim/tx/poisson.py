"""Poisson draws by table inversion (one uniform and one bisection per draw).

Monero draws its Dandelion++ timers from ``std::poisson_distribution``:
``random_poisson_seconds`` (the 39 s embargo) in whole seconds, and
``random_poisson_subseconds`` (the 5 s fluff flush, 2.5 s on outgoing
connections) in quarter seconds, i.e. Poisson(20) or Poisson(10) quarters.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right


class PoissonTable:
    """Cumulative probabilities of Poisson(``lam``) up to where they reach 1 - 1e-15."""

    def __init__(self, lam: float) -> None:
        if lam < 0:
            raise ValueError(f"Poisson mean {lam} is negative")
        self.lam = lam
        cdf: list[float] = []
        if lam == 0:
            cdf.append(1.0)
        else:
            p = math.exp(-lam)
            total = 0.0
            k = 0
            limit = lam + 20 * math.sqrt(lam) + 20
            while total < 1 - 1e-15 and k <= limit:
                total += p
                cdf.append(total)
                k += 1
                p *= lam / k
        self.cdf = cdf

    def draw(self, rng: random.Random) -> int:
        k = bisect_right(self.cdf, rng.random())
        return min(k, len(self.cdf) - 1)


class PoissonTimer:
    """A timer of mean ``mean_s`` seconds counted in units of ``unit_s`` (Poisson in units)."""

    def __init__(self, mean_s: float, unit_s: float) -> None:
        if unit_s <= 0:
            raise ValueError("unit_s must be > 0")
        self.unit_s = unit_s
        self.table = PoissonTable(mean_s / unit_s)

    def draw(self, rng: random.Random) -> float:
        return self.table.draw(rng) * self.unit_s
