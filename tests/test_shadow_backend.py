"""The shadow backend: the written directory, its checks, the runner and the output parser.

Shadow itself is built from source and not installed here. The end-to-end
test runs the generated directory with ``tests/shadow_emulator.py`` standing in
for the ``shadow`` binary (real monerod, monero-wallet-rpc and agent processes
on 127.x.y.z addresses), so everything but Shadow's network simulation runs.

Golden files: ``tests/golden/shadow/<name>/``; regenerate them with
``MONEROSIM_UPDATE_GOLDEN=1 pytest tests/test_shadow_backend.py``.
"""

from __future__ import annotations

import importlib
import ipaddress
import json
import os
import random
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
import yaml

from pytest_monerosim.backends import BackendUnavailable, RunOptions
from pytest_monerosim.backends.plan import PlanOptions, build_plan
from pytest_monerosim.backends.shadow import backend as runner
from pytest_monerosim.backends.shadow.backend import (
    SUCCESS_LINE,
    ShadowRunError,
    check_completion,
    output_files,
    parse_shadow_data,
)
from pytest_monerosim.backends.shadow.gml_graph import read_gml
from pytest_monerosim.backends.shadow.schema import ShadowConfigError
from pytest_monerosim.backends.shadow.writer import (
    BAN_FILE,
    CONFIG_FILE,
    GRAPH_FILE,
    SHADOW_EPOCH,
    ShadowDirectory,
    ShadowSettings,
    host_addresses,
    network_graph,
    shadow_latency,
    write_shadow_dir,
)
from pytest_monerosim.cli import main as cli_main
from pytest_monerosim.config import Scenario, scenario_from_dict
from pytest_monerosim.registry import Registry
from pytest_monerosim.shadow_units import parse_bandwidth, parse_time, parse_time_ns

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "golden" / "shadow"
EMULATOR = HERE / "shadow_emulator.py"
LEGACY = HERE.parent / "fixtures" / "legacy"
UPDATE = os.environ.get("MONEROSIM_UPDATE_GOLDEN") == "1"

# Machine-independent settings for the golden files.
FIXED = ShadowSettings(python="/usr/bin/python3", pythonpath=("/opt/monerosim",), resolve_binaries=False)


@pytest.fixture(scope="module")
def registry() -> Registry:
    """The plugins a plan needs (behaviours, wallet strategies, topologies, latency models)."""
    reg = Registry()
    for module in ("pytest_monerosim.agents.behaviours", "pytest_monerosim.agents.wallets",
                   "pytest_monerosim.topology.plugins"):
        reg.add_all(importlib.import_module(module).PLUGINS)
    return reg


SCENARIOS: dict[str, dict[str, Any]] = {
    # a static star: a hub relay and two miners; not every host pair is linked
    "star": {
        "general": {"name": "star", "seed": 5, "duration": "30m"},
        "network": {"topology": {"name": "star"}, "latency": {"name": "constant", "latency_s": 0.025}},
        "nodes": [
            {"group": "hub", "role": "relay"},
            {"group": "miners", "count": 2, "role": "miner", "hashrate": 1.0},
        ],
        "wallets": [{"name": "mining", "node_group": "miners", "strategy": "mining_wallet"}],
    },
    # discovery from a seed node over two regions; a user joins later with a bot, a distributor pays
    "regions": {
        "general": {"name": "regions", "seed": 11, "duration": "2h"},
        "network": {
            "topology": {"name": "monero"},
            "latency": {"name": "regions", "regions": [{"name": "eu", "weight": 1}, {"name": "us", "weight": 1}],
                        "latency_s": {"eu": {"eu": 0.008, "us": 0.045}, "us": {"us": 0.012}}},
            "bandwidth_bps": 50e6,
        },
        "p2p": {"out_peers": 4},
        "nodes": [
            {"group": "seed", "role": "relay", "seed_node": True, "region": "eu"},
            {"group": "miners", "count": 2, "role": "miner", "hashrate": 2.0},
            {"group": "user", "role": "user", "start_time": "10m", "bandwidth_bps": 20e6, "in_peers": 0},
        ],
        "wallets": [
            {"name": "mining", "node_group": "miners", "strategy": "mining_wallet"},
            {"name": "alice", "node_group": "user",
             "strategy": {"name": "transaction_bot", "interval_s": 300, "start_time": 3600}},
            {"name": "payer", "nodes": ["miners-0"],
             "strategy": {"name": "distributor", "wait_time": 1800, "recipients": "users"}},
        ],
    },
}


