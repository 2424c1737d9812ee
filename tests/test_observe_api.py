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
from pytest_monerosim.observe.observer import LiveSession
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
    obs = LiveSession(watch=False)
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
TOKEN = "test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def observed() -> LiveSession:
    obs = LiveSession(watch=False)
    obs.feed_result(fake_result())
    return obs


def test_api_endpoints_status_codes(observed: LiveSession) -> None:
    client = TestClient(create_app(observed, TOKEN, ["testserver"]), headers=AUTH)
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
    assert client.post("/api/agents/n3/command", content=b"{not json",
                       headers={"Content-Type": "application/json"}).status_code == 400
    assert client.post("/api/agents/n3/command", content=b"{not json").status_code == 415  # not JSON: refused
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
def live_run(observer: LiveSession, duration: str = "6h", paused: bool = True) -> Iterator[dict[str, Any]]:
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
    observer = LiveSession(watch=True)
    server = ApiServer(observer, 0).start()
    try:
        assert server.url.startswith("http://127.0.0.1:")
        with httpx.Client(base_url=server.url, headers=server.headers, timeout=30) as client, \
                live_run(observer) as out:
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

            height = client.get("/api/agents/miners-0").json()["height"]
            mined = client.post("/api/agents/miners-0/command", json={"command": "mine", "args": {"blocks": 3}})
            assert mined.status_code == 200, mined.text
            assert mined.json()["result"]["mined"] == 3 and mined.json()["result"]["height"] == height + 3
            assert client.get("/api/agents/miners-0").json()["height"] == height + 3
            wanted = {"since": before, "limit": 5000, "kind": "block.found,run.,command"}
            kinds = [e["kind"] for e in client.get("/api/events", params=wanted).json()["events"]]
            assert ev.BLOCK_FOUND in kinds and ev.RUN_PAUSED in kinds and ev.COMMAND in kinds
            bad = client.post("/api/agents/sim/command", json={"command": "step", "args": {"seconds": -1}})
            assert bad.status_code == 400

            assert client.post("/api/agents/sim/command", json={"command": "resume"}).status_code == 200
            wait_for(lambda: status()["state"] == "finished", timeout=60)
        final = client_status = httpx.get(server.url + "api/status", headers=server.headers).json()
        assert final["runs_finished"] == 1 and final["run"]["sim_time"] == 6 * 3600
        assert client_status["height"]["max"] == out["run"].summary["blocks"]["main_chain_height"]
        late = httpx.post(server.url + "api/agents/sim/command", json={"command": "pause"}, headers=server.headers)
        assert late.status_code == 409
        metrics = httpx.get(server.url + "api/metrics", headers=server.headers).text
        assert 'monerosim_sim_time_seconds{backend="sim",scenario="small-network"} 21600.0' in metrics
    finally:
        server.stop()
    with pytest.raises(httpx.TransportError):
        httpx.get(server.url + "api/status", timeout=2, headers=server.headers)


