"""Tests for the topology layer: generators, latency/bandwidth models, topology files."""

from __future__ import annotations

import math
import random
import statistics
from collections import Counter
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from pydantic import ValidationError

from pytest_monerosim.topology import (
    BUILTIN_LATENCY_MODELS,
    BUILTIN_TOPOLOGIES,
    BandwidthModel,
    BandwidthParams,
    RegionLatency,
    TopologyFileError,
    build_network,
    edgelist_to_graph,
    gml_to_graph,
    load_topology_file,
    nodes_by_region,
    parse_bandwidth_bps,
    parse_duration_s,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "topologies"


def gen(kind: str, n: int, seed: int = 1, **params: Any) -> nx.Graph:
    return BUILTIN_TOPOLOGIES[kind].generate(n, params, random.Random(seed))


def degrees(graph: nx.Graph) -> list[int]:
    return [d for _, d in graph.degree()]


def latency_model(name: str, seed: int = 7, **params: Any) -> Any:
    return BUILTIN_LATENCY_MODELS[name].create(params, random.Random(seed))


REGIONS: dict[str, Any] = {
    "regions": [{"name": "eu", "weight": 5}, {"name": "na", "weight": 3},
                {"name": "asia", "weight": 2}],
    "latency_s": {"eu": {"na": 0.045, "asia": 0.12}, "asia": {"na": 0.09}},
    "intra_s": 0.01,
}


# --- generators -------------------------------------------------------------------


def test_builtin_kinds_are_registered() -> None:
    assert set(BUILTIN_TOPOLOGIES) == {"star", "mesh", "ring", "random_regular", "scale_free",
                                       "file", "monero"}
    for name, spec in BUILTIN_TOPOLOGIES.items():
        assert spec.name == name and spec.description


def test_star() -> None:
    g = gen("star", 7, center=3)
    assert sorted(g) == list(range(7))
    assert g.number_of_edges() == 6
    assert g.degree(3) == 6 and all(g.degree(v) == 1 for v in g if v != 3)


def test_star_center_must_be_a_node() -> None:
    with pytest.raises(ValueError, match=r"center=7 is not a node; nodes are 0\.\.6"):
        gen("star", 7, center=7)


def test_mesh() -> None:
    g = gen("mesh", 6)
    assert g.number_of_edges() == 15 and set(degrees(g)) == {5}


@pytest.mark.parametrize("n,k", [(3, 1), (10, 1), (10, 2), (11, 5)])
def test_ring(n: int, k: int) -> None:
    g = gen("ring", n, k=k)
    assert g.number_of_nodes() == n and g.number_of_edges() == n * k
    assert set(degrees(g)) == {2 * k}
    assert g.has_edge(0, n - 1) and g.has_edge(0, k)
    if 2 * k + 1 < n:
        assert not g.has_edge(0, k + 1)


def test_ring_rejects_overlapping_neighbourhoods() -> None:
    with pytest.raises(ValueError, match=r"ring k=3 needs 2k <= n-1 \(n=6\).*k <= 2"):
        gen("ring", 6, k=3)


@pytest.mark.parametrize("n,d", [(50, 4), (51, 6), (20, 3), (10, 9)])
def test_random_regular(n: int, d: int) -> None:
    g = gen("random_regular", n, degree=d)
    assert sorted(g) == list(range(n))
    assert set(degrees(g)) == {d}
    assert g.number_of_edges() == n * d // 2
    assert nx.is_connected(g)


def test_random_regular_odd_product_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"n\*degree even; n=11 and degree=3 give 33"):
        gen("random_regular", 11, degree=3)


def test_random_regular_degree_too_large() -> None:
    with pytest.raises(ValueError, match=r"degree=10 needs degree < n \(n=10\)"):
        gen("random_regular", 10, degree=10)


def test_random_regular_gives_up_on_disconnected_draws() -> None:
    # A 1-regular graph on 10 nodes is a perfect matching: never connected.
    with pytest.raises(ValueError, match="no connected graph in 3 attempts"):
        gen("random_regular", 10, degree=1, attempts=3)
    assert nx.number_connected_components(
        gen("random_regular", 10, degree=1, connected=False)) == 5


