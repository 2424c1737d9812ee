"""The shapes of the existing Monerosim's configs, end to end: migrate -> validate -> run.

The configs and the GML here are written for these tests (fixtures/legacy/), in
each shape upstream's repository holds: agent ranges with per-agent lists and
``type`` presets (its compact ``*.scenario.yaml``), a directed GML with
self-loops and asymmetric links, a user with no funding path, top-level keys
upstream ignores, and the reachability/churn fields of its newest releases.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
import yaml

from pytest_monerosim.cli import main as cli_main
from pytest_monerosim.config import apply_run_overrides, load_scenario, scenario_from_dict
from pytest_monerosim.config.errors import ScenarioError
from pytest_monerosim.legacy.gml import resolve_network_path, shortest_path_matrix
from pytest_monerosim.legacy.load import legacy_from_dict, load_legacy
from pytest_monerosim.legacy.migrate import Migration, migrate_file
from pytest_monerosim.legacy.model import LegacyConfigError
from pytest_monerosim.registry import default_registry
from pytest_monerosim.runner import prepare, run_scenario
from pytest_monerosim.topology.files import (
    _parse_slowly,
    describe_disconnected,
    load_topology_file,
    parse_gml_tree,
)
from pytest_monerosim.topology.latency import RegionLatency, RegionsParams

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "legacy"
DIRECTED = FIXTURES / "directed_reachability.scenario.yaml"
UNFUNDED = FIXTURES / "unfunded_user.yaml"
GML = FIXTURES / "directed_loops.gml"
REGISTRY = default_registry()


def warnings_of(m: Migration) -> dict[str, str]:
    return {w.field: w.message for w in m.warnings}


def written(m: Migration, tmp_path: Path) -> Path:
    out = m.write(tmp_path / "new.yaml")
    scenario = load_scenario(out)
    prepare(scenario, REGISTRY, source=str(out))  # what `monerosim validate` does
    return out


# --------------------------------------------------------------------------- directed GML


def test_directed_gml_loads_as_a_digraph_with_its_loops() -> None:
    g = load_topology_file(GML)
    assert isinstance(g, nx.DiGraph) and g.number_of_nodes() == 4
    assert g.number_of_edges() == 8  # loops are not edges
    assert g.edges[0, 1]["latency_s"] == pytest.approx(0.010)
    assert g.edges[1, 0]["latency_s"] == pytest.approx(0.030)
    assert g.edges[1, 0]["bandwidth_bps"] == 200e6 and g.edges[0, 1]["bandwidth_bps"] == 1e9
    assert g.edges[3, 2]["packet_loss"] == 0.01 and "packet_loss" not in g.edges[2, 3]
    loops = g.graph["self_loops"]
    assert {n: loops[n]["latency_s"] for n in loops} == pytest.approx({0: 0.001, 1: 0.002, 2: 0.001,
                                                                          3: 0.003})
    assert describe_disconnected(g) is None


def test_directed_shortest_paths_follow_edge_directions() -> None:
    g = load_topology_file(GML)
    d = shortest_path_matrix(g, [0, 1, 2, 3])
    assert d[0, 2] == pytest.approx(0.050)  # 0->1->2: 10 + 40
    assert d[2, 0] == pytest.approx(0.070)  # 2->1->0: 40 + 30
    assert d[2, 3] == pytest.approx(0.080) and d[3, 2] == pytest.approx(0.120)
    assert d[3, 1] == pytest.approx(0.160)  # 3->2->1 (120+40) beats 3->0->1 (150+10)
    assert [d[i, i] for i in range(4)] == pytest.approx([0.001, 0.002, 0.001, 0.003])


def test_shortest_paths_without_scipy_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    g = load_topology_file(GML)
    with_scipy = shortest_path_matrix(g, [0, 1, 2, 3])
    monkeypatch.setitem(sys.modules, "scipy", None)  # the networkx fallback
    without = shortest_path_matrix(g, [0, 1, 2, 3])
    assert without.ravel().tolist() == pytest.approx(with_scipy.ravel().tolist())


def test_directed_connectivity_is_strong_for_routes_and_weak_for_links(tmp_path: Path) -> None:
    path = tmp_path / "oneway.gml"
    path.write_text("graph [\n  directed 1\n" + "".join(
        f"  node [\n    id {i}\n  ]\n" for i in range(3)) + "".join(
        f'  edge [\n    source {u}\n    target {v}\n    latency "5 ms"\n  ]\n'
        for u, v in ((0, 1), (1, 2))) + "]\n")
    g = load_topology_file(path)
    assert "not strongly connected" in (describe_disconnected(g, strong=True) or "")
    assert describe_disconnected(g, strong=False) is None


def test_fast_gml_pass_matches_the_token_parser() -> None:
    for path in (GML, FIXTURES / "three_regions.gml"):
        text = path.read_text()
        assert parse_gml_tree(text, str(path)) == _parse_slowly(text, str(path))


def test_directed_regions_latency_is_one_way() -> None:
    params = RegionsParams.model_validate({
        "regions": [{"name": "a"}, {"name": "b"}, {"name": "c"}], "directed": True,
        "latency_s": {"a": {"b": 0.01, "c": 0.02}, "b": {"a": 0.03, "c": 0.04}}})
    model = RegionLatency(params, seed=1)
    assert model.asymmetric
    assert model.region_latency("a", "b") == 0.01 and model.region_latency("b", "a") == 0.03
    assert model.region_latency("c", "a") == 0.02  # given one way only: the same both ways
    with pytest.raises(ValueError, match="not symmetric"):
        RegionsParams.model_validate({"regions": [{"name": "a"}, {"name": "b"}],
                                      "latency_s": {"a": {"b": 0.01}, "b": {"a": 0.03}}})


# --------------------------------------------------------------------------- scenario form


def test_scenario_form_with_directed_gml_migrates_validates_and_runs(tmp_path: Path) -> None:
    m = migrate_file(DIRECTED)
    out = written(m, tmp_path)
    latency = m.scenario["network"]["latency"]
    assert latency["directed"] is True
    matrix = latency["latency_s"]
    assert matrix["AS100"]["AS300"] == 0.050 and matrix["AS300"]["AS100"] == 0.070
    assert matrix["AS300"]["AS400"] == 0.080 and matrix["AS400"]["AS300"] == 0.120
    assert matrix["AS200"]["AS200"] == 0.002  # the node's self-loop
    # loss along each fastest path, per direction: 3->2 and 3->2->1 cross the lossy edge
    assert latency["packet_loss"] == {"AS400": {"AS200": 0.01, "AS300": 0.01}}
    assert any("relative to the config's folder" in n.message for n in m.notes)
    # ranges, per-agent lists and type presets expanded
    miners = [g for g in m.scenario["nodes"] if g["role"] == "miner"]
    assert sorted(g["hashrate"] for g in miners) == [20, 30, 50]
    bots = [w for w in m.scenario["wallets"] if w["strategy"]["name"] == "transaction_bot"]
    assert sorted({w["strategy"]["interval_s"] for w in bots}) == [60, 90, 120]
    relays = sum(g.get("count", 1) for g in m.scenario["nodes"] if g["role"] == "relay")
    assert relays == 10
    warned = warnings_of(m)
    assert warned["metadata"].startswith("unknown top-level key (line 6)")
    # the newest upstream fields: reachability carried over, the rest said precisely
    assert "in_peers: 0" in warned["general.reachable_by_role"]
    assert sum(g.get("count", 1) for g in m.scenario["nodes"] if g.get("in_peers") == 0) == 9
    assert "0.2" in warned["general.hidden_fraction"]
    assert "node churn" in warned["general.turnover"]
    assert "packet_loss on 1 GML edge" in warned["network.path"] or any(
        "packet_loss on 1 GML edge" in w.message for w in m.warnings)

    run = run_scenario(apply_run_overrides(load_scenario(out), duration=3600.0), backend="sim",
                       registry=REGISTRY, source=str(out))
    s = run.summary
    assert s["blocks"]["main_chain_height"] > 10 and s["consensus"]["agreed"]
    assert s["transactions"]["created"] > 0  # the distributor funded the users


def test_asymmetric_latency_reaches_the_links_of_the_simulator(tmp_path: Path) -> None:
    from pytest_monerosim.backends.sim import build_world

    scenario = load_scenario(written(migrate_file(DIRECTED), tmp_path))
    world = build_world(apply_run_overrides(scenario, seed=1, duration=600.0), REGISTRY)
    assert world.asymmetric
    pairs = [(a, b) for a in world.nodes.values() for b in world.nodes.values()
             if world.latency(a, b) != world.latency(b, a)]
    assert pairs, "a directed GML with one-way latencies gives some node pairs different latencies"
    a, b = pairs[0]
    world.p2p._establish(a, b, world.latency(a, b))
    assert a.links[b].latency == world.latency(a, b) and b.links[a].latency == world.latency(b, a)
    assert world.relay._rtt(a, b, a.links[b]) == pytest.approx(world.latency(a, b) + world.latency(b, a))


def test_directed_network_is_written_for_shadow_per_direction(tmp_path: Path) -> None:
    from pytest_monerosim.backends.plan import build_plan
    from pytest_monerosim.backends.shadow.writer import network_graph

    scenario = load_scenario(written(migrate_file(DIRECTED), tmp_path))
    plan = build_plan(scenario, REGISTRY)
    assert plan.graph.is_directed()
    for compact in (False, True):
        graph, attach, _, _ = network_graph(plan, scenario, compact=compact)
        assert graph.is_directed()
        if compact:
            assert graph.edges["AS300", "AS400"]["latency_s"] == pytest.approx(0.080)
            assert graph.edges["AS400", "AS300"]["latency_s"] == pytest.approx(0.120)
            assert graph.edges["AS400", "AS300"]["packet_loss"] == 0.01
            assert graph.edges["AS300", "AS400"]["packet_loss"] == 0.0
        else:
            u, v = next((u, v) for u, v, d in graph.edges(data=True)
                        if u != v and d["latency_s"] != graph.edges[v, u]["latency_s"])
            assert graph.has_edge(v, u)
            lossy = [(u, v) for u, v, d in graph.edges(data=True) if d["packet_loss"] > 0]
            region = {name: host.region for name, host in plan.hosts.items()}
            assert lossy and {(region[u], region[v]) for u, v in lossy} <= {("AS400", "AS200"),
                                                                           ("AS400", "AS300")}


def test_legacy_file_with_directed_gml_loads_directly() -> None:
    assert load_scenario(DIRECTED) == scenario_from_dict(migrate_file(DIRECTED).scenario)


# --------------------------------------------------------------------------- network.path


def test_network_path_resolves_from_the_working_directory_first(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    config_dir = tmp_path / "test_configs"
    (config_dir / "gml").mkdir(parents=True)
    (tmp_path / "gml").mkdir()
    (tmp_path / "gml" / "net.gml").write_text(GML.read_text())
    (config_dir / "gml" / "net.gml").write_text((FIXTURES / "three_regions.gml").read_text())
    data = yaml.safe_load(UNFUNDED.read_text())
    data["network"] = {"path": "gml/net.gml", "peer_mode": "Dynamic"}
    config = config_dir / "legacy.yaml"
    config.write_text(yaml.safe_dump(data))
    monkeypatch.chdir(tmp_path)
    m = migrate_file(config)
    assert "AS100" in {r["name"] for r in m.scenario["network"]["latency"]["regions"]}
    assert "working directory" in m.notes[0].message
    monkeypatch.chdir(config_dir.parent.parent)  # nothing there: the config's folder is used
    assert "config's folder" in migrate_file(config).notes[0].message
    via_base = migrate_file(config, base_dir=tmp_path)
    assert "--base-dir" in via_base.notes[0].message
    path, how = resolve_network_path("gml/none.gml", config)
    assert "tried the working directory" in how and "--base-dir" in how
    config.write_text(yaml.safe_dump({**data, "network": {"path": "gml/none.gml"}}))
    with pytest.raises(ScenarioError, match="tried the working directory") as info:
        migrate_file(config)
    assert info.value.path == "network.path"


def test_cli_base_dir_and_notes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "new.yaml"
    assert cli_main(["migrate", "-i", str(DIRECTED), "-o", str(out), "--base-dir", str(FIXTURES)]) == 0
    err = capsys.readouterr().err
    assert "relative to --base-dir" in err and "asymmetric" in err
    assert cli_main(["migrate", "-i", str(DIRECTED), "-o", str(out), "--base-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "network.path" in err and "cannot read topology file" in err
    assert cli_main(["migrate", "-i", str(DIRECTED), "-o", str(out), "--base-dir", str(GML)]) == 2
    assert "not a directory" in capsys.readouterr().err


# --------------------------------------------------------------------------- funding, unknown keys


def test_unfunded_user_converts_warns_validates_and_never_sends(tmp_path: Path) -> None:
    m = migrate_file(UNFUNDED)
    warned = warnings_of(m)
    assert "never sends" in warned["agents.user-001.script"]
    assert {"metadata", "notes"} <= set(warned)
    (wallet,) = [w for w in m.scenario["wallets"] if w["strategy"]["name"] != "mining_wallet"]
    assert wallet["strategy"]["name"] == "hodler"
    out = written(m, tmp_path)
    run = run_scenario(load_scenario(out), backend="sim", registry=REGISTRY, source=str(out))
    assert run.summary["blocks"]["main_chain_height"] > 10
    assert run.summary["transactions"]["created"] == 0


def test_misspelt_section_is_still_an_error() -> None:
    data = yaml.safe_load(UNFUNDED.read_text())
    data["genral"] = {}
    with pytest.raises(LegacyConfigError) as info:
        legacy_from_dict(data)
    assert info.value.path == "genral"
    unknown: list[tuple[str, str]] = []
    load_legacy(UNFUNDED, unknown=unknown)
    assert [k for k, _ in unknown] == ["metadata", "notes"]


# --------------------------------------------------------------------------- bad topology input


def _scenario_with(tmp_path: Path, topology: dict[str, Any]) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump({
        "general": {"duration": "1m"}, "network": {"topology": topology},
        "nodes": [{"group": "m", "count": 2, "role": "miner", "hashrate": 1}]}))
    return path


def _two_node_gml(edges: str = "") -> str:
    return textwrap.dedent("""\
        graph [
          node [
            id 0
          ]
          node [
            id 1
          ]
        """) + edges + "]\n"


BAD_FILES: list[tuple[str, bytes | None, str]] = [
    ("missing.gml", None, "cannot read topology file"),
    ("dir.gml", b"", "is a directory"),
    ("empty.gml", b"  \n", "is empty"),
    ("binary.gml", b"graph [\x00\x01", "is binary"),
    ("latin1.gml", "graph [ label \"caf\xe9\" ]".encode("latin-1"), "is not UTF-8"),
    ("broken.gml", b"graph [\n  node [\n    id 0\n", "'node [' is never closed"),
    ("disconnected.gml", _two_node_gml().encode(), "is not connected"),
    ("three.edges", b"0 1 5\n1 2 5\n", "has 3 nodes but the scenario asks for 2"),
]


@pytest.mark.parametrize("name,content,message", BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_topology_file_is_one_line_naming_the_field(tmp_path: Path, name: str, content: bytes | None,
                                                        message: str,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / name
    if name == "dir.gml":
        target.mkdir()
    elif content is not None:
        target.write_bytes(content)
    scenario_file = _scenario_with(tmp_path, {"name": "file", "path": str(target)})
    with pytest.raises(ScenarioError) as info:
        prepare(load_scenario(scenario_file), REGISTRY, source=str(scenario_file))
    assert info.value.path == "network.topology" and message in str(info.value)
    assert cli_main(["validate", str(scenario_file)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "network.topology" in err and str(target) in err


def test_disconnected_file_runs_when_the_scenario_says_so(tmp_path: Path) -> None:
    gml = tmp_path / "two.gml"
    gml.write_text(_two_node_gml())
    scenario_file = _scenario_with(tmp_path, {"name": "file", "path": str(gml),
                                              "allow_disconnected": True})
    prepare(load_scenario(scenario_file), REGISTRY)


@pytest.mark.parametrize("network,path,message", [
    ({"topology": {"name": "random_regular", "degree": 5}}, "network.topology", "degree < n"),
    ({"topology": {"name": "star", "center": 9}}, "network.topology", "is not a node"),
    ({"latency": {"name": "regions", "regions": [{"name": "eu"}]}}, "nodes[0].region",
     "region 'mars', which the latency model does not know"),
])
def test_impossible_generator_parameters_and_unknown_regions(network: dict[str, Any], path: str,
                                                             message: str) -> None:
    scenario = scenario_from_dict({"network": network, "nodes": [
        {"group": "m", "count": 2, "role": "miner", "hashrate": 1, "region": "mars"}]})
    if "latency" not in network:
        scenario = scenario_from_dict({"network": network, "nodes": [
            {"group": "m", "count": 2, "role": "miner", "hashrate": 1}]})
    with pytest.raises(ScenarioError) as info:
        prepare(scenario, REGISTRY)
    assert info.value.path == path and message in str(info.value)


def test_directed_file_topology_runs_with_per_direction_latency(tmp_path: Path) -> None:
    gml = tmp_path / "links.gml"
    gml.write_text("graph [\n  directed 1\n" + "".join(
        f"  node [\n    id {i}\n  ]\n" for i in range(3)) + "".join(
        f'  edge [\n    source {u}\n    target {v}\n    latency "{ms} ms"\n  ]\n'
        for u, v, ms in ((0, 1, 10), (1, 0, 50), (1, 2, 20))) + "]\n")
    scenario = scenario_from_dict({
        "general": {"duration": "1h", "seed": 3},
        "network": {"topology": {"name": "file", "path": str(gml)}},
        "nodes": [{"group": "m", "count": 3, "role": "miner", "hashrate": 1}]})
    prepare(scenario, REGISTRY)
    from pytest_monerosim.backends.sim import build_world

    world = build_world(apply_run_overrides(scenario, seed=3, duration=3600.0), REGISTRY)
    a, b, c = world.nodes.values()
    assert world.latency(a, b) == pytest.approx(0.010) and world.latency(b, a) == pytest.approx(0.050)
    assert world.latency(c, b) == pytest.approx(0.020)  # the file gives 1->2 only: same both ways
    assert world.asymmetric
    run = run_scenario(scenario, backend="sim", registry=REGISTRY)
    assert run.summary["consensus"]["agreed"]


def test_hidden_fraction_and_turnover_migrate_to_hidden_and_churn(tmp_path: Path) -> None:
    data = yaml.safe_load(DIRECTED.read_text())
    data["general"]["hidden_fraction"] = 0.5
    data["network"]["path"] = str(FIXTURES / data["network"]["path"])
    src = tmp_path / "upstream.yaml"
    src.write_text(yaml.safe_dump(data))
    m = migrate_file(src)
    groups = m.scenario["nodes"]
    hidden = sum(g.get("count", 1) for g in groups if g.get("hidden") == 1.0)
    churning = [g for g in groups if "churn" in g]
    assert hidden > 0 and churning
    assert all(g["role"] in ("user", "relay") and not g.get("seed_node") for g in churning)
    assert "min_session_s" in churning[0]["churn"]  # upstream's default 300 s, written out
    out = written(m, tmp_path)
    run = run_scenario(apply_run_overrides(load_scenario(out), duration=3600.0), backend="sim",
                       registry=REGISTRY, source=str(out))
    assert run.summary["churn"]["nodes"] == sum(g.get("count", 1) for g in churning)
    assert run.summary["reachability"]["hidden"] == hidden
