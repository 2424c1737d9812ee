"""Propagation and performance checks."""

from __future__ import annotations

from typing import Any

from ..result.summary import percentile, propagation_times
from ._common import as_result
from .observed import observed


@observed
def propagation_within(run: Any, p50_s: float | None = None, p90_s: float | None = None,
                       p99_s: float | None = None, fraction: float = 0.9) -> dict[str, float]:
    """Percentiles over blocks of the time to reach ``fraction`` of honest nodes."""
    result = as_result(run)
    times = propagation_times(result, fraction)
    if not times:
        raise AssertionError(f"no block reached {fraction:.0%} of honest nodes")
    got = {q: percentile(times, q) or 0.0 for q in (50, 90, 99)}
    bad = [
        f"p{q}={got[q]:.3f}s > {bound}s"
        for q, bound in ((50, p50_s), (90, p90_s), (99, p99_s))
        if bound is not None and got[q] > bound
    ]
    if bad:
        worst = sorted(times)[-3:]
        raise AssertionError(
            f"block propagation to {fraction:.0%} of honest nodes too slow over {len(times)} blocks: "
            + ", ".join(bad) + f"; slowest: {', '.join(f'{t:.2f}s' for t in worst)}"
        )
    return {f"p{q}_s": v for q, v in got.items()}


@observed
def stale_rate_at_most(run: Any, bound: float) -> float:
    result = as_result(run)
    stale = result.stale_blocks()
    mined = sum(1 for b in result.blocks.values() if b.parent is not None)
    rate = len(stale) / mined if mined else 0.0
    if rate > bound:
        raise AssertionError(
            f"stale rate {rate:.3%} ({len(stale)} of {mined} blocks) exceeds {bound:.3%}; "
            f"stale blocks by miner: {_by_miner(stale)}"
        )
    return rate


def _by_miner(blocks: list[Any]) -> dict[str, int]:
    out: dict[str, int] = {}
    for b in blocks:
        out[b.miner] = out.get(b.miner, 0) + 1
    return dict(sorted(out.items(), key=lambda kv: -kv[1])[:5])
