"""The session's JSON report (``--monerosim-report PATH.json``) and its sweep CSV.

The controller builds it from the network rows that travelled on test reports
(so it is the same whether the networks ran in one process or on xdist
workers): rows are put in collection order, never arrival order, which makes
a parallel run's report equal a sequential one's apart from the fields listed
in :data:`MACHINE_FIELDS`. Files are written atomically.
"""

from __future__ import annotations

import csv
import io
import json
import platform
import sys
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..atomic import atomic_write

SCHEMA = "monerosim.report/1"

MACHINE_FIELDS = {
    "session": ("started", "finished", "duration_s", "workers", "argv"),
    "network": ("duration_s", "worker", "workdir", "files"),
    "summary": ("wall_seconds",),
}
"""Fields that depend on the machine, the clock or the process layout (not the simulation)."""


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def versions() -> dict[str, str]:
    from importlib import metadata

    out = {"python": platform.python_version(), "platform": platform.platform(terse=True)}
    for dist in ("pytest", "pytest-monerosim", "pytest-xdist", "allure-pytest", "pydantic", "networkx"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return out


def order_rows(rows: Iterable[dict[str, Any]], collected: list[str]) -> list[dict[str, Any]]:
    """Rows sorted by collection order (then network index); unknown ids go last, by id."""
    index = {nodeid: i for i, nodeid in enumerate(collected)}
    big = len(index)
    return sorted(rows, key=lambda r: (index.get(r["nodeid"], big), r["nodeid"], r.get("network", 0)))


def build_report(
    rows: list[dict[str, Any]],
    *,
    session: dict[str, Any],
    sweeps: Mapping[str, list[dict[str, Any]]],
    baseline: dict[str, Any] | None = None,
) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.get("outcome", "unknown")] = counts.get(row.get("outcome", "unknown"), 0) + 1
    report: dict[str, Any] = {
        "schema": SCHEMA,
        "session": session,
        "totals": {"networks": len(rows), "outcomes": dict(sorted(counts.items()))},
        "networks": rows,
        "sweeps": {func: cells for func, cells in sweeps.items()},
    }
    if baseline is not None:
        report["baseline"] = baseline
    return report


def write_report(path: Path, report: dict[str, Any]) -> None:
    atomic_write(path, json.dumps(report, indent=2, default=str) + "\n")


def sweep_csv_path(report_path: Path) -> Path:
    """``out/report.json`` → ``out/report.sweep.csv``."""
    stem = report_path.name[: -len(".json")] if report_path.name.endswith(".json") else report_path.name
    return report_path.with_name(stem + ".sweep.csv")


def log_path(report_path: Path, worker: str | None = None) -> Path:
    """``out/report.json`` → ``out/report.log.jsonl`` (``.log.gw0.jsonl`` on a worker)."""
    stem = report_path.name[: -len(".json")] if report_path.name.endswith(".json") else report_path.name
    return report_path.with_name(f"{stem}.log.{worker}.jsonl" if worker else f"{stem}.log.jsonl")


def sweep_csv(sweeps: Mapping[str, list[dict[str, Any]]]) -> str:
    """One table for all sweeps: a ``test`` column, then the union of every table's columns."""
    columns: list[str] = ["test"]
    for cells in sweeps.values():
        for row in cells:
            for key in row:
                if key not in columns:
                    columns.append(key)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for func, cells in sweeps.items():
        for row in cells:
            writer.writerow({"test": func, **{k: _cell(v) for k, v in row.items()}})
    return buf.getvalue()


def _cell(value: Any) -> Any:
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, sort_keys=True)
    return "" if value is None else value


def strip_machine_fields(report: dict[str, Any]) -> dict[str, Any]:
    """The report minus everything clock- or machine-dependent (to compare two runs)."""
    out = json.loads(json.dumps(report, default=str))
    for key in MACHINE_FIELDS["session"]:
        out.get("session", {}).pop(key, None)
    for row in out.get("networks", []):
        for key in MACHINE_FIELDS["network"]:
            row.pop(key, None)
        for key in MACHINE_FIELDS["summary"]:
            (row.get("summary") or {}).pop(key, None)
    return out


def session_info(
    options: dict[str, Any],
    started: str,
    finished: str,
    duration_s: float,
    *,
    exitstatus: int,
    workers: int,
    rootdir: str,
) -> dict[str, Any]:
    return {
        "started": started,
        "finished": finished,
        "duration_s": round(duration_s, 3),
        "exitstatus": exitstatus,
        "workers": workers,
        "rootdir": rootdir,
        "argv": list(sys.argv),
        "options": options,
        "versions": versions(),
    }
