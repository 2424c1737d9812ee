"""Transactions on real daemons against the simulator, same scenario (prints; asserts nothing).

    python benchmarks/bench_monerod_transactions.py [SCENARIO] [--duration 3h]
                                                    [--time-scale 30] [--warm-chain auto]

Runs SCENARIO (default the quickstart fixture: 5 miners, 3 users sending every
120 s from t = 40 min, a distributor) on the ``sim`` backend, then on
``monerod`` (each daemon its own namespace as root), and prints for each: the
txs created, confirmed, the chain height, the stale rate, and the monerod run's
measured relay delay and where its warm chain came from; then the ratio of the
monerod tx count to the simulator's (issue #12's target: >= 0.75 over 3 h).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import _checkout  # noqa: F401  (this checkout's package first)

from pytest_monerosim.backends import RunOptions
from pytest_monerosim.config.durations import parse_run_duration
from pytest_monerosim.config.loader import apply_run_overrides, load_scenario
from pytest_monerosim.registry import default_registry
from pytest_monerosim.result.summary import summarize
from pytest_monerosim.runner import run_scenario

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("scenario", nargs="?", default=str(ROOT / "fixtures/scenarios/quickstart.yaml"))
    ap.add_argument("--duration", default="3h")
    ap.add_argument("--time-scale", type=float, default=None,
                    help="monerod's time scale (default: the scenario's backends.monerod option)")
    ap.add_argument("--warm-chain", default="auto")
    args = ap.parse_args()
    registry = default_registry()
    figures = {}
    for backend in ("sim", "monerod"):
        scenario = apply_run_overrides(load_scenario(args.scenario),
                                       duration=parse_run_duration(args.duration))
        with tempfile.TemporaryDirectory(prefix="bench-tx-") as tmp:
            extra = {"warm_chain": args.warm_chain} if backend == "monerod" else {}
            options = RunOptions(workdir=Path(tmp),
                                 time_scale=args.time_scale if backend == "monerod" else None,
                                 extra=extra)
            begun = time.monotonic()
            run = run_scenario(scenario, backend=backend, registry=registry, options=options)
            wall = time.monotonic() - begun
        s = summarize(run.result)
        tx, blocks = s["transactions"], s["blocks"]
        figures[backend] = tx["created"]
        line = (f"{backend:8s} {tx['created']:4d} txs created, {tx['confirmed']:4d} confirmed, "
                f"height {blocks['main_chain_height']}, stale {blocks['stale_rate']:.1%}, "
                f"{wall:.0f} s wall")
        if backend == "monerod":
            timing = run.result.extra.get("timing", {})
            warm = run.result.extra.get("warm_chain") or {}
            line += (f", time scale {timing.get('time_scale')}, relay p50 "
                     f"{timing.get('relay_to_all_wall_s', {}).get('p50')} s wall, warm chain "
                     f"{warm.get('height', 0)} blocks ({warm.get('source', 'none')})")
        print(line, flush=True)
    ratio = figures["monerod"] / figures["sim"] if figures["sim"] else float("nan")
    print(f"monerod/sim tx ratio over {args.duration}: {ratio:.2f}")


if __name__ == "__main__":
    main()
