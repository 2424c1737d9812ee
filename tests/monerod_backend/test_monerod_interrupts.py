"""Real daemons: an interrupt, a dead daemon and the live API's ``stop`` never lose the run.

* SIGINT to a real ``pytest --monerosim-backend=monerod`` session: the report
  keeps the finished network and the interrupted one, and no process is left;
* a daemon killed under ``monerosim run --backend monerod``: one line naming
  the node, the partial summary written with the node's log tail;
* ``stop`` and ``start`` on a node through the controller while agents mine:
  the run goes on to its end.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from pytest_monerosim.backends import RunOptions
from pytest_monerosim.config.model import Scenario
from pytest_monerosim.observe.observer import LiveSession
from pytest_monerosim.registry import Registry
from pytest_monerosim.runner import run_scenario
from tests.process_support import interruptible

ROOT = Path(__file__).resolve().parents[2]


def _pids_mentioning(text: str) -> list[int]:
    """Live (not zombie) processes whose command line mentions ``text``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            raw = Path(f"/proc/{entry}/cmdline").read_bytes()
            state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[-1].split()[0]
        except OSError:
            continue
        if text.encode() in raw and state not in ("Z", "X"):
            found.append(int(entry))
    return found


def _env() -> dict[str, str]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PYTEST_ADDOPTS", None)
    env.pop("PYTEST_XDIST_WORKER", None)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    return env


def _wait_for_glob(base: Path, pattern: str, proc: subprocess.Popen[str], timeout: float = 120) -> Path:
    deadline = time.monotonic() + timeout
    while True:
        found = sorted(base.glob(pattern))
        if found:
            return found[0]
        if proc.poll() is not None:
            raise AssertionError(f"ended early ({proc.returncode}): {proc.communicate()}")
        assert time.monotonic() < deadline, f"no {pattern} under {base}"
        time.sleep(0.2)


SUITE = textwrap.dedent('''
    import pytest

    SMALL = {"general": {"name": "small", "seed": 1, "duration": "30m"},
             "network": {"topology": {"name": "mesh"}},
             "nodes": [{"group": "m", "count": 2, "role": "miner", "hashrate": 1.0}]}
    REAL = {"general": {"name": "real", "seed": 1, "duration": "2d"},
            "network": {"topology": "star"},
            "nodes": [{"group": "hub", "role": "miner", "hashrate": 1}, {"group": "leaf", "count": 2}]}

    def test_a_finished(monerosim_run):
        assert monerosim_run(SMALL, backend="sim").height() > 0

    @pytest.mark.monerosim(REAL)
    def test_b_interrupted(monero_network):
        pass
''')


def test_sigint_stops_a_real_network_fast_and_keeps_the_report(tmp_path: Path) -> None:
    (tmp_path / "test_real.py").write_text(SUITE)
    report, out = tmp_path / "R.json", tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly", "-q",
         "test_real.py", "--monerosim-backend=monerod", f"--monerosim-report={report}",
         f"--monerosim-out={out}"],
        cwd=tmp_path, env=_env(), preexec_fn=interruptible, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    _wait_for_glob(out, "*test_b*/run-*/run.json", proc)  # written when the daemons run
    time.sleep(3.0)
    assert len(_pids_mentioning(str(tmp_path))) >= 3, "the three daemons are up"
    proc.send_signal(signal.SIGINT)
    began = time.monotonic()
    output, _ = proc.communicate(timeout=60)
    took = time.monotonic() - began
    print(f"SIGINT to a 3-daemon monerod session: exited after {took:.1f} s")
    assert proc.returncode == pytest.ExitCode.INTERRUPTED, output
    for leak in ("KeyError", "INTERNALERROR", "Traceback (most recent call last)"):
        assert leak not in output, output
    assert not _pids_mentioning(str(tmp_path)), "no daemon, wallet or agent outlives the session"
    rows = {r["nodeid"].split("::")[-1]: r for r in json.loads(report.read_text())["networks"]}
    assert rows["test_a_finished"]["status"] == "finished"
    real = rows["test_b_interrupted"]
    assert real["status"] == "interrupted" and real["backend"] == "monerod"
    assert real["summary"]["sim_seconds"] > 0 and real["summary"]["nodes"] == 3


def test_dead_daemon_ends_the_cli_run_with_one_line_and_a_partial_summary(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(
        "general: {name: crash, seed: 1, duration: 1d}\nnetwork: {topology: star}\n"
        "nodes:\n  - {group: hub, role: miner, hashrate: 1}\n  - {group: leaf, count: 2}\n")
    work, summary_path = tmp_path / "w", tmp_path / "out.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest_monerosim.cli", "run", "s.yaml", "--backend", "monerod",
         "--workdir", str(work), "--json", str(summary_path)],
        cwd=tmp_path, env=_env(), preexec_fn=interruptible, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    _wait_for_glob(work, "run-*/run.json", proc)
    time.sleep(2.0)
    pid_file = _wait_for_glob(work, "run-*/hosts/leaf-1/leaf-1.pid.json", proc)
    os.kill(json.loads(pid_file.read_text())["pid"], signal.SIGKILL)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 1, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    assert lines[0].startswith("monerosim: failed after ") and "leaf-1 exited" in lines[0]
    assert str(summary_path) in lines[0]
    summary = json.loads(summary_path.read_text())
    assert summary["status"] == "failed" and "leaf-1" in summary["error"]
    # the dead node's log tail: its last line is the last line of one of leaf-1's logs (the
    # banner, "Monero '...'", is in it only if the node was killed before it logged 40 lines)
    logs = [re.sub(r"\x1b\[[0-9;]*m", "", f.read_text(errors="replace"))  # (colours dropped)
            for f in pid_file.parent.glob("monerod.*") if f.suffix in (".log", ".out")]
    last = summary["error_detail"].strip().splitlines()[-1]
    assert any(log.rstrip().endswith(last) for log in logs), (last, [log[-300:] for log in logs])
    assert summary["sim_seconds"] > 0 and summary["nodes"] == 3
    assert not _pids_mentioning(str(tmp_path))


def test_stop_and_start_through_the_controller_never_end_the_run(
    registry: Registry, tmp_path: Path
) -> None:
    scenario = Scenario.model_validate({
        "general": {"name": "control", "duration": 1800, "seed": 4},
        "network": {"topology": "star"},
        "nodes": [{"group": "hub", "role": "miner", "hashrate": 1}, {"group": "leaf", "count": 2}],
    })
    observer = LiveSession(watch=True)
    out: dict[str, Any] = {}

    def target() -> None:
        options = RunOptions(workdir=tmp_path, time_scale=60.0)
        try:
            with observer.run(scenario=scenario, backend="monerod", options=options, test="control"):
                out["run"] = run_scenario(scenario, backend="monerod", registry=registry, options=options)
        except BaseException as exc:
            out["error"] = exc

    thread = threading.Thread(target=target, name="control-run", daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while observer.controller is None or "leaf-1" not in observer.registry:
        assert thread.is_alive(), out
        assert time.monotonic() < deadline, "the controller never came up"
        time.sleep(0.2)
    for _ in range(3):  # the crash this guards against came once in three tries
        answer = observer.command("leaf-1", "stop", {})
        assert answer["stopped"] is True
        time.sleep(1.0)  # health checks run every 0.2 s: several see the node down
        assert observer.command("leaf-1", "start", {})["started"] is True
    thread.join(timeout=120)
    assert "error" not in out, out.get("error")
    run = out["run"]
    assert run.status == "finished" and run.summary["nodes"] == 3
