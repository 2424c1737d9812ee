"""Nothing lost: interrupted sessions and failed runs keep what they measured.

Signals go to real ``python -m pytest`` / ``python -m pytest_monerosim.cli``
subprocesses running the embedded simulator; the report, the summaries and
the event log they leave are read back.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from pytest_monerosim.atomic import atomic_write
from tests.process_support import interruptible

SUITE = textwrap.dedent('''
    import pytest

    SMALL = {"general": {"name": "small", "seed": 1, "duration": "30m"},
             "network": {"topology": {"name": "mesh"}},
             "nodes": [{"group": "miners", "count": 2, "role": "miner", "hashrate": 1.0},
                       {"group": "relays", "count": 4, "role": "relay"}]}
    # long enough that the signal always lands while it runs (about a minute of simulation)
    BIG = {"general": {"name": "big", "seed": 1, "duration": "60d"},
           "nodes": [{"group": "miners", "count": 10, "role": "miner", "hashrate": 1.0},
                     {"group": "relays", "count": 60, "role": "relay"}]}

    @pytest.mark.monerosim(SMALL)
    def test_a_short(monero_network, tmp_path):   # tmp_path: its teardown once raised KeyError
        assert monero_network.height() > 0

    @pytest.mark.monerosim(BIG)
    def test_b_long(monero_network, tmp_path):
        assert monero_network.height() > 0

    def test_c_never_reached():
        pass
''')


def _env() -> dict[str, str]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PYTEST_ADDOPTS", None)
    env.pop("PYTEST_XDIST_WORKER", None)
    root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join([root, *filter(None, [env.get("PYTHONPATH")])])
    return env


def _long_network_running(out: Path) -> bool:
    """True once the second (long) network's folder has its scenario (written as its run starts)."""
    return any(out.glob("*test_b_long*/scenario.yaml"))


@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM"])
def test_signal_during_a_session_keeps_the_report(tmp_path: Path, signame: str) -> None:
    (tmp_path / "test_suite.py").write_text(SUITE)
    report = tmp_path / "R.json"
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly", "-v",
         "test_suite.py", f"--monerosim-report={report}", f"--monerosim-out={out}"],
        cwd=tmp_path, env=_env(), preexec_fn=interruptible, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    log = tmp_path / "R.log.jsonl"
    deadline = time.monotonic() + 120
    while not _long_network_running(out):
        assert proc.poll() is None, proc.communicate()[0]
        assert time.monotonic() < deadline, "the long network never started"
        time.sleep(0.1)
    time.sleep(2.0)  # some simulated time, so the interrupted network has measured something
    proc.send_signal(getattr(signal, signame))
    output, _ = proc.communicate(timeout=120)

    assert proc.returncode == pytest.ExitCode.INTERRUPTED, output
    for leak in ("KeyError", "INTERNALERROR", "Traceback (most recent call last)", "TypeError"):
        assert leak not in output, output
    assert "interrupted; what it measured is kept" in output
    data = json.loads(report.read_text())  # valid JSON, written whole
    rows = {row["nodeid"].split("::")[-1]: row for row in data["networks"]}
    assert set(rows) == {"test_a_short", "test_b_long"}
    assert rows["test_a_short"]["status"] == "finished" and rows["test_a_short"]["outcome"] == "passed"
    long = rows["test_b_long"]
    assert long["status"] == "interrupted" and long["outcome"] == "interrupted"
    assert "interrupted" in long["error"]
    assert 0 < long["summary"]["sim_seconds"] < 60 * 86400, "what it had simulated when stopped"
    assert long["summary"]["blocks"]["mined"] > 0 and long["summary"]["status"] == "interrupted"
    assert data["session"]["exitstatus"] == int(pytest.ExitCode.INTERRUPTED)
    # its summary is on disk too, and the events before the interrupt are in the log
    summary = json.loads((Path(long["workdir"]) / "summary.json").read_text())
    assert summary["status"] == "interrupted" and summary["blocks"]["mined"] > 0
    kinds = [json.loads(line)["kind"] for line in log.read_text().splitlines()]
    assert "run.error" in kinds and kinds.count("block.found") > 10
    assert not list(tmp_path.rglob(".*.tmp")), "no temporary file left behind"


@pytest.mark.parametrize("how", ["ctrl-c", "SIGTERM"])
def test_an_interrupted_network_on_an_xdist_worker_is_in_the_report(tmp_path: Path, how: str) -> None:
    """Ctrl-C (SIGINT to the whole process group) or SIGTERM to the controller alone, under -n 2."""
    (tmp_path / "test_suite.py").write_text(SUITE)
    report, out = tmp_path / "R.json", tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly", "-v", "-n", "2",
         "test_suite.py", f"--monerosim-report={report}", f"--monerosim-out={out}"],
        cwd=tmp_path, env=_env(), preexec_fn=interruptible, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )
    lines: list[str] = []  # the workers run both tests at once: wait until the short one has passed
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True)
    reader.start()
    deadline = time.monotonic() + 120
    while not (_long_network_running(out) and any("PASSED test_suite.py::test_a_short" in x for x in lines)):
        assert proc.poll() is None, "".join(lines)
        assert time.monotonic() < deadline, "the long network never started"
        time.sleep(0.1)
    time.sleep(2.0)
    if how == "ctrl-c":
        os.killpg(proc.pid, signal.SIGINT)
    else:
        proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=120)
    reader.join(timeout=30)
    output = "".join(lines)

    assert proc.returncode == pytest.ExitCode.INTERRUPTED, output
    assert "INTERNALERROR" not in output and "Traceback (most recent call last)" not in output, output
    rows = {row["nodeid"].split("::")[-1]: row for row in json.loads(report.read_text())["networks"]}
    assert set(rows) == {"test_a_short", "test_b_long"}, output
    long = rows["test_b_long"]
    assert long["status"] == "interrupted" and long["outcome"] == "interrupted"
    assert long["worker"] in {"gw0", "gw1"}
    assert 0 < long["summary"]["sim_seconds"] < 60 * 86400 and long["summary"]["blocks"]["mined"] > 0
    assert "test_b_long: INTERRUPTED" in output, "the terminal summary lists it too"
    assert not list(tmp_path.rglob(".*.tmp")), "no temporary file left behind"


