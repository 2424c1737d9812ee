"""``monerosim validate FILE...``: check scenario files; exit 0 when all are valid, else 2."""

from __future__ import annotations

import argparse
import sys

from ..config.errors import ScenarioError
from ..config.loader import load_scenario
from ..registry import default_registry
from ..runner import prepare


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("validate", help="check scenario files (this format or the legacy one)")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    registry = default_registry()
    bad = 0
    for path in args.files:
        try:
            scenario = load_scenario(path)
            prepare(scenario, registry, source=path)
        except ScenarioError as exc:
            print(f"monerosim: error: {exc}", file=sys.stderr)
            bad += 1
            continue
        print(f"{path}: ok ({scenario.general.name}: {scenario.total_nodes()} nodes, "
              f"{len(scenario.wallets)} wallet groups, {len(scenario.attacks)} attacks)")
    return 2 if bad else 0
