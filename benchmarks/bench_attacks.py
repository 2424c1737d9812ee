"""Cost of the eclipse, sybil and partition attacks on the embedded simulator (prints figures).

    python benchmarks/bench_attacks.py            # 100 and 1,000 honest nodes, 2 h each
    python benchmarks/bench_attacks.py 1000       # one size

For each size: the wall time and event count of the network alone, then with
each attack and the attack's headline metrics, so a slowdown or a change of
outcome shows at a glance. The eclipse attack runs twice against a victim
without anchors: 48 addresses that all connect in (enough on a small network,
where honest gray-list entries drain away), and 600 addresses of which 24
connect in and the rest are only advertised (what a large network takes).
"""

from __future__ import annotations

import sys
import time
from typing import Any

import _checkout  # noqa: F401  (this checkout's package first)

from pytest_monerosim.backends.sim import build_world
from pytest_monerosim.config.model import Scenario
from pytest_monerosim.registry import default_registry

CASES: list[tuple[str, dict[str, Any]]] = [
    ("none", {}),
    ("eclipse", {"victim_anchors": 0, "attackers": 48}),
    # Many advertised-only addresses: what it takes to win the gray picks on a big network.
    ("eclipse", {"victim_anchors": 0, "attackers": 600, "connectors": 24}),
    ("sybil", {"identities": 64}),
    ("partition", {"split": 0.7}),
]
HEADLINE = {
    "eclipse": ("out_fraction", "eclipsed", "time_to_eclipse_s", "isolated_at_end"),
    "sybil": ("out_share", "all_share", "reach"),
    "partition": ("reorg_depth", "lighter_mined", "reconverge_s", "heavier_won"),
}


def scenario(honest: int, attack: str, params: dict[str, Any]) -> Scenario:
    miners = max(4, honest // 20)
    return Scenario.model_validate({
        "general": {"name": f"bench-{honest}", "seed": 1, "duration": "2h"},
        "network": {"topology": {"name": "monero", "seeds": 4},
                    "latency": {"name": "lognormal", "median_s": 0.06, "sigma": 0.5}},
        "nodes": [
            {"group": "seeds", "count": 4, "seed_node": True},
            {"group": "miners", "count": miners, "role": "miner", "hashrate": 1.0},
            {"group": "relays", "count": honest - 4 - miners},
        ],
        "attacks": [] if attack == "none" else [{"name": attack, "params": params}],
    })


def main(sizes: list[int]) -> None:
    registry = default_registry()
    for honest in sizes:
        base = None
        for attack, params in CASES:
            world = build_world(scenario(honest, attack, params), registry)
            t0 = time.perf_counter()
            result = world.run()
            wall = time.perf_counter() - t0
            base = base or wall
            metrics = result.attacks.get(attack, {})
            shown = ", ".join(f"{k}={metrics.get(k)}" for k in HEADLINE.get(attack, ()))
            print(f"{honest:>5} honest  {attack:<9} {wall:6.2f} s  x{wall / base:4.2f}  "
                  f"{result.events:>9,} events  {shown}")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [100, 1000])
