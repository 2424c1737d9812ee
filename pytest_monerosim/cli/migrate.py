"""``monerosim migrate --input old.yaml --output new.yaml``: convert an existing Monerosim config.

Writes the scenario in this project's format (YAML, headed by a comment that
lists what has no equivalent), prints the same warnings to stderr and exits 0.
Input that cannot be read or translated exits 2 with one line.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..config.errors import ScenarioError
from ..config.loader import load_scenario
from ..legacy.migrate import migrate_file
from . import UsageFailure


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "migrate",
        help="convert an existing Monerosim config (upstream format) into a scenario",
        description="Convert a config of the existing Monerosim (github.com/Fountain5405/monerosim) "
        "into this project's scenario format. Settings without an equivalent are listed on stderr "
        "and in a comment at the top of the output.",
    )
    p.add_argument("--input", "-i", required=True, metavar="OLD.yaml", help="the upstream config")
    p.add_argument("--output", "-o", required=True, metavar="NEW.yaml",
                   help="where to write the scenario ('-' for stdout)")
    p.add_argument("--base-dir", metavar="DIR", default=None,
                   help="resolve a relative network.path (GML file) against DIR; default: the "
                        "working directory, as the existing Monerosim does, then the config's folder")
    p.add_argument("--quiet", "-q", action="store_true", help="do not print the warnings")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    source = Path(args.input)
    if not source.is_file():
        raise UsageFailure(f"migrate --input {args.input}: no such file")
    base_dir = getattr(args, "base_dir", None)
    if base_dir is not None and not Path(base_dir).is_dir():
        raise UsageFailure(f"migrate --base-dir {base_dir}: not a directory; accepted: the folder "
                           "that relative network.path values are relative to")
    migration = migrate_file(source, base_dir=base_dir)
    text = migration.to_yaml()
    if args.output == "-":
        sys.stdout.write(text)
    else:
        out = Path(args.output)
        if out.resolve() == source.resolve():
            raise UsageFailure(f"migrate --output {args.output}: would overwrite the input")
        try:
            migration.write(out)
        except OSError as exc:
            raise UsageFailure(f"migrate --output {args.output}: {exc.strerror}") from None
        try:
            load_scenario(out)  # the written file must load as it is
        except ScenarioError as exc:  # pragma: no cover - a bug in migrate, not user input
            raise ScenarioError(f"the migrated scenario does not load: {exc}") from None
    if not args.quiet:
        for note in migration.notes:
            print(f"monerosim migrate: {note}", file=sys.stderr)
        for warning in migration.warnings:
            print(f"monerosim migrate: warning: {warning}", file=sys.stderr)
        where = "stdout" if args.output == "-" else args.output
        print(f"monerosim migrate: wrote {where} ({len(migration.warnings)} warning(s))", file=sys.stderr)
    return 0
