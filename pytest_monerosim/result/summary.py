"""The summary JSON (schema ``monerosim.summary/1``) derived from a :class:`Result`.

Every figure is computed from the records, so the same records give the same
summary; only ``wall_seconds`` depends on the machine.
"""

from __future__ import annotations

import json
import math
from typing import Any

from .model import Result

SCHEMA = "monerosim.summary/1"
PROPAGATION_FRACTION = 0.9


def percentile(values: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return None
    data = sorted(values)
    pos = (len(data) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


def _r(x: float | None, nd: int = 6) -> float | None:
    return None if x is None else round(x, nd)


def propagation_times(result: Result, fraction: float = PROPAGATION_FRACTION) -> list[float]:
    """Per block: time from being found until ``fraction`` of honest nodes had it."""
    honest = result.honest_nodes()
    need = max(1, math.ceil(fraction * len(honest)))
    out: list[float] = []
    for block in result.blocks.values():
        if block.parent is None:
            continue
        delays = sorted(block.arrivals[n] - block.found_at for n in honest if n in block.arrivals)
        if len(delays) >= need:
            out.append(delays[need - 1])
    return out


def dig(data: dict[str, Any], dotted: str) -> Any:
    """``data["a"]["b"]`` for ``"a.b"``; None where a key is missing."""
    cur: Any = data
    for part in dotted.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return cur


def blocks_section(result: Result) -> dict[str, Any]:
    main = result.main_chain()
    mined = sum(1 for b in result.blocks.values() if b.parent is not None)
    stale = mined - (len(main) - 1)
    stamps = [b.timestamp_or_found() for b in main[1:]]
    intervals = [later - earlier for earlier, later in zip(stamps, stamps[1:], strict=False)]
    return {
        "mined": mined,
        "main_chain_height": main[-1].height,
        "stale": stale,
        "stale_rate": _r(stale / mined if mined else 0.0),
        "mean_interval_s": _r(sum(intervals) / len(intervals) if intervals else None, 3),
        "median_interval_s": _r(percentile(intervals, 50), 3),
    }


def consensus_section(result: Result) -> dict[str, Any]:
    # nodes a churn left offline at the end are not asked (a stopped daemon answers nothing)
    offline = set(result.extra.get("offline_at_end", ()))
    honest = [n for n in result.honest_nodes() if n not in offline]
    tips = {result.tips[n] for n in honest if n in result.tips}
    heights = [result.blocks[result.tips[n]].height for n in honest if n in result.tips]
    out: dict[str, Any] = {
        "agreed": len(tips) <= 1,
        "distinct_tips": len(tips),
        "max_height_spread": (max(heights) - min(heights)) if heights else 0,
    }
    if offline:
        out["offline_at_end"] = len(offline)
    return out


def rewards_section(result: Result) -> dict[str, Any]:
    by_miner: dict[str, int] = {}
    for block in result.main_chain()[1:]:
        by_miner[block.miner] = by_miner.get(block.miner, 0) + block.reward
    return {"total": sum(by_miner.values()), "by_miner": dict(sorted(by_miner.items()))}


def transactions_section(result: Result) -> dict[str, Any]:
    txs = list(result.txs.values())
    confirmed = [t for t in txs if t.status == "confirmed"]
    lat = [t.confirmed_at - t.created_at for t in confirmed if t.confirmed_at is not None]
    honest = max(1, len(result.honest_nodes()))
    return {
        "created": len(txs),
        "relayed": sum(1 for t in txs if t.reached >= honest),
        "confirmed": len(confirmed),
        "in_blocks_ratio": _r(len(confirmed) / len(txs) if txs else 0.0),
        "double_spends_rejected": result.double_spends_rejected,
        "reversed": sum(1 for t in txs if t.status == "reversed"),
        "confirmation_p50_s": _r(percentile(lat, 50), 3),
        "confirmation_p90_s": _r(percentile(lat, 90), 3),
        "fees_total": sum(t.fee for t in confirmed),
    }


def wallets_section(result: Result) -> dict[str, Any]:
    return {
        "count": len(result.wallets),
        "funded": sum(1 for w in result.wallets.values() if w.funded_at is not None),
    }


def summarize(result: Result) -> dict[str, Any]:
    prop = propagation_times(result)
    summary: dict[str, Any] = {
        "schema": SCHEMA,
        "scenario": result.scenario,
        "backend": result.backend,
        "seed": result.seed,
        "nodes": len(result.nodes),
        "sim_seconds": _r(result.sim_seconds, 3),
        "wall_seconds": _r(result.wall_seconds, 3),
        "events": result.events,
        "blocks": blocks_section(result),
        "reorgs": {
            "count": len(result.reorgs),
            "max_depth": max((r.depth for r in result.reorgs), default=0),
        },
        "propagation": {
            "p50_s": _r(percentile(prop, 50)),
            "p90_s": _r(percentile(prop, 90)),
            "p99_s": _r(percentile(prop, 99)),
        },
        "consensus": consensus_section(result),
        "rewards": rewards_section(result),
    }
    if result.txs or result.wallets:
        summary["transactions"] = transactions_section(result)
        summary["wallets"] = wallets_section(result)
    if result.attacks:
        summary["attacks"] = {name: _jsonable(m) for name, m in sorted(result.attacks.items())}
    # real backends: how hosts were isolated, what time scaling did, the end-of-run tie-breaks;
    # the sim's mainnet conditions
    for key in ("network", "timing", "end_of_run", "reachability", "churn", "spies"):
        if isinstance(result.extra.get(key), dict):
            summary[key] = _jsonable(result.extra[key])
    return summary


def _jsonable(value: Any) -> Any:
    """Attack metrics may hold tuples, floats with noise: normalise for stable JSON."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, float):
        return round(value, 6) if math.isfinite(value) else None
    return value


def dumps(summary: dict[str, Any]) -> str:
    return json.dumps(summary, indent=2, sort_keys=False) + "\n"


def without_wall_clock(summary: dict[str, Any]) -> dict[str, Any]:
    """The summary minus the fields that depend on the machine (for determinism checks)."""
    return {k: v for k, v in summary.items() if k != "wall_seconds"}
