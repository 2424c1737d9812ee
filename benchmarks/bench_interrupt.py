"""How long an interrupted real-daemon session takes to stop (prints figures; asserts nothing).

    python benchmarks/bench_interrupt.py                         # scenarios/test_transactions.py
    python benchmarks/bench_interrupt.py --target PATH --signal SIGTERM --wait 5

Starts ``pytest TARGET --monerosim-backend=monerod --monerosim-report=R.json`` in a
fresh directory, waits until the first network's daemons are up (its ``run.json``
exists) plus ``--wait`` seconds, sends the signal, and prints the seconds until
pytest exited, the exit code, whether the report was written and how many
processes of the run were still alive afterwards. Compare two checkouts with
``PYTHONPATH=<checkout> python benchmarks/bench_interrupt.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _checkout  # noqa: F401  (this checkout's package first)

ROOT = Path(__file__).resolve().parents[1]


def run_processes(marker: str) -> list[str]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[-1].split()[0]
        except OSError:
            continue
        if marker in cmd and state not in ("Z", "X"):
            found.append(cmd.split(" ", 1)[0])
    return found


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--target", default=str(ROOT / "scenarios" / "test_transactions.py"))
    parser.add_argument("--signal", default="SIGINT", choices=["SIGINT", "SIGTERM"])
    parser.add_argument("--wait", type=float, default=5.0, help="seconds after the daemons are up")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-interrupt-") as tmp:
        work = Path(tmp)
        report, out = work / "R.json", work / "out"
        env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", "PYTEST_XDIST_WORKER")}
        proc = subprocess.Popen(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x", args.target,
             "--monerosim-backend=monerod", f"--monerosim-report={report}", f"--monerosim-out={out}",
             f"--rootdir={ROOT}"],
            cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        while not list(out.glob("**/run-*/run.json")):
            if proc.poll() is not None:
                print(proc.communicate()[0][-3000:])
                print("pytest ended before any network ran")
                return 1
            time.sleep(0.2)
        time.sleep(args.wait)
        alive_before = run_processes(str(work))
        proc.send_signal(getattr(signal, args.signal))
        began = time.monotonic()
        output, _ = proc.communicate(timeout=600)
        took = time.monotonic() - began
        time.sleep(0.5)
        left = run_processes(str(work))
        written = report.exists()
        networks = len(json.loads(report.read_text())["networks"]) if written else 0
        traceback = "Traceback (most recent call last)" in output or "KeyError" in output
        print(f"{args.signal} with {len(alive_before)} processes of the run alive "
              f"({sum('monerod' in c for c in alive_before)} monerod, "
              f"{sum('wallet' in c for c in alive_before)} wallet-rpc): pytest exited after {took:.1f} s "
              f"(code {proc.returncode}); report written: {written} ({networks} network(s)); "
              f"processes left: {len(left)}; traceback/KeyError in output: {traceback}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
