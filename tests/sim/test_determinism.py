"""Same scenario + seed → same result in any process (string hashing is salted per process)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import json
from tests.sim.conftest import make_registry, scenario
from pytest_monerosim.backends.sim import run_scenario
from pytest_monerosim.result.summary import summarize, without_wall_clock
sc = scenario([{"group": "m", "count": 3, "role": "miner", "hashrate": 1.0},
               {"group": "r", "count": 17}],
              general={"duration": "1h", "seed": 5},
              network={"latency": {"name": "uniform", "low": 0.02, "high": 0.3}},
              p2p={"turnover_mean_s": 900})
r = run_scenario(sc, make_registry(), snapshot_interval_s=1800)
s = without_wall_clock(summarize(r))
s["edges"] = [s_.edges for s_ in r.peer_snapshots]
s["arrivals"] = {b.id: sorted(b.arrivals.items()) for b in r.blocks.values()}
print(json.dumps(s, sort_keys=True))
"""


def run_in_process(hash_seed: str) -> str:
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(root)}
    out = subprocess.run([sys.executable, "-c", SCRIPT], cwd=root, env=env, check=True,
                         capture_output=True, text=True)
    return out.stdout


def test_results_are_identical_across_processes() -> None:
    a = run_in_process("1")
    b = run_in_process("4242")
    assert len(a) > 1000
    assert a == b
