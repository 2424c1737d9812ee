"""The mainnet twin's cost: wall time, CPU time and peak memory (prints figures; asserts nothing).

    python benchmarks/bench_mainnet.py                      # the full twin, 33,047 nodes, 24 h
    python benchmarks/bench_mainnet.py --duration 30m       # the full twin, shortened
    python benchmarks/bench_mainnet.py --scaled             # the 1/40 copy the default tests run
    python benchmarks/bench_mainnet.py --duration 4h --memory-every 30m   # where the memory goes

It runs exactly ``python -m pytest_monerosim.cli run fixtures/scenarios/mainnet.yaml`` (plus
the overrides asked for) in a child process and reads the child's resource usage, so the
peak RSS is the run's own. Target (issue 14): the full twin under 10 minutes and 8 GB on a
2-core machine. CPU time is printed next to wall time because on a shared machine the wall
clock also measures the neighbours (the load average is printed too). Each run appends a
line to the benchmark history (``benchmarks/history.py``).

``--memory-every`` runs the twin in this process instead and prints, every so many simulated
seconds, the CPU time (in all and since the last line), the resident set, and what the peer
lists hold beside it (gray lists' arrays, white-list and journal entries, links): the curves
the peak and the total alone do not show. Such a run records no history line (its peak
includes the inspection's own objects).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _checkout  # noqa: F401  (this checkout's package first)
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
    ap.add_argument("--memory-every", metavar="DURATION",
                    help="run in this process and print the memory every DURATION simulated (e.g. 30m)")
    args = ap.parse_args()
    if args.memory_every:
        from pytest_monerosim.config.durations import parse_duration

        try:
            step = parse_duration(args.memory_every)
        except ValueError:
            step = 0.0
        if step <= 0:
            ap.error(f"--memory-every: {args.memory_every!r} is not a positive duration (e.g. 30m)")
        memory_curve(args.duration, step, args.scaled)
        return
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
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        # a SIGTERM to this script goes to the run, which writes what it has and ends (its own
        # SIGTERM handling); it is waited for below, so killing the benchmark leaves no run behind
        signal.signal(signal.SIGTERM, lambda *_: proc.terminate())
        try:
            _, stderr = proc.communicate()
        except KeyboardInterrupt:  # (Ctrl-C reached the run too: let it finish writing)
            proc.terminate()
            proc.wait()
            raise
        wall = time.perf_counter() - t0
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode != 0:
            print(stderr.strip().splitlines()[-1] if stderr.strip() else "run failed")
            sys.exit(proc.returncode if proc.returncode > 0 else 1)
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


def _rss_mb() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) // 1024
    return 0


def memory_curve(duration: str | None, step: float, scaled: bool) -> None:
    """The twin in this process, its memory printed every ``step`` simulated seconds."""
    from pytest_monerosim.backends.sim import build_world
    from pytest_monerosim.config.loader import load_scenario

    overrides: dict[str, object] = scaled_overrides() if scaled else {}
    if duration:
        overrides["duration"] = duration
    scenario = load_scenario(TWIN, overrides=overrides)
    end = scenario.general.duration
    world = build_world(scenario, snapshot_interval_s=None)
    nodes = list(world.nodes.values())
    t0 = time.process_time()
    print(f"mainnet twin in-process: {len(nodes)} nodes, {end / 3600:.2f} h simulated, "
          f"memory every {step / 60:g} min")

    last = [0.0]

    def inspect() -> None:
        cpu = time.process_time() - t0
        interval, last[0] = cpu - last[0], cpu  # (the CPU of this interval shows a cost that grows)
        books = [n.book for n in nodes]
        gray = sum(len(b.gray) for b in books)
        gray_mb = sum(b.gray.nbytes() for b in books) / 2**20
        white = sum(len(b.white) for b in books)
        journal = sum(len(b.journal) for b in books)
        links = sum(len(n.links) for n in nodes)
        print(f"  {world.engine.now / 60:6.0f} min  CPU {cpu:7.1f} s (+{interval:6.1f})  "
              f"RSS {_rss_mb():6,} MB  gray {gray / len(nodes):5.0f} a node ({gray_mb:,.0f} MB of arrays)  "
              f"white {white / len(nodes):5.0f} a node  journals {journal:,}  links {links:,}", flush=True)
        if world.engine.now + step <= end:
            world.engine.at(world.engine.now + step, inspect)

    world.engine.at(min(step, end), inspect)
    world.run()
    print(f"  peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB, "
          f"CPU {time.process_time() - t0:.1f} s")


if __name__ == "__main__":
    main()