def test_scale_free_counts() -> None:
    n, m = 200, 3
    g = gen("scale_free", n, m=m)
    assert sorted(g) == list(range(n))
    assert g.number_of_edges() == m * (n - m)  # star seed of m edges + m per later node
    assert all(g.degree(v) >= m for v in range(m + 1, n))  # each joined with m edges
    assert nx.is_connected(g)


def test_scale_free_has_a_power_law_tail() -> None:
    """Barabási–Albert degrees follow P(k) ~ k^-3; a regular graph would fail this."""
    g = gen("scale_free", 5000, seed=3, m=2)
    ks = degrees(g)
    assert max(ks) > 15 * statistics.mean(ks)
    # Discrete power-law MLE (Clauset, Shalizi & Newman 2009, eq. 3.7) over k >= 4.
    k_min = 4
    tail = [k for k in ks if k >= k_min]
    alpha = 1 + len(tail) / sum(math.log(k / (k_min - 0.5)) for k in tail)
    assert 2.5 < alpha < 3.5
    # Hubs: the best-connected 13% of nodes hold far more than 13% of the edge ends.
    top = sorted(ks, reverse=True)[: len(ks) * 13 // 100]
    assert sum(top) / sum(ks) > 0.35


def test_scale_free_needs_m_below_n() -> None:
    with pytest.raises(ValueError, match=r"m=5 needs m < n \(n=5\)"):
        gen("scale_free", 5, m=5)


def test_monero_is_nodes_and_seeds_only() -> None:
    g = gen("monero", 100)
    assert g.number_of_nodes() == 100 and g.number_of_edges() == 0
    assert g.graph["seed_nodes"] == [0, 1, 2, 3, 4, 5]
    assert g.graph["dynamic"] is True and g.graph["topology"] == "monero"


@pytest.mark.parametrize("n,expected", [(1, 1), (4, 1), (8, 2), (23, 5), (24, 6), (10_000, 6)])
def test_monero_default_seed_count_shrinks_for_small_networks(n: int, expected: int) -> None:
    assert len(gen("monero", n).graph["seed_nodes"]) == expected


def test_monero_explicit_seeds() -> None:
    assert gen("monero", 10, seeds=3).graph["seed_nodes"] == [0, 1, 2]
    assert gen("monero", 10, seeds=[9, 4]).graph["seed_nodes"] == [9, 4]
    with pytest.raises(ValueError, match=r"seeds=11 must be between 1 and n=10"):
        gen("monero", 10, seeds=11)
    with pytest.raises(ValueError, match=r"distinct node ids in 0\.\.9"):
        gen("monero", 10, seeds=[3, 10])


@pytest.mark.parametrize("kind,params", [
    ("star", {}), ("mesh", {}), ("ring", {"k": 2}), ("random_regular", {"degree": 3}),
    ("scale_free", {"m": 1}),
])
def test_static_kinds_are_connected(kind: str, params: dict[str, Any]) -> None:
    assert nx.is_connected(gen(kind, 40, **params))


def test_params_reject_unknown_keys() -> None:
    with pytest.raises(ValidationError, match="typo"):
        BUILTIN_TOPOLOGIES["ring"].parse_params({"k": 1, "typo": 2})
    with pytest.raises(ValidationError, match="k"):
        BUILTIN_TOPOLOGIES["ring"].parse_params({"k": 0})


def test_zero_nodes_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"'mesh' needs at least 1 node\(s\); got n=0"):
        gen("mesh", 0)


def test_specs_are_callable_factories() -> None:
    g = BUILTIN_TOPOLOGIES["ring"](8, {"k": 2}, random.Random(1))
    assert g.number_of_edges() == 16
    assert BUILTIN_LATENCY_MODELS["constant"]({"latency_s": 0.2}, random.Random(1)).latency(0, 1) \
        == 0.2


def test_build_network_unknown_kind_lists_known() -> None:
    with pytest.raises(ValueError, match=r"unknown topology 'torus'; known: file, mesh, monero"):
        build_network("torus", 5, {}, random.Random(1))


# --- determinism ------------------------------------------------------------------


def _snapshot(g: nx.Graph) -> tuple[list[Any], list[Any]]:
    return list(g.nodes(data=True)), list(g.edges(data=True))


