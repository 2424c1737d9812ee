"""Shadow-legal GML: the writer, the checker (Shadow's grammar and rules) and the reader."""

from __future__ import annotations

import re

import networkx as nx
import pytest

from pytest_monerosim.backends.shadow.gml import (
    GmlError,
    GmlIssue,
    parse_shadow_gml,
    validate_gml,
)
from pytest_monerosim.backends.shadow.gml_graph import gml_node_ids, read_gml, write_gml


def three_regions() -> nx.Graph:
    graph = nx.Graph()
    graph.add_node("eu", bandwidth_bps=100e6, region="europe")
    graph.add_node("na", bandwidth_down_bps=1e9, bandwidth_up_bps=50e6)
    graph.add_node("asia", host_bandwidth_down="200 Mbit", host_bandwidth_up="20 Mbit")
    graph.add_edge("eu", "na", latency_s=0.040)
    graph.add_edge("na", "asia", latency_s=0.090, packet_loss=0.01)
    graph.add_edge("eu", "asia", latency="120 ms", jitter_s=0.002)
    return graph


def rules(issues: list[GmlIssue]) -> list[str]:
    return [issue.rule for issue in issues]


# --------------------------------------------------------------------------- writing


def test_written_text_is_shadow_legal_and_one_key_per_line() -> None:
    text = write_gml(three_regions())
    assert validate_gml(text) == []
    assert text.startswith("graph [\n  directed 0\n")
    body = [line.strip() for line in text.splitlines()[1:-1]]
    for line in body:
        assert line in ("node [", "edge [", "]") or len(line.split(" ", 1)) == 2, line
    assert 'latency "40 ms"' in text
    assert 'host_bandwidth_up "50 Mbit"' in text
    assert "packet_loss 0.0\n" in text
    assert "packet_loss 0.01\n" in text
    assert 'jitter "2 ms"' in text


def test_writer_adds_one_self_loop_per_node() -> None:
    graph = three_regions()
    graph.add_edge("eu", "eu", latency_s=0.003)
    text = write_gml(graph)
    doc = parse_shadow_gml(text)
    loops = [e.attrs for e in doc.edges if e.attrs["source"] == e.attrs["target"]]
    assert sorted(str(loop["source"]) for loop in loops) == ["0", "1", "2"]
    assert {"source": 0, "target": 0, "latency": "3 ms", "packet_loss": 0.0} in loops
    assert {"source": 1, "target": 1, "latency": "1 ms", "packet_loss": 0.0} in loops


def test_writer_only_loops_attached_nodes_when_asked() -> None:
    text = write_gml(three_regions(), attach=["na"])
    assert validate_gml(text, attached=[1]) == []
    assert rules(validate_gml(text)) == ["self-loop", "self-loop"]


def test_network_round_trips_through_networkx_parse_gml() -> None:
    graph = three_regions()
    text = write_gml(graph)
    parsed = nx.parse_gml(text, label="id")
    ids = gml_node_ids(graph)
    assert not parsed.is_directed()
    assert set(parsed.nodes) == set(ids.values())
    assert {parsed.nodes[ids[n]]["label"] for n in graph} == {"eu", "na", "asia"}
    assert parsed.nodes[ids["eu"]]["region"] == "europe"
    for u, v in graph.edges:
        assert parsed.has_edge(ids[u], ids[v])
    assert all(parsed.has_edge(i, i) for i in ids.values())
    edge = parsed.edges[ids["na"], ids["asia"]]
    assert edge == {"latency": "90 ms", "packet_loss": 0.01}
    assert isinstance(parsed.edges[ids["eu"], ids["na"]]["packet_loss"], float)


def test_read_gml_gives_numbers_back() -> None:
    graph = three_regions()
    back = read_gml(write_gml(graph))
    ids = gml_node_ids(graph)
    assert back.nodes[ids["na"]]["bandwidth_up_bps"] == 50_000_000
    assert back.nodes[ids["na"]]["label"] == "na"
    assert back.edges[ids["eu"], ids["na"]]["latency_s"] == pytest.approx(0.040)
    assert back.edges[ids["eu"], ids["asia"]]["jitter_s"] == pytest.approx(0.002)
    assert back.edges[ids["na"], ids["asia"]]["packet_loss"] == 0.01
    again = write_gml(back)
    assert read_gml(again).edges(data="latency_s") is not None
    assert validate_gml(again) == []


def test_directed_graph_and_integer_node_ids_are_kept() -> None:
    graph = nx.DiGraph()
    graph.add_node(10, bandwidth_bps=1e9)
    graph.add_node(20, bandwidth_bps=1e9)
    graph.add_edge(10, 20, latency_s=0.01)
    graph.add_edge(20, 10, latency_s=0.02)
    text = write_gml(graph)
    assert "directed 1" in text and "label" not in text
    assert validate_gml(text) == []
    parsed = nx.parse_gml(text, label="id")
    assert parsed.is_directed() and set(parsed.edges) == {(10, 20), (20, 10), (10, 10), (20, 20)}


