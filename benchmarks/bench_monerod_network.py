"""The monerod backend end to end: setup, block throughput, and how large a network fits here.

    python benchmarks/bench_monerod_network.py [--nodes 5] [--blocks 100] [--scales 10,25]
                                               [--duration 1200] [--time-scale 120]
                                               [--up 50] [--isolation auto|netns|loopback]

Figures, printed (nothing is asserted about time):

0. with ``--up N``: N daemons brought up (each in its own network namespace
   when root, see ``--isolation``), peered by monerod's own discovery and
   synchronized: time to namespaces, to RPC ready, to connected; monerod RSS
   per daemon once idle, and again after ``--up-blocks`` blocks (every daemon
   then holds its RandomX cache, as in any run that mines), and so daemons per
   GiB of memory;

1. a ``--nodes`` network (``monero`` topology, emulated discovery on loopback)
   planned, started, peered and synchronized;
2. ``--blocks`` blocks mined one at a time on alternating miners, each awaited
   on every node, with the per-block propagation measured from the monerod logs;
3. for each of ``--scales`` nodes: a full run through the backend (2 miners,
   agents on threads, ``--duration`` simulated seconds) with setup time, total
   and per-node RSS of the monerod processes, blocks, consensus and propagation.

Every process is stopped at the end, also when interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import tempfile
import time
from pathlib import Path

import _checkout  # noqa: F401  (this checkout's package first)
import history

from pytest_monerosim.backends.monerod.actions import NetworkActions
from pytest_monerosim.backends.monerod.network import LoopbackNetwork
from pytest_monerosim.config.model import Scenario
from pytest_monerosim.registry import Registry
from pytest_monerosim.result.summary import summarize


def registry() -> Registry:
    reg = Registry()
    for module in ("pytest_monerosim.topology.plugins", "pytest_monerosim.agents.behaviours",
                   "pytest_monerosim.agents.wallets"):
        reg.add_all(importlib.import_module(module).PLUGINS)
    return reg


def scenario(nodes: int, duration: float) -> Scenario:
    return Scenario.model_validate({
        "general": {"name": f"bench-{nodes}", "duration": duration, "seed": 11},
        "network": {"topology": "monero"},
        "p2p": {"out_peers": 4},
        "nodes": [{"group": "miner", "count": 2, "role": "miner", "hashrate": 1},
                  {"group": "relay", "count": max(1, nodes - 2)}],
    })


def rss_mib(net: LoopbackNetwork) -> list[float]:
    out = []
    for daemon in net.daemons.values():
        if daemon.process is None or daemon.process.pid is None:
            continue
        try:
            status = Path(f"/proc/{daemon.process.pid}/status").read_text()
        except OSError:
            continue
        kib = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
        out.append(kib / 1024)
    return out


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    data = sorted(values)
    return data[min(len(data) - 1, int(round(q / 100 * (len(data) - 1))))]


def bench_up(reg: Registry, nodes: int, isolation: str, root: Path, blocks_after: int = 2) -> None:
    figures: dict[str, float] = {}
    began = time.perf_counter()
    with LoopbackNetwork.from_scenario(scenario(nodes, 60), reg, workdir=root / f"up-{nodes}",
                                       agents="none", isolation=isolation) as net:
        print(f"[0] hosts: {net.isolation} ({net.isolation_reason})")
        net.start()
        up = time.perf_counter() - began
        time.sleep(5.0)  # let start-up allocations settle before reading RSS
        rss = rss_mib(net)
        mean = statistics.mean(rss) if rss else float("nan")
        print(f"[0] {nodes} daemons up, peered and synchronized: {up:.1f} s (hosts "
              f"{net.phases.get('hosts_ready', 0):.1f} s, RPC ready "
              f"{net.phases['daemons_ready']:.1f} s, connected {net.phases['connected']:.1f} s); "
              f"monerod RSS {mean:.0f} MiB/daemon (max {max(rss):.0f}), total {sum(rss):.0f} MiB "
              f"-> {1024 / mean:.1f} daemons per GiB")
        mode = net.isolation
        figures.update(wall_s=round(up, 1), hosts_s=net.phases.get("hosts_ready", 0.0),
                       rpc_ready_s=net.phases["daemons_ready"], connected_s=net.phases["connected"],
                       rss_mib_idle=round(mean, 1), daemons_per_gib_idle=round(1024 / mean, 1))
        if blocks_after:
            act = NetworkActions(net)
            t = time.perf_counter()
            act.mine(act.nodes()[0], blocks_after)
            act.wait_converged(timeout=300)
            rss = rss_mib(net)
            mean = statistics.mean(rss) if rss else float("nan")
            print(f"[0] after {blocks_after} blocks mined and verified by all "
                  f"({time.perf_counter() - t:.1f} s; each daemon now holds its RandomX cache): "
                  f"monerod RSS {mean:.0f} MiB/daemon (max {max(rss):.0f}), total {sum(rss):.0f} "
                  f"MiB -> {1024 / mean:.1f} daemons per GiB")
            figures.update(rss_mib_mined=round(mean, 1), daemons_per_gib=round(1024 / mean, 1))
            act.close()
        stop = time.perf_counter()
    figures["teardown_s"] = round(time.perf_counter() - stop, 1)
    print(f"[0] {nodes} daemons stopped and namespaces removed: {figures['teardown_s']:.1f} s "
          f"(load average {' '.join(f'{x:.1f}' for x in os.getloadavg())})")
    history.record("bench_monerod_network", f"up-{nodes}-{mode}", figures)


def bench_setup_and_blocks(reg: Registry, nodes: int, blocks: int, root: Path,
                           isolation: str = "auto") -> None:
    began = time.perf_counter()
    with LoopbackNetwork.from_scenario(scenario(nodes, 60), reg, workdir=root / "blocks",
                                       agents="none", isolation=isolation) as net:
        net.start()
        up = time.perf_counter() - began
        print(f"[1] {nodes}-node network up and connected: {up:.2f} s "
              f"(daemons ready {net.phases['daemons_ready']:.2f} s, connected "
              f"{net.phases['connected']:.2f} s)")
        act = NetworkActions(net)
        miners = [n for n in act.nodes() if n.startswith("miner")]
        t = time.perf_counter()
        for i in range(blocks):
            (block,) = act.mine(miners[i % len(miners)], 1)
            deadline = time.monotonic() + 30
            while set(act.tips().values()) != {block}:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"block {i} did not reach every node in 30 s")
                time.sleep(0.005)
        elapsed = time.perf_counter() - t
        act.close()
        result = net.collect()
        spreads = [max(b.arrivals.values()) - b.found_at for b in result.main_chain()[1:]
                   if b.arrivals]
        print(f"[2] {blocks} blocks mined one by one and synced on all {nodes}: {elapsed:.2f} s "
              f"({blocks / elapsed:.1f} blocks/s); last node got each block after "
              f"p50 {pct(spreads, 50) / net.time_scale * 1000:.0f} ms, "
              f"p90 {pct(spreads, 90) / net.time_scale * 1000:.0f} ms (wall, from monerod logs)")


def bench_scale(reg: Registry, nodes: int, duration: float, time_scale: float, root: Path) -> bool:
    samples: list[list[float]] = []
    began = time.perf_counter()
    try:
        with LoopbackNetwork.from_scenario(scenario(nodes, duration), reg,
                                           workdir=root / f"scale-{nodes}",
                                           time_scale=time_scale, warmup_block=True) as net:
            net.progress = lambda t, d, n: samples.append(rss_mib(net))
            net.start()
            setup = time.perf_counter() - began
            net.run()
            result = net.collect()
    except Exception as exc:  # noqa: BLE001 - a benchmark reports what broke and goes on
        print(f"[3] {nodes:>3} nodes: FAILED after {time.perf_counter() - began:.1f} s: "
              f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
        return False
    s = summarize(result)
    peak = max(samples, key=sum) if samples else []
    print(f"[3] {nodes:>3} nodes: setup {setup:5.1f} s, run {duration / time_scale:.0f} s wall; "
          f"monerod RSS {sum(peak):6.0f} MiB total, {statistics.mean(peak) if peak else 0:4.0f} "
          f"MiB/node; {s['blocks']['mined']} blocks, agreed={s['consensus']['agreed']}, "
          f"spread {s['consensus']['max_height_spread']}, stale {s['blocks']['stale']}; "
          f"to 90% of nodes p50 {_ms(s['propagation']['p50_s'], time_scale)} "
          f"p90 {_ms(s['propagation']['p90_s'], time_scale)} wall")
    timing = result.extra.get("timing", {})
    print(f"[3] {nodes:>3} nodes: hosts {result.extra.get('network', {}).get('isolation')}; "
          f"{timing.get('note', 'no timing')}")
    return True


def _ms(sim_s: float | None, time_scale: float) -> str:
    return "n/a" if sim_s is None else f"{sim_s / time_scale * 1000:.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=5)
    parser.add_argument("--blocks", type=int, default=100)
    parser.add_argument("--scales", default="10,25")
    parser.add_argument("--duration", type=float, default=1200.0)
    parser.add_argument("--time-scale", type=float, default=120.0)
    parser.add_argument("--up", type=int, default=0, help="bring up this many daemons first")
    parser.add_argument("--up-blocks", type=int, default=2,
                        help="blocks mined after --up, before reading RSS again (0: none)")
    parser.add_argument("--isolation", default="auto", choices=("auto", "netns", "loopback"))
    args = parser.parse_args()
    reg = registry()
    with tempfile.TemporaryDirectory(prefix="bench-monerod-net-") as tmp:
        root = Path(tmp)
        if args.up:
            bench_up(reg, args.up, args.isolation, root, args.up_blocks)
        if args.blocks:
            bench_setup_and_blocks(reg, args.nodes, args.blocks, root, args.isolation)
        for n in [int(x) for x in args.scales.split(",") if x]:
            if not bench_scale(reg, n, args.duration, args.time_scale, root):
                break


if __name__ == "__main__":
    main()