CRASH = textwrap.dedent('''
    import pytest
    from pydantic import BaseModel, ConfigDict
    from pytest_monerosim.registry import PluginSpec

    class Params(BaseModel):
        model_config = ConfigDict(extra="forbid")
        at: float = 3600.0

    class CrashAt:
        """A behaviour with a bug: it mines, then raises at ``at`` simulated seconds."""
        def __init__(self, params):
            self.params = params
        def start(self, node):
            def boom():
                raise RuntimeError("behaviour bug at t=%g" % self.params.at)
            node.schedule(self.params.at, boom)

    def pytest_monerosim_register(registry):
        registry.add(PluginSpec("behaviour", "crash_at", Params, CrashAt))
''')

CRASH_TEST = textwrap.dedent('''
    import pytest

    NET = {"general": {"name": "crashy", "seed": 2, "duration": "6h"},
           "network": {"topology": {"name": "mesh"}},
           "nodes": [{"group": "miners", "count": 3, "role": "miner", "hashrate": 1.0},
                     {"group": "buggy", "role": "relay", "behaviour": {"name": "crash_at", "at": 7200}}]}

    @pytest.mark.monerosim(NET)
    def test_crashes(monero_network):
        pass

    @pytest.mark.monerosim(NET, duration="1h")
    def test_fine(monero_network):
        assert monero_network.height() > 0
''')


def test_a_network_that_raises_is_in_the_report_as_failed(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(CRASH)
    (tmp_path / "test_crash.py").write_text(CRASH_TEST)
    report, out = tmp_path / "R.json", tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly", "-q",
         "test_crash.py", f"--monerosim-report={report}", f"--monerosim-out={out}"],
        cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == pytest.ExitCode.TESTS_FAILED, done.stdout + done.stderr
    assert "1 failed, 1 passed" in done.stdout
    data = json.loads(report.read_text())
    rows = {row["nodeid"].split("::")[-1]: row for row in data["networks"]}
    crashed = rows["test_crashes"]
    assert crashed["status"] == "failed" and crashed["outcome"] == "failed"
    assert crashed["error"] == "RuntimeError: behaviour bug at t=7200"
    assert crashed["summary"]["sim_seconds"] == pytest.approx(7200)  # measured up to the failure
    assert crashed["summary"]["blocks"]["mined"] > 10
    assert rows["test_fine"]["status"] == "finished"
    workdir = Path(crashed["workdir"])
    assert {p.name for p in workdir.iterdir()} >= {"scenario.yaml", "summary.json"}
    assert json.loads((workdir / "summary.json").read_text())["status"] == "failed"
    events = [json.loads(line) for line in (tmp_path / "R.log.jsonl").read_text().splitlines()]
    crashed_events = [e for e in events if e.get("test", "").endswith("test_crashes")]
    assert sum(e["kind"] == "block.found" for e in crashed_events) > 10, "events before the failure"
    assert crashed_events[-1]["kind"] == "run.error"


def _catches(pid: int, sig: signal.Signals) -> bool:
    """True once process ``pid`` has a handler for ``sig`` (its SigCgt mask in /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) >> (int(sig) - 1) & 1)
    return False


def test_cli_run_interrupted_writes_the_partial_summary(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(
        "general: {name: long, seed: 1, duration: 60d}\n"
        "nodes:\n  - {group: m, count: 10, role: miner, hashrate: 1}\n  - {group: r, count: 60}\n")
    out = tmp_path / "out.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest_monerosim.cli", "run", "s.yaml", "--json", str(out)],
        cwd=tmp_path, env=_env(), preexec_fn=interruptible, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 120  # a loaded machine imports slowly: wait for the SIGTERM handler
    while not _catches(proc.pid, signal.SIGTERM):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the CLI never installed its SIGTERM handler"
        time.sleep(0.1)
    time.sleep(3.0)  # world building, then some simulation
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    assert lines[0].startswith("monerosim: interrupted (SIGTERM) after ") and str(out) in lines[0]
    summary = json.loads(out.read_text())
    assert summary["status"] == "interrupted" and summary["sim_seconds"] > 0


def test_atomic_write_replaces_whole_files_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "a" / "summary.json"
    atomic_write(target, "one")
    atomic_write(target, b"two")
    assert target.read_text() == "two"
    umask = os.umask(0o022)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask, "the mode open() gives, not mkstemp's 0600"
    (tmp_path / "dir.json").mkdir()
    with pytest.raises(OSError):
        atomic_write(tmp_path / "dir.json", "x")  # a directory is never replaced
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a", "dir.json", "summary.json"]