def scenario(name: str, **changes: Any) -> Scenario:
    data = json.loads(json.dumps(SCENARIOS[name]))
    data["general"].update(changes)
    return scenario_from_dict(data)


def write(tmp_path: Path, registry: Registry, name: str, settings: ShadowSettings = FIXED,
          **changes: Any) -> ShadowDirectory:
    return write_shadow_dir(scenario(name, **changes), registry, tmp_path / name, settings)


def normalized(layout: ShadowDirectory, file: str) -> str:
    return (layout.directory / file).read_text().replace(str(layout.directory.resolve()), "{DIR}")


def config_of(layout: ShadowDirectory) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((layout.directory / CONFIG_FILE).read_text())
    return data


# --------------------------------------------------------------------------- golden files


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_golden(name: str, tmp_path: Path, registry: Registry) -> None:
    layout = write(tmp_path, registry, name)
    for file in (CONFIG_FILE, GRAPH_FILE):
        golden = GOLDEN / name / file
        text = normalized(layout, file)
        if UPDATE:
            golden.parent.mkdir(parents=True, exist_ok=True)
            golden.write_text(text)
        assert golden.exists(), f"no golden file {golden}; run with MONEROSIM_UPDATE_GOLDEN=1"
        assert text == golden.read_text(), f"{file} of {name!r} differs from {golden}"


def test_directory_contents(tmp_path: Path, registry: Registry) -> None:
    layout = write(tmp_path, registry, "regions")
    d = layout.directory
    assert (d / "plan.json").is_file() and (d / "shared").is_dir()
    for host in layout.plan.hosts.values():
        assert (d / "template" / "hosts" / host.name).is_dir()
        for wallet in host.wallets:
            assert (d / "template" / "hosts" / host.name / "wallets" / wallet.name).is_dir()
        for agent in host.agents:
            wrapper = d / "agents" / host.name / f"{agent.name}.py"
            text = wrapper.read_text()
            compile(text, str(wrapper), "exec")
            assert f"runpy.run_module({agent.module!r}" in text and "--t0" in text
    plan = json.loads((d / "plan.json").read_text())
    assert set(plan["addresses"]) == set(layout.plan.hosts)


# --------------------------------------------------------------------------- what is written


