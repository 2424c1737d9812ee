"""``monerosim run SCENARIO.yaml``: run one network, print a summary, write the summary JSON."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from ..backends import BACKENDS, BackendUnavailable, RunOptions
from ..config.durations import parse_run_duration
from ..config.loader import apply_run_overrides, load_scenario
from ..runner import NetworkRun, run_scenario
from . import UsageFailure

if TYPE_CHECKING:
    from ..config.model import Scenario


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run a scenario and print its summary")
    p.add_argument("scenario", metavar="SCENARIO.yaml")
    p.add_argument("--seed", type=seed_arg, default=None, help="override general.seed (an integer >= 0)")
    p.add_argument("--duration", default=None, help='override general.duration, e.g. "2h"')
    p.add_argument("--backend", default=None, help=f"one of {', '.join(BACKENDS)} (default: sim)")
    p.add_argument("--json", dest="json_out", default=None, metavar="OUT", help="write the summary JSON")
    p.add_argument("--workdir", default=None, help="logs and data dirs of real backends")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="override a scenario field, e.g. --set p2p.out_peers=8 (repeatable)",
    )
    p.add_argument("--quiet", "-q", action="store_true", help="print only the summary JSON path")
    p.set_defaults(func=main)


def seed_arg(text: str) -> int:
    """``--seed``: an integer >= 0 (argparse turns the ValueError into one usage line)."""
    try:
        seed = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a seed; accepted: an integer >= 0") from None
    if seed < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is negative; accepted: an integer >= 0")
    return seed


def parse_overrides(items: list[str]) -> dict[str, object]:
    import yaml

    out: dict[str, object] = {}
    for item in items:
        if "=" not in item:
            raise UsageFailure(f"--set {item!r}: expected PATH=VALUE, e.g. p2p.out_peers=8")
        key, value = item.split("=", 1)
        key = key.strip()
        if not key or any(not part.strip() for part in key.split(".")):
            raise UsageFailure(f"--set {item!r}: PATH {key!r} has an empty part; accepted: PATH=VALUE "
                               "with a dotted PATH such as p2p.out_peers=8")
        try:
            out[key] = yaml.safe_load(value)
        except yaml.YAMLError as exc:
            problem = getattr(exc, "problem", None) or "cannot parse"
            raise UsageFailure(f"--set {item!r}: VALUE {value!r} is not YAML ({problem}); accepted: a "
                               "YAML scalar, list or mapping, e.g. 8, 2h, [1, 2], {name: star}") from None
    return out


def check_backend(args: argparse.Namespace) -> None:
    """``UsageFailure`` unless ``--backend`` is unset or a known backend."""
    if args.backend is not None and args.backend not in BACKENDS:
        raise UsageFailure(f"--backend {args.backend!r}; accepted: {', '.join(BACKENDS)}")


def load_from_args(args: argparse.Namespace) -> Scenario:
    """The scenario with the run's overrides applied: ``--set`` paths, ``--seed``, ``--duration``."""
    duration = None
    if args.duration is not None:
        try:
            duration = parse_run_duration(args.duration)
        except ValueError as exc:
            raise UsageFailure(f"--duration: {exc}") from None
    scenario = load_scenario(args.scenario, overrides=parse_overrides(args.overrides))
    return apply_run_overrides(scenario, seed=args.seed, duration=duration, source=args.scenario)


def describe(run: NetworkRun) -> str:
    s = run.summary
    b, c, p = s["blocks"], s["consensus"], s["propagation"]
    lines = [
        f"scenario   {s['scenario']} on {s['backend']} (seed {s['seed']})",
        f"network    {s['nodes']} nodes, {s['sim_seconds']:.0f} s simulated in {s['wall_seconds']:.2f} s "
        f"({s['events']} events)",
        f"blocks     {b['mined']} mined, height {b['main_chain_height']}, stale {b['stale']} "
        f"({b['stale_rate']:.2%}), interval mean {b['mean_interval_s']} s / "
        f"median {b['median_interval_s']} s",
        f"reorgs     {s['reorgs']['count']} (max depth {s['reorgs']['max_depth']})",
        f"propagate  p50 {p['p50_s']} s, p90 {p['p90_s']} s, p99 {p['p99_s']} s (to 90% of nodes)",
        f"consensus  {'agreed' if c['agreed'] else 'NOT agreed'}: {c['distinct_tips']} tip(s), "
        f"height spread {c['max_height_spread']}",
    ]
    if "transactions" in s:
        t = s["transactions"]
        lines.append(
            f"txs        {t['created']} created, {t['confirmed']} confirmed ({t['in_blocks_ratio']:.0%}), "
            f"{t['double_spends_rejected']} double spends rejected, {t['reversed']} reversed"
        )
    timing = s.get("timing")
    if isinstance(timing, dict) and timing.get("note"):  # real daemons: what the time scale did
        lines.append(f"timing     {timing['note']}")
    for name, metrics in (s.get("attacks") or {}).items():
        flat = ", ".join(f"{k}={v}" for k, v in metrics.items() if not isinstance(v, (list, dict)))
        lines.append(f"attack     {name}: {flat}")
    return "\n".join(lines)


def report_partial(run: NetworkRun, json_out: str | None, workdir: str | None) -> int:
    """A run that stopped early: write what it measured, say so in one line; 130 if interrupted, else 1."""
    if json_out:
        path = Path(json_out)
    elif workdir:
        path = Path(workdir) / "summary.json"
    else:
        fd, name = tempfile.mkstemp(prefix=f"monerosim-{run.status}-", suffix=".json")
        os.close(fd)
        path = Path(name)
    try:
        run.write_summary(path)
        where = f"partial summary in {path}"
    except OSError as exc:
        where = f"no partial summary ({path}: {exc.strerror})"
    sim = f"after {run.result.sim_seconds:.0f} s simulated"
    line = f"{run.error} {sim}" if run.status == "interrupted" else f"failed {sim}: {run.error}"
    print(f"monerosim: {line}; {where}", file=sys.stderr)
    return 130 if run.status == "interrupted" else 1


def main(args: argparse.Namespace) -> int:
    check_backend(args)
    scenario = load_from_args(args)
    options = RunOptions(workdir=Path(args.workdir) if args.workdir else None)
    partial: list[NetworkRun] = []
    try:
        run = run_scenario(scenario, backend=args.backend, options=options, source=args.scenario,
                           on_partial=partial.append)
    except BackendUnavailable as exc:
        raise UsageFailure(str(exc)) from None
    except (Exception, KeyboardInterrupt):
        if not partial:
            raise
        return report_partial(partial[0], args.json_out, args.workdir)
    if args.json_out:
        run.write_summary(args.json_out)
    if args.quiet:
        print(args.json_out or json.dumps(run.summary))
    else:
        print(describe(run))
        if args.json_out:
            print(f"summary    {args.json_out}")
    sys.stdout.flush()
    return 0
