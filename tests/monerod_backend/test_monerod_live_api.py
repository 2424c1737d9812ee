"""The live REST API on real monerod: mine, disconnect/reconnect, stop/start through uvicorn."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from pytest_monerosim.backends import RunOptions
from pytest_monerosim.config.model import Scenario
from pytest_monerosim.observe.api import ApiServer
from pytest_monerosim.observe.observer import LiveSession
from pytest_monerosim.registry import Registry
from pytest_monerosim.runner import run_scenario

pytestmark = [
    pytest.mark.monerod,
    pytest.mark.skipif(shutil.which("monerod") is None, reason="needs monerod (Debian's 'monero')"),
]


def wait_for(check: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def our_monerods(tmp_path: Path) -> list[str]:
    found = subprocess.run(["pgrep", "-x", "monerod"], capture_output=True, text=True).stdout.split()
    mine = []
    for pid in found:
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if str(tmp_path) in cmd:
            mine.append(pid)
    return mine


def test_commands_to_real_nodes_through_uvicorn(registry: Registry, tmp_path: Path) -> None:
    scenario = Scenario.model_validate({
        "general": {"name": "live-monerod", "duration": 2700, "seed": 3},
        "network": {"topology": "ring"},
        "nodes": [{"group": "n", "count": 3, "role": "miner", "hashrate": 1}],
    })
    observer = LiveSession(watch=True)
    server = ApiServer(observer, 0).start()
    out: dict[str, Any] = {}

    def target() -> None:
        options = RunOptions(workdir=tmp_path, time_scale=60.0, extra={
            "monerod_agents": "none", "monitor_poll_s": 10**6})
        try:
            with observer.run(scenario=scenario, backend="monerod", options=options, test="live"):
                run = run_scenario(scenario, backend="monerod", registry=registry, options=options)
            observer.run_done(run.result, run.summary)
            out["run"] = run
        except BaseException as exc:  # reported by the test thread
            out["error"] = exc

    thread = threading.Thread(target=target, name="live-monerod", daemon=True)
    thread.start()
    try:
        with httpx.Client(base_url=server.url, headers=server.headers, timeout=90) as client:
            def agent(name: str) -> dict[str, Any]:
                return dict(client.get(f"/api/agents/{name}").json())

            def command(name: str, cmd: str, **args: Any) -> httpx.Response:
                return client.post(f"/api/agents/{name}/command", json={"command": cmd, "args": args})

            wait_for(lambda: client.get("/api/agents/n-0").status_code == 200 and agent("n-0")["peers"] > 0,
                     timeout=60, what="the nodes to come up and peer")
            assert set(agent("n-0")["commands"]) >= {"stop", "start", "disconnect", "reconnect", "mine"}
            assert "pause" not in agent("n-0")["commands"], "real daemons do not pause"
            base = agent("n-0")["height"]

            mined = command("n-0", "mine")
            assert mined.status_code == 200, mined.text
            assert mined.json()["result"]["height"] == base + 1
            assert agent("n-0")["height"] == base + 1
            wait_for(lambda: agent("n-2")["height"] == base + 1, what="the block to reach n-2")
            assert client.get("/api/status").json()["height"]["max"] == base + 1

            assert command("nobody", "mine").status_code == 404
            assert command("n-0", "fly").status_code == 400
            assert command("n-0", "mine", blocks=0).status_code == 400
            assert command("n-0", "stop", now=True).status_code == 400

            assert command("n-1", "disconnect").status_code == 200
            wait_for(lambda: agent("n-1")["peers"] == 0, what="n-1's connections to drop")
            assert command("n-1", "reconnect").status_code == 200
            wait_for(lambda: agent("n-1")["peers"] > 0, what="n-1 to reconnect")

            stopped = command("n-2", "stop")
            assert stopped.status_code == 200, stopped.text
            assert agent("n-2")["state"] == "stopped"
            assert command("n-2", "mine").status_code == 400, "a stopped node cannot mine"
            assert command("n-2", "stop").status_code == 400
            started = command("n-2", "start")
            assert started.status_code == 200, started.text
            assert agent("n-2")["state"] == "running"
            assert command("n-2", "start").status_code == 400
            assert command("n-0", "mine").status_code == 200
            wait_for(lambda: agent("n-2")["height"] == base + 2 and agent("n-2")["peers"] > 0,
                     what="n-2 back with its chain, peered and synced")
        thread.join(120)
        assert not thread.is_alive(), "the run did not finish"
        if "error" in out:
            raise out["error"]
        assert out["run"].result.backend == "monerod"
        final = httpx.get(server.url + "api/status", headers=server.headers).json()
        assert final["runs_finished"] == 1 and final["state"] == "finished"
        late = httpx.post(server.url + "api/agents/n-0/command", json={"command": "mine"},
                          headers=server.headers)
        assert late.status_code in (400, 409)
    finally:
        server.stop()
        thread.join(120)
    assert not our_monerods(tmp_path), "monerod still running after the run"
