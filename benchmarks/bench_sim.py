"""Speed and scale of the embedded simulator (prints figures; asserts nothing).

    python benchmarks/bench_sim.py            # everything, each case in its own process
    python benchmarks/bench_sim.py engine     # event loop vs a bare heapq loop
    python benchmarks/bench_sim.py 1k         # 1,000 nodes, 12 out-peers, 16 h, blocks only
    python benchmarks/bench_sim.py 10k        # 10,000 nodes, 1 h
    python benchmarks/bench_sim.py 1k --profile   # cProfile the run, top 25 by own time

Targets (issue 15; CPU seconds on a machine whose bare heapq loop with 1,000
pending events runs 1.44 M events/s, so each figure is also printed scaled by
this machine's loop rate): 1k ≤ 15 s; 10k ≤ 20 s and ≤ 2 GB peak RSS; the
engine at ≥ 50% of the bare loop's events/s. Each network case runs in a fresh
process so its peak RSS is its own. CPU time is printed next to wall time
because on a shared machine the wall clock also measures the neighbours (the
load average is printed too). Every run (not ``--profile``) appends a line to
the benchmark history (``benchmarks/history.py``) and prints the ratio to the
previous run of the same case.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import resource
import subprocess
import sys
import time
from heapq import heappop, heappush
from typing import Any

import _checkout  # noqa: F401  (this checkout's package first)
import history

from pytest_monerosim.config.model import Scenario
from pytest_monerosim.registry import Registry
from pytest_monerosim.sim.engine import Engine


def registry() -> Registry:
    try:
        from pytest_monerosim.registry import default_registry

        return default_registry()
    except (ImportError, AttributeError):  # other layers may be half-written
        from pytest_monerosim.agents import behaviours
        from pytest_monerosim.topology import plugins

        reg = Registry()
        reg.add_all(behaviours.PLUGINS)
        reg.add_all(plugins.PLUGINS)
        return reg


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


# -- engine ------------------------------------------------------------------------------


def bench_engine(events: int = 500_000, pending: int = 10_000, rounds: int = 7) -> None:
    """Best of ``rounds`` alternating runs each, so a busy neighbour hits both alike (CPU time)."""
    rng = random.Random(1)
    delays = [rng.expovariate(1.0) for _ in range(4096)]

    def bare() -> float:
        heap: list[tuple[float, int]] = [(delays[i % 4096], i) for i in range(pending)]
        heap.sort()
        t0 = time.process_time()
        for n in range(events):
            t, i = heappop(heap)
            heappush(heap, (t + delays[n & 4095], i))
        return events / (time.process_time() - t0)

    def engine() -> float:
        eng = Engine()
        state = {"n": 0}
        schedule = eng.schedule

        def hop(k: int) -> None:
            n = state["n"] = state["n"] + 1
            if n < events:
                schedule(delays[n & 4095], hop, k)

        for k in range(pending):
            eng.schedule(delays[k % 4096], hop, k)
        t0 = time.process_time()
        ran = eng.run()
        return ran / (time.process_time() - t0)

    best_bare = best_engine = 0.0
    for _ in range(rounds):
        best_bare = max(best_bare, bare())
        best_engine = max(best_engine, engine())
    print(f"engine: bare heapq push/pop {best_bare / 1e6:.2f} M events/s; "
          f"Engine.schedule + run {best_engine / 1e6:.2f} M events/s "
          f"({100 * best_engine / best_bare:.0f}% of bare; target >= 50%; best of {rounds})")
    history.record("bench_sim", "engine", {"bare_meps": round(best_bare / 1e6, 3),
                                           "engine_meps": round(best_engine / 1e6, 3),
                                           "engine_pct": round(100 * best_engine / best_bare, 1)})


# -- networks ------------------------------------------------------------------------------


def network(nodes: int, duration: str, miners: int = 10) -> Scenario:
    return Scenario.model_validate({
        "general": {"name": f"bench-{nodes}", "seed": 1, "duration": duration},
        "network": {"topology": "monero",
                    "latency": {"name": "uniform", "low": 0.02, "high": 0.2}},
        "p2p": {"out_peers": 12},
        "nodes": [
            {"group": "miner", "count": miners, "role": "miner", "hashrate": 1.0},
            {"group": "relay", "count": nodes - miners},
        ],
    })


CASES: dict[str, tuple[int, str, float, float]] = {
    # name: (nodes, duration, CPU target s on the reference machine, rss target MB) (issue 15)
    "1k": (1_000, "16h", 15.0, 2048.0),
    "10k": (10_000, "1h", 20.0, 2048.0),
}


def bench_network(case: str, profile: bool = False) -> None:
    from pytest_monerosim.backends.sim import run_scenario
    from pytest_monerosim.result.summary import summarize

    nodes, duration, cpu_target, rss_target = CASES[case]
    sc = network(nodes, duration)
    reg = registry()
    rate = history.loop_rate()
    t0 = time.perf_counter()
    c0 = time.process_time()
    if profile:
        prof = cProfile.Profile()
        result: Any = prof.runcall(run_scenario, sc, reg)
    else:
        result = run_scenario(sc, reg)
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    s = summarize(result)
    out = [len(v) for v in _out_peers(result).values()]
    print(f"{case}: {nodes} nodes, {duration}: wall {wall:.1f} s, CPU {cpu:.1f} s = "
          f"{history.scale(cpu, rate):.1f} s on the reference machine (target <= {cpu_target:.0f} s; "
          f"loop rate here {rate / 1e6:.2f} M events/s), peak RSS {peak_rss_mb():.0f} MB "
          f"(target <= {rss_target:.0f} MB), load average {os.getloadavg()[0]:.1f}")
    print(f"    {result.events:,} events ({result.events / wall / 1e3:.0f} k/s), "
          f"{s['blocks']['mined']} blocks, stale rate {s['blocks']['stale_rate']}, "
          f"mean interval {s['blocks']['mean_interval_s']} s, "
          f"propagation p50/p90 {s['propagation']['p50_s']}/{s['propagation']['p90_s']} s, "
          f"out-degree min/max {min(out)}/{max(out)}, agreed {s['consensus']['agreed']}")
    if profile:
        pstats.Stats(prof).sort_stats("tottime").print_stats(25)
    else:
        history.record("bench_sim", case, {
            "cpu_s": round(cpu, 2), "wall_s": round(wall, 2), "rss_mb": round(peak_rss_mb()),
            "events": result.events, "blocks": s["blocks"]["mined"]}, rate)


def _out_peers(result: Any) -> dict[str, list[str]]:
    peers: dict[str, list[str]] = {n: [] for n in result.nodes}
    for a, b in result.peer_snapshots[-1].edges:
        peers[a].append(b)
    return peers


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("case", nargs="?", default="all", choices=["all", "engine", *CASES])
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    if args.case == "engine":
        bench_engine()
    elif args.case in CASES:
        bench_network(args.case, args.profile)
    else:
        for case in ("engine", *CASES):
            subprocess.run([sys.executable, __file__, case], check=True)


if __name__ == "__main__":
    main()