@pytest.mark.parametrize("kind,params", [
    ("random_regular", {"degree": 4}), ("scale_free", {"m": 2}), ("ring", {"k": 2}),
    ("monero", {}),
])
@pytest.mark.parametrize("lat", ["uniform", "lognormal", "regions"])
def test_same_seed_same_network(kind: str, params: dict[str, Any], lat: str) -> None:
    lat_params: dict[str, Any] = {"uniform": {"low": 0.01, "high": 0.2},
                                  "lognormal": {"median_s": 0.05, "sigma": 0.6},
                                  "regions": {**REGIONS, "jitter": 0.2}}[lat]

    def build(seed: int) -> nx.Graph:
        model = latency_model(lat, seed, **lat_params)
        return build_network(kind, 60, params, random.Random(seed), latency=model)

    assert _snapshot(build(5)) == _snapshot(build(5))
    if kind in ("random_regular", "scale_free"):
        assert list(build(5).edges) != list(build(6).edges)


def test_latency_differs_by_seed() -> None:
    a = latency_model("uniform", 1, low=0.01, high=0.2)
    b = latency_model("uniform", 2, low=0.01, high=0.2)
    assert [a.latency(0, v) for v in range(1, 20)] != [b.latency(0, v) for v in range(1, 20)]


# --- latency models ---------------------------------------------------------------


def test_constant_latency() -> None:
    m = latency_model("constant", latency_s=0.03)
    g = m.apply(gen("ring", 10))
    assert {d["latency_s"] for *_, d in g.edges(data=True)} == {0.03}


@pytest.mark.parametrize("name,params", [
    ("uniform", {"low": 0.01, "high": 0.2}),
    ("lognormal", {"median_s": 0.05, "sigma": 1.0}),
    ("regions", {**REGIONS, "jitter": 0.3}),
])
def test_latency_is_symmetric_positive_and_repeatable(name: str, params: dict[str, Any]) -> None:
    m = latency_model(name, **params)
    twin = latency_model(name, **params)
    rng = random.Random(0)
    for _ in range(500):
        u, v = rng.randrange(10_000), rng.randrange(10_000)
        x = m.latency(u, v)
        assert x > 0 and x == m.latency(v, u) == twin.latency(u, v)


def test_latency_works_for_any_pair_without_per_pair_state() -> None:
    m = latency_model("regions", **REGIONS, jitter=0.1)
    before = {k: len(v) if hasattr(v, "__len__") else v for k, v in vars(m).items()}
    rng = random.Random(1)
    for _ in range(20_000):
        m.latency(rng.randrange(10_000), rng.randrange(10_000))
    assert m.latency(10**12, "some-host") > 0
    after = {k: len(v) if hasattr(v, "__len__") else v for k, v in vars(m).items()}
    assert before == after


def test_uniform_bounds_and_spread() -> None:
    m = latency_model("uniform", low=0.01, high=0.2)
    xs = [m.latency(0, v) for v in range(1, 5001)]
    assert 0.01 <= min(xs) < 0.012 and 0.198 < max(xs) <= 0.2
    assert statistics.mean(xs) == pytest.approx(0.105, abs=0.004)


def test_uniform_rejects_reversed_bounds() -> None:
    with pytest.raises(ValidationError, match="high=0.01 must be >= low=0.2"):
        BUILTIN_LATENCY_MODELS["uniform"].parse_params({"low": 0.2, "high": 0.01})


def test_lognormal_median_and_sigma() -> None:
    m = latency_model("lognormal", median_s=0.05, sigma=0.5)
    xs = [m.latency(u, u + 1 + k) for u in range(100) for k in range(50)]
    assert statistics.median(xs) == pytest.approx(0.05, rel=0.05)
    assert statistics.stdev(math.log(x) for x in xs) == pytest.approx(0.5, rel=0.05)


def test_regions_assigned_in_exact_proportion() -> None:
    m = latency_model("regions", **REGIONS)
    g = m.apply(gen("monero", 1000))
    assert Counter(r for _, r in g.nodes(data="region")) == {"eu": 500, "na": 300, "asia": 200}
    small = latency_model("regions", regions=[{"name": "a"}, {"name": "b"}],
                          latency_s={"a": {"b": 0.05}}).apply(gen("monero", 7))
    assert sorted(Counter(r for _, r in small.nodes(data="region")).values()) == [3, 4]


