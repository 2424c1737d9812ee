"""Aggregate many runs (a sweep) into rates and means with confidence intervals.

Input: summary dicts (``monerosim.summary/1``) or rows of a JSON report.
Every attack records its parameters under ``attacks.<name>.params``; runs are
grouped by (attack, parameters). For each group:

* boolean metrics → success rate with a Wilson interval;
* numeric metrics → mean with a normal interval;
* an attack that runs several trials per run (``double_spend``) reports
  ``successes`` and ``trials`` beside its ``success`` rate: ``success`` is then
  the pooled rate over all trials with a Wilson interval;
* a single run's numeric metric with a standard error ``<metric>_se`` beside it
  (``selfish_mining``'s ``revenue_share_se``) → that run's value ± z·se;
* the theory value beside a metric when the literature has one (see
  :data:`THEORY`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .stats import mean_ci, wilson_interval, z_score
from .theory import double_spend_exact, selfish_mining_revenue

TheoryFn = Callable[[Mapping[str, Any]], dict[str, float]]


def _double_spend(p: Mapping[str, Any]) -> dict[str, float]:
    return {"success": double_spend_exact(float(p["q"]), int(p["z"]))}


def _selfish(p: Mapping[str, Any]) -> dict[str, float]:
    return {"revenue_share": selfish_mining_revenue(float(p["alpha"]), float(p["gamma"]))}


#: attack name → function of its params giving theory values per metric
THEORY: dict[str, TheoryFn] = {"double_spend": _double_spend, "selfish_mining": _selfish}


@dataclass
class MetricStat:
    name: str
    n: int
    value: float
    low: float
    high: float
    kind: str  # "rate" | "mean"
    theory: float | None = None

    @property
    def agrees(self) -> bool | None:
        """Theory inside the interval (None when there is no theory)."""
        if self.theory is None:
            return None
        return self.low <= self.theory <= self.high


@dataclass
class Group:
    attack: str
    params: dict[str, Any]
    runs: int = 0
    metrics: dict[str, MetricStat] = field(default_factory=dict)


def _key(params: Mapping[str, Any]) -> str:
    return json.dumps(params, sort_keys=True, default=str)


def aggregate(summaries: Iterable[Mapping[str, Any]], confidence: float = 0.95) -> list[Group]:
    buckets: dict[tuple[str, str], tuple[dict[str, Any], list[Mapping[str, Any]]]] = {}
    for summary in summaries:
        for name, metrics in (summary.get("attacks") or {}).items():
            params = dict(metrics.get("params") or {})
            slot = buckets.setdefault((name, _key(params)), (params, []))
            slot[1].append(metrics)
    groups: list[Group] = []
    for (name, _), (params, rows) in sorted(buckets.items()):
        group = Group(name, params, runs=len(rows))
        theory = THEORY[name](params) if name in THEORY and _has_theory_params(name, params) else {}
        keys = sorted({k for r in rows for k, v in r.items() if _scalar(v)})
        for key in keys:
            values = [r[key] for r in rows if key in r and _scalar(r[key])]
            if not values:
                continue
            counts = _trial_counts(rows) if key == "success" else None
            if counts is not None:
                k, n = counts
                ci = wilson_interval(k, n, confidence)
                stat = MetricStat(key, n, k / n, ci.low, ci.high, "rate")
            elif all(isinstance(v, bool) for v in values):
                k = sum(1 for v in values if v)
                ci = wilson_interval(k, len(values), confidence)
                stat = MetricStat(key, len(values), k / len(values), ci.low, ci.high, "rate")
            else:
                nums = [float(v) for v in values]
                se: Any = rows[0].get(f"{key}_se") if len(rows) == 1 else None
                if len(nums) < 2 and isinstance(se, (int, float)) and not isinstance(se, bool):
                    half = z_score(confidence) * float(se)
                    stat = MetricStat(key, 1, nums[0], nums[0] - half, nums[0] + half, "mean")
                elif len(nums) < 2:
                    stat = MetricStat(key, 1, nums[0], nums[0], nums[0], "mean")
                else:
                    est = mean_ci(nums, confidence)
                    stat = MetricStat(key, len(nums), est.mean, est.low, est.high, "mean")
            stat.theory = theory.get(key)
            group.metrics[key] = stat
        groups.append(group)
    return groups


def _trial_counts(rows: list[Mapping[str, Any]]) -> tuple[int, int] | None:
    """Pooled (successes, trials) when every run reports both as integers (and some trial ran)."""
    k = n = 0
    for r in rows:
        s, t = r.get("successes"), r.get("trials")
        if not (isinstance(s, int) and isinstance(t, int)) or isinstance(s, bool) or isinstance(t, bool):
            return None
        k, n = k + s, n + t
    return (k, n) if n > 0 and 0 <= k <= n else None


def _has_theory_params(name: str, params: Mapping[str, Any]) -> bool:
    need = {"double_spend": ("q", "z"), "selfish_mining": ("alpha", "gamma")}.get(name, ())
    return all(k in params for k in need)


def _scalar(value: Any) -> bool:
    return isinstance(value, (bool, int, float)) and not isinstance(value, str)


def format_groups(groups: list[Group]) -> list[str]:
    lines: list[str] = []
    for g in groups:
        params = ", ".join(f"{k}={v}" for k, v in g.params.items())
        lines.append(f"{g.attack} ({params}): {g.runs} run(s)")
        for stat in g.metrics.values():
            theory = ""
            if stat.theory is not None:
                mark = "agrees" if stat.agrees else "DISAGREES"
                theory = f"  theory {stat.theory:.4g} ({mark})"
            label = "rate" if stat.kind == "rate" else "mean"
            lines.append(
                f"  {stat.name:<24} {label} {stat.value:.4g}  [{stat.low:.4g}, {stat.high:.4g}]  "
                f"n={stat.n}{theory}"
            )
    return lines
