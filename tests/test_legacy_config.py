"""The existing Monerosim's config format: fixtures load, both forms expand, typos are named."""

from __future__ import annotations

import copy
import textwrap
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
import yaml

from pytest_monerosim.config.errors import ScenarioError
from pytest_monerosim.legacy.load import is_legacy, legacy_from_dict, load_legacy
from pytest_monerosim.legacy.model import (
    LegacyConfigError,
    LegacyGmlNetwork,
    LegacySwitchNetwork,
    RemoteDaemon,
    parse_legacy_duration,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "legacy"


def fixture_data(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((FIXTURES / name).read_text())
    return data


def write(tmp_path: Path, data: dict[str, Any] | str) -> Path:
    path = tmp_path / "legacy.yaml"
    text = data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False)
    path.write_text(textwrap.dedent(text))
    return path


def error_of(data: Any) -> LegacyConfigError:
    with pytest.raises(LegacyConfigError) as info:
        legacy_from_dict(data)
    return info.value


# --------------------------------------------------------------------------- durations


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("6h", 21600.0),
        ("30m", 1800.0),
        ("3600", 3600.0),
        ("3600s", 3600.0),
        (3600, 3600.0),
        ("2.5h", 9000.0),
        ("1h30m", 5400.0),
        ("5 minutes", 300.0),
        ("2hrs", 7200.0),
        ("100ms", 0.1),
        (" 45sec ", 45.0),
    ],
)
def test_durations(value: Any, seconds: float) -> None:
    assert parse_legacy_duration(value) == pytest.approx(seconds)


@pytest.mark.parametrize("value", ["5x", "-1", "h", "", "5m30x", True, None, [1]])
def test_bad_durations(value: Any) -> None:
    with pytest.raises(ValueError):
        parse_legacy_duration(value)


# --------------------------------------------------------------------------- fixtures


def test_quickstart() -> None:
    cfg = load_legacy(FIXTURES / "quickstart.yaml")
    assert cfg.form == "expanded" and cfg.groups == {}
    assert cfg.general.stop_time == 6 * 3600
    assert cfg.general.runahead == pytest.approx(0.1)
    assert cfg.general.daemon_defaults == {
        "log-level": 1,
        "max-log-file-size": 0,
        "db-sync-mode": "fastest",
        "no-zmq": True,
        "non-interactive": True,
    }
    assert isinstance(cfg.network, LegacySwitchNetwork) and cfg.network.topology == "Dag"
    miners = cfg.by_role("miner")
    assert sorted(miners) == [f"miner-00{i}" for i in range(1, 6)]
    assert {m.hashrate for m in miners.values()} == {20} and cfg.total_hashrate == 100
    users = cfg.by_role("user")
    assert len(users) == 3
    assert all(u.start_time == 2400 and u.transaction_interval == 120 for u in users.values())
    assert list(cfg.by_role("relay")) == ["relay-001"]
    assert cfg.agents["relay-001"].start_time == 300
    assert list(cfg.by_role("distributor")) == ["miner-distributor"]
    assert cfg.agents["miner-distributor"].initial_fund_amount == "1.0"
    assert list(cfg.by_role("monitor")) == ["simulation-monitor"]
    assert cfg.agents["simulation-monitor"].poll_interval == 300


def test_gml_network() -> None:
    path = FIXTURES / "gml_network.yaml"
    cfg = load_legacy(path)
    assert isinstance(cfg.network, LegacyGmlNetwork)
    assert cfg.network.distribution is not None
    assert cfg.network.distribution.strategy == "Weighted"
    gml = cfg.network_file(path)
    assert gml == FIXTURES / "three_regions.gml" and gml.is_file()
    graph = nx.parse_gml(gml.read_text(), label="id")
    regions = {data["region"] for _, data in graph.nodes(data=True)}
    assert regions == {"north_america", "europe", "asia"}
    assert all(graph.has_edge(n, n) for n in graph)
    assert cfg.general.turnover is not None and cfg.general.turnover.mean_downtime == 1800
    assert cfg.general.reachable_by_role == {"user": 0.2, "relay": 0.6}
    light = cfg.agents["light-user"]
    assert isinstance(light.daemon, RemoteDaemon) and light.role == "wallet-only"
    assert cfg.agents["public-node"].is_public_node
    assert cfg.agents["user-eu"].transaction_interval == 300
    assert cfg.agents["simulation-monitor"].poll_interval == 600
    assert cfg.performance is not None and cfg.performance.model_unblocked_syscall_latency


