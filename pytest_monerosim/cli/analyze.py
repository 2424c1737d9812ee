"""``monerosim analyze SUMMARY.json...``: aggregate a sweep with confidence intervals and theory."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from ..analysis.aggregate import aggregate, format_groups, load_summaries
from . import UsageFailure


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("analyze", help="aggregate summary JSON files (or a JSON report) of a sweep")
    p.add_argument("files", nargs="+", metavar="SUMMARY.json")
    p.add_argument("--confidence", type=float, default=0.95)
    p.add_argument("--json", dest="as_json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    if not 0 < args.confidence < 1:
        raise UsageFailure(f"--confidence {args.confidence}; accepted: a number between 0 and 1")
    try:
        summaries = load_summaries(args.files)
    except OSError as exc:
        raise UsageFailure(f"cannot read {exc.filename}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise UsageFailure(f"not JSON: {exc}") from None
    groups = aggregate(summaries, args.confidence)
    if args.as_json:
        print(json.dumps([asdict(g) for g in groups], indent=2))
    elif not groups:
        print(f"{len(summaries)} summaries, none with attack metrics")
    else:
        print("\n".join(format_groups(groups)))
    return 0
