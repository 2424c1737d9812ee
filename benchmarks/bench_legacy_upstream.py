"""Every config the existing Monerosim ships: migrate, validate, run on the simulator (prints).

    python benchmarks/bench_legacy_upstream.py /path/to/monerosim-checkout
    python benchmarks/bench_legacy_upstream.py CHECKOUT --max-duration 2h   # cap long runs
    python benchmarks/bench_legacy_upstream.py CHECKOUT --max-duration 3h --cap-above 100
    python benchmarks/bench_legacy_upstream.py CHECKOUT --only quickstart

Works from the checkout's root, as a user moving over would (``network.path``
values there are relative to it): each ``test_configs/*.yaml`` and
``tests/fixtures/*.yaml`` is migrated (its warnings printed), the written
scenario is loaded and validated as ``monerosim validate`` does, and run on the
``sim`` backend for its own duration (or ``--max-duration``). Prints one line
per config with wall/CPU time and the run's headline figures, and for the
quickstart the existing tool's own bar (tests/baselines/quickstart_metrics.json
in that repository: height >= 100, all nodes within 2 blocks, >= 150
transactions created, >= 80% of them in blocks, 8 wallets funded). Nothing of
the checkout is copied or written into it; scenarios go to a temporary folder.
Asserts nothing; the exit status is the number of configs that failed a step.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path

import _checkout  # noqa: F401  (this checkout's package first)

from pytest_monerosim.config.durations import parse_duration
from pytest_monerosim.config.loader import apply_run_overrides, load_scenario
from pytest_monerosim.legacy.migrate import migrate_file
from pytest_monerosim.registry import default_registry
from pytest_monerosim.runner import prepare, run_scenario

# tests/baselines/quickstart_metrics.json of Fountain5405/monerosim ("thresholds").
QUICKSTART_BAR = {"block_height_min": 100, "all_nodes_within_height_range": 2,
                  "tx_created_min": 150, "tx_in_blocks_ratio_min": 0.80, "wallets_funded_exact": 8}


def configs(root: Path, only: str | None) -> list[Path]:
    found = sorted((root / "test_configs").glob("*.yaml")) + sorted((root / "tests/fixtures").glob("*.yaml"))
    wanted = only.split(",") if only else None
    return [p.relative_to(root) for p in found if wanted is None or any(w in p.name for w in wanted)]


def quickstart_bar(summary: dict, wallets: dict) -> list[str]:
    # upstream counts the miners' and the users' wallets (5 + 3); the distributor pays
    # from the miners' wallets and is not one of them
    funded = sum(1 for w in wallets.values() if w.funded_at is not None and w.strategy != "distributor")
    checks = [
        ("height", summary["blocks"]["main_chain_height"], ">=", QUICKSTART_BAR["block_height_min"]),
        ("height spread", summary["consensus"]["max_height_spread"], "<=",
         QUICKSTART_BAR["all_nodes_within_height_range"]),
        ("txs created", summary["transactions"]["created"], ">=", QUICKSTART_BAR["tx_created_min"]),
        ("txs in blocks", summary["transactions"]["in_blocks_ratio"], ">=",
         QUICKSTART_BAR["tx_in_blocks_ratio_min"]),
        ("wallets funded", funded, "==", QUICKSTART_BAR["wallets_funded_exact"]),
    ]
    out = []
    for name, value, op, bar in checks:
        ok = value >= bar if op == ">=" else value <= bar if op == "<=" else value == bar
        out.append(f"{name} {value} {op} {bar}: {'PASS' if ok else 'FAIL'}")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("root", type=Path, help="a checkout of github.com/Fountain5405/monerosim")
    ap.add_argument("--max-duration", default=None, help='cap each run, e.g. "2h"')
    ap.add_argument("--cap-above", type=int, default=0, metavar="NODES",
                    help="apply --max-duration only to scenarios with more than NODES nodes")
    ap.add_argument("--only", default=None,
                    help="only configs whose file name contains one of these (comma-separated)")
    ap.add_argument("--quiet-warnings", action="store_true", help="print warning counts only")
    args = ap.parse_args()
    root = args.root.resolve()
    cap = parse_duration(args.max_duration) if args.max_duration else None
    registry = default_registry()
    os.chdir(root)  # network.path is relative to the checkout's root, as upstream reads it
    failed = 0
    out_dir = Path(tempfile.mkdtemp(prefix="legacy-upstream-"))
    print(f"upstream checkout {root}; scenarios in {out_dir}; cap {args.max_duration or 'none'}"
          + (f" above {args.cap_above} nodes" if args.max_duration and args.cap_above else ""),
          flush=True)
    for rel in configs(root, args.only):
        step = "migrate"
        try:
            t0 = time.perf_counter()
            migration = migrate_file(rel)
            written = migration.write(out_dir / rel.name.replace("/", "_"))
            t_migrate = time.perf_counter() - t0
            step = "validate"
            scenario = load_scenario(written)
            prepare(scenario, registry, source=str(written))
            step = "run"
            capped = cap is not None and scenario.total_nodes() > args.cap_above
            duration = min(cap, scenario.general.duration) if capped else scenario.general.duration
            w0, c0 = time.perf_counter(), time.process_time()
            run = run_scenario(apply_run_overrides(scenario, duration=duration), backend="sim",
                               registry=registry, source=str(written))
            wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        except Exception as exc:  # report and go on: this loop measures every config
            failed += 1
            print(f"FAIL {rel} at {step}: {type(exc).__name__}: {exc}")
            traceback.print_exc(limit=3, file=sys.stdout)
            continue
        s = run.summary
        print(f"OK   {rel}: {scenario.total_nodes()} nodes, {duration / 3600:g} h simulated "
              f"(of {scenario.general.duration / 3600:g} h) in {wall:.1f} s wall / {cpu:.1f} s CPU; "
              f"migrate {t_migrate:.2f} s; height {s['blocks']['main_chain_height']}, spread "
              f"{s['consensus']['max_height_spread']}, txs {s['transactions']['created']} "
              f"({s['transactions']['in_blocks_ratio']:.0%} in blocks), wallets funded "
              f"{s['wallets']['funded']}/{s['wallets']['count']}; {len(migration.warnings)} warning(s)")
        for note in migration.notes:
            print(f"       note: {note}")
        if not args.quiet_warnings:
            for w in migration.warnings:
                print(f"       warning: {w}")
        if rel.name.startswith("quickstart") and duration == scenario.general.duration:
            for line in quickstart_bar(s, run.result.wallets):
                print(f"       quickstart bar: {line}")
        sys.stdout.flush()
    print(f"{failed} config(s) failed")
    return failed


if __name__ == "__main__":
    sys.exit(main())
