"""Baseline envelopes: did a network's summary metrics move since the stored run?

A baseline file (``--monerosim-baseline PATH``, JSON, schema
``monerosim.baseline/1``) maps a network key (the test id; ``#1``, ``#2``...
for further networks of one test) to an envelope per metric (a dotted path in
the summary)::

    {"value": 31, "abs": 1}              # |x - 31| <= max(abs, rel * |31|)
    {"value": 0.12, "rel": 0.1}
    {"min": 0.0, "max": 0.05}            # bounds, either may be left out
    {"value": true}                      # booleans and strings must match

``--monerosim-baseline-update`` refreshes ``value`` entries from the current
run and keeps every tolerance and every ``min``/``max`` entry a person wrote.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = "monerosim.baseline/1"

SECTIONS = ("blocks", "reorgs", "propagation", "consensus", "transactions", "wallets")
TOP_LEVEL = ("nodes", "sim_seconds")
SKIP = {"wall_seconds", "events", "schema", "scenario", "backend", "seed"}


class BaselineError(ValueError):
    """The baseline file is unreadable or malformed (a usage error)."""


def network_key(nodeid: str, index: int) -> str:
    return nodeid if index == 0 else f"{nodeid}#{index}"


def metrics_of(summary: dict[str, Any]) -> dict[str, Any]:
    """The summary's comparable scalars, by dotted path."""
    out: dict[str, Any] = {}
    for key in TOP_LEVEL:
        if key in summary:
            out[key] = summary[key]
    for section in SECTIONS:
        for key, value in (summary.get(section) or {}).items():
            if _scalar(value):
                out[f"{section}.{key}"] = value
    for name, metrics in (summary.get("attacks") or {}).items():
        for key, value in (metrics or {}).items():
            if _scalar(value):
                out[f"attacks.{name}.{key}"] = value
    return {k: v for k, v in out.items() if k.split(".")[-1] not in SKIP}


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, (bool, int, float, str))


def default_envelope(path: str, value: Any) -> dict[str, Any]:
    if value is None or isinstance(value, (bool, str)):
        return {"value": value}
    leaf = path.rsplit(".", 1)[-1]
    if "rate" in leaf or "ratio" in leaf or "share" in leaf or "fraction" in leaf:
        return {"value": value, "abs": 0.02}
    if isinstance(value, int):
        return {"value": value, "rel": 0.1, "abs": 1}
    return {"value": value, "rel": 0.1}


@dataclass(frozen=True)
class Deviation:
    key: str
    metric: str
    expected: str
    actual: Any
    moved: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "metric": self.metric,
            "expected": self.expected,
            "actual": self.actual,
            "moved": self.moved,
        }


def _num(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_metric(key: str, metric: str, envelope: dict[str, Any], actual: Any) -> Deviation | None:
    """``None`` when ``actual`` lies inside the envelope, else what moved and by how much."""
    if "min" in envelope or "max" in envelope:
        lo, hi = envelope.get("min"), envelope.get("max")
        expected = f"[{'' if lo is None else lo}, {'' if hi is None else hi}]"
        if not _num(actual):
            return Deviation(key, metric, expected, actual, "not a number")
        if lo is not None and actual < lo:
            return Deviation(key, metric, expected, actual, f"{_fmt(actual - lo)} below min")
        if hi is not None and actual > hi:
            return Deviation(key, metric, expected, actual, f"+{_fmt(actual - hi)} above max")
        return None
    value = envelope.get("value")
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not _num(actual):
        if actual != value:
            return Deviation(key, metric, json.dumps(value), actual, "changed")
        return None
    tol = max(float(envelope.get("abs", 0.0)), float(envelope.get("rel", 0.0)) * abs(value))
    diff = actual - value
    if abs(diff) <= tol + 1e-12:
        return None
    rel = f" ({diff / value:+.1%})" if value else ""
    return Deviation(key, metric, f"{_fmt(value)} ± {_fmt(tol)}", actual, f"{diff:+.6g}{rel}")


def _fmt(x: Any) -> str:
    return f"{x:.6g}" if isinstance(x, float) else str(x)


class Baseline:
    """A loaded baseline file (entries by network key, then metric)."""

    def __init__(self, entries: dict[str, dict[str, dict[str, Any]]] | None = None) -> None:
        self.entries = entries or {}

    @classmethod
    def load(cls, path: Path, *, missing_ok: bool = False) -> Baseline:
        if not path.exists():
            if missing_ok:
                return cls()
            raise BaselineError(
                f"--monerosim-baseline={path}: no such file (create it with --monerosim-baseline-update)"
            )
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise BaselineError(f"--monerosim-baseline={path}: not readable JSON: {exc}") from None
        if (
            not isinstance(data, dict)
            or data.get("schema") != SCHEMA
            or not isinstance(data.get("tests"), dict)
        ):
            raise BaselineError(
                f"--monerosim-baseline={path}: expected a JSON object with "
                f'"schema": "{SCHEMA}" and "tests": {{test id: {{metric: envelope}}}}'
            )
        for key, metrics in data["tests"].items():
            for metric, env in (metrics or {}).items():
                if not isinstance(env, dict) or not ({"value", "min", "max"} & set(env)):
                    raise BaselineError(
                        f"--monerosim-baseline={path}: {key} {metric}: envelope {env!r} "
                        "needs value (with abs/rel) or min/max"
                    )
        return cls(data["tests"])

    def compare(self, key: str, summary: dict[str, Any]) -> list[Deviation] | None:
        """Deviations of one network (``None`` if the baseline does not know this network)."""
        envelopes = self.entries.get(key)
        if envelopes is None:
            return None
        current = metrics_of(summary)
        out: list[Deviation] = []
        for metric, env in envelopes.items():
            if metric not in current:
                out.append(Deviation(key, metric, _expected(env), None, "metric missing"))
                continue
            dev = check_metric(key, metric, env, current[metric])
            if dev is not None:
                out.append(dev)
        return out

    def refresh(self, key: str, summary: dict[str, Any]) -> None:
        old = self.entries.get(key, {})
        new: dict[str, dict[str, Any]] = {}
        for metric, value in metrics_of(summary).items():
            if isinstance(value, float) and not math.isfinite(value):
                continue
            env = old.get(metric)
            if env is not None and ("min" in env or "max" in env):
                new[metric] = env
            elif env is not None:
                new[metric] = {**env, "value": value}
            else:
                new[metric] = default_envelope(metric, value)
        self.entries[key] = new

    def dumps(self) -> str:
        data = {"schema": SCHEMA, "tests": {k: self.entries[k] for k in sorted(self.entries)}}
        return json.dumps(data, indent=2) + "\n"


def _expected(env: dict[str, Any]) -> str:
    if "min" in env or "max" in env:
        return f"[{env.get('min', '')}, {env.get('max', '')}]"
    return json.dumps(env.get("value"))


def format_deviations(devs: list[Deviation], with_key: bool = False) -> list[str]:
    head = (["network"] if with_key else []) + ["metric", "expected", "actual", "moved"]
    rows = [([d.key] if with_key else []) + [d.metric, d.expected, _fmt(d.actual), d.moved] for d in devs]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return lines
