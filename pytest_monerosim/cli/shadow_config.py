"""``monerosim shadow-config SCENARIO.yaml -o DIR``: write a ready-to-run Shadow directory.

The directory holds ``shadow.yaml``, ``network.gml``, the agents' wrapper
scripts and the process plan (see :mod:`pytest_monerosim.backends.shadow.writer`);
nothing is run. A legacy (upstream Monerosim) file is accepted too: its
Shadow-only settings (parallelism, runahead, ...) go into the config.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..backends.shadow.schema import ShadowConfigError
from ..backends.shadow.writer import CONFIG_FILE, ShadowSettings, write_shadow_dir
from ..config.loader import read_yaml
from ..registry import default_registry
from ..runner import prepare
from . import UsageFailure
from .run import load_from_args, seed_arg


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "shadow-config",
        help="write a Shadow 3.x directory (config, GML, agent wrappers) for a scenario",
        description="Write shadow.yaml, network.gml and the agents' wrapper scripts for SCENARIO "
        "into DIR without running anything; run it later with 'cd DIR && shadow shadow.yaml'.",
    )
    p.add_argument("scenario", metavar="SCENARIO.yaml", help="a scenario (or an upstream Monerosim config)")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="directory to write")
    p.add_argument("--seed", type=seed_arg, default=None, help="override general.seed (an integer >= 0)")
    p.add_argument("--duration", default=None, help='override general.duration, e.g. "2h"')
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                   help="override a scenario field (repeatable)")
    p.add_argument("--monerod-bin", default="monerod", help="monerod to run (default: from PATH)")
    p.add_argument("--wallet-rpc-bin", default="monero-wallet-rpc",
                   help="monero-wallet-rpc to run (default: from PATH)")
    network = p.add_mutually_exclusive_group()
    network.add_argument("--compact", dest="compact", action="store_true", default=None,
                         help="one GML node per region (needs the monero topology and a constant or "
                              "jitter-free regions latency model)")
    network.add_argument("--per-host", dest="compact", action="store_false",
                         help="one GML node per host (the default up to 200 hosts)")
    p.add_argument("--no-monitor", action="store_true",
                   help="leave out the monitor host that polls every node (the result then lacks "
                        "block headers, peer snapshots and wallet states)")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    scenario = load_from_args(args)
    registry = default_registry()
    network = prepare(scenario, registry, source=args.scenario)
    from ..backends.plan import PlanOptions, build_plan

    settings = ShadowSettings(
        monerod_bin=args.monerod_bin, wallet_rpc_bin=args.wallet_rpc_bin, compact=args.compact,
        overrides=_legacy_shadow_options(args.scenario),
        plan_options=PlanOptions(monitor=not args.no_monitor),
    )
    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise UsageFailure(f"shadow-config -o {args.output}: exists and is not a directory")
    try:
        plan = build_plan(scenario, registry, layout=network, options=settings.plan_options)
        layout = write_shadow_dir(scenario, registry, out, settings, plan=plan)
    except ShadowConfigError as exc:
        raise UsageFailure(f"shadow-config: the Shadow config would be refused: "
                           f"{str(exc).splitlines()[0]}") from None
    except ValueError as exc:
        raise UsageFailure(f"shadow-config: {exc}") from None
    processes = sum(len(p) for p in layout.processes.values())
    print(f"wrote {layout.directory}: {len(layout.plan.hosts)} hosts, {processes} processes, "
          f"{'compact' if layout.compact else 'per-host'} network "
          f"({len(layout.config.hosts)} Shadow hosts)")
    for note in layout.notes:
        print(f"note: {note}")
    print(f"run it with: cd {layout.directory} && shadow {CONFIG_FILE}")
    sys.stdout.flush()
    return 0


def _legacy_shadow_options(path: str) -> dict[str, dict[str, object]]:
    """An upstream config's Shadow-only settings (its ``parallelism``, ``runahead``...)."""
    from ..legacy.bridge import looks_legacy

    data, _ = read_yaml(path)
    if not isinstance(data, dict) or not looks_legacy(data):
        return {}
    from ..legacy.migrate import migrate_file

    return {k: dict(v) for k, v in migrate_file(path).shadow_options.items()}
