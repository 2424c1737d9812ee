"""The mainnet twin's cost: wall time, CPU time and peak memory (prints figures; asserts nothing).

    python benchmarks/bench_mainnet.py                      # the full twin, 33,047 nodes, 24 h
    python benchmarks/bench_mainnet.py --duration 30m       # the full twin, shortened
    python benchmarks/bench_mainnet.py --scaled             # the 1/40 copy the default tests run

It runs exactly ``python -m pytest_monerosim.cli run fixtures/scenarios/mainnet.yaml`` (plus
the overrides asked for) in a child process and reads the child's resource usage, so the
peak RSS is the run's own. Target (issue 14): the full twin under 10 minutes and 8 GB on a
2-core machine. CPU time is printed next to wall time because on a shared machine the wall
clock also measures the neighbours (the load average is printed too). Each run appends a
line to the benchmark history (``benchmarks/history.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import history

ROOT = Path(__file__).resolve().parent.parent
TWIN = ROOT / "fixtures" / "scenarios" / "mainnet.yaml"
sys.path.insert(0, str(ROOT / "scenarios"))


def scaled_overrides() -> dict[str, object]:
    from test_mainnet_fidelity import SCALED

    return dict(SCALED)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", help="override general.duration (e.g. 30m)")
    ap.add_argument("--scaled", action="store_true", help="the 1/40 copy of the default tests")
    args = ap.parse_args()
    overrides: dict[str, object] = scaled_overrides() if args.scaled else {}
    if args.duration:
        overrides["duration"] = args.duration
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "summary.json"
        cmd = [sys.executable, "-m", "pytest_monerosim.cli", "run", str(TWIN), "--json", str(out), "-q"]
        for key, value in overrides.items():
            cmd += ["--set", f"{key}={value}"]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode != 0:
            print(proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "run failed")
            sys.exit(proc.returncode)
        summary = json.loads(out.read_text())
    cpu = usage.ru_utime + usage.ru_stime
    rss_mb = usage.ru_maxrss / 1024
    case = ("scaled" if args.scaled else "full") + (f"-{args.duration}" if args.duration else "")
    spies = summary.get("spies", {})
    print(f"mainnet twin ({case}): {summary['nodes']} nodes")
    print(f"  command   {' '.join(cmd[1:])}")
    print(f"  simulated {summary['sim_seconds']:.0f} s, {summary['events']} events")
    print(f"  wall      {wall:.1f} s (load average {os.getloadavg()[0]:.1f})")
    print(f"  CPU       {cpu:.1f} s")
    print(f"  peak RSS  {rss_mb:.0f} MB")
    print(f"  blocks    {summary['blocks']['main_chain_height']}, txs "
          f"{summary.get('transactions', {}).get('created', 0)}, spy out-share {spies.get('out_share')}, "
          f"precision {spies.get('precision')}")
    history.record("bench_mainnet", case, {"wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
                                           "rss_mb": round(rss_mb), "events": summary["events"],
                                           "sim_s": summary["sim_seconds"]})


if __name__ == "__main__":
    main()
