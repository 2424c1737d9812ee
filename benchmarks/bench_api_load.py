"""The live API under load during a simulated run (prints figures; issue 11's target: p99 < 50 ms, the
run slowed by less than 10 %).

    python benchmarks/bench_api_load.py                 # small_network for 96 h, 2,000 requests, 8 threads
    python benchmarks/bench_api_load.py 72h 4000 8      # duration, requests, threads
    BENCH_ROOT=/path/to/old/checkout python benchmarks/bench_api_load.py --old-endpoints   # the same
        load (status, agents, events only) against an older checkout, for a before/after

The run is observed live (as ``monerosim serve`` does) with the API served from
the same process; the clients are another process (as a browser or a scraper
would be): 8 threads sending authenticated GETs in turn to ``/api/status``,
``/api/agents``, ``/api/events``, ``/api/series`` and ``/api/graph``. It prints the
latency percentiles, the errors, and the run's wall time without clients
(best of two) and with them.

Before the cached snapshots and the token doors (starlette app, a walk over
the registry per request), the same load gave p50 152 ms, p99 781 ms and a
run four times slower (issue 11).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import _checkout  # noqa: F401  (this checkout's package first)

ROOT = Path(os.environ.get("BENCH_ROOT") or Path(__file__).resolve().parents[1])
SCENARIO = ROOT / "fixtures" / "scenarios" / "small_network.yaml"
PATHS = ("/api/status", "/api/agents", "/api/events?since=0&limit=200", "/api/series", "/api/graph",
         "/api/status", "/api/agents?kind=node&limit=50")
OLD_PATHS = ("/api/status", "/api/agents", "/api/events?since=0&limit=200")
"""``--old-endpoints``: only what the API had before issue 16 (to measure an older checkout the same way)."""


def client(url: str, token: str, requests: int, threads: int, paths: tuple[str, ...] = PATHS) -> None:
    """The load: ``requests`` GETs from ``threads`` threads; prints the latencies (JSON) on stdout."""
    import http.client
    from urllib.parse import urlsplit

    where = urlsplit(url)
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    per_thread = requests // threads

    def worker(k: int) -> None:
        conn = http.client.HTTPConnection(where.hostname, where.port, timeout=30)
        headers = {"Authorization": f"Bearer {token}"}
        for i in range(per_thread):
            path = paths[(i + k) % len(paths)]
            t0 = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                status: object = response.status
            except (OSError, http.client.HTTPException) as exc:
                status = exc
                conn.close()
                conn = http.client.HTTPConnection(where.hostname, where.port, timeout=30)
            took = time.perf_counter() - t0
            with lock:
                latencies.append(took)
                if status != 200:
                    errors.append(str(status))
        conn.close()

    started = time.perf_counter()
    pool = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    print(json.dumps({"latencies": latencies, "errors": errors, "seconds": time.perf_counter() - started,
                      "ended": time.time()}))


def run_once(duration: str, load: tuple[int, int] | None,
             old: bool = False) -> tuple[float, float, dict | None]:
    from pytest_monerosim.backends import RunOptions
    from pytest_monerosim.config.loader import load_scenario
    from pytest_monerosim.observe.api import ApiServer
    from pytest_monerosim.observe.observer import LiveSession
    from pytest_monerosim.runner import run_scenario

    scenario = load_scenario(SCENARIO, overrides={"duration": duration})
    observer = LiveSession(watch=True)
    server = ApiServer(observer, 0).start()
    proc = None
    try:
        options = RunOptions()
        with observer.run(scenario=scenario, backend="sim", options=options, test="bench"):
            if load is not None:
                proc = subprocess.Popen([sys.executable, __file__, "--client", server.url,
                                         getattr(server, "token", "-"), str(load[0]), str(load[1]),
                                         "old" if old else "new"], stdout=subprocess.PIPE, text=True)
                time.sleep(0.3)  # the clients' interpreter starts; the run starts under load
            t0, cpu0 = time.perf_counter(), time.process_time()
            run = run_scenario(scenario, backend="sim", options=options)
            took, cpu = time.perf_counter() - t0, time.process_time() - cpu0
            run_ended = time.time()
        observer.run_done(run.result, run.summary)
        result = None
        if proc is not None:
            out, _ = proc.communicate(timeout=600)
            result = json.loads(out.strip().splitlines()[-1])
            result["outlived_run_s"] = max(0.0, result["ended"] - run_ended)
        return took, cpu, result
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
        server.stop()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(argv: list[str]) -> None:
    if argv and argv[0] == "--client":
        client(argv[1], argv[2], int(argv[3]), int(argv[4]), OLD_PATHS if argv[5] == "old" else PATHS)
        return
    old = "--old-endpoints" in argv
    argv = [a for a in argv if a != "--old-endpoints"]
    duration = argv[0] if argv else "96h"
    requests = int(argv[1]) if len(argv) > 1 else 2000
    threads = int(argv[2]) if len(argv) > 2 else 8
    print(f"small_network (101 nodes), {duration} simulated; load: {requests} GETs from {threads} threads")
    quiet, quiet_cpu, _ = min(run_once(duration, None, old) for _ in range(2))
    print(f"run without clients (best of 2): {quiet:.2f} s wall, {quiet_cpu:.2f} s CPU of this process")
    loaded, loaded_cpu, result = run_once(duration, (requests, threads), old)
    assert result is not None
    lat = [x * 1000 for x in result["latencies"]]
    print(f"run with clients:                {loaded:.2f} s wall, {loaded_cpu:.2f} s CPU "
          f"(slowdown {100 * (loaded / quiet - 1):+.1f} % wall, "
          f"{100 * (loaded_cpu / quiet_cpu - 1):+.1f} % CPU)")
    print(f"server CPU per request (CPU difference / requests): "
          f"{1000 * (loaded_cpu - quiet_cpu) / len(lat):.2f} ms")
    print(f"clients: {len(lat)} requests in {result['seconds']:.2f} s, {len(result['errors'])} errors")
    if result["outlived_run_s"] > 0:
        print(f"WARNING: the clients ran {result['outlived_run_s']:.1f} s past the end of the run; "
              "give a longer duration so every request meets a running network")
    print(f"latency: p50 {pct(lat, 0.50):.1f} ms, p90 {pct(lat, 0.90):.1f} ms, p99 {pct(lat, 0.99):.1f} ms, "
          f"max {max(lat):.1f} ms")


if __name__ == "__main__":
    if os.environ.get("SWITCH"):  # try another GIL switch interval (seconds)
        sys.setswitchinterval(float(os.environ["SWITCH"]))
    sys.path.insert(0, str(ROOT))
    main(sys.argv[1:])