def test_labels_with_quotes_and_unicode_survive_both_readers() -> None:
    graph = nx.Graph()
    graph.add_node('say "hi" & bye', bandwidth_bps=1e6)
    graph.add_node("zürich", bandwidth_bps=1e6)
    graph.add_edge('say "hi" & bye', "zürich", latency_s=0.001)
    text = write_gml(graph)
    assert validate_gml(text) == []
    assert set(nx.parse_gml(text).nodes) == {'say "hi" & bye', "zürich"}
    assert {d["label"] for _, d in read_gml(text).nodes(data=True)} == {'say "hi" & bye', "zürich"}


@pytest.mark.parametrize(
    ("build", "fragment"),
    [
        (lambda g: g.add_edge("a", "b"), "edge ('a', 'b') has no latency"),
        (lambda g: g.add_edge("a", "b", latency_s=0.0), "zero latency"),
        (lambda g: g.add_edge("a", "b", latency_s=1e-10), "whole number of nanoseconds"),
        (lambda g: g.add_edge("a", "b", latency_s=0.1, packet_loss=2.0), "outside [0, 1]"),
        (lambda g: g.add_node("c"), "node 'c' has no bandwidth"),
    ],
)
def test_writer_names_the_bad_node_or_edge(build: object, fragment: str) -> None:
    graph = nx.Graph()
    graph.add_node("a", bandwidth_bps=1e6)
    graph.add_node("b", bandwidth_bps=1e6)
    build(graph)  # type: ignore[operator]
    if graph.number_of_edges() == 0:
        graph.add_edge("a", "b", latency_s=0.01)
    with pytest.raises(ValueError, match=re.escape(fragment)):
        write_gml(graph)


def test_writer_defaults_and_refusals() -> None:
    graph = nx.path_graph(3)
    text = write_gml(graph, default_bandwidth_bps=10e6, default_latency_s=0.005)
    assert validate_gml(text) == []
    with pytest.raises(ValueError, match="multigraph"):
        write_gml(nx.MultiGraph(graph))
    with pytest.raises(ValueError, match="not a node"):
        write_gml(graph, attach=[7], default_bandwidth_bps=1, default_latency_s=1)


# --------------------------------------------------------------------------- checking

GOOD = """\
graph [
  directed 0
  node [
    id 0
    host_bandwidth_down "100 Mbit"
    host_bandwidth_up "100 Mbit"
  ]
  node [
    id 1
    host_bandwidth_down "100 Mbit"
    host_bandwidth_up "100 Mbit"
  ]
  edge [
    source 0
    target 0
    latency "1 ms"
    packet_loss 0.0
  ]
  edge [
    source 1
    target 1
    latency "1 ms"
    packet_loss 0.0
  ]
  edge [
    source 0
    target 1
    latency "25 ms"
    packet_loss 0.0
  ]
]"""


def only(text: str, **kwargs: object) -> GmlIssue:
    issues = validate_gml(text, **kwargs)  # type: ignore[arg-type]
    assert len(issues) == 1, issues
    return issues[0]


def test_good_graph_passes() -> None:
    assert validate_gml(GOOD) == []


def test_packet_loss_as_int() -> None:
    issue = only(GOOD.replace("    packet_loss 0.0\n  ]\n]", "    packet_loss 0\n  ]\n]"))
    assert (issue.where, issue.rule, issue.line) == ("edge #2 (0 -> 1)", "edge-packet-loss", 29)
    assert "written as the integer 0" in issue.message and "0.0" in issue.message


def test_packet_loss_out_of_range() -> None:
    issue = only(GOOD.replace("    packet_loss 0.0\n  ]\n]", "    packet_loss 1.5\n  ]\n]"))
    assert issue.rule == "edge-packet-loss" and "[0, 1]" in issue.message


def test_zero_latency() -> None:
    issue = only(GOOD.replace('latency "25 ms"', 'latency "0 s"'))
    assert (issue.where, issue.rule, issue.line) == ("edge #2 (0 -> 1)", "edge-latency", 28)
    assert "is zero" in issue.message


def test_latency_must_be_a_string_with_a_legal_unit() -> None:
    assert only(GOOD.replace('latency "25 ms"', "latency 25")).rule == "edge-latency"
    issue = only(GOOD.replace('latency "25 ms"', 'latency "2.5 ms"'))
    assert "fractional" in issue.message
    issue = only(GOOD.replace('latency "25 ms"\n', ""))
    assert "has no 'latency'" in issue.message


