"""What each network contributes to pytest's reports: its row, JUnit properties, summary lines.

Data travels on the test report (``report.monerosim``: a list of
:class:`~pytest_monerosim.report.row.NetworkRow` in their JSON form), so it
survives pytest-xdist: workers serialise reports, the controller gathers rows
in ``pytest_runtest_logreport`` and prints them in the terminal summary. JUnit
XML gets key metrics as ``user_properties`` (:func:`junit_properties`).
"""

from __future__ import annotations

import shlex
from typing import Any

import pytest

from ..report.row import NetworkRow
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


def carries_networks(report: pytest.TestReport) -> bool:
    """The report that carries a test's network rows: its call, or a setup that failed."""
    return report.when == "call" or (report.when == "setup" and report.failed)


def replay_command(item: pytest.Item, run: NetworkRun, backend_explicit: bool) -> str:
    args = ["pytest", item.nodeid, f"--monerosim-seed={run.seed}"]
    if backend_explicit or run.backend != "sim":
        args.append(f"--monerosim-backend={run.backend}")
    return " ".join(shlex.quote(a) for a in args)


def network_rows(item: pytest.Item, runs: list[NetworkRun], backend_explicit: bool) -> list[NetworkRow]:
    """Rows of the test's networks: what ran (how it ended is filled in with the test's report)."""
    callspec = getattr(item, "callspec", None)
    params = dict(callspec.params.get("monerosim_params") or {}) if callspec else {}
    attack = callspec.params.get("monerosim_attack") if callspec else None
    behaviour = callspec.params.get("monerosim_behaviour") if callspec else None
    if behaviour is not None:
        params = {"behaviour": behaviour.id, **params}
    rows = []
    for i, run in enumerate(runs):
        rows.append(
            NetworkRow(
                nodeid=item.nodeid,
                scenario=run.scenario.general.name,
                backend=run.backend,
                seed=run.seed,
                params={k: v for k, v in params.items()},
                attack={"name": attack.name, "params": dict(attack.params)} if attack else None,
                status=run.status,
                error=run.error,
                summary=run.summary,
                replay=replay_command(item, run, backend_explicit),
                network=i,
            )
        )
    return rows


def junit_properties(rows: list[dict[str, Any]]) -> list[tuple[str, object]]:
    """The JUnit ``user_properties`` of a test's networks: seed, backend and key metrics of
    each, then the rest (attack scalars, propagation p50, baseline status) of each."""
    props: list[tuple[str, object]] = []
    for i, row in enumerate(rows):
        prefix = "monerosim" if len(rows) == 1 else f"monerosim{i}"
        props.append((f"{prefix}_seed", row["seed"]))
        props.append((f"{prefix}_backend", row["backend"]))
        for path, name in JUNIT_METRICS:
            value = dig(row["summary"], path)
            if value is not None:
                props.append((f"{prefix}_{name}", value))
    shown = {name for _, name in JUNIT_METRICS}
    for i, row in enumerate(rows):
        prefix = "monerosim" if len(rows) == 1 else f"monerosim{i}"
        if "propagation_p50_s" not in shown:
            value = dig(row["summary"], "propagation.p50_s")
            if value is not None:
                props.append((f"{prefix}_propagation_p50_s", value))
        for key, value in scalar_metrics(row["summary"]).items():
            props.append((f"{prefix}_attack.{key}", value))
        if row.get("baseline"):
            props.append((f"{prefix}_baseline", row["baseline"]["status"]))
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


def report_sweeps(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The terminal's sweep tables plus each point's outcome and key metrics (for the report and CSV)."""
    tables = sweep_tables(rows)
    seen: dict[str, int] = {}
    for row in rows:
        if not row["params"] and not row["attack"]:
            continue
        func = row["nodeid"].split("[", 1)[0]
        index = seen.get(func, 0)
        seen[func] = index + 1
        cells = tables[func][index]
        cells["outcome"] = row.get("outcome")
        for path, name in JUNIT_METRICS:
            value = dig(row["summary"], path)
            if value is not None:
                cells.setdefault(name, value)
    return tables
