"""Benchmark history: one JSON line per run, and the ratio to the last comparable run.

Every benchmark calls :func:`record` with its figures; the line goes to
``benchmarks/history.jsonl`` (override with ``MONEROSIM_BENCH_HISTORY``; set it
to an empty string to record nothing) with the commit, the load average and
this machine's *loop rate*: events/s of a bare ``heapq`` push/pop loop with
1,000 pending events. CPU seconds scaled by ``loop rate / 1.44 M`` are
comparable across machines (the issue's targets were set on a machine whose
loop ran 1.44 M events/s); on a shared machine CPU time is the figure to
trust, wall time also measures the neighbours.

    python benchmarks/history.py            # the last run of each case, vs the one before
    python benchmarks/history.py --all      # every recorded line
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from heapq import heappop, heappush
from pathlib import Path
from typing import Any

import _checkout  # noqa: F401  (this checkout's package first)

HERE = Path(__file__).resolve().parent
REFERENCE_LOOP_RATE = 1.44e6
"""Events/s of the bare loop on the machine the issue's targets were set on (issue 15)."""


def history_path() -> Path | None:
    env = os.environ.get("MONEROSIM_BENCH_HISTORY")
    if env is None:
        return HERE / "history.jsonl"
    return Path(env) if env else None


def loop_rate(events: int = 300_000, pending: int = 1_000, rounds: int = 5) -> float:
    """Best of ``rounds``: bare heapq push/pop events per CPU second with ``pending`` queued.

    CPU time, not wall time: on a shared machine the wall clock measures the
    neighbours, and the figures this rate scales are CPU seconds too."""
    rng = random.Random(1)
    delays = [rng.expovariate(1.0) for _ in range(4096)]
    best = 0.0
    for _ in range(rounds):
        heap = sorted((delays[i % 4096], i) for i in range(pending))
        t0 = time.process_time()
        for n in range(events):
            t, i = heappop(heap)
            heappush(heap, (t + delays[n & 4095], i))
        best = max(best, events / max(time.process_time() - t0, 1e-9))
    return best


def scale(cpu_s: float, rate: float) -> float:
    """CPU seconds here → CPU seconds on the reference machine (loop rate 1.44 M/s)."""
    return cpu_s * rate / REFERENCE_LOOP_RATE


def commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=HERE,
                               capture_output=True, text=True, check=True).stdout.strip()
        return head + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


START_COMMIT = commit()
"""The commit when the benchmark started (this module is imported first thing): a run that
lasts minutes records the code it ran, even if the tree moves on meanwhile."""


def last(bench: str, case: str, path: Path | None = None) -> dict[str, Any] | None:
    path = path or history_path()
    if path is None or not path.exists():
        return None
    found = None
    for line in path.read_text().splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if row.get("bench") == bench and row.get("case") == case:
            found = row
    return found


def compare_line(row: dict[str, Any], before: dict[str, Any] | None) -> str:
    if before is None:
        return f"    history: first recorded run of {row['bench']} {row['case']}"
    parts = []
    old = before.get("figures", {})
    keys = [k for k in ("cpu_ref_s", "cpu_s", "wall_s", "rss_mb") if k in row["figures"]]
    keys += [k for k in row["figures"] if k not in keys and k not in ("events", "txs", "points")]
    for key in keys:
        a, b = old.get(key), row["figures"].get(key)
        if isinstance(a, (int, float)) and isinstance(b, (int, float)) and a:
            parts.append(f"{key} {b:.1f} vs {a:.1f} (x{b / a:.2f})")
    return (f"    history: vs {before.get('commit')} at {before.get('utc')}: " + "; ".join(parts)
            + " (ratio < 1: faster / smaller now)")


def record(bench: str, case: str, figures: dict[str, Any], rate: float | None = None) -> dict[str, Any]:
    """Append one run to the history (atomically: one ``write`` of one line) and print the ratio
    to the previous run of the same case."""
    rate = loop_rate() if rate is None else rate
    if "cpu_s" in figures:
        figures = {**figures, "cpu_ref_s": round(scale(figures["cpu_s"], rate), 2)}
    row = {
        "bench": bench, "case": case, "commit": START_COMMIT,
        "utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "loadavg": [round(x, 2) for x in os.getloadavg()], "cpus": os.cpu_count(),
        "python": sys.version.split()[0], "loop_rate": round(rate),
        "figures": figures,
    }
    path = history_path()
    before = last(bench, case, path) if path else None
    scaled = (f"; CPU scaled to the reference machine: {figures['cpu_ref_s']:.1f} s"
              if "cpu_ref_s" in figures else "")
    print(f"    loop rate {rate / 1e6:.2f} M events per CPU second (reference 1.44){scaled}")
    print(compare_line(row, before))
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, (json.dumps(row, sort_keys=True) + "\n").encode())
        finally:
            os.close(fd)
    return row


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all", action="store_true", help="print every line")
    args = parser.parse_args(argv)
    path = history_path()
    if path is None or not path.exists():
        print("no benchmark history yet")
        return
    rows = [json.loads(x) for x in path.read_text().splitlines() if x.strip()]
    if args.all:
        for r in rows:
            print(json.dumps(r, sort_keys=True))
        return
    seen: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in rows:
        seen.setdefault((r["bench"], r["case"]), []).append(r)
    for (bench, case), runs in seen.items():
        r = runs[-1]
        f = r["figures"]
        print(f"{bench} {case}: {r['commit']} {r['utc']}: CPU {f.get('cpu_s')} s "
              f"(reference-scaled {f.get('cpu_ref_s')} s), wall {f.get('wall_s')} s, "
              f"RSS {f.get('rss_mb')} MB, load {r['loadavg'][0]}, loop {r['loop_rate'] / 1e6:.2f} M/s")
        print(compare_line(r, runs[-2] if len(runs) > 1 else None))


if __name__ == "__main__":
    main()