def test_ban_lists_are_written_and_unemulated_conditions_named(tmp_path: Path, registry: Registry) -> None:
    """A banning daemon reads its --ban-list from its host directory (the template's copy):
    a group's hosts as /24s (each host has a /16 here), addresses as they are. Churn is the
    layout's downtimes, a monerod process per session (SIGTERM at each downtime). NAT has no
    Shadow counterpart: the directory names it instead of pretending."""
    sc = scenario_from_dict({
        "general": {"name": "conditions", "seed": 1, "duration": "30m"},
        "network": {"topology": "monero", "latency": {"name": "constant", "latency_s": 0.05}},
        "nodes": [
            {"group": "miners", "count": 2, "role": "miner", "hashrate": 1.0},
            {"group": "spies", "count": 2, "spy": {}},
            {"group": "careful", "count": 2, "ban_list": ["group:spies", "10.9.0.0/16", "8.8.8.8"]},
            {"group": "natted", "count": 2, "reachable": 0.0, "churn": {"mean_session_s": 600, "mean_downtime_s": 60}},
        ],
    })
    layout = write_shadow_dir(sc, registry, tmp_path / "c", FIXED)
    spies = [layout.addresses[f"spies-{i}"] for i in range(2)]
    for host in ("careful-0", "careful-1"):
        args = config_of(layout)["hosts"][host]["processes"][0]["args"]
        assert f"--ban-list {BAN_FILE}" in (args if isinstance(args, str) else " ".join(args))
        lines = (layout.directory / "template" / "hosts" / host / BAN_FILE).read_text().split()
        assert lines == [str(ipaddress.ip_network(f"{ip}/24", strict=False)) for ip in spies] \
            + ["10.9.0.0/16", "8.8.8.8"]
    assert not (layout.directory / "template" / "hosts" / "miners-0" / BAN_FILE).exists()
    assert len(layout.notes) == 1 and "reachable: false (2 hosts" in layout.notes[0]
    for host in ("natted-0", "natted-1"):
        downs = layout.plan.hosts[host].daemon.downtimes  # type: ignore[union-attr]
        procs = [p for p in config_of(layout)["hosts"][host]["processes"] if p["path"].endswith("monerod")]
        assert downs and len(procs) == len(downs) + 1  # 30 min, sessions of 10 min: all back in time
        for proc, (at, back), nxt in zip(procs, downs, procs[1:], strict=False):
            assert parse_time_ns(proc["shutdown_time"]) < parse_time_ns(nxt["start_time"])
            gap = parse_time_ns(nxt["start_time"]) - parse_time_ns(proc["shutdown_time"])
            assert abs(gap - (back - at) * 1e9) <= 1  # the downtime, to the ns
        assert "shutdown_time" not in procs[-1] and procs[-1]["expected_final_state"] == "running"
    assert json.loads((layout.directory / "plan.json").read_text())["notes"] == layout.notes


def test_hosts_processes_and_times(tmp_path: Path, registry: Registry) -> None:
    layout = write(tmp_path, registry, "regions")
    cfg = config_of(layout)
    plan = layout.plan
    assert set(cfg["hosts"]) == set(plan.hosts) == {"seed", "miners-0", "miners-1", "user", "monitor"}
    assert parse_time(cfg["general"]["stop_time"]) == 7200 + FIXED.grace_s
    # one /16 per host, each host's own address in its monerod command line
    nets = {ipaddress.ip_network(f"{h['ip_addr']}/16", strict=False) for h in cfg["hosts"].values()}
    assert len(nets) == len(cfg["hosts"])
    for name, host in cfg["hosts"].items():
        procs = host["processes"]
        env_keys = [set(p["environment"]) for p in procs]
        assert all({"PATH", "HOME"} <= keys for keys in env_keys)
        assert procs[0]["environment"]["HOME"].endswith(f"shadow.data/hosts/{name}")
        if plan.hosts[name].daemon is None:
            continue
        daemon = procs[0]
        assert daemon["path"] == "monerod" and daemon["expected_final_state"] == "running"
        args = daemon["args"]
        assert args[args.index("--p2p-bind-ip") + 1] == host["ip_addr"]
        assert args[args.index("--log-file") + 1] == "./monerod.log"
        start = parse_time(daemon["start_time"])
        for proc in procs[1:]:
            if proc["path"] == "monero-wallet-rpc":
                assert proc["expected_final_state"] == "running"
                assert parse_time(proc["start_time"]) == start + FIXED.wallet_delay_s
            else:
                assert proc["path"] == "/usr/bin/python3"
                assert proc["expected_final_state"] == {"exited": 0}
                assert proc["environment"]["PYTHONPATH"] == "/opt/monerosim"
                assert parse_time(proc["start_time"]) == start + FIXED.agent_delay_s
    starts = {n: parse_time(h["processes"][0]["start_time"]) for n, h in cfg["hosts"].items()}
    # hosts that start together are staggered by 100 ms; the user starts at 10 min
    assert sorted(starts[n] for n in ("seed", "miners-0", "miners-1", "monitor")) == [0.0, 0.1, 0.2, 0.3]
    assert starts["user"] == 600.0
    # seed peers, in-peers and the shared plan argv builder
    user_args = cfg["hosts"]["user"]["processes"][0]["args"]
    seed_ip = cfg["hosts"]["seed"]["ip_addr"]
    assert user_args[user_args.index("--seed-node") + 1] == f"{seed_ip}:18080"
    assert user_args[user_args.index("--in-peers") + 1] == "0"
    assert user_args[user_args.index("--out-peers") + 1] == "4"