def test_regions_are_shuffled_not_blocked() -> None:
    g = latency_model("regions", **REGIONS).apply(gen("monero", 1000))
    first = [g.nodes[i]["region"] for i in range(100)]
    assert len(set(first)) == 3


def test_region_latency_follows_the_matrix() -> None:
    m = latency_model("regions", **REGIONS)
    g = m.apply(gen("mesh", 30))
    matrix = {frozenset(("eu", "na")): 0.045, frozenset(("eu", "asia")): 0.12,
              frozenset(("asia", "na")): 0.09}
    for u, v, lat in g.edges(data="latency_s"):
        ru, rv = g.nodes[u]["region"], g.nodes[v]["region"]
        assert m.region_of(u) == ru
        assert lat == (0.01 if ru == rv else matrix[frozenset((ru, rv))])


def test_region_jitter_stays_within_bounds() -> None:
    m = latency_model("regions", **REGIONS, jitter=0.2)
    g = m.apply(gen("mesh", 40))
    ratios = [lat / m.region_latency(g.nodes[u]["region"], g.nodes[v]["region"])
              for u, v, lat in g.edges(data="latency_s")]
    assert 0.8 <= min(ratios) < 0.85 and 1.15 < max(ratios) <= 1.2


def test_diagonal_overrides_intra_latency() -> None:
    m = latency_model("regions", regions=[{"name": "a"}, {"name": "b"}],
                      latency_s={"a": {"b": 0.05, "a": 0.002}}, intra_s=0.01)
    assert m.region_latency("a", "a") == 0.002 and m.region_latency("b", "b") == 0.01


def test_existing_regions_are_kept_and_checked() -> None:
    m = latency_model("regions", **REGIONS)
    g = gen("monero", 4)
    g.nodes[0]["region"] = "asia"
    m.apply(g)
    assert g.nodes[0]["region"] == "asia" and m.region_of(0) == "asia"
    bad = gen("monero", 2)
    bad.nodes[1]["region"] = "mars"
    with pytest.raises(ValueError, match="node 1 has region 'mars'"):
        m.apply(bad)


def test_unplaced_nodes_get_hashed_regions_by_weight() -> None:
    m = latency_model("regions", **REGIONS)
    counts = Counter(m.region_of(v) for v in range(20_000))
    assert counts["eu"] / 20_000 == pytest.approx(0.5, abs=0.02)
    assert counts["asia"] / 20_000 == pytest.approx(0.2, abs=0.02)


