"""``migrate``: the existing Monerosim's configs become scenarios, with a warning per lost setting."""

from __future__ import annotations

import copy
import importlib.util
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from pytest_monerosim.cli import main as cli_main
from pytest_monerosim.config import apply_run_overrides, load_scenario, scenario_from_dict
from pytest_monerosim.config.errors import ScenarioError
from pytest_monerosim.legacy.bridge import looks_legacy, scenario_from_legacy_file
from pytest_monerosim.legacy.migrate import Migration, migrate, migrate_file
from pytest_monerosim.registry import Registry, default_registry

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "legacy"
LEGACY_FILES = sorted(p.name for p in FIXTURES.glob("*.yaml"))



def _builtins() -> Registry | None:
    try:
        return default_registry()
    except (ImportError, AttributeError):  # a colleague's built-in module not written yet
        return None


REGISTRY = _builtins()
HAVE_SIM = importlib.util.find_spec("pytest_monerosim.backends.sim") is not None
needs_builtins = pytest.mark.skipif(REGISTRY is None, reason="built-in plugins not all written yet")
needs_sim = pytest.mark.skipif(REGISTRY is None or not HAVE_SIM, reason="sim backend or built-ins missing")


def fixture_data(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((FIXTURES / name).read_text())
    return data


def fields(m: Migration) -> list[str]:
    return [w.field for w in m.warnings]


def warning(m: Migration, field: str) -> str:
    found = [w.message for w in m.warnings if w.field == field]
    assert found, f"no warning for {field}; warnings: {fields(m)}"
    return found[0]


def group(m: Migration, name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(g for g in m.scenario["nodes"] if g["group"] == name)
    return found


def wallets_by_strategy(m: Migration) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for w in m.scenario.get("wallets", []):
        out.setdefault(w["strategy"]["name"], []).append(w)
    return out


def legacy_file(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "legacy.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


# --------------------------------------------------------------------------- every fixture


@pytest.mark.parametrize("name", LEGACY_FILES)
def test_fixture_migrates_and_the_written_file_loads(name: str, tmp_path: Path) -> None:
    m = migrate_file(FIXTURES / name)
    scenario = scenario_from_dict(copy.deepcopy(m.scenario))
    out = m.write(tmp_path / "new.yaml")
    loaded = load_scenario(out)
    assert loaded == scenario
    assert not looks_legacy(yaml.safe_load(out.read_text()))
    header = out.read_text().split("general:", 1)[0]
    for w in m.warnings:
        assert w.field in header
    # every agent with a daemon became exactly one node
    legacy = yaml.safe_load((FIXTURES / name).read_text())
    assert set(m.node_names.values()) <= set(scenario.node_names())
    assert len(set(m.node_names.values())) == len(m.node_names)
    assert legacy  # the legacy file itself is untouched


@pytest.mark.parametrize("name", LEGACY_FILES)
def test_every_warning_names_a_legacy_field(name: str) -> None:
    m = migrate_file(FIXTURES / name)
    roots = ("general.", "network.", "agents.", "performance.", "timing.")
    legacy = yaml.safe_load((FIXTURES / name).read_text())
    ignored = {k for k in legacy if k not in ("general", "network", "agents", "performance", "timing")}
    for w in m.warnings:
        # a top-level key upstream ignores is named as it is (issue 17: ignored with a warning)
        assert w.field.startswith(roots) or w.field in ignored, w
        assert w.message and "\n" not in str(w)
    assert len(fields(m)) == len(set((w.field, w.message) for w in m.warnings))


@pytest.mark.parametrize("name", LEGACY_FILES)
def test_legacy_files_load_directly(name: str) -> None:
    direct = load_scenario(FIXTURES / name)
    assert direct == scenario_from_legacy_file(FIXTURES / name)
    assert direct == scenario_from_dict(migrate_file(FIXTURES / name).scenario)


@needs_builtins
@pytest.mark.parametrize("name", LEGACY_FILES)
def test_migrated_plugins_resolve(name: str) -> None:
    from pytest_monerosim.config.wallets import validate_wallets
    from pytest_monerosim.runner import prepare

    assert REGISTRY is not None
    scenario = load_scenario(FIXTURES / name)
    prepare(scenario, REGISTRY, source=name)
    validate_wallets(scenario, REGISTRY)


@needs_sim
@pytest.mark.parametrize("name", LEGACY_FILES)
def test_migrated_scenarios_run_on_sim(name: str) -> None:
    from pytest_monerosim.runner import run_scenario

    scenario = load_scenario(FIXTURES / name)
    run = run_scenario(apply_run_overrides(scenario, duration=1800.0), backend="sim", registry=REGISTRY,
                       source=name)
    assert run.result.backend == "sim"
    assert run.height() > 0
    miners = run.nodes(role="miner")
    assert miners and all(run.height(n) > 0 for n in miners)


@needs_sim
def test_quickstart_holds_upstreams_smoke_baseline_on_sim() -> None:
    """Upstream's smoke test holds its 6 h quickstart to: height >= 100, every node within 2
    blocks, >= 150 txs, >= 80% of them in blocks, 8 wallets funded. The migrated scenario on
    the simulator: the same, but transactions >= 120 (upstream's users start two minutes apart
    and are funded when its distributor gets to them; here they start together)."""
    from pytest_monerosim.runner import run_scenario

    run = run_scenario(load_scenario(FIXTURES / "quickstart.yaml"), backend="sim", registry=REGISTRY)
    s = run.summary
    assert s["blocks"]["main_chain_height"] >= 100
    assert s["consensus"]["max_height_spread"] <= 2
    assert s["transactions"]["created"] >= 120
    assert s["transactions"]["in_blocks_ratio"] >= 0.8
    funded = [w for w in run.result.wallets.values() if w.funded_at is not None and w.strategy != "distributor"]
    assert len(funded) >= 8


# --------------------------------------------------------------------------- quickstart


def test_quickstart_mapping() -> None:
    m = migrate_file(FIXTURES / "quickstart.yaml")
    s = m.scenario
    assert s["general"]["seed"] == 12345
    assert scenario_from_dict(s).general.duration == 6 * 3600
    assert s["network"]["latency"] == {"name": "constant", "latency_s": 0.001}
    assert s["network"]["bandwidth_bps"] == 1e9
    assert s["network"]["topology"] == {"name": "monero"}
    miners = group(m, "miner")
    assert miners == {"group": "miner", "count": 5, "role": "miner", "hashrate": 20.0, "seed_node": True}
    users = group(m, "user")
    assert users["count"] == 3 and users["role"] == "user" and users["start_time"] == "40m"
    assert group(m, "relay-001")["role"] == "relay"
    assert [m.node_names[f"miner-00{i}"] for i in range(1, 6)] == [f"miner-{i}" for i in range(5)]
    by = wallets_by_strategy(m)
    assert by["mining_wallet"][0]["node_group"] == "miner"
    bot = by["transaction_bot"][0]
    assert bot["node_group"] == "user"
    assert bot["strategy"]["interval_s"] == 120.0 and bot["strategy"]["start_time"] == 14400.0
    dist = by["distributor"][0]
    assert dist["nodes"] == ["miner-0"]  # its wallet sits on a miner; the mining wallets pay
    assert dist["strategy"] == {
        "name": "distributor", "wait_time": 14400.0, "sources": "miners",
        "batch_size": 8, "outputs_per_recipient": 2,  # upstream's defaults
        "initial_fund_amount": 10**12, "min_transaction_amount": 5 * 10**11,
        "max_transaction_amount": 2 * 10**12,
        "recipients": "users",  # every user can receive; the miners are sources
    }
    assert m.shadow_options == {
        "general": {"parallelism": 0, "log_level": "warning", "progress": True,
                    "bootstrap_end_time": "4 h"},
        "experimental": {"runahead": "100 ms"},
    }


def test_quickstart_warnings() -> None:
    m = migrate_file(FIXTURES / "quickstart.yaml")
    assert "Shadow-only" in warning(m, "general.parallelism")
    assert "Shadow-only" in warning(m, "general.runahead")
    assert "left out" in warning(m, "agents.simulation-monitor")
    assert "Dynamic" in warning(m, "network.topology")
    assert "0s...4s" in warning(m, "agents.{miner-001..miner-005}.start_time")
    assert "4h...4h4m" in warning(m, "agents.{user-001..user-003}.activity_start_time")
    assert "--db-sync-mode=fastest" in warning(m, "general.daemon_defaults.db-sync-mode")
    # fields that map exactly are not reported
    for exact in ("general.stop_time", "general.simulation_seed", "general.fresh_blockchain"):
        assert exact not in fields(m)
    assert not any(f.startswith("general.daemon_defaults.non-interactive") for f in fields(m))


# --------------------------------------------------------------------------- GML network


def test_gml_network_becomes_regions_with_shortest_path_latencies() -> None:
    m = migrate_file(FIXTURES / "gml_network.yaml")
    latency = m.scenario["network"]["latency"]
    assert latency["name"] == "regions"
    weights = {r["name"]: r["weight"] for r in latency["regions"]}
    # Weighted distribution: north_america 50, europe 30, asia 20, split over two nodes each
    assert weights == {"AS64500": 25.0, "AS64501": 25.0, "AS64502": 15.0, "AS64503": 15.0,
                       "AS64504": 10.0, "AS64505": 10.0}
    matrix = latency["latency_s"]
    assert matrix["AS64500"]["AS64502"] == 0.045  # direct edge
    assert matrix["AS64501"]["AS64503"] == 0.063  # 10 + 45 + 8 ms
    assert matrix["AS64503"]["AS64505"] == 0.130  # 8 + 110 + 12 ms (not via 0: 8+45+75+12)
    assert matrix["AS64500"]["AS64500"] == 0.001  # self-loop
    assert m.scenario["network"]["bandwidth_bps"] == 20e6
    assert "packet_loss" in " ".join(w.message for w in m.warnings if w.field == "network.path")


def test_gml_network_agents() -> None:
    m = migrate_file(FIXTURES / "gml_network.yaml")
    public = group(m, "public-node")
    assert public["out_peers"] == 32 and public["in_peers"] == 64
    assert [g["group"] for g in m.scenario["nodes"] if g.get("seed_node")] == [
        "miner-na", "miner-eu", "miner-asia"]
    unreachable = [g["group"] for g in m.scenario["nodes"] if g.get("in_peers") == 0]
    assert len(unreachable) == 2 and "public-node" not in unreachable
    assert "in_peers: 0" in warning(m, "general.reachable_by_role")
    assert "public node public-node" in warning(m, "agents.light-user.daemon")
    assert m.wallet_names["light-user"] == "public-node-tx"
    by = wallets_by_strategy(m)
    assert {w["name"] for w in by["transaction_bot"]} == {"user-eu-tx", "public-node-tx"}
    dist = by["distributor"][0]["strategy"]
    assert dist["wait_time"] == 3 * 3600
    # md_n_recipients 8, md_out_per_tx 2, md_output_amount 0.5 XMR per output
    assert (dist["batch_size"], dist["outputs_per_recipient"]) == (8, 2)
    assert dist["initial_fund_amount"] == 10**12
    # the light user (on a relay) receives as well as the user: not just "users"
    assert dist["recipients"] == "all"
    assert "light-user" not in m.node_names
    for f in ("general.turnover", "general.hidden_fraction", "agents.{relay-eu..relay-asia}.subnet_group",
              "general.fallback_seeds"):
        assert f in fields(m)


def test_gml_path_is_relative_to_the_legacy_file(tmp_path: Path) -> None:
    data = fixture_data("gml_network.yaml")
    data["network"]["path"] = str(FIXTURES / "three_regions.gml")
    absolute = migrate(data, source=str(tmp_path / "x.yaml"))
    relative = migrate_file(FIXTURES / "gml_network.yaml")
    assert absolute.scenario["network"] == relative.scenario["network"]
    data["network"]["path"] = "missing.gml"
    with pytest.raises(ScenarioError) as info:
        migrate_file(legacy_file(tmp_path, data))
    assert info.value.path == "network.path" and "missing.gml" in str(info.value)


def test_disconnected_gml_is_refused(tmp_path: Path) -> None:
    (tmp_path / "two.gml").write_text(textwrap.dedent("""\
        graph [
          directed 0
          node [
            id 0
          ]
          node [
            id 1
          ]
          edge [
            source 0
            target 0
            latency "1 ms"
          ]
        ]
        """))
    data = fixture_data("quickstart.yaml")
    data["network"] = {"path": "two.gml"}
    with pytest.raises(ScenarioError, match="cannot be reached") as info:
        migrate_file(legacy_file(tmp_path, data))
    assert info.value.path == "network.path"


# --------------------------------------------------------------------------- scenario form


def test_large_relays_groups_ranges() -> None:
    m = migrate_file(FIXTURES / "large_relays.yaml")
    scenario = scenario_from_dict(m.scenario)
    assert scenario.total_nodes() == 5 + 100 + 800 + 3
    relay = group(m, "relay")
    assert relay["count"] == 800 and "start_time" not in relay
    spy = group(m, "spy")
    assert spy["count"] == 3 and spy["out_peers"] == 0 and spy["in_peers"] == 200
    assert [g["hashrate"] for g in m.scenario["nodes"] if g["role"] == "miner"] == [30, 25, 20, 15, 10]
    users = [g for g in m.scenario["nodes"] if g["role"] == "user"]
    assert [g["count"] for g in users] == [5, 10, 20, 40, 25]  # upstream's auto batches
    assert "collapse" in warning(m, "agents.relay-{0001..0800}.start_time")
    assert "6h" in warning(m, "agents.user-{001..100}.activity_start_time")
    assert "5h" in warning(m, "agents.miner-distributor.wait_time")


# --------------------------------------------------------------------------- dual mode


def test_use_agents_false_keeps_only_mining_wallets() -> None:
    data = fixture_data("quickstart.yaml")
    data["general"]["use_agents"] = False
    m = migrate(data, source=str(FIXTURES / "quickstart.yaml"))
    assert not m.use_agents
    assert set(wallets_by_strategy(m)) == {"mining_wallet"}
    text = " ".join(w.message for w in m.warnings if w.field == "general.use_agents")
    assert "legacy mode" in text and "user-001" in text
    data["general"]["use_agents"] = True
    on = migrate(data, source=str(FIXTURES / "quickstart.yaml"))
    assert on.use_agents and set(wallets_by_strategy(on)) == {"mining_wallet", "transaction_bot",
                                                              "distributor"}
    assert "general.use_agents" not in fields(on)


def test_use_agents_must_be_a_boolean() -> None:
    data = fixture_data("quickstart.yaml")
    data["general"]["use_agents"] = "yes"
    with pytest.raises(ScenarioError, match="use_agents"):
        migrate(data)


# --------------------------------------------------------------------------- peer modes


def _peer_mode(**network: Any) -> Migration:
    data = fixture_data("quickstart.yaml")
    data["network"] = {"type": "1_gbit_switch", **network}
    return migrate(data, source=str(FIXTURES / "quickstart.yaml"))


@pytest.mark.parametrize(("shape", "name"), [("Star", "star"), ("Mesh", "mesh"), ("Ring", "ring")])
def test_hardcoded_topologies(shape: str, name: str) -> None:
    m = _peer_mode(peer_mode="Hardcoded", topology=shape, seed_nodes=["11.0.0.1:18080"])
    assert m.scenario["network"]["topology"] == {"name": "monero", "seeds": 1}
    assert "cannot be matched" in warning(m, "network.seed_nodes")
    m = _peer_mode(peer_mode="Hybrid", topology=shape, seed_nodes=["11.0.0.1:18080"])
    assert m.scenario["network"]["topology"] == {"name": name}
    assert "fixed links" in warning(m, "network.topology")
    scenario_from_dict(m.scenario)


def test_dag_has_no_equivalent() -> None:
    m = _peer_mode(peer_mode="Hybrid", topology="Dag", seed_nodes=["11.0.0.1:18080"])
    assert m.scenario["network"]["topology"] == {"name": "mesh"}
    assert "no equivalent" in warning(m, "network.topology")


def test_dynamic_without_miners_uses_the_topology() -> None:
    data = fixture_data("quickstart.yaml")
    data["agents"] = {"relay-a": {"daemon": "monerod"}, "relay-b": {"daemon": "monerod"},
                      "relay-c": {"daemon": "monerod"}}
    data["network"] = {"type": "1_gbit_switch", "peer_mode": "Dynamic", "topology": "Ring"}
    m = migrate(data)
    assert m.scenario["network"]["topology"] == {"name": "ring"}


def test_dynamic_seed_nodes_are_ignored_with_a_warning() -> None:
    m = _peer_mode(peer_mode="Dynamic", seed_nodes=["11.0.0.1:18080"])
    assert m.scenario["network"]["topology"] == {"name": "monero"}
    assert "ignored" in warning(m, "network.seed_nodes")


# --------------------------------------------------------------------------- peers and options


def test_out_and_in_peers() -> None:
    data = fixture_data("quickstart.yaml")
    data["general"]["daemon_defaults"] = {"out-peers": 8, "in-peers": 16, "hide-my-port": True}
    data["agents"]["relay-001"]["daemon_options"] = {"out-peers": 2}
    m = migrate(data)
    assert m.scenario["p2p"] == {"out_peers": 8, "in_peers": 16}
    assert group(m, "relay-001")["out_peers"] == 2
    assert "--hide-my-port" in warning(m, "general.daemon_defaults.hide-my-port")


def test_agent_without_any_daemon_is_an_error() -> None:
    data = fixture_data("quickstart.yaml")
    data["agents"] = {"miner-distributor": data["agents"]["miner-distributor"]}
    with pytest.raises(ScenarioError, match="no agent has a daemon"):
        migrate(data)


def test_custom_script_agents() -> None:
    data = fixture_data("quickstart.yaml")
    data["agents"]["watcher"] = {"daemon": "monerod", "wallet": "monero-wallet-rpc",
                                 "script": "agents.my_watcher", "start_time": "3h"}
    data["agents"]["lone-script"] = {"script": "agents.something"}
    m = migrate(data)
    assert group(m, "watcher")["role"] == "relay"
    assert "hodler" in warning(m, "agents.watcher.script")
    assert "left out" in warning(m, "agents.lone-script")
    assert "hodler" in wallets_by_strategy(m)


def test_monitor_with_its_own_daemon_is_an_observer() -> None:
    data = fixture_data("quickstart.yaml")
    data["agents"]["simulation-monitor"]["daemon"] = "monerod"
    data["agents"]["simulation-monitor"]["wallet"] = "monero-wallet-rpc"
    m = migrate(data)
    assert group(m, "simulation-monitor")["role"] == "observer"
    assert "observer" in warning(m, "agents.simulation-monitor")


def test_odd_agent_ids_become_legal_group_names() -> None:
    data = fixture_data("quickstart.yaml")
    data["agents"] = {"Relay_One": {"daemon": "monerod"},
                      "42node": {"daemon": "monerod", "daemon_options": {"out-peers": 4}},
                      "relay-x": {"daemon": "monerod", "daemon_options": {"out-peers": 5}},
                      "relay-a": {"daemon": "monerod", "daemon_options": {"out-peers": 6}},
                      "relay-b": {"daemon": "monerod", "daemon_options": {"out-peers": 6}},
                      "miner-001": data["agents"]["miner-001"]}
    m = migrate(data)
    scenario = scenario_from_dict(m.scenario)
    assert m.node_names["Relay_One"] == "relay-one"
    assert m.node_names["42node"] == "relay-42node"
    # relay-a and relay-b share a group "relay" whose nodes relay-0/relay-1 must not clash
    assert m.node_names["relay-a"] == "relay-0" and m.node_names["relay-x"] == "relay-x"
    assert set(m.node_names.values()) == set(scenario.node_names())


# --------------------------------------------------------------------------- CLI


def test_cli_migrate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "new.yaml"
    code = cli_main(["migrate", "--input", str(FIXTURES / "quickstart.yaml"), "--output", str(out)])
    captured = capsys.readouterr()
    assert code == 0
    text = out.read_text()
    assert text.startswith("# Scenario migrated by `monerosim migrate`")
    m = migrate_file(FIXTURES / "quickstart.yaml")
    assert yaml.safe_load(text) == m.scenario
    lines = [line for line in captured.err.splitlines() if "warning:" in line]
    assert len(lines) == len(m.warnings)
    assert any("general.parallelism" in line for line in lines)
    assert load_scenario(out).general.seed == 12345


def test_cli_migrate_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["migrate", "-i", str(FIXTURES / "quickstart.yaml"), "-o", "-", "-q"]) == 0
    captured = capsys.readouterr()
    assert yaml.safe_load(captured.out)["general"]["seed"] == 12345
    assert captured.err == ""


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (None, "no such file"),
        ("general: {stop_time: 1h, simulaton_seed: 3}\nagents: {a: {daemon: monerod}}\n",
         "did you mean 'simulation_seed'"),
        ("general: {name: x}\nnodes: [{group: a}]\n", "not an upstream Monerosim config"),
        ("general: [\n", "invalid YAML"),
    ],
)
def test_cli_migrate_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                               content: str | None, fragment: str) -> None:
    src = tmp_path / "old.yaml"
    if content is not None:
        src.write_text(content)
    code = cli_main(["migrate", "--input", str(src), "--output", str(tmp_path / "new.yaml")])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and fragment in err, err
    assert not (tmp_path / "new.yaml").exists()


def test_cli_migrate_refuses_to_overwrite_its_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "old.yaml"
    src.write_text((FIXTURES / "quickstart.yaml").read_text())
    assert cli_main(["migrate", "-i", str(src), "-o", str(src)]) == 2
    assert "overwrite" in capsys.readouterr().err
