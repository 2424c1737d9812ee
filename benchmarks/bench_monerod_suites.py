"""Wall time of the project's own suites on real daemons, before and after issue #12.

    python benchmarks/bench_monerod_suites.py [--set consensus-transactions|done-when]

Runs ``pytest <suites> --monerosim-backend=monerod -p no:randomly -rs`` in a
subprocess (one pytest process, as a user would), prints its wall time, the
outcome counts and the load average at both ends, and appends them to
``benchmarks/history.jsonl``. Real-daemon wall time follows the machine's load
(2 shared cores, load 5-15): quote it with the load average.

Sets:

* ``consensus-transactions``: ``scenarios/test_consensus.py`` and
  ``scenarios/test_transactions.py``, the pair issue #12 timed before the work:
  47 min 45 s with 4 failed, 5 passed, 5 skipped (session 1, daemons on
  loopback, no warm chain; the issue's text); 8 min 12 s in session 3
  (namespaced daemons, warm chain, run reuse).
* ``done-when``: issue #12's done-when run, partition + selfish mining +
  transactions.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import _checkout  # noqa: F401  (this checkout's package first)
import history

ROOT = Path(__file__).resolve().parents[1]
SETS = {
    "consensus-transactions": ["scenarios/test_consensus.py", "scenarios/test_transactions.py"],
    "done-when": ["scenarios/test_partition.py", "scenarios/test_selfish_mining.py",
                  "scenarios/test_transactions.py"],
}
BEFORE_S = {"consensus-transactions": [("session 1 (issue #12's text)", 47 * 60 + 45),
                                       ("session 3", 8 * 60 + 12)]}
"""Earlier measurements of the same set (wall seconds), printed beside today's."""


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", default="consensus-transactions", choices=sorted(SETS))
    args = parser.parse_args()
    argv = [sys.executable, "-m", "pytest", *SETS[args.set], "--monerosim-backend=monerod",
            "-p", "no:randomly", "-p", "no:cacheprovider", "-rs", "-q"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT),
                                                                   os.environ.get("PYTHONPATH")]))}
    load_before = os.getloadavg()
    began = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - began
    tail = [line for line in done.stdout.splitlines() if line.strip()][-1:] or ["(no output)"]
    counts = {k: int(v) for v, k in re.findall(r"(\d+) (passed|failed|skipped|xfailed|errors?)",
                                               tail[0])}
    print(f"{args.set}: {' '.join(SETS[args.set])}")
    print(f"  wall {wall / 60:.0f} min {wall % 60:02.0f} s; pytest exit {done.returncode}; {tail[0]}")
    print(f"  load average at start {' '.join(f'{x:.1f}' for x in load_before)}, at end {_load()}")
    for label, seconds in BEFORE_S.get(args.set, []):
        print(f"  before: {label}: {seconds // 60} min {seconds % 60:02d} s -> now x{wall / seconds:.2f}")
    history.record("bench_monerod_suites", args.set, {
        "wall_s": round(wall, 1), "exit": done.returncode, **counts,
        "load_start": round(load_before[0], 2)})
    if done.returncode not in (0,):
        print("\n".join(done.stdout.splitlines()[-30:]))


if __name__ == "__main__":
    main()