def test_missing_self_loop() -> None:
    text = GOOD.replace("    source 1\n    target 1\n", "    source 1\n    target 0\n")
    issue = only(text)
    assert (issue.where, issue.rule) == ("node 1", "self-loop")
    assert "has no self-loop" in issue.message
    assert validate_gml(text, attached=[0]) == []


def test_two_self_loops_on_one_node() -> None:
    text = GOOD.replace("    source 1\n    target 1\n", "    source 0\n    target 0\n")
    assert set(rules(validate_gml(text))) == {"self-loop"}
    assert any("has 2 self-loops" in i.message for i in validate_gml(text))


def test_edges_must_name_existing_nodes() -> None:
    issues = validate_gml(
        GOOD.replace('    target 1\n    latency "25', '    target 9\n    latency "25')
    )
    endpoint = [i for i in issues if i.rule == "edge-endpoint"]
    assert [(i.where, i.message, i.line) for i in endpoint] == [
        ("edge #2 (0 -> 9)", "target node 9 doesn't exist", 27)
    ]
    assert set(rules(issues)) == {"edge-endpoint", "connected"}  # 0 and 1 are now cut apart


def test_node_needs_integer_unique_id_and_legal_bandwidth() -> None:
    duplicated = validate_gml(GOOD.replace("    id 1\n", "    id 0\n"))
    assert ("node 0", "node-id", "id 0 is already used on line 3", 8) in [
        (i.where, i.rule, i.message, i.line) for i in duplicated
    ]
    issue = only(GOOD.replace('host_bandwidth_up "100 Mbit"', 'host_bandwidth_up "100 mbit"', 1))
    assert (issue.where, issue.rule) == ("node 0", "node-bandwidth")
    text = GOOD.replace('    host_bandwidth_up "100 Mbit"\n', "", 1)
    assert only(text).rule == "node-bandwidth"
    assert validate_gml(text, require_bandwidth=False) == []


def test_unreachable_attached_nodes() -> None:
    text = GOOD.replace(
        '  edge [\n    source 0\n    target 1\n    latency "25 ms"\n    packet_loss 0.0\n  ]\n', ""
    )
    assert rules(validate_gml(text)) == ["connected", "connected"]
    assert rules(validate_gml(text, attached=[0])) == []


def test_complete_graph_rule_for_direct_paths() -> None:
    assert validate_gml(GOOD, complete=True) == []
    directed = GOOD.replace("directed 0", "directed 1")
    issue = only(directed, complete=True)
    assert (issue.where, issue.rule) == ("nodes 1 and 0", "complete-graph")


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("graph [ node [\n", 1, "line break"),
        ("graph [\n  node [ id 0 ]\n]", 2, "line break"),
        ("graph [\n  directed 2\n]", 2, "0 or 1"),
        ("graph [\n  directed 0\n  directed 1\n]", 3, "only be given once"),
        ("graph [\n  # a comment\n]", 2, "comments"),
        ("graph [\n  node [\n    id 0\n    id 1\n  ]\n]", 4, "duplicate key 'id'"),
        ('graph [\n  node [\n    id 0\n    label "x\n  ]\n]', 4, "not closed"),
        ("graph [\n  node [\n    id 0\n  ]\n", 5, "not closed"),
        ("graph [\n  node [\n    id 0\n    pos [ x 1 ]\n  ]\n]", 4, "list value"),
        ("graph [\n  node [\n    id 0 1\n  ]\n]", 3, "bad value"),
        ("grph [\n]", 1, "expected 'graph ['"),
    ],
)
def test_syntax_errors_name_the_line(text: str, line: int, fragment: str) -> None:
    issue = only(text)
    assert issue.rule == "syntax" and issue.line == line, issue
    assert fragment in issue.message
    assert f"(line {line})" in str(issue)


def test_values_follow_shadows_int_float_string_order() -> None:
    doc = parse_shadow_gml(
        'graph [\n  a 5\n  b 0.0\n  c -3\n  d 1e3\n  e "s"\n  f 99999999999\n]\n'
    )
    assert doc.attrs == {"a": 5, "b": 0.0, "c": -3.0, "d": 1000.0, "e": "s", "f": 99999999999.0}
    assert [type(doc.attrs[k]) for k in "abcdf"] == [int, float, float, float, float]


def test_non_integer_node_id() -> None:
    text = GOOD.replace("    id 1\n", '    id "one"\n').replace("target 1", "target 0")
    assert "node-id" in rules(validate_gml(text))


def test_read_gml_raises_with_every_issue() -> None:
    text = GOOD.replace('latency "25 ms"', 'latency "0 ms"').replace(
        "packet_loss 0.0", "packet_loss 0"
    )
    with pytest.raises(GmlError) as info:
        read_gml(text)
    assert len(info.value.issues) == 4
    assert str(info.value).startswith("edge #0 (0 -> 0) (line 17): packet_loss")