def test_a_live_run_gives_the_same_result_as_an_unobserved_one() -> None:
    scenario = load_scenario(SCENARIO, overrides={"duration": "2h"})
    plain = run_scenario(scenario, backend="sim")
    observer = LiveSession(watch=True)
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
            status = httpx.get(server.url + "api/status", headers=server.headers).json()
            assert status["runs_finished"] == 1 and status["nodes"] == 101
            assert httpx.get(server.url + "api/agents/seeds-0", headers=server.headers).status_code == 200
            assert httpx.get(server.url + "api/agents/seeds-0").status_code == 401
            with open("port.txt", "w") as f:
                f.write(str(server.port))
    """))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--monerosim-serve=0")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["monerosim: live dashboard and API at http://127.0.0.1:*/?token=* (loopback only)"])
    port = int((pytester.path / "port.txt").read_text())
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0, "the server must not outlive the session"


# -- the doors (issue 11), the schema, events.jsonl and --replay ----------------------------------
def test_token_host_and_origin_guard_every_request(observed: LiveSession) -> None:
    app = create_app(observed, TOKEN)
    local = {"Host": "127.0.0.1:8765"}
    client = TestClient(app, base_url="http://127.0.0.1:8765")
    assert client.get("/api/status").status_code == 401  # no token
    assert client.get("/api/status", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/api/status", headers=AUTH).status_code == 200
    assert client.get("/api/status", headers={"X-Monerosim-Token": TOKEN}).status_code == 200
    assert client.get(f"/api/status?token={TOKEN}").status_code == 200
    assert client.get("/api/openapi.json").status_code == 200  # the schema is public
    page = client.get("/")
    assert page.status_code == 401 and "printed with the dashboard URL" in page.text
    page = client.get(f"/?token={TOKEN}")
    assert page.status_code == 200 and f'<meta name="monerosim-token" content="{TOKEN}">' in page.text
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    # DNS rebinding: a page on evil.example resolved to 127.0.0.1 sends Host: evil.example
    rebound = client.get("/api/status", headers={**AUTH, "Host": "evil.example"})
    assert rebound.status_code == 400 and "evil.example" in rebound.json()["error"]
    for host in ("localhost:8765", "[::1]:8765", "127.0.0.2"):
        assert client.get("/api/status", headers={**AUTH, "Host": host}).status_code == 200, host
    allowed = TestClient(create_app(observed, TOKEN, ["lab.internal"]), base_url="http://lab.internal")
    assert allowed.get("/api/status", headers=AUTH).status_code == 200
    # cross-origin: a form on another site POSTs text/plain (no token: it cannot read the page)
    form = client.post("/api/agents/n3/command", content=b'{"command": "mine"}',
                       headers={**local, "Origin": "https://evil.example", "Content-Type": "text/plain"})
    assert form.status_code == 403
    form = client.post("/api/agents/n3/command", content=b'{"command": "mine"}',
                       headers={**local, "Content-Type": "text/plain"})
    assert form.status_code == 401
    # even with the token (it never leaves the page), a write must be JSON and same-origin
    plain = client.post("/api/agents/n3/command", content=b'{"command": "mine"}',
                        headers={**AUTH, "Content-Type": "text/plain"})
    assert plain.status_code == 415
    other = client.post("/api/agents/n3/command", json={"command": "mine"},
                        headers={**AUTH, "Origin": "http://127.0.0.1:9999"})
    assert other.status_code == 403
    site = client.post("/api/agents/n3/command", json={"command": "mine"},
                       headers={**AUTH, "Sec-Fetch-Site": "cross-site"})
    assert site.status_code == 403
    same = client.post("/api/agents/n3/command", json={"command": "pause"},
                       headers={**AUTH, "Origin": "http://127.0.0.1:8765"})
    assert same.status_code == 409  # through the doors: no network runs
    assert client.get("/api/agents/n3", headers={**AUTH, "Origin": "http://127.0.0.1:8765"}).status_code == 200


def test_openapi_document_and_typed_views(observed: LiveSession) -> None:
    from pytest_monerosim.observe.api import openapi_document

    doc = openapi_document()
    paths = set(doc["paths"])
    assert {"/api/status", "/api/agents", "/api/agents/{agent_id}", "/api/agents/{agent_id}/command",
            "/api/metrics", "/api/events", "/api/series", "/api/graph", "/api/blocks", "/api/transactions",
            "/api/run/command"} <= paths
    assert "CommandRequest" in doc["components"]["schemas"] and "bearer" in doc["components"]["securitySchemes"]
    client = TestClient(create_app(observed, TOKEN, ["testserver"]), headers=AUTH)
    docs = client.get("/api/docs")
    assert docs.status_code == 200 and "/static/vendor/swagger-ui/swagger-ui-bundle.js" in docs.text
    assert "cdn" not in docs.text.lower()
    assert client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200
    tree = client.get("/api/blocks", params={"last": 100}).json()
    assert tree["height"] == 30 and tree["total"] == 31 and tree["stale"] == 1
    assert sum(1 for b in tree["blocks"] if not b["main"]) == 1 and tree["reorgs"][0]["node"] == "n3"
    graph = client.get("/api/graph").json()
    assert len(graph["nodes"]) == 10 and graph["edges"]
    assert [n["id"] for n in graph["nodes"] if not n["honest"]] == ["n9"]
    series = client.get("/api/series").json()
    assert series["count"] > 100 and series["columns"]["height_max"][-1] == 30
    page = client.get("/api/agents", params={"kind": "node", "limit": 3, "offset": 3}).json()
    assert page["count"] == 10 and [a["id"] for a in page["agents"]] == ["n3", "n4", "n5"]
    assert client.get("/api/agents", params={"q": "n9"}).json()["count"] == 1
    off = client.post("/api/run/command", json={"command": "pause"})
    assert off.status_code == 409 and off.json() == {"error": "no network is running"}
    assert client.post("/api/run/command", json={"command": "pause", "extra": 1}).status_code == 400


def test_wallets_are_agents_and_events_are_saved_for_replay(tmp_path: Path) -> None:
    from pytest_monerosim.cli import main
    from pytest_monerosim.observe.replay import Replay, load_events

    scenario = load_scenario(SCENARIO.with_name("dashboard.yaml"), overrides={"duration": "2h30m"})
    observer = LiveSession(watch=True)
    with observer.run(scenario=scenario, backend="sim", options=(options := RunOptions(workdir=tmp_path)),
                      test="wallets"):
        assert not (tmp_path / "events.jsonl").exists()
        run = run_scenario(scenario, backend="sim", options=options)
    observer.run_done(run.result, run.summary)
    wallets = [a for a in observer.registry.all() if a.kind == "wallet"]
    assert len(wallets) == 9 and all("balance" in w.info for w in wallets)
    txs = observer.views.transactions(limit=5000)
    assert txs["total"] == len(run.result.txs) > 0
    assert txs["by_status"].get("confirmed") == sum(1 for t in run.result.txs.values() if t.status == "confirmed")
    events = load_events(tmp_path)
    assert not list(tmp_path.glob(".events.jsonl*")), "the partial file is renamed into place"
    kinds = {e["kind"] for e in events}
    assert {"run.start", "run.sample", "block.found", "tx.created", "wallet.state", "run.end"} <= kinds
    replay_obs = LiveSession(watch=False)
    replay = replay_obs.replay = Replay(replay_obs, events, source="test")
    replay.seek(replay.end)
    assert replay_obs.status()["height"]["max"] == run.summary["blocks"]["main_chain_height"]
    replay.seek(1800)
    assert 0 < replay_obs.status()["height"]["max"] < run.summary["blocks"]["main_chain_height"]
    assert replay_obs.status()["controls"]["seek"]["available"]
    assert replay_obs.status()["controls"]["pause"]["reason"].startswith("a replay")
    assert main(["serve", "--replay", str(tmp_path), "--port", "0", "--linger", "0"]) == 0
    assert main(["serve", "--replay", str(tmp_path / "nothing"), "--port", "0"]) == 2


def test_the_registry_state_and_the_api_schema_have_the_same_fields() -> None:
    """AgentState is schemas.Agent's mutable twin: a field added to one is added to the other."""
    import dataclasses

    from pytest_monerosim.observe.agent_registry import AgentState
    from pytest_monerosim.observe.schemas import Agent

    state = {f.name: f for f in dataclasses.fields(AgentState)}
    assert list(state) == list(Agent.model_fields)
    for name, spec in Agent.model_fields.items():
        if spec.default_factory is not None:
            assert state[name].default_factory is not dataclasses.MISSING, name
        elif spec.is_required():
            assert state[name].default is dataclasses.MISSING, name
        else:
            assert state[name].default == spec.default, name
