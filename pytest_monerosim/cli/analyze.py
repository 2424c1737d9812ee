"""``monerosim analyze SUMMARY.json...``: aggregate a sweep with confidence intervals and theory."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ..analysis.aggregate import aggregate, format_groups
from . import UsageFailure


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("analyze", help="aggregate summary JSON files (or a JSON report) of a sweep")
    p.add_argument("files", nargs="+", metavar="SUMMARY.json")
    p.add_argument("--confidence", type=float, default=0.95)
    p.add_argument("--json", dest="as_json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=main)


ACCEPTED = ("accepted: summary JSON (monerosim run --json, or summary.json under --monerosim-out) "
            "or a --monerosim-report file")


def _is_summary(data: Any) -> bool:
    if not isinstance(data, dict):
        return False
    schema = data.get("schema")
    if isinstance(schema, str):
        return schema.startswith("monerosim.summary/")
    return isinstance(data.get("attacks"), dict)  # a summary reduced to its attack metrics


def read_summaries(path: str) -> list[dict[str, Any]]:
    """The summaries in one file (a summary, a list of them, or a JSON report); else one usage line."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageFailure(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise UsageFailure(f"{path}: not a text file; {ACCEPTED}") from None
    except json.JSONDecodeError as exc:
        raise UsageFailure(f"{path}: not JSON ({exc.msg} at line {exc.lineno}); {ACCEPTED}") from None
    if isinstance(data, dict) and ("networks" in data or str(data.get("schema", "")).startswith(
            "monerosim.report/")):
        rows = data.get("networks")
        if not isinstance(rows, list) or not all(
                isinstance(r, dict) and _is_summary(r.get("summary")) for r in rows):
            raise UsageFailure(f"{path}: networks: not a list of networks with a summary each; {ACCEPTED}")
        return [r["summary"] for r in rows]
    items = data if isinstance(data, list) else [data]
    for i, item in enumerate(items):
        if not _is_summary(item):
            where = f"item {i}" if isinstance(data, list) else "the top level"
            found = f"schema {item.get('schema')!r}" if isinstance(item, dict) else type(item).__name__
            raise UsageFailure(f"{path}: {where} is not a monerosim summary or report ({found}); {ACCEPTED}")
    return items


def main(args: argparse.Namespace) -> int:
    if not 0 < args.confidence < 1:
        raise UsageFailure(f"--confidence {args.confidence}; accepted: a number between 0 and 1")
    summaries = []
    for path in args.files:
        summaries.extend(read_summaries(path))
    groups = aggregate(summaries, args.confidence)
    if args.as_json:
        print(json.dumps([asdict(g) for g in groups], indent=2))
    elif not groups:
        print(f"{len(summaries)} summaries, none with attack metrics")
    else:
        print("\n".join(format_groups(groups)))
    return 0
