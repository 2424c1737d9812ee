"""Consensus checks: do honest nodes agree on one chain, and how fast do they get there?"""

from __future__ import annotations

from collections import Counter
from typing import Any

from ._common import as_result, listing
from .observed import observed


@observed
def consensus_reached(run: Any, max_height_spread: int = 0, nodes: list[str] | None = None) -> None:
    """All honest nodes (or ``nodes``) end on one tip, or within ``max_height_spread`` blocks.

    With ``max_height_spread=0`` the tips must be the same block.
    """
    result = as_result(run)
    names = nodes or result.honest_nodes()
    tips = {n: result.tips[n] for n in names}
    heights = {n: result.blocks[t].height for n, t in tips.items()}
    ref = result.reference_tip()
    ref_height = result.blocks[ref].height
    if max_height_spread == 0:
        off = sorted(n for n, t in tips.items() if t != ref)
        if off:
            groups = Counter(tips[n] for n in off)
            detail = "; ".join(
                f"{len([n for n in off if tips[n] == t])} node(s) on {t[:12]} at height "
                f"{result.blocks[t].height} (e.g. {listing([n for n in off if tips[n] == t], 3)})"
                for t, _ in groups.most_common(3)
            )
            raise AssertionError(
                f"no consensus at t={result.sim_seconds:.0f}s: {len(off)} of {len(names)} honest nodes "
                f"are not on the heaviest tip {ref[:12]} (height {ref_height}): {detail}"
            )
        return
    spread = max(heights.values()) - min(heights.values())
    if spread > max_height_spread:
        low = sorted(heights, key=heights.__getitem__)[:5]
        raise AssertionError(
            f"height spread {spread} > {max_height_spread}: heights range "
            f"{min(heights.values())}..{max(heights.values())}; lowest: "
            + ", ".join(f"{n}@{heights[n]}" for n in low)
        )


@observed
def converged_within(run: Any, seconds: float, after: float = 0.0) -> float:
    """Every block on the final main chain found after ``after`` reached all honest nodes
    within ``seconds``; returns the worst time observed.

    Blocks found in the last ``seconds`` of the run are not judged: they had no
    chance to converge yet.
    """
    result = as_result(run)
    honest = result.honest_nodes()
    worst, worst_block, missing = 0.0, None, []
    for block in result.main_chain()[1:]:
        if block.found_at < after or block.found_at > result.sim_seconds - seconds:
            continue
        lacking = [n for n in honest if n not in block.arrivals]
        if lacking:
            missing.append((block, lacking))
            continue
        delay = max(block.arrivals[n] for n in honest) - block.found_at
        if delay > worst:
            worst, worst_block = delay, block
    if missing:
        block, lacking = missing[0]
        raise AssertionError(
            f"{len(missing)} main-chain block(s) never reached every honest node; first: height "
            f"{block.height} ({block.id[:12]}, found {block.found_at:.0f}s by {block.miner}) "
            f"missing at {listing(sorted(lacking))}"
        )
    if worst > seconds:
        assert worst_block is not None
        slow = sorted(honest, key=lambda n: -worst_block.arrivals[n])[:3]
        raise AssertionError(
            f"block at height {worst_block.height} took {worst:.2f}s to reach every honest node "
            f"(bound {seconds}s); last to get it: "
            + ", ".join(f"{n} (+{worst_block.arrivals[n] - worst_block.found_at:.2f}s)" for n in slow)
        )
    return worst


@observed
def no_deep_reorgs(run: Any, max_depth: int) -> None:
    result = as_result(run)
    deep = [r for r in result.reorgs if r.depth > max_depth]
    if deep:
        r = max(deep, key=lambda r: r.depth)
        raise AssertionError(
            f"{len(deep)} reorg(s) deeper than {max_depth}; deepest: {r.depth} blocks on {r.node} at "
            f"t={r.time:.0f}s (fork at height {r.fork_height}, {r.old_tip[:12]} -> {r.new_tip[:12]})"
        )


@observed
def block_interval(run: Any, target: float | None = None, tolerance: float | None = None) -> float:
    """Mean main-chain block interval within ``tolerance`` (relative) of the target.

    Without a tolerance: four standard errors of the mean of exponential intervals
    (coefficient of variation 1), i.e. ``4 / sqrt(n)`` — a false alarm about once in
    16,000 runs, whatever the run's length.
    """
    result = as_result(run)
    target = target or result.target_s
    main = result.main_chain()
    if len(main) < 3:
        raise AssertionError(f"only {len(main) - 1} blocks on the main chain; cannot judge the interval")
    span = main[-1].timestamp_or_found() - main[1].timestamp_or_found()
    mean = span / (len(main) - 2)
    if tolerance is None:
        tolerance = 4 / (len(main) - 2) ** 0.5
    if abs(mean - target) > tolerance * target:
        raise AssertionError(
            f"mean block interval {mean:.1f}s over {len(main) - 2} intervals is outside "
            f"{target}s ± {tolerance:.0%}"
        )
    return mean