def test_agents_get_shadows_clock(tmp_path: Path, registry: Registry) -> None:
    layout = write(tmp_path, registry, "star")
    wrapper = (layout.directory / "agents" / "miners-0" / "miner-miners-0.py").read_text()
    args = json.loads(wrapper.split("] + ", 1)[1].split("\nrunpy", 1)[0])
    assert float(args[args.index("--t0") + 1]) == SHADOW_EPOCH
    assert float(args[args.index("--time-scale") + 1]) == 1.0
    assert args[args.index("--out") + 1] == "."
    assert float(args[args.index("--duration") + 1]) == 1800.0


def test_addresses_are_one_per_slash16() -> None:
    names = [f"h{i}" for i in range(600)]
    addrs = host_addresses(names)
    assert addrs["h0"] == "11.0.0.1" and addrs["h1"] == "11.1.0.1" and addrs["h256"] == "12.0.0.1"
    assert len({a.rsplit(".", 2)[0] for a in addrs.values()}) == 600
    assert all(not a.startswith(("100.", "127.")) for a in host_addresses([f"h{i}" for i in range(30000)]).values())


# --------------------------------------------------------------------------- the network graph


def test_gml_parses_back_with_networkx(tmp_path: Path, registry: Registry) -> None:
    for name in SCENARIOS:
        layout = write(tmp_path, registry, name)
        text = (layout.directory / GRAPH_FILE).read_text()
        parsed = nx.parse_gml(text, label="id")
        plan_graph = layout.plan.graph
        labels = {n: d["label"] for n, d in parsed.nodes(data=True)}
        assert sorted(labels.values()) == sorted(plan_graph.nodes)
        by_label = {v: k for k, v in labels.items()}
        for host, data in plan_graph.nodes(data=True):
            node = parsed.nodes[by_label[host]]
            assert parse_bandwidth(node["host_bandwidth_up"]) == data["bandwidth_up_bps"]
            assert parse_bandwidth(node["host_bandwidth_down"]) == data["bandwidth_down_bps"]
            assert parsed.has_edge(by_label[host], by_label[host])  # the self-loop hosts attach to
        for u, v, data in plan_graph.edges(data=True):
            edge = parsed.edges[by_label[u], by_label[v]]
            assert parse_time(edge["latency"]) == pytest.approx(data["latency_s"], abs=5e-7)
            assert isinstance(edge["packet_loss"], float)
        assert "packet_loss 0.0\n" in text and "packet_loss 0\n" not in text
        # the project's own reader agrees (and checks every Shadow rule)
        assert read_gml(text).number_of_edges() == parsed.number_of_edges()
        cfg = config_of(layout)
        complete = plan_graph.number_of_edges() == len(plan_graph) * (len(plan_graph) - 1) // 2
        assert cfg["network"].get("use_shortest_path", True) is (not complete)
        for host, entry in cfg["hosts"].items():
            assert labels[entry["network_node_id"]] == host


def test_compact_network_reproduces_the_latency_model(tmp_path: Path, registry: Registry) -> None:
    sc = scenario("regions")
    layout = write_shadow_dir(sc, registry, tmp_path / "c",
                              ShadowSettings(compact=True, resolve_binaries=False))
    assert layout.compact
    cfg = config_of(layout)
    graph = read_gml((layout.directory / GRAPH_FILE).read_text())
    names = {n: d["label"] for n, d in graph.nodes(data=True)}
    assert sorted(names.values()) == ["agents", "eu", "us"]
    hosts = layout.plan.hosts
    for name, entry in cfg["hosts"].items():
        node = names[entry["network_node_id"]]
        assert node == (hosts[name].region or "agents")
        assert parse_bandwidth(entry["bandwidth_up"]) == hosts[name].bandwidth_up_bps
    ids = {v: k for k, v in names.items()}
    assert graph.edges[ids["eu"], ids["us"]]["latency_s"] == 0.045
    assert graph.edges[ids["us"], ids["us"]]["latency_s"] == 0.012
    assert cfg["network"]["use_shortest_path"] is False
    # a host pair's latency is the plan's
    for u, v, data in layout.plan.graph.edges(data=True):
        if hosts[u].node and hosts[v].node:
            a, b = ids[hosts[u].region], ids[hosts[v].region]
            assert graph.edges[a, b]["latency_s"] == pytest.approx(data["latency_s"])