@pytest.mark.parametrize("change,message", [
    ({"latency_s": {"eu": {"na": 0.045}}}, r"lacks the pairs eu<->asia, na<->asia"),
    ({"latency_s": {"eu": {"na": 0.04, "asia": 0.1}, "na": {"eu": 0.05, "asia": 0.1}}},
     r"not symmetric: 'na'<->'eu' is given as 0.04 and 0.05"),
    ({"latency_s": {"eu": {"mars": 0.1}}}, r"unknown region 'mars'"),
    ({"latency_s": {"eu": {"na": 0, "asia": 0.1}, "na": {"asia": 0.1}}}, r"must be > 0"),
    ({"regions": [{"name": "eu"}, {"name": "eu"}]}, r"unique"),
])
def test_region_matrix_validation(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        BUILTIN_LATENCY_MODELS["regions"].parse_params({**REGIONS, **change})


def test_apply_keeps_latencies_from_files_unless_overwrite() -> None:
    g = edgelist_to_graph("0 1 20\n1 2\n")
    latency_model("constant", latency_s=0.5).apply(g)
    assert g.edges[0, 1]["latency_s"] == 0.02 and g.edges[1, 2]["latency_s"] == 0.5
    latency_model("constant", latency_s=0.5).apply(g, overwrite=True)
    assert g.edges[0, 1]["latency_s"] == 0.5


# --- bandwidth --------------------------------------------------------------------


def test_bandwidth_default_classes_and_regions() -> None:
    g = latency_model("regions", **REGIONS).apply(gen("monero", 100))
    BandwidthModel(BandwidthParams.model_validate({
        "classes": [{"name": "home", "up_bps": 1e7, "down_bps": 5e7, "weight": 3},
                    {"name": "dc", "up_bps": 1e9, "down_bps": 1e9}],
        "by_region": {"asia": {"up_bps": 2e7, "down_bps": 2e7}},
    }), random.Random(1)).apply(g)
    asia = nodes_by_region(g)["asia"]
    assert len(asia) == 20 and all(g.nodes[v]["bandwidth_bps"] == 2e7 for v in asia)
    classes = Counter(g.nodes[v].get("bandwidth_class") for v in g if v not in asia)
    assert classes == {"home": 60, "dc": 20}
    home = next(v for v in g if g.nodes[v].get("bandwidth_class") == "home")
    assert (g.nodes[home]["bandwidth_up_bps"], g.nodes[home]["bandwidth_down_bps"]) == (1e7, 5e7)
    plain = BandwidthModel(BandwidthParams(up_bps=3e6), random.Random(1)).apply(gen("star", 3))
    assert plain.nodes[2]["bandwidth_bps"] == 3e6 and plain.nodes[2]["bandwidth_down_bps"] == 1e8


# --- files ------------------------------------------------------------------------


def test_load_shadow_gml() -> None:
    g = load_topology_file(FIXTURES / "small.gml")
    assert sorted(g) == [0, 1, 2, 3, 4]
    assert g.number_of_edges() == 6  # the self-loop is dropped
    assert not any(u == v for u, v in g.edges)
    assert g.edges[0, 1]["latency_s"] == pytest.approx(0.010)
    assert g.edges[3, 4]["latency_s"] == pytest.approx(0.0125)
    assert g.edges[2, 4]["latency_s"] == pytest.approx(0.02)
    assert g.edges[1, 3]["packet_loss"] == 0.01 and g.edges[0, 1]["jitter_s"] == 0.0
    assert g.nodes[0] == {"label": "seed-eu", "region": "eu", "bandwidth_up_bps": 1e8,
                          "bandwidth_down_bps": 1e9, "bandwidth_bps": 1e8}


def test_load_edge_list() -> None:
    g = load_topology_file(FIXTURES / "small.edges")
    assert list(g) == [0, 1, 2, 3, 4, 5, 6]
    assert g.number_of_edges() == 7 and g.degree(6) == 0
    assert g.edges[4, 5]["latency_s"] == pytest.approx(0.0255)
    assert g.edges[0, 5]["latency_s"] == pytest.approx(0.040)


def test_edge_list_with_names() -> None:
    g = edgelist_to_graph("alice bob 10\nbob carol\n")
    assert set(g) == {"alice", "bob", "carol"} and "latency_s" not in g.edges["bob", "carol"]


def test_file_kind_node_count() -> None:
    path = str(FIXTURES / "small.gml")
    assert gen("file", 5, path=path).number_of_nodes() == 5
    assert gen("file", 0, path=path).number_of_nodes() == 5
    with pytest.raises(ValueError, match=r"small.gml has 5 nodes but the scenario asks for 8"):
        gen("file", 8, path=path)


def test_file_kind_fills_missing_latencies_only() -> None:
    g = build_network("file", 0, {"path": str(FIXTURES / "small.gml")}, random.Random(1),
                      latency=latency_model("constant", latency_s=0.3))
    assert g.edges[0, 2]["latency_s"] == pytest.approx(0.045)


def test_missing_file() -> None:
    with pytest.raises(TopologyFileError, match=r"nope\.gml: cannot read topology file"):
        load_topology_file(FIXTURES / "nope.gml")


NODES = "graph [\n  node [\n    id 0\n  ]\n  node [\n    id 1\n  ]\n"


GML_ERRORS = [
    (NODES + '  edge [\n    source 0\n    target 1\n    latency 25\n  ]\n]\n', 11,
     'latency needs a unit: write it quoted, e.g. "25 ms"'),
    (NODES + '  edge [\n    source 0\n    target 1\n    latency "25 parsecs"\n  ]\n]\n', 11,
     "needs a time unit"),
    (NODES + '  edge [\n    source 0\n    target 1\n    latency "0 ms"\n  ]\n]\n', 11,
     "latency must be > 0"),
    (NODES + '  edge [\n    source 0\n    target 7\n  ]\n]\n', 8,
     "edge refers to undeclared node 7"),
    (NODES + '  edge [\n    source 0\n  ]\n]\n', 8, "edge has no target"),
    (NODES + '  node [\n    id 1\n  ]\n]\n', 9, "node id 1 is used twice"),
    ('graph [\n  directed 2\n]\n', 2, "directed must be 0 or 1, got 2"),
    ('graph [\n  node [\n    label "x"\n  ]\n]\n', 2, "node has no id"),
    ('graph [\n  node [\n    id 0 ;\n  ]\n]\n', 3, "unexpected character ';'"),
    ('graph [\n  node [\n    id 0\n', 2, "'node [' is never closed"),
    (NODES + '  node [\n    id 2\n    host_bandwidth_up "fast"\n  ]\n]\n', 10,
     "host_bandwidth_up: 'fast' is not a number with a unit"),
    (NODES + '  edge [\n    source 0\n    target 1\n    packet_loss 2.0\n  ]\n]\n', 11,
     "packet_loss must be in [0, 1]"),
    ('# nothing here\n', None, "expected exactly one 'graph [ ... ]' block"),
]


@pytest.mark.parametrize("text,line,message", GML_ERRORS,
                         ids=[m.split(":")[0][:30] for *_, m in GML_ERRORS])
def test_gml_errors_name_file_and_line(tmp_path: Path, text: str, line: int | None,
                                       message: str) -> None:
    path = tmp_path / "bad.gml"
    path.write_text(text)
    with pytest.raises(TopologyFileError) as info:
        load_topology_file(path)
    where = f"{path}:{line}: " if line is not None else f"{path}: "
    assert str(info.value).startswith(where), str(info.value)
    assert message in str(info.value)
    assert info.value.line == line


@pytest.mark.parametrize("text,line,message", [
    ("0 1 20\n1 2 fast\n", 2, "latency_ms must be a number, got 'fast'"),
    ("# header\n\n0 1 -3\n", 3, "latency_ms must be > 0"),
    ("0 1 20 7\n", 1, "expected 'u v [latency_ms]', got 4 fields"),
    ("0 1\n1 0\n", 2, "edge 1-0 is listed twice"),
    ("3 3\n", 1, "self-loop 3-3"),
])
def test_edgelist_errors_name_file_and_line(tmp_path: Path, text: str, line: int,
                                            message: str) -> None:
    path = tmp_path / "bad.edges"
    path.write_text(text)
    with pytest.raises(TopologyFileError, match=f"^{path}:{line}: ") as info:
        load_topology_file(path)
    assert message in str(info.value)


def test_format_is_sniffed_without_a_known_suffix(tmp_path: Path) -> None:
    gml = tmp_path / "net.topo"
    gml.write_text((FIXTURES / "small.gml").read_text())
    edges = tmp_path / "net.data"
    edges.write_text("0 1 5\n")
    assert load_topology_file(gml).number_of_nodes() == 5
    assert load_topology_file(edges).edges[0, 1]["latency_s"] == pytest.approx(0.005)


def test_gml_from_text_matches_networkx_parser_on_structure() -> None:
    text = (FIXTURES / "small.gml").read_text()
    ours = gml_to_graph(text)
    theirs = nx.parse_gml(text, label="id")
    theirs.remove_edges_from(nx.selfloop_edges(theirs))
    assert sorted(ours.edges) == sorted(theirs.edges)


@pytest.mark.parametrize("text,seconds", [
    ("25 ms", 0.025), ("1 s", 1.0), ("500 us", 5e-4), ("12500 us", 0.0125), ("3 min", 180.0),
    ("10ns", 1e-8), ("2 milliseconds", 0.002),
])
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration_s(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text,bps", [
    ("100 Mbit", 1e8), ("1 Gbit", 1e9), ("10 MB", 8e7), ("1 Kibit", 1024), ("100 Mbps", 1e8),
    ("2 megabits", 2e6), ("1 KiB", 8192), ("512 bit", 512), ("3 Mb", 3e6),
])
def test_parse_bandwidth(text: str, bps: float) -> None:
    assert parse_bandwidth_bps(text) == pytest.approx(bps)


@pytest.mark.parametrize("text", ["25", "25 parsecs", "ms"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration_s(text)


@pytest.mark.parametrize("text", ["100", "100 Xbit", "fast"])
def test_parse_bandwidth_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_bandwidth_bps(text)


def test_region_model_type() -> None:
    assert isinstance(latency_model("regions", **REGIONS), RegionLatency)
