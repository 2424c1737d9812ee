"""pytest-xdist speed-up on an attack sweep of independent networks (prints figures; asserts nothing).

    python benchmarks/bench_xdist.py              # 12 sybil networks: -p no:xdist, then -n 2
    python benchmarks/bench_xdist.py --points 8 --workers 2 4

Each sweep point is its own network (the sybil fixture with its attack, one
seed per point), so the work is embarrassingly parallel; the goal is >= 1.7x
on 2 cores. What limits it: worker start-up and collection (paid once per
worker), the longest point at the end (no work left to steal), and on a shared
machine the neighbours — the load average is printed with each figure, and
the speed-up cannot exceed ``cores / load`` when the machine is already busy.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import _checkout  # noqa: F401  (this checkout's package first)
import history

ROOT = Path(__file__).resolve().parent.parent


def suite(directory: Path, points: int) -> Path:
    scenario = ROOT / "fixtures" / "scenarios" / "sybil.yaml"
    path = directory / "test_xdist_sweep.py"
    path.write_text(textwrap.dedent(f"""
        import pytest

        @pytest.mark.monerosim({str(scenario)!r})
        @pytest.mark.monerosim_attack("sybil")
        @pytest.mark.monerosim_sweep(seed=list(range(1, {points + 1})))
        def test_spies_see_txs(monero_network, monerosim_attack):
            assert monero_network.attack("sybil") is not None
        """))
    return path


def run(path: Path, workers: int) -> tuple[float, float]:
    args = [sys.executable, "-m", "pytest", str(path), "-q", "-p", "no:cacheprovider"]
    args += ["-p", "no:xdist"] if workers == 0 else ["-n", str(workers)]
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    before = os.times()
    t0 = time.perf_counter()
    out = subprocess.run(args, cwd=path.parent, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = os.times()
    if out.returncode != 0:
        sys.exit(f"pytest failed ({workers} workers):\n{out.stdout[-2000:]}{out.stderr[-2000:]}")
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return wall, cpu


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=12)
    parser.add_argument("--workers", type=int, nargs="+", default=[2])
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="monerosim-xdist-") as tmp:
        path = suite(Path(tmp), args.points)
        serial_wall, serial_cpu = run(path, 0)
        print(f"xdist: {args.points} sybil networks without xdist: wall {serial_wall:.1f} s, "
              f"CPU {serial_cpu:.1f} s, load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} cores")
        figures = {"points": args.points, "serial_wall_s": round(serial_wall, 2),
                   "serial_cpu_s": round(serial_cpu, 2)}
        for n in args.workers:
            wall, cpu = run(path, n)
            print(f"    -n {n}: wall {wall:.1f} s, CPU {cpu:.1f} s: speed-up x{serial_wall / wall:.2f} "
                  f"(goal >= 1.7 on 2 cores), load average {os.getloadavg()[0]:.1f}")
            figures[f"n{n}_wall_s"] = round(wall, 2)
            figures[f"n{n}_speedup"] = round(serial_wall / wall, 2)
    history.record("bench_xdist", f"sybil-{args.points}", figures)


if __name__ == "__main__":
    main()