def test_large_relays_scenario_form_expands() -> None:
    cfg = load_legacy(FIXTURES / "large_relays.yaml")
    assert cfg.form == "scenario"
    assert len(cfg.groups["relay-{0001..0800}"]) == 800
    relays = [name for name in cfg.by_role("relay") if name.startswith("relay-")]
    assert len(relays) == 800 and relays[0] == "relay-0001" and relays[-1] == "relay-0800"
    assert cfg.agents["relay-0001"].start_time == 0
    assert cfg.agents["relay-0800"].start_time == 799 * 5
    assert [cfg.agents[f"miner-00{i}"].hashrate for i in range(1, 6)] == [30, 25, 20, 15, 10]
    assert [cfg.agents[f"miner-00{i}"].start_time for i in range(1, 6)] == [0, 1, 2, 3, 4]
    # 100 users with stagger "auto": batches of 5, 10, 20, 40, 25, 20 min apart, 5 s within
    users = cfg.agents
    assert users["user-001"].start_time == 1200 + 1200
    assert users["user-005"].start_time == 2400 + 4 * 5
    assert users["user-006"].start_time == 2400 + 1200
    assert users["user-100"].start_time == 1200 + 4 * 1200 + 1200 + 24 * 5
    assert users["user-042"].activity_start_time == "auto"
    assert cfg.general.bootstrap_end_time == "auto"
    assert cfg.agents["miner-distributor"].wait_time == "auto"
    spy = cfg.agents["spy-2"]
    assert spy.daemon == "monerod" and spy.daemon_options == {"out-peers": 0, "in-peers": 200}
    assert cfg.timing is not None and cfg.timing.md_start_time == 5 * 3600


def test_fixtures_are_detected_as_legacy() -> None:
    for name in ("quickstart.yaml", "gml_network.yaml", "large_relays.yaml"):
        assert is_legacy(fixture_data(name)), name
    assert not is_legacy({"nodes": [], "agents": {}})
    assert not is_legacy({"general": {"stop_time": "1 h"}, "hosts": {}})
    assert not is_legacy(["agents"])


# --------------------------------------------------------------------------- typos and rules


def test_typo_in_general_names_file_line_field_and_suggestion(tmp_path: Path) -> None:
    text = (FIXTURES / "quickstart.yaml").read_text().replace("  simulation_seed:", "  sim_seed:")
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as info:
        load_legacy(path)
    err = info.value
    assert isinstance(err, LegacyConfigError)
    assert err.path == "general.sim_seed" and err.line == 7
    assert str(err).startswith(f"{path}:7: general.sim_seed: unknown field 'sim_seed'")
    assert "did you mean 'simulation_seed'" in str(err)
    assert "accepted: stop_time, simulation_seed, parallelism" in str(err)


def test_typo_in_an_agent() -> None:
    data = fixture_data("quickstart.yaml")
    data["agents"]["miner-003"]["hashrat"] = 20
    err = error_of(data)
    assert err.path == "agents.miner-003.hashrat"
    assert "did you mean 'hashrate'" in str(err)


def test_typo_inside_a_range_names_the_range_key_and_line(tmp_path: Path) -> None:
    text = (FIXTURES / "large_relays.yaml").read_text()
    text = text.replace(
        "    daemon: monerod\n    start_time: 0s\n    start_time_stagger: 5s",
        "    deamon: monerod\n    start_time: 0s\n    start_time_stagger: 5s",
    )
    with pytest.raises(LegacyConfigError) as info:
        load_legacy(write(tmp_path, text))
    err = info.value
    assert err.path == "agents.relay-{0001..0800}.deamon"
    assert "(agent relay-0001)" in str(err) and "did you mean 'daemon'" in str(err)
    assert err.line is not None and "deamon" in text.splitlines()[err.line - 1]


def test_typo_in_network_and_top_level() -> None:
    data = fixture_data("quickstart.yaml")
    data["network"]["peer_mod"] = "Dynamic"
    assert error_of(data).path == "network.peer_mod"
    data = fixture_data("quickstart.yaml")
    data["genral"] = {}
    err = error_of(data)
    assert err.path == "genral" and "accepted: general, network, agents, performance, timing" in str(err)