def test_compact_needs_discovery_and_a_regional_model(registry: Registry) -> None:
    sc = scenario("star")
    plan = build_plan(sc, registry)
    with pytest.raises(ValueError, match="compact network needs"):
        network_graph(plan, sc, compact=True)
    assert network_graph(plan, sc)[3] is False


# --------------------------------------------------------------------------- refused configs


def test_process_after_stop_time_is_named(tmp_path: Path, registry: Registry) -> None:
    data = json.loads(json.dumps(SCENARIOS["star"]))
    data["nodes"].append({"group": "late", "role": "relay", "start_time": "2h"})
    with pytest.raises(ShadowConfigError) as info:
        write_shadow_dir(scenario_from_dict(data), registry, tmp_path / "late", FIXED)
    message = str(info.value)
    assert message.startswith("hosts.late.processes[0].start_time: start_time '2 h' is not before "
                              "general.stop_time '35 min'"), message
    assert not (tmp_path / "late").exists()  # validated before anything is written


@pytest.mark.parametrize(
    ("overrides", "start", "fragment"),
    [
        ({"general": {"log_level": "loud"}}, "general.log_level:", "'loud'"),
        ({"general": {"stop_tme": "1 h"}}, "general.stop_tme: unknown key 'stop_tme'", "did you mean 'stop_time'"),
        ({"experimental": {"runahead": "1.5 ms"}}, "experimental.runahead:", '"1500 us"'),
        ({"experimental": {"interface_qdisc": "lifo"}}, "experimental.interface_qdisc:", "'lifo'"),
        ({"host_option_defaults": {"pcap_capture_size": "64 kB"}}, "host_option_defaults.pcap_capture_size:",
         "unknown size unit"),
        ({"network": {"use_shortest_path": False}}, "network: not a section that can be overridden", "general"),
    ],
)
def test_bad_overrides_are_named(tmp_path: Path, registry: Registry, overrides: dict[str, Any],
                                 start: str, fragment: str) -> None:
    settings = ShadowSettings(resolve_binaries=False, overrides=overrides)
    with pytest.raises(ShadowConfigError) as info:
        write(tmp_path, registry, "star", settings)
    first = str(info.value).splitlines()[0]
    assert first.startswith(start) and fragment in first, first
    assert not (tmp_path / "star").exists()


def test_overrides_reach_the_config(tmp_path: Path, registry: Registry) -> None:
    settings = ShadowSettings(resolve_binaries=False, overrides={
        "general": {"parallelism": 2, "bootstrap_end_time": "1 h"},
        "experimental": {"runahead": "100 ms"}})
    cfg = config_of(write(tmp_path, registry, "star", settings))
    assert cfg["general"]["parallelism"] == 2 and cfg["general"]["bootstrap_end_time"] == "1 h"
    assert cfg["experimental"] == {"runahead": "100 ms"}


def test_latencies_are_whole_microseconds(tmp_path: Path, registry: Registry) -> None:
    assert shadow_latency(0.058124867967993404) == 0.058125
    assert shadow_latency(2.5e-10) == 0.000001  # never zero: Shadow refuses that
    data = json.loads(json.dumps(SCENARIOS["regions"]))
    data["network"]["latency"] = {"name": "lognormal", "median_s": 0.06, "sigma": 0.5}
    layout = write_shadow_dir(scenario_from_dict(data), registry, tmp_path / "ln", FIXED)
    graph = read_gml((layout.directory / GRAPH_FILE).read_text())
    ids = {d["label"]: n for n, d in graph.nodes(data=True)}
    for u, v, d in layout.plan.graph.edges(data=True):
        written = graph.edges[ids[u], ids[v]]["latency_s"]
        assert written == pytest.approx(d["latency_s"], abs=5e-7)
        assert round(written * 1e6, 6) == round(written * 1e6)


