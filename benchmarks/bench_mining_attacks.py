"""Cost and accuracy of the mining attacks (prints figures; asserts nothing).

    python benchmarks/bench_mining_attacks.py                 # both attacks, suite-sized
    python benchmarks/bench_mining_attacks.py selfish --days 40
    python benchmarks/bench_mining_attacks.py double --trials 2000 --q 0.3 --z 2
    python benchmarks/bench_mining_attacks.py double --chain  # chain-level txs (no wallets)

For selfish mining: wall time per simulated day, main-chain blocks per wall
second, the revenue share beside Eyal & Sirer's R(alpha, gamma_measured). For
double spends: wall time per trial and the success rate beside the exact
probability (Wilson 99% interval).
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import _checkout  # noqa: F401  (this checkout's package first)

from pytest_monerosim.agents import behaviours, wallets
from pytest_monerosim.analysis.stats import wilson_interval
from pytest_monerosim.analysis.theory import double_spend_exact
from pytest_monerosim.attacks import double_spend, selfish_mining
from pytest_monerosim.backends.sim import run_scenario
from pytest_monerosim.config.model import Scenario
from pytest_monerosim.registry import Registry
from pytest_monerosim.topology import plugins


def registry() -> Registry:
    reg = Registry()
    for specs in (behaviours.PLUGINS, plugins.PLUGINS, wallets.PLUGINS):
        reg.add_all(specs)
    reg.add(selfish_mining.SPEC)
    reg.add(double_spend.SPEC)
    return reg


def mesh(miners: int, latency_s: float, days: float, seed: int, **extra: Any) -> dict[str, Any]:
    return {
        "general": {"seed": seed, "duration": days * 86400},
        "network": {"topology": "mesh", "latency": {"name": "constant", "latency_s": latency_s},
                    "verification_s": 0.02},
        "nodes": [{"group": "miners", "count": miners, "role": "miner", "hashrate": 1.0}],
        **extra,
    }


def bench_selfish(args: argparse.Namespace) -> None:
    data = mesh(5, 0.1, args.days, args.seed,
                attacks=[{"name": "selfish_mining", "alpha": args.alpha, "gamma": args.gamma}])
    t0 = time.perf_counter()
    result = run_scenario(Scenario.model_validate(data), registry(), snapshot_interval_s=None)
    wall = time.perf_counter() - t0
    m = result.attacks["selfish_mining"]
    print(f"selfish mining alpha={args.alpha} gamma={args.gamma}: {args.days:g} days in {wall:.2f} s "
          f"({wall / args.days:.2f} s/day, {m['main_blocks'] / wall:.0f} main blocks/s, "
          f"{result.events / wall:,.0f} events/s)")
    print(f"  revenue share {m['revenue_share']:.4f} +- {m['revenue_share_se']:.4f} (1 s.e.); "
          f"gamma measured {m['gamma_measured']:.3f} over {m['races']} races; "
          f"R(alpha, gamma_measured) = {m['theory_revenue']:.4f}")


def bench_double(args: argparse.Namespace) -> None:
    data = mesh(4, 0.05, 10_000, args.seed,
                attacks=[{"name": "double_spend", "q": args.q, "z": args.z, "trials": args.trials}])
    data["nodes"].append({"group": "shop", "role": "relay"})
    if not args.chain:
        data["wallets"] = [{"name": "till", "nodes": ["shop"]}]
    t0 = time.perf_counter()
    result = run_scenario(Scenario.model_validate(data), registry(), snapshot_interval_s=None)
    wall = time.perf_counter() - t0
    m = result.attacks["double_spend"]
    ci = wilson_interval(m["successes"], m["trials"], 0.99)
    print(f"double spend q={args.q} z={args.z} ({m['tx_model']} txs): {m['trials']} trials in "
          f"{wall:.2f} s ({1000 * wall / m['trials']:.1f} ms/trial, "
          f"{result.sim_seconds / 86400:.1f} simulated days)")
    print(f"  success {m['successes']}/{m['trials']} = {m['successes'] / m['trials']:.4f}, 99% "
          f"[{ci.low:.4f}, {ci.high:.4f}]; exact {double_spend_exact(args.q, args.z):.4f}; "
          f"gave up {m['gave_up']} (D={m['give_up_deficit']}), payment delayed "
          f"{m['payment_delayed']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("which", nargs="?", choices=("selfish", "double", "all"), default="all")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--days", type=float, default=8.0)
    parser.add_argument("--alpha", type=float, default=0.35)
    parser.add_argument("--gamma", type=float, default=0.5)
    parser.add_argument("--q", type=float, default=0.3)
    parser.add_argument("--z", type=int, default=2)
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--chain", action="store_true", help="chain-level txs (no wallets)")
    args = parser.parse_args()
    if args.which in ("selfish", "all"):
        bench_selfish(args)
    if args.which in ("double", "all"):
        bench_double(args)


if __name__ == "__main__":
    main()
