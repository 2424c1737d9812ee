"""Speed and scale of the tx layer (prints figures; asserts nothing).

    python benchmarks/bench_transactions.py              # the large run: 1,011 nodes, 16 h
    python benchmarks/bench_transactions.py large --hours 4
    python benchmarks/bench_transactions.py quickstart   # upstream's quickstart shape, 6 h
    python benchmarks/bench_transactions.py fluff        # the fluff engine alone, 1,011 nodes
    python benchmarks/bench_transactions.py large --profile
    python benchmarks/bench_transactions.py seen         # first-seen memory: 10,000 nodes x 100,000 txs
    python benchmarks/bench_transactions.py large --seen-budget-mb 64   # sparse first-seen sooner

The large run is upstream Monerosim's big shape: 5 miners, 200 users sending
one tx per ~120 s (Poisson) once funded, 800 relays, 6 seed nodes, a
distributor funding the users from the miners' coinbase. Targets (issue 15):
≤ 60 s CPU on a machine whose bare heapq loop (1,000 pending events) runs 1.44 M
events/s (figures are printed scaled by this machine's loop rate too), ≤ 2 GB
peak RSS. Each case runs in a fresh process so its peak RSS is its own. Every
run (not ``--profile``) appends a line to the benchmark history
(``benchmarks/history.py``) and prints the ratio to the previous run of the
same case.
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
from typing import Any

import _checkout  # noqa: F401  (this checkout's package first)
import history
import numpy as np

from pytest_monerosim.config.model import Scenario
from pytest_monerosim.registry import Registry


def registry() -> Registry:
    try:
        from pytest_monerosim.registry import default_registry

        return default_registry()
    except (ImportError, AttributeError):  # other layers may be half-written
        from pytest_monerosim.agents import behaviours, wallets
        from pytest_monerosim.topology import plugins

        reg = Registry()
        for module in (behaviours, wallets, plugins):
            reg.add_all(module.PLUGINS)
        return reg


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def large_scenario(hours: float, seed: int = 1) -> Scenario:
    return Scenario.model_validate({
        "general": {"name": "large-tx", "seed": seed, "duration": hours * 3600},
        "network": {"topology": {"name": "monero"},
                    "latency": {"name": "lognormal", "median_s": 0.06, "sigma": 0.5}},
        "nodes": [
            {"group": "seeds", "count": 6, "role": "relay", "seed_node": True},
            {"group": "miners", "count": 5, "role": "miner", "hashrate": 20},
            {"group": "users", "count": 200, "role": "user"},
            {"group": "relays", "count": 800, "role": "relay"},
        ],
        "wallets": [
            {"name": "mining", "node_group": "miners", "strategy": "mining_wallet"},
            {"name": "user", "node_group": "users",
             "strategy": {"name": "transaction_bot", "interval_s": 120, "schedule": "poisson",
                          "amount": {"dist": "uniform", "min": "0.001 XMR", "max": "0.01 XMR"}}},
            {"name": "distributor", "nodes": ["seeds-0"],
             "strategy": {"name": "distributor", "initial_fund_amount": "5 XMR",
                          "outputs_per_recipient": 15, "batch_size": 1, "interval_s": 600,
                          "min_transaction_amount": "0.01 XMR",
                          "max_transaction_amount": "0.1 XMR"}},
        ],
    })


def quickstart_scenario(hours: float = 6.0, seed: int = 12345) -> Scenario:
    """Upstream's quickstart: 5 miners (hashrate 20 each), 3 users from t=2400 s every 120 s,
    a relay, a distributor."""
    return Scenario.model_validate({
        "general": {"name": "quickstart", "seed": seed, "duration": hours * 3600},
        "network": {"topology": {"name": "monero"}},
        "nodes": [
            {"group": "miners", "count": 5, "role": "miner", "hashrate": 20, "seed_node": True},
            {"group": "users", "count": 3, "role": "user"},
            {"group": "relay", "role": "relay"},
        ],
        "wallets": [
            {"name": "miner", "node_group": "miners", "strategy": "mining_wallet"},
            {"name": "user", "node_group": "users",
             "strategy": {"name": "transaction_bot", "interval_s": 120, "start_time": 2400}},
            {"name": "distributor", "nodes": ["relay"],
             "strategy": {"name": "distributor", "outputs_per_recipient": 15}},
        ],
    })


def run(scenario: Scenario, profile: bool) -> None:
    from pytest_monerosim.backends.sim import run_scenario
    from pytest_monerosim.result.summary import summarize

    def progress(now: float, total: float, events: int) -> None:
        print(f"  t={now / 3600:5.2f} h  events={events:,}  wall={time.perf_counter() - t0:6.1f} s",
              file=sys.stderr, flush=True)

    reg = registry()
    rate = history.loop_rate()
    c0 = time.process_time()
    t0 = time.perf_counter()
    prof = cProfile.Profile() if profile else None
    if prof:
        prof.enable()
    result = run_scenario(scenario, reg, progress=progress, progress_every=2_000_000)
    if prof:
        prof.disable()
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    s = summarize(result)
    tx, wal, blocks = s["transactions"], s["wallets"], s["blocks"]
    info = result.extra.get("transactions", {})
    print(f"{scenario.general.name}: {len(result.nodes)} nodes, {scenario.general.duration / 3600:g} h "
          f"simulated in {wall:.1f} s wall ({cpu:.1f} s CPU = {history.scale(cpu, rate):.1f} s on the "
          f"reference machine; loop rate here {rate / 1e6:.2f} M events/s), peak RSS "
          f"{peak_rss_mb():.0f} MB, {result.events:,} events, load average {os.getloadavg()[0]:.1f}")
    print(f"  blocks: height {blocks['main_chain_height']}, stale {blocks['stale']}; "
          f"consensus spread {s['consensus']['max_height_spread']}")
    print(f"  txs: {tx['created']:,} created, {tx['relayed']:,} reached every honest node, "
          f"{tx['confirmed']:,} confirmed ({tx['in_blocks_ratio']:.1%}); confirmation p50 "
          f"{tx['confirmation_p50_s']} s, p90 {tx['confirmation_p90_s']} s")
    print(f"  wallets: {wal['funded']}/{wal['count']} funded; fluff: {info.get('flushes', 0):,} flushes, "
          f"{info.get('messages', 0):,} messages, {info.get('learns', 0):,} learns in "
          f"{info.get('windows', 0):,} windows; mean stem {info.get('stem_length_mean')}")
    props = _tx_propagation(result)
    if props:
        print(f"  tx propagation to all nodes from creation: p50 {props[0]:.2f} s, "
              f"p90 {props[1]:.2f} s")
    if prof:
        pstats.Stats(prof).sort_stats("tottime").print_stats(25)
    else:
        case = scenario.general.name + f"-{scenario.general.duration / 3600:g}h"
        from pytest_monerosim.sim.tx import seen

        if seen.DENSE_BUDGET != 64 * 2**20:
            case += f"-seen{seen.DENSE_BUDGET * 4 / 2**20:g}MB"
        history.record("bench_transactions", case, {
            "cpu_s": round(cpu, 2), "wall_s": round(wall, 2), "rss_mb": round(peak_rss_mb()),
            "events": result.events, "txs": tx["created"], "flushes": info.get("flushes", 0),
            "windows": info.get("windows", 0)}, rate)


def _tx_propagation(result: Any) -> tuple[float, float] | None:
    spans = []
    for t in result.txs.values():
        if t.status == "rejected":
            continue
        if t.seen_sparse:  # a settled tx of a run beyond the seen table's dense budget
            if t.seen_last is not None and not t.unseen:
                spans.append(t.seen_last - t.created_at)
            continue
        if t.seen_times is None:
            continue
        row = np.frombuffer(t.seen_times, dtype=np.float32)
        if np.isnan(row).any():
            continue
        spans.append(float(row.max() - t.created_at))
    if not spans:
        return None
    return float(np.percentile(spans, 50)), float(np.percentile(spans, 90))


def bench_fluff(minutes: float = 20.0) -> None:
    from pytest_monerosim.sim.tx.fluff import FluffEngine

    n, out_peers = 1011, 12
    rng = random.Random(1)
    links: dict[tuple[int, int], bool] = {}
    for u in range(n):
        for v in rng.sample([x for x in range(n) if x != u], out_peers):
            links.setdefault((u, v), True)
            links.setdefault((v, u), False)
    src = np.array([k[0] for k in links])
    dst = np.array([k[1] for k in links])
    engine = FluffEngine(n, seed=3, step_s=0.5)
    engine.set_connections(src, dst, np.full(src.size, 0.05), np.array(list(links.values())))
    t, k, end = 0.0, 0, minutes * 60
    c0 = time.process_time()
    t0 = time.perf_counter()
    while True:
        t += rng.expovariate(200 / 120)
        if t > end:
            break
        engine.inject(rng.randrange(n), k, t)
        k += 1
        engine.sync(t)
    engine.advance(end + 60)
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    print(f"fluff: {n} nodes, {src.size:,} directed links, {k:,} txs over {minutes:g} min in "
          f"{wall:.2f} s wall, {cpu:.2f} s CPU ({cpu / minutes * 60 * 16:.0f} s CPU per 16 h); "
          f"{engine.flushes:,} flushes, "
          f"{engine.learns:,} learns, {engine.windows:,} windows; peak RSS {peak_rss_mb():.0f} MB")
    history.record("bench_transactions", "fluff", {
        "cpu_s": round(cpu, 2), "wall_s": round(wall, 2), "rss_mb": round(peak_rss_mb()),
        "flushes": engine.flushes, "windows": engine.windows})


def bench_seen(n_nodes: int = 10_000, n_txs: int = 100_000, watched: int = 200) -> None:
    """The first-seen table alone, driven as a run drives it: every tx seen by every node
    within seconds of its creation (1.2 txs/s), settled chunks turning sparse."""
    from pytest_monerosim.sim.tx.seen import SeenTable

    rng = np.random.default_rng(1)
    table = SeenTable(n_nodes)
    spread = rng.exponential(3.0, n_nodes).astype(np.float64)
    nodes = np.arange(n_nodes, dtype=np.int64)
    cols = np.sort(rng.choice(n_nodes, watched, replace=False))
    c0 = time.process_time()
    t0 = time.perf_counter()
    biggest = 0
    for serial in range(n_txs):
        t = serial / 1.2
        table.mark_many(np.full(n_nodes, serial, dtype=np.int64), nodes, t + np.roll(spread, serial))
        if serial % 512 == 0:
            table.settle(t, lambda s=serial: set(range(max(0, s - 600), s + 1)), cols)
            biggest = max(biggest, table.nbytes())
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    dense = n_nodes * n_txs * 4 / 2**20
    print(f"seen table: {n_nodes:,} nodes x {n_txs:,} txs ({watched} watched) in {cpu:.1f} s CPU: "
          f"largest {biggest / 2**20:.0f} MB, at the end {table.nbytes() / 2**20:.0f} MB "
          f"({len(table.sparse)} sparse chunks), against {dense:,.0f} MB dense; peak RSS "
          f"{peak_rss_mb():.0f} MB")
    history.record("bench_transactions", f"seen-{n_nodes}x{n_txs}", {
        "cpu_s": round(cpu, 2), "wall_s": round(wall, 2), "rss_mb": round(peak_rss_mb()),
        "table_mb": round(table.nbytes() / 2**20), "largest_mb": round(biggest / 2**20),
        "dense_mb": round(dense)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("case", nargs="?", default="large",
                        choices=["large", "quickstart", "fluff", "seen", "all"])
    parser.add_argument("--hours", type=float, default=None)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--seen-budget-mb", type=float, default=None,
                        help="the first-seen table's dense budget (default 256 MB; beyond it settled "
                             "txs keep only the watched nodes' times)")
    args = parser.parse_args()
    if args.case == "all":
        for case in ("fluff", "quickstart", "large"):
            subprocess.run([sys.executable, __file__, case], check=False)
        return
    if args.seen_budget_mb is not None:
        from pytest_monerosim.sim.tx import seen

        seen.DENSE_BUDGET = int(args.seen_budget_mb * 2**20 / 4)
    if args.case == "fluff":
        bench_fluff()
    elif args.case == "seen":
        bench_seen()
    elif args.case == "quickstart":
        run(quickstart_scenario(args.hours or 6.0), args.profile)
    else:
        run(large_scenario(args.hours or 16.0), args.profile)


if __name__ == "__main__":
    main()
