"""Live observability: event bus, agent registry, run gate, REST API (TestClient and real uvicorn),
pause/step/resume of a simulated run, ``monerosim serve`` and ``--monerosim-serve``."""

from __future__ import annotations

import socket
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from report_support import fake_result
from starlette.testclient import TestClient

from pytest_monerosim.backends import RunOptions
from pytest_monerosim.config.loader import load_scenario
from pytest_monerosim.observe import bus as ev
from pytest_monerosim.observe.api import ApiServer, create_app
from pytest_monerosim.observe.control import CommandError, NotRunning, RunGate
from pytest_monerosim.observe.observer import Observer
from pytest_monerosim.result import summarize
from pytest_monerosim.runner import NetworkRun, run_scenario


# -- bus and registry ------------------------------------------------------------------
def test_bus_history_cursor_filters_and_subscribers() -> None:
    bus = ev.EventBus(history=5)
    seen: list[str] = []
    unsubscribe = bus.subscribe(lambda e: seen.append(e.kind))
    for i in range(7):
        bus.publish(ev.BLOCK_FOUND, time=float(i), agent=f"n{i % 2}", height=i)
    bus.publish(ev.TIP_CHANGED, time=7.0, agent="n0", height=7)  # delivered, not kept
    unsubscribe()
    bus.publish(ev.REORG, time=8.0, agent="n1", depth=1)
    assert seen == [ev.BLOCK_FOUND] * 7 + [ev.TIP_CHANGED]
    events, cursor = bus.since(0)
    assert [e.seq for e in events] == [4, 5, 6, 7, 9] and cursor == 9
    events, cursor = bus.since(5, limit=1)
    assert [e.seq for e in events] == [6] and cursor == 6
    assert bus.since(9) == ([], 9)
    assert [e.seq for e in bus.since(0, kinds=["chain."])[0]] == [9]
    assert [e.seq for e in bus.since(0, agent="n0")[0]] == [5, 7]
    assert bus.counts() == {ev.BLOCK_FOUND: 7, ev.TIP_CHANGED: 1, ev.REORG: 1}
    assert bus.recent(2)[-1].as_dict()["data"] == {"depth": 1}


def test_registry_follows_the_bus() -> None:
    obs = Observer(watch=False)
    obs.feed_result(fake_result())
    agents = {a.id: a for a in obs.registry.all()}
    assert len(agents) == 10
    assert agents["n9"].honest is False and agents["n9"].role == "attacker"
    assert agents["n0"].height == 30 and agents["n3"].reorgs == 1
    assert sum(a.blocks_found for a in agents.values()) == 31
    assert agents["n3"].peers == 5  # n1, n2, n4, n5 and the attacker n9
    obs.bus.publish(ev.RUN_PAUSED, time=1.0)
    assert obs.registry.get("n0").state == "paused"  # type: ignore[union-attr]
    obs.bus.publish(ev.RUN_START, time=0.0)
    assert len(obs.registry) == 0


# -- the gate ----------------------------------------------------------------------------
def test_gate_pauses_steps_and_resumes_a_loop() -> None:
    changes: list[tuple[str, float]] = []
    gate = RunGate(on_change=lambda c, t: changes.append((c, t)))
    clock = {"t": 0.0, "done": False}

    def loop() -> None:
        while clock["t"] < 100:
            clock["t"] += 1.0
            gate.checkpoint(clock["t"])
        clock["done"] = True

    with pytest.raises(CommandError, match="paused"):
        gate.step({})
    gate.pause()
    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    wait_for(lambda: changes == [("paused", 1.0)])
    time.sleep(0.05)
    assert clock["t"] == 1.0
    gate.step({"events": 3})
    wait_for(lambda: len(changes) == 2)
    assert clock["t"] == 4.0 and changes[-1] == ("paused", 4.0)
    gate.step({"seconds": 10})
    wait_for(lambda: len(changes) == 3)
    assert clock["t"] == 14.0
    assert gate.call(lambda: clock["t"] * 2) == 28.0  # runs on the loop's thread while paused
    with pytest.raises(CommandError, match="'events' must be an integer"):
        gate.step({"events": 0})
    with pytest.raises(CommandError, match="not colour"):
        gate.step({"colour": 1})
    gate.resume()
    thread.join(5)
    assert clock["done"] and changes[-1] == ("resumed", 14.0)
    gate.close()
    with pytest.raises(NotRunning):
        gate.pause()


def wait_for(cond: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.01)


# -- the API on a finished result (TestClient) -----------------------------------------------
@pytest.fixture
def observed() -> Observer:
    obs = Observer(watch=False)
    obs.feed_result(fake_result())
    return obs