@pytest.mark.parametrize(
    ("mutate", "path", "fragment"),
    [
        (lambda d: d["general"].pop("stop_time"), "general.stop_time", "required"),
        (lambda d: d["general"].update(stop_time="6 days"), "general.stop_time", "not a duration"),
        (
            lambda d: d["agents"]["miner-001"].update(hashrate=0),
            "agents.miner-001.hashrate",
            "greater than or equal to 1",
        ),
        (lambda d: d["agents"]["miner-001"].pop("wallet"), "agents.miner-001", "needs a wallet"),
        (lambda d: d["agents"]["user-001"].pop("daemon"), "agents.user-001", "remote daemon"),
        (lambda d: d["agents"]["relay-001"].pop("daemon"), "agents.relay-001", "at least one of"),
        (lambda d: d["network"].update(peer_mode="Hardcoded"), "network", "needs seed_nodes"),
        (lambda d: d["network"].update(path="x.gml"), "network", "exactly one of 'type' or 'path'"),
        (lambda d: d["network"].update(topology="Tree"), "network.topology", "'Star'"),
        (
            lambda d: d["general"]["daemon_defaults"].update({"log-level": 1.5}),
            "general.daemon_defaults.log-level",
            "valid boolean or integer or string (got 1.5)",
        ),
        (
            lambda d: d["agents"]["miner-distributor"].update(initial_fund_amount="lots"),
            "agents.miner-distributor.initial_fund_amount",
            "not an XMR amount",
        ),
        (lambda d: d["general"].update(reachable_fraction=1.5), "general.reachable_fraction", ""),
        (
            lambda d: d["agents"]["miner-001"].update(daemon={"adress": "auto"}),
            "agents.miner-001.daemon.adress",
            "did you mean 'address'",
        ),
        (
            lambda d: d.update(network={"path": "x.gml", "distribution": {"strategy": "Random"}}),
            "network.distribution.strategy",
            "'Weighted'",
        ),
    ],
)
def test_upstream_rules(mutate: Any, path: str, fragment: str) -> None:
    data = fixture_data("quickstart.yaml")
    mutate(data)
    err = error_of(data)
    assert err.path == path, str(err)
    assert fragment in str(err)


def test_bare_off_reads_as_upstream_reads_it(tmp_path: Path) -> None:
    text = (
        (FIXTURES / "quickstart.yaml")
        .read_text()
        .replace("  stop_time: 6h\n", "  stop_time: 6h\n  fallback_seeds: off\n")
    )
    assert load_legacy(write(tmp_path, text)).general.fallback_seeds == "off"


def test_upgrade_phases() -> None:
    data = fixture_data("quickstart.yaml")
    relay = data["agents"]["relay-001"]
    del relay["daemon"]
    relay.update(
        daemon_0="monerod-v1",
        daemon_0_start="0s",
        daemon_0_stop="2h",
        daemon_1="monerod-v2",
        daemon_1_start="2h5m",
        daemon_1_args=["--x"],
    )
    cfg = legacy_from_dict(data)
    phases = cfg.agents["relay-001"].daemon_phases
    assert phases is not None and phases[1].start == 7500 and phases[1].args == ["--x"]
    assert cfg.agents["relay-001"].role == "relay"
    relay["daemon_1_start"] = "2h10s"
    err = error_of(copy.deepcopy(data))
    assert err.path == "agents.relay-001" and "less than 30s after" in str(err)
    relay["daemon_1_start"] = "3h"
    relay["daemon_1_strat"] = "3h"
    assert error_of(data).path == "agents.relay-001.daemon_1_strat"


def test_scenario_list_must_match_the_range() -> None:
    data = fixture_data("large_relays.yaml")
    data["agents"]["miner-{001..005}"]["start_time_stagger"] = [0, 1, 2]
    err = error_of(data)
    assert err.path == "agents.miner-{001..005}.start_time_stagger"
    assert "3 values for 5 agents" in str(err)


def test_stagger_without_its_field_and_unknown_type() -> None:
    data = fixture_data("large_relays.yaml")
    data["agents"]["relay-{0001..0800}"]["start_tme_stagger"] = "5s"
    assert "has no start_tme to stagger" in str(error_of(data))
    data = fixture_data("large_relays.yaml")
    data["agents"]["spy-{1..3}"]["type"] = "sybil"
    err = error_of(data)
    assert err.path == "agents.spy-{1..3}.type" and "accepted: distributor, miner" in str(err)


def test_overlapping_ranges_are_refused() -> None:
    data = fixture_data("large_relays.yaml")
    data["agents"]["relay-{0800..0801}"] = {"daemon": "monerod"}
    assert "'relay-0800' is defined twice" in str(error_of(data))


def test_not_legacy_at_all() -> None:
    assert "needs an 'agents' map" in str(error_of({"general": {"stop_time": "1h"}}))