# --------------------------------------------------------------------------- runner checks


def test_backend_unavailable_says_what_and_where(tmp_path: Path, registry: Registry,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    work = tmp_path / "work"
    with pytest.raises(BackendUnavailable) as info:
        runner.run(scenario("star"), registry, RunOptions(workdir=work))
    message = str(info.value)
    assert "built from source" in message and "github.com/shadow/shadow" in message
    assert str(work / "shadow") in message and "\n" not in message
    assert (work / "shadow" / CONFIG_FILE).is_file() and (work / "shadow" / GRAPH_FILE).is_file()
    with pytest.raises(BackendUnavailable, match="/nowhere/shadow is not an executable"):
        runner.run(scenario("star"), registry, RunOptions(workdir=work, shadow_bin="/nowhere/shadow"))


def test_backend_unavailable_through_run_scenario(tmp_path: Path, registry: Registry,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from pytest_monerosim.runner import run_scenario

    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BackendUnavailable, match="Shadow is built from source"):
        run_scenario(scenario("star"), backend="shadow", registry=registry,
                     options=RunOptions(workdir=tmp_path / "w"))


def test_missing_monerod_is_unavailable_too(tmp_path: Path, registry: Registry) -> None:
    fake = tmp_path / "shadow"
    fake.write_text("#!/bin/sh\nexit 0\n")
    fake.chmod(0o755)
    options = RunOptions(workdir=tmp_path / "w", shadow_bin=str(fake), monerod_bin="/nowhere/monerod")
    with pytest.raises(BackendUnavailable, match=r"monerod \(/nowhere/monerod\)"):
        runner.run(scenario("star"), registry, options)


def test_check_completion(tmp_path: Path, registry: Registry) -> None:
    layout = write(tmp_path, registry, "star")
    check_completion(0, f"... \n{SUCCESS_LINE}\n", layout)
    host = layout.host_directory("miners-0")
    host.mkdir(parents=True)
    (host / "python3.11.1004.stderr").write_text("Traceback (most recent call last):\nKeyError: 'x'\n")
    log = (
        "00:00:01 [ERROR] [miners-0:11.1.0.1] process 'miners-0.python3.11.1004' exited with status "
        "Normal(1); expected end state was exited: 0 but was exited: 1\n"
        "** Shadow did not complete successfully: 1 managed processes in unexpected final state\n"
    )
    with pytest.raises(ShadowRunError) as info:
        check_completion(1, log, layout)
    text = str(info.value)
    assert "shadow exited with status 1" in text
    assert "process miners-0.python3.11.1004 ended exited: 1 (expected exited: 0" in text
    assert "KeyError: 'x'" in text and str(layout.directory) in text
    with pytest.raises(ShadowRunError, match="without '\\*\\* Shadow completed successfully'"):
        check_completion(0, "it stopped\n", layout)


def test_output_files_are_globbed(tmp_path: Path) -> None:
    for name in ("monerod.1000.stdout", "monerod.1000.stderr", "python3.11.1003.stdout",
                 "monero-wallet-rpc.1001.stdout", "monerod.log", "notes.txt", "x.stdout"):
        (tmp_path / name).write_text("")
    found = [(exe, pid, kind) for exe, pid, kind, _ in output_files(tmp_path)]
    assert found == [("monerod", 1000, "stderr"), ("monerod", 1000, "stdout"),
                     ("monero-wallet-rpc", 1001, "stdout"), ("python3.11", 1003, "stdout")]


# --------------------------------------------------------------------------- CLI


@pytest.fixture
def cli_registry(registry: Registry, monkeypatch: pytest.MonkeyPatch) -> Registry:
    monkeypatch.setattr("pytest_monerosim.cli.shadow_config.default_registry", lambda: registry)
    return registry


def test_cli_shadow_config(tmp_path: Path, cli_registry: Registry, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "star.yaml"
    src.write_text(yaml.safe_dump(SCENARIOS["star"]))
    out = tmp_path / "out"
    assert cli_main(["shadow-config", str(src), "-o", str(out), "--duration", "10m"]) == 0
    printed = capsys.readouterr().out
    assert f"cd {out} && shadow {CONFIG_FILE}" in printed and "4 hosts" in printed
    cfg = yaml.safe_load((out / CONFIG_FILE).read_text())
    assert parse_time(cfg["general"]["stop_time"]) == 600 + ShadowSettings().grace_s
    assert not (out / "shadow.data").exists()  # nothing was run


def test_cli_shadow_config_of_a_legacy_file(tmp_path: Path, cli_registry: Registry,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "q"
    assert cli_main(["shadow-config", str(LEGACY / "quickstart.yaml"), "-o", str(out),
                     "--no-monitor"]) == 0
    cfg = yaml.safe_load((out / CONFIG_FILE).read_text())
    assert cfg["general"]["parallelism"] == 0 and cfg["general"]["bootstrap_end_time"] == "4 h"
    assert cfg["experimental"]["runahead"] == "100 ms"
    assert "monitor" not in cfg["hosts"] and len(cfg["hosts"]) == 9
    assert "latency \"1 ms\"" in (out / GRAPH_FILE).read_text()


def test_cli_shadow_config_bad_input(tmp_path: Path, cli_registry: Registry,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    data = json.loads(json.dumps(SCENARIOS["star"]))
    data["nodes"].append({"group": "late", "role": "relay", "start_time": "2h"})
    bad.write_text(yaml.safe_dump(data))
    assert cli_main(["shadow-config", str(bad), "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "hosts.late.processes[0].start_time" in err, err
    assert cli_main(["shadow-config", str(tmp_path / "missing.yaml"), "-o", str(tmp_path / "o")]) == 2
    assert cli_main(["shadow-config", str(bad), "-o", str(tmp_path / "o"), "--duration", "soon"]) == 2


# --------------------------------------------------------------------------- real processes


def _agents_can_run() -> str | None:
    if not (shutil.which("monerod") and shutil.which("monero-wallet-rpc")):
        return "needs monerod and monero-wallet-rpc (Debian package 'monero')"
    try:
        from pytest_monerosim.registry import default_registry

        default_registry()  # what every agent process builds first
    except (ImportError, AttributeError) as exc:
        return f"agent processes cannot load the built-in plugins yet: {exc}"
    return None


@pytest.fixture(scope="module")
def emulated_run(tmp_path_factory: pytest.TempPathFactory, registry: Registry) -> tuple[Any, ShadowDirectory]:
    """One short run of a 2-node mesh through runner.run() with the emulator as ``shadow``."""
    reason = _agents_can_run()
    if reason:
        pytest.skip(reason)
    work = tmp_path_factory.mktemp("emulated")
    fake = work / "bin" / "shadow"
    fake.parent.mkdir()
    fake.write_text(f"#!/bin/sh\nexec {sys.executable} {EMULATOR} \"$@\"\n")
    fake.chmod(0o755)
    sc = scenario_from_dict({
        "general": {"name": "emulated", "seed": 3, "duration": "10m"},
        "network": {"topology": {"name": "mesh"}, "latency": {"name": "constant", "latency_s": 0.02}},
        "nodes": [{"group": "miner", "role": "miner", "hashrate": 1.0}, {"group": "relay", "role": "relay"}],
        "wallets": [{"name": "mw", "node_group": "miner", "strategy": "mining_wallet"}],
    })
    base = f"127.{random.randint(100, 250)}.{random.randint(0, 250)}"
    addresses = {"miner": f"{base}.2", "relay": f"{base}.3", "monitor": f"{base}.4"}
    scale, t0 = 30.0, time.time() + 2.0
    settings = ShadowSettings(addresses=addresses, t0=t0, time_scale=scale,
                              plan_options=PlanOptions(monitor_poll_s=15.0))
    mp = pytest.MonkeyPatch()
    mp.setenv("MONEROSIM_EMULATOR_T0", repr(t0))
    mp.setenv("MONEROSIM_EMULATOR_SCALE", repr(scale))
    try:
        return runner.run_with_layout(sc, registry, RunOptions(workdir=work, shadow_bin=str(fake),
                                                               extra={"shadow_settings": settings}))
    finally:
        mp.undo()


def test_real_agents_through_the_runner(emulated_run: tuple[Any, ShadowDirectory]) -> None:
    result, layout = emulated_run
    assert result.backend == "shadow"
    assert set(result.nodes) == {"miner", "relay"}
    mined = [b for b in result.blocks.values() if b.miner == "miner"]
    assert mined, "no block was mined in 10 simulated minutes"
    for block in mined:
        assert set(block.arrivals) == {"miner", "relay"}, block
        assert block.arrivals["relay"] >= block.arrivals["miner"] - 0.05
        assert 0 <= block.found_at <= 600 + 30
    assert result.height("relay") == result.height("miner") >= len(mined)
    wallet = result.wallets["mw"]
    assert wallet.node == "miner" and wallet.balance > 0
    assert result.peer_snapshots and ("miner", "relay") in result.peer_snapshots[-1].edges
    assert result.extra["agent_errors"] == []
    assert result.extra["shadow"]["directory"] == str(layout.directory)


def test_parser_reads_shadows_layout(emulated_run: tuple[Any, ShadowDirectory]) -> None:
    result, layout = emulated_run
    hosts = layout.data_directory / "hosts"
    procs = result.extra["shadow_processes"]
    assert [p.split(".")[0] for p in procs["relay"]] == ["monerod"]
    assert [p.split(".")[0] for p in procs["miner"]][:2] == ["monerod", "monero-wallet-rpc"]
    # every agent's pid (from its start record) names one of Shadow's python.<pid> files
    for host in ("miner", "monitor"):
        pids = {json.loads(line)["pid"] for path in (hosts / host).glob("*.jsonl")
                for line in path.read_text().splitlines() if json.loads(line)["type"] == "start"}
        files = {pid for exe, pid, kind, _ in output_files(hosts / host) if exe.startswith("python")}
        assert pids and pids == files
    for host in ("miner", "relay"):
        assert (hosts / host / "monerod.log").is_file()
        assert f"{host}/monerod" in " ".join(result.logs)
    again = parse_shadow_data(layout)
    assert sorted(again.blocks) == sorted(result.blocks)
    assert {n: again.height(n) for n in again.nodes} == {n: result.height(n) for n in result.nodes}


def test_a_large_legacy_network_is_written_compact(tmp_path: Path, cli_registry: Registry,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "large"
    assert cli_main(["shadow-config", str(LEGACY / "large_relays.yaml"), "-o", str(out)]) == 0
    assert "909 hosts" in capsys.readouterr().out
    text = (out / GRAPH_FILE).read_text()
    graph = read_gml(text)
    assert len(graph) == 6 + 1  # the six AS nodes of three_regions.gml, and the monitor's
    cfg = yaml.safe_load((out / CONFIG_FILE).read_text())
    assert cfg["network"]["use_shortest_path"] is False
    assert all("bandwidth_up" in host for host in cfg["hosts"].values())
    assert cfg["experimental"] == {"runahead": "100 ms", "native_preemption_enabled": True}


def test_the_plugin_skips_with_the_reason(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(pytester.path))  # no shadow anywhere
    pytester.makepyfile(test_net="""
        import pytest

        @pytest.mark.monerosim({"general": {"duration": "10m"}, "network": {"topology": {"name": "mesh"}},
                                "nodes": [{"group": "m", "count": 2, "role": "miner", "hashrate": 1}]})
        def test_x(monero_network):
            pass
    """)
    result = pytester.runpytest("-p", "no:cacheprovider", "--monerosim-backend=shadow", "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*Shadow is built from source (https://github.com/shadow/shadow)*"])