def test_api_endpoints_status_codes(observed: Observer) -> None:
    client = TestClient(create_app(observed))
    status = client.get("/api/status")
    assert status.status_code == 200 and status.json()["state"] == "idle"
    assert status.json()["height"] == {"max": 30, "min": 30}
    agents = client.get("/api/agents").json()
    assert agents["count"] == 10
    assert client.get("/api/agents?kind=wallet").json()["count"] == 0
    one = client.get("/api/agents/n3")
    assert one.status_code == 200 and one.json()["reorgs"] == 1 and one.json()["commands"] == []
    assert client.get("/api/agents/nobody").status_code == 404
    assert client.get("/api/agents/nobody").json() == {"error": "no agent 'nobody'"}
    assert client.post("/api/agents/nobody/command", json={"command": "pause"}).status_code == 404
    bad = client.post("/api/agents/n3/command", json={"command": "dance"})
    assert bad.status_code == 400 and "unknown command 'dance'" in bad.json()["error"]
    assert client.post("/api/agents/n3/command", content=b"{not json").status_code == 400
    assert client.post("/api/agents/n3/command", json={"args": {}}).status_code == 400
    assert client.post("/api/agents/n3/command", json={"command": "pause", "args": []}).status_code == 400
    assert client.post("/api/agents/n3/command", json={"command": "pause"}).status_code == 409
    events = client.get("/api/events", params={"since": 0, "limit": 3}).json()
    assert [e["seq"] for e in events["events"]] == [1, 2, 3] and events["next"] == 3
    more = client.get("/api/events", params={"since": events["next"], "kind": "chain.reorg"}).json()
    assert [e["kind"] for e in more["events"]] == ["chain.reorg"]
    assert client.get("/api/events", params={"since": "x"}).status_code == 400
    assert client.get("/api/events", params={"limit": 0}).status_code == 400
    assert client.get("/api/nothing").status_code == 404
    metrics = client.get("/api/metrics")
    assert metrics.status_code == 200 and metrics.headers["content-type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(metrics.text)}
    heights = {s.labels["node"]: s.value for s in families["monerosim_node_height"].samples}
    assert heights["n0"] == 30 and len(heights) == 10
    assert families["monerosim_bus_events"].samples
    page = client.get("/")
    assert page.status_code == 200 and "monerosim" in page.text and "dashboard.js" in page.text
    assert client.get("/static/dashboard.js").status_code == 200


# -- a live simulated run through a real uvicorn server ---------------------------------------
SCENARIO = Path(__file__).resolve().parents[1] / "fixtures" / "scenarios" / "small_network.yaml"


@contextmanager
def live_run(observer: Observer, duration: str = "6h", paused: bool = True) -> Iterator[dict[str, Any]]:
    """Run small_network in a thread, observed live (held before its first event if ``paused``)."""
    scenario = load_scenario(SCENARIO, overrides={"duration": duration})
    out: dict[str, Any] = {}

    def target() -> None:
        options = RunOptions()
        try:
            with observer.run(scenario=scenario, backend="sim", options=options, test="live"):
                if paused and observer.gate is not None:
                    observer.gate.pause()
                run: NetworkRun = run_scenario(scenario, backend="sim", options=options)
            observer.run_done(run.result, run.summary)
            out["run"] = run
        except BaseException as exc:  # reported by the test thread
            out["error"] = exc

    thread = threading.Thread(target=target, name="live-run", daemon=True)
    thread.start()
    try:
        yield out
    finally:
        if observer.gate is not None and observer.gate.is_open and thread.is_alive():
            observer.gate.resume()
        thread.join(60)
        assert not thread.is_alive(), "the simulated run did not finish"
    if "error" in out:
        raise out["error"]


def test_pause_step_mine_resume_through_uvicorn() -> None:
    observer = Observer(watch=True)
    server = ApiServer(observer, 0).start()
    try:
        assert server.url.startswith("http://127.0.0.1:")
        with httpx.Client(base_url=server.url, timeout=30) as client, live_run(observer) as out:
            status = lambda: client.get("/api/status").json()  # noqa: E731
            wait_for(lambda: status()["state"] == "paused")
            first = status()
            assert first["run"]["sim_time"] == 0.0 and first["run"]["scenario"] == "small-network"
            assert first["nodes"] == 101
            sim = client.get("/api/agents/sim").json()
            assert sim["kind"] == "engine" and sim["commands"] == ["pause", "step", "resume"]
            node = client.get("/api/agents/miners-0").json()
            assert set(node["commands"]) >= {"pause", "step", "resume", "mine", "restart", "disconnect"}
            before = client.get("/api/events").json()["next"]

            stepped = client.post("/api/agents/sim/command", json={"command": "step", "args": {"seconds": 1800}})
            assert stepped.status_code == 200, stepped.text
            wait_for(lambda: status()["state"] == "paused" and status()["run"]["sim_time"] >= 1800)
            mid = status()
            assert 1800 <= mid["run"]["sim_time"] < 1900 and mid["height"]["max"] > 0
            time.sleep(0.2)
            assert status()["run"]["sim_time"] == mid["run"]["sim_time"], "a paused run must not advance"

            mined = client.post("/api/agents/miners-0/command", json={"command": "mine"})
            assert mined.status_code == 200, mined.text
            assert mined.json()["result"]["height"] == client.get("/api/agents/miners-0").json()["height"]
            wanted = {"since": before, "limit": 5000, "kind": "block.found,run.,command"}
            kinds = [e["kind"] for e in client.get("/api/events", params=wanted).json()["events"]]
            assert ev.BLOCK_FOUND in kinds and ev.RUN_PAUSED in kinds and ev.COMMAND in kinds
            bad = client.post("/api/agents/sim/command", json={"command": "step", "args": {"seconds": -1}})
            assert bad.status_code == 400

            assert client.post("/api/agents/sim/command", json={"command": "resume"}).status_code == 200
            wait_for(lambda: status()["state"] == "finished", timeout=60)
        final = client_status = httpx.get(server.url + "api/status").json()
        assert final["runs_finished"] == 1 and final["run"]["sim_time"] == 6 * 3600
        assert client_status["height"]["max"] == out["run"].summary["blocks"]["main_chain_height"]
        late = httpx.post(server.url + "api/agents/sim/command", json={"command": "pause"})
        assert late.status_code == 409
        metrics = httpx.get(server.url + "api/metrics").text
        assert 'monerosim_sim_time_seconds{backend="sim",scenario="small-network"} 21600.0' in metrics
    finally:
        server.stop()
    with pytest.raises(httpx.TransportError):
        httpx.get(server.url + "api/status", timeout=2)


def test_a_live_run_gives_the_same_result_as_an_unobserved_one() -> None:
    scenario = load_scenario(SCENARIO, overrides={"duration": "2h"})
    plain = run_scenario(scenario, backend="sim")
    observer = Observer(watch=True)
    with live_run(observer, duration="2h", paused=False) as out:
        pass
    a, b = dict(plain.summary), dict(out["run"].summary)
    a.pop("wall_seconds")
    b.pop("wall_seconds")
    assert a == b
    assert summarize(out["run"].result)["events"] == plain.summary["events"]


# -- the CLI and the pytest option ----------------------------------------------------------------
def test_monerosim_serve_cli_runs_and_stops(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pytest_monerosim.cli import main

    log = tmp_path / "events.jsonl"
    code = main(["serve", str(SCENARIO), "--port", "0", "--linger", "0", "--duration", "30m",
                 "--log", str(log), "--json", str(tmp_path / "s.json")])
    assert code == 0
    out = capsys.readouterr().out
    assert "monerosim: dashboard and API at http://127.0.0.1:" in out and "consensus" in out
    port = int(out.split("http://127.0.0.1:", 1)[1].split("/", 1)[0])
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0, "the server must be gone"
    kinds = {line.split('"kind": "', 1)[1].split('"', 1)[0] for line in log.read_text().splitlines()}
    assert {"run.start", "agent.registered", "peer.connect", "block.found", "run.end"} <= kinds
    assert main(["serve", str(SCENARIO), "--port", "70000"]) == 2
    assert "--port 70000" in capsys.readouterr().err


def test_pytest_serve_option_serves_during_the_session(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_live=textwrap.dedent(f"""
        import httpx, pytest

        @pytest.mark.monerosim("{SCENARIO}", duration="30m")
        def test_served(monero_network, request):
            server = request.config.pluginmanager.get_plugin("monerosim-reporting").server
            status = httpx.get(server.url + "api/status").json()
            assert status["runs_finished"] == 1 and status["nodes"] == 101
            assert httpx.get(server.url + "api/agents/seeds-0").status_code == 200
            with open("port.txt", "w") as f:
                f.write(str(server.port))
    """))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--monerosim-serve=0")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["monerosim: live dashboard and API at http://127.0.0.1:*/ (loopback only)"])
    port = int((pytester.path / "port.txt").read_text())
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0, "the server must not outlive the session"
