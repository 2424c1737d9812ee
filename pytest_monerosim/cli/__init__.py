"""``monerosim`` command line: run / validate / migrate / shadow-config / analyze / serve.

Exit codes: 0 success, 1 a run or check failed, 2 bad input (one clear line on
stderr naming the field, the value and what is accepted). Never a traceback for
a user mistake.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from ..config.errors import ScenarioError

# subcommand → module with ``add_parser(subparsers)`` and ``main(args) -> int``
COMMANDS = {
    "run": "pytest_monerosim.cli.run",
    "validate": "pytest_monerosim.cli.validate",
    "migrate": "pytest_monerosim.cli.migrate",
    "shadow-config": "pytest_monerosim.cli.shadow_config",
    "analyze": "pytest_monerosim.cli.analyze",
    "serve": "pytest_monerosim.cli.serve",
}


class UsageFailure(Exception):
    """Bad command-line input: printed as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageFailure(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="monerosim", description="Monero network simulations (pytest-monerosim)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for module_name in COMMANDS.values():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from ..runner import interrupt_on_sigterm

    restore = interrupt_on_sigterm()
    try:
        return _main(argv)
    finally:
        restore()


def _main(argv: Sequence[str] | None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return int(args.func(args))
    except (UsageFailure, ScenarioError) as exc:
        print(f"monerosim: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("monerosim: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
