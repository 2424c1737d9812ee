"""What each network contributes to pytest's reports.

Data travels on the test report (``report.monerosim``: a list of JSON-able
rows), so it survives pytest-xdist: workers serialise reports, the controller
gathers rows in ``pytest_runtest_logreport`` and prints them in the terminal
summary. JUnit XML gets key metrics as ``user_properties``.
"""

from __future__ import annotations

import shlex
from typing import Any

import pytest

from ..result.summary import dig
from ..runner import NetworkRun

JUNIT_METRICS = (
    ("blocks.main_chain_height", "height"),
    ("blocks.stale_rate", "stale_rate"),
    ("blocks.mean_interval_s", "mean_interval_s"),
    ("reorgs.count", "reorgs"),
    ("propagation.p90_s", "propagation_p90_s"),
    ("consensus.agreed", "consensus"),
    ("transactions.created", "txs"),
    ("transactions.in_blocks_ratio", "in_blocks_ratio"),
)


SWEEP_METRICS = (
    ("blocks.main_chain_height", "height"),
    ("blocks.stale_rate", "stale_rate"),
    ("reorgs.max_depth", "max_reorg"),
    ("propagation.p90_s", "prop_p90_s"),
    ("consensus.agreed", "agreed"),
    ("transactions.created", "txs"),
    ("transactions.confirmation_p50_s", "conf_p50_s"),
)


def replay_command(item: pytest.Item, run: NetworkRun, backend_explicit: bool) -> str:
    args = ["pytest", item.nodeid, f"--monerosim-seed={run.seed}"]
    if backend_explicit or run.backend != "sim":
        args.append(f"--monerosim-backend={run.backend}")
    return " ".join(shlex.quote(a) for a in args)


def rows_for(item: pytest.Item, runs: list[NetworkRun], backend_explicit: bool) -> list[dict[str, Any]]:
    callspec = getattr(item, "callspec", None)
    params = dict(callspec.params.get("monerosim_params") or {}) if callspec else {}
    attack = callspec.params.get("monerosim_attack") if callspec else None
    behaviour = callspec.params.get("monerosim_behaviour") if callspec else None
    if behaviour is not None:
        params = {"behaviour": behaviour.id, **params}
    rows = []
    for run in runs:
        rows.append(
            {
                "nodeid": item.nodeid,
                "scenario": run.scenario.general.name,
                "backend": run.backend,
                "seed": run.seed,
                "params": {k: v for k, v in params.items()},
                "attack": {"name": attack.name, "params": dict(attack.params)} if attack else None,
                "status": run.status,
                "error": run.error,
                "summary": run.summary,
                "replay": replay_command(item, run, backend_explicit),
            }
        )
    return rows


def junit_properties(rows: list[dict[str, Any]]) -> list[tuple[str, object]]:
    props: list[tuple[str, object]] = []
    for i, row in enumerate(rows):
        prefix = "monerosim" if len(rows) == 1 else f"monerosim{i}"
        props.append((f"{prefix}_seed", row["seed"]))
        props.append((f"{prefix}_backend", row["backend"]))
        for path, name in JUNIT_METRICS:
            value = dig(row["summary"], path)
            if value is not None:
                props.append((f"{prefix}_{name}", value))
    return props


def network_line(row: dict[str, Any]) -> str:
    s = row["summary"]
    cons = s["consensus"]
    agreed = "agreed" if cons["agreed"] else f"{cons['distinct_tips']} tips"
    status = row.get("status") or "finished"
    state = ""
    if status != "finished":
        state = f"{status.upper()} at {_hours(s['sim_seconds'])} ({row.get('error')}): "
    return (
        f"{row['nodeid']}: {state}{s['scenario']} [{s['backend']}] {s['nodes']} nodes, "
        f"{_hours(s['sim_seconds'])} simulated in {s['wall_seconds']:.2f}s, "
        f"{s['blocks']['mined']} blocks (height {s['blocks']['main_chain_height']}), "
        f"stale {s['blocks']['stale_rate']:.2%}, consensus {agreed}"
    )


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:.1f}h" if seconds >= 3600 else f"{seconds:.0f}s"


def scalar_metrics(summary: dict[str, Any]) -> dict[str, Any]:
    """Attack metrics that fit in a table cell."""
    out: dict[str, Any] = {}
    for name, metrics in (summary.get("attacks") or {}).items():
        for key, value in metrics.items():
            if isinstance(value, (int, float, bool, str)) or value is None:
                out[f"{name}.{key}"] = value
    return out


def sweep_tables(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Rows of swept tests grouped by test function: params + scalar metrics."""
    tables: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        if not row["params"] and not row["attack"]:
            continue
        func = row["nodeid"].split("[", 1)[0]
        cells: dict[str, Any] = {}
        if row["attack"]:
            cells["attack"] = row["attack"]["name"]
            cells.update(row["attack"]["params"])
        cells.update(row["params"])
        cells["seed"] = row["seed"]
        metrics = scalar_metrics(row["summary"])
        if not metrics:  # a sweep of network parameters: show how the network fared
            for path, name in SWEEP_METRICS:
                value = dig(row["summary"], path)
                if value is not None:
                    metrics[name] = value
        cells.update(metrics)
        tables.setdefault(func, []).append(cells)
    return tables


def format_table(cells: list[dict[str, Any]], max_cols: int = 10) -> list[str]:
    cols: list[str] = []
    for c in cells:
        for k in c:
            if k not in cols:
                cols.append(k)
    cols = cols[:max_cols]

    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.4g}"
        return "" if v is None else str(v)

    widths = {c: max(len(c), *(len(fmt(row.get(c))) for row in cells)) for c in cols}
    lines = ["  ".join(c.ljust(widths[c]) for c in cols)]
    lines.append("  ".join("-" * widths[c] for c in cols))
    for row in cells:
        lines.append("  ".join(fmt(row.get(c)).ljust(widths[c]) for c in cols))
    return lines
