"""Shadow-legal GML: write a networkx graph, check GML text, read it back.

The grammar mirrors Shadow's own parser (``src/lib/gml-parser/src/parser.rs``)
and the semantic rules its network graph loader applies
(``src/main/network/graph/mod.rs``, ``src/main/core/sim_config.rs``):

* ``graph [`` must be followed by a line break, and so must every value and
  every closing ``]`` of a node or edge: one key/value per line;
* values are integers (digits only, fitting i32), floats or ``"strings"``
  (no quote characters inside); there are no comments and no nested lists
  inside nodes and edges; keys within one node, edge or the graph are unique;
* ``directed`` is 0 or 1 (default 0);
* a node needs an integer ``id``; ``host_bandwidth_down``/``host_bandwidth_up``
  are bandwidth strings ("100 Mbit");
* an edge needs integer ``source`` and ``target`` naming existing nodes and a
  non-zero ``latency`` string ("25 ms"); ``jitter`` is an optional time string;
  ``packet_loss`` is a *float* in [0, 1] (``0`` is an integer and is refused);
* every node that hosts attach to needs exactly one self-loop, every attached
  node must reach every other one, and with ``use_shortest_path: false`` there
  must be exactly one edge between every pair of attached nodes.

This module is stricter than Shadow in one place: duplicate node ids are an
error here (Shadow silently keeps the last one).

Attribute conventions of the networkx side (numbers in project units):
node ``bandwidth_down_bps``/``bandwidth_up_bps`` (or ``bandwidth_bps`` for
both), edge ``latency_s``, ``jitter_s`` and ``packet_loss``. Shadow strings
(``host_bandwidth_down``, ``latency``, ``jitter``) are accepted as well.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

import networkx as nx

from ...shadow_units import UnitError, parse_bandwidth, parse_time_ns

__all__ = [
    "GmlDocument",
    "GmlEntry",
    "GmlError",
    "GmlIssue",
    "GmlSyntaxError",
    "parse_shadow_gml",
    "validate_gml",
    "validate_gml_document",
]

GmlValue = int | float | str
_I32_MAX = 2**31 - 1


# --------------------------------------------------------------------------- parsing


class GmlSyntaxError(ValueError):
    """Text that Shadow's GML parser would refuse; ``line`` is 1-based."""

    def __init__(self, line: int, message: str) -> None:
        self.line = line
        self.message = message
        super().__init__(f"line {line}: {message}")


@dataclass
class GmlEntry:
    """One ``node [...]`` or ``edge [...]`` block with the line it starts on."""

    kind: Literal["node", "edge"]
    index: int
    line: int
    attrs: dict[str, GmlValue] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)

    def describe(self) -> str:
        if self.kind == "node":
            ident = self.attrs.get("id")
            return f"node {ident}" if isinstance(ident, int) else f"node #{self.index}"
        src, dst = self.attrs.get("source"), self.attrs.get("target")
        return f"edge #{self.index} ({src} -> {dst})"


@dataclass
class GmlDocument:
    """A parsed graph: what Shadow's parser yields, plus line numbers."""

    directed: bool
    nodes: list[GmlEntry]
    edges: list[GmlEntry]
    attrs: dict[str, GmlValue]


_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_FLOAT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_BREAK = re.compile(r"[ \t]*[\r\n][ \t\r\n]*")


class _Scanner:
    """A cursor over the text with the few primitives Shadow's grammar uses."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def line(self, pos: int | None = None) -> int:
        return self.text.count("\n", 0, self.pos if pos is None else pos) + 1

    def fail(self, message: str, pos: int | None = None) -> GmlSyntaxError:
        return GmlSyntaxError(self.line(pos), message)

    def space0(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t":
            self.pos += 1

    def peek(self) -> str:
        return self.text[self.pos : self.pos + 1]

    def expect(self, token: str, what: str) -> None:
        if not self.text.startswith(token, self.pos):
            found = self.text[self.pos : self.pos + 12].split("\n")[0] or "end of line"
            raise self.fail(f"expected {what}, found {found!r}")
        self.pos += len(token)

    def newline(self, after: str) -> None:
        match = _BREAK.match(self.text, self.pos)
        if match is None:
            rest = self.text[self.pos :].split("\n")[0].strip()
            raise self.fail(
                f"{after} must be followed by a line break (one key/value per line), found {rest!r}"
                if rest
                else f"{after} must be followed by a line break"
            )
        self.pos = match.end()

    def key(self) -> str:
        if self.text.startswith("#", self.pos):
            raise self.fail("comments are not supported by Shadow's GML parser")
        match = _KEY.match(self.text, self.pos)
        if match is None:
            found = self.text[self.pos : self.pos + 12].split("\n")[0] or "end of text"
            raise self.fail(f"expected a key ([A-Za-z_][A-Za-z0-9_]*) or ']', found {found!r}")
        self.pos = match.end()
        return match.group(0)

    def value(self, key: str) -> GmlValue:
        """An int, float or string value followed by a line break, tried in Shadow's order."""
        self.space0()
        start = self.pos
        digits = re.compile(r"\d+").match(self.text, start)
        if digits and int(digits.group(0)) <= _I32_MAX and _BREAK.match(self.text, digits.end()):
            self.pos = digits.end()
            self.newline(f"the value of {key!r}")
            return int(digits.group(0))
        number = _FLOAT.match(self.text, start)
        if number and _BREAK.match(self.text, number.end()):
            self.pos = number.end()
            self.newline(f"the value of {key!r}")
            return float(number.group(0))
        if self.peek() == '"':
            end = self.text.find('"', start + 1)
            if end < 0:
                raise self.fail(f"the string value of {key!r} is not closed")
            self.pos = end + 1
            self.newline(f"the value of {key!r}")
            return self.text[start + 1 : end]
        if self.peek() == "[":
            raise self.fail(f"{key!r} has a list value; Shadow takes only int, float or string")
        rest = self.text[start:].split("\n")[0].strip()
        raise self.fail(
            f'bad value for {key!r}: {rest!r} (expected an integer, a float or a "string", '
            "alone on the line)"
        )


def _block(scan: _Scanner, kind: Literal["node", "edge"], index: int, start: int) -> GmlEntry:
    entry = GmlEntry(kind, index, scan.line(start))
    scan.space0()
    scan.expect("[", f"'[' after {kind!r}")
    scan.newline(f"'{kind} ['")
    while True:
        if scan.peek() == "]":
            scan.pos += 1
            break
        if not scan.peek():
            raise scan.fail(f"{kind} starting on line {entry.line} is not closed with ']'")
        key_pos = scan.pos
        key = scan.key()
        if key in entry.attrs:
            raise scan.fail(f"duplicate key {key!r} in {kind} starting on line {entry.line}")
        entry.lines[key] = scan.line(key_pos)
        entry.attrs[key] = scan.value(key)
    scan.newline(f"the ']' closing the {kind}")
    return entry


def parse_shadow_gml(text: str) -> GmlDocument:
    """Parse GML following Shadow's grammar; ``GmlSyntaxError`` names the line."""
    scan = _Scanner(text)
    match = re.compile(r"\s*").match(text)
    scan.pos = match.end() if match else 0
    scan.expect("graph", "'graph ['")
    scan.space0()
    scan.expect("[", "'[' after 'graph'")
    scan.newline("'graph ['")
    doc = GmlDocument(directed=False, nodes=[], edges=[], attrs={})
    seen_directed = False
    while True:
        if scan.peek() == "]":
            return doc
        if not scan.peek():
            raise scan.fail("the graph is not closed with ']'")
        start = scan.pos
        key = scan.key()
        if key == "node":
            doc.nodes.append(_block(scan, "node", len(doc.nodes), start))
        elif key == "edge":
            doc.edges.append(_block(scan, "edge", len(doc.edges), start))
        elif key == "directed":
            value = scan.value(key)
            if seen_directed:
                raise scan.fail("'directed' must only be given once", start)
            if value not in (0, 1) or not isinstance(value, int):
                raise scan.fail(f"'directed' must be 0 or 1, found {value!r}", start)
            doc.directed, seen_directed = value == 1, True
        else:
            value = scan.value(key)
            if key in doc.attrs:
                raise scan.fail(f"duplicate graph key {key!r}", start)
            doc.attrs[key] = value


# --------------------------------------------------------------------------- checking


@dataclass(frozen=True)
class GmlIssue:
    """One broken rule: where (a node, an edge, the graph), which rule, and why."""

    where: str
    rule: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        at = f" (line {self.line})" if self.line else ""
        return f"{self.where}{at}: {self.message} [{self.rule}]"


class GmlError(ValueError):
    """GML that breaks one or more rules; ``issues`` lists them all."""

    def __init__(self, issues: list[GmlIssue]) -> None:
        self.issues = issues
        more = f" (and {len(issues) - 1} more)" if len(issues) > 1 else ""
        super().__init__(f"{issues[0]}{more}")


def _check_nodes(doc: GmlDocument, require_bandwidth: bool) -> list[GmlIssue]:
    issues: list[GmlIssue] = []
    seen: dict[int, int] = {}
    for node in doc.nodes:
        where = node.describe()
        ident = node.attrs.get("id")
        if ident is None:
            issues.append(GmlIssue(where, "node-id", "has no 'id'", node.line))
        elif not isinstance(ident, int):
            issues.append(
                GmlIssue(where, "node-id", f"'id' must be an integer, found {ident!r}", node.line)
            )
        elif ident in seen:
            issues.append(
                GmlIssue(
                    where, "node-id", f"id {ident} is already used on line {seen[ident]}", node.line
                )
            )
        else:
            seen[ident] = node.line
        for key in ("host_bandwidth_down", "host_bandwidth_up"):
            issues += _check_bandwidth(node, key, where, require_bandwidth)
    return issues


def _check_bandwidth(node: GmlEntry, key: str, where: str, required: bool) -> list[GmlIssue]:
    line = node.lines.get(key, node.line)
    if key not in node.attrs:
        if not required:
            return []
        return [
            GmlIssue(
                where,
                "node-bandwidth",
                f'has no {key!r} (e.g. {key} "100 Mbit"); Shadow needs it unless '
                "every host on this node sets its own bandwidth",
                node.line,
            )
        ]
    value = node.attrs[key]
    if not isinstance(value, str):
        return [
            GmlIssue(
                where,
                "node-bandwidth",
                f'{key} must be a string such as "100 Mbit", found {value!r}',
                line,
            )
        ]
    try:
        parse_bandwidth(value)
    except UnitError as exc:
        return [GmlIssue(where, "node-bandwidth", f"{key}: {exc}", line)]
    return []


def _check_time(edge: GmlEntry, key: str, where: str) -> tuple[list[GmlIssue], int | None]:
    line = edge.lines.get(key, edge.line)
    value = edge.attrs[key]
    if not isinstance(value, str):
        return [
            GmlIssue(
                where,
                f"edge-{key}",
                f'{key} must be a string such as "25 ms", found {value!r}',
                line,
            )
        ], None
    try:
        return [], parse_time_ns(value)
    except UnitError as exc:
        return [GmlIssue(where, f"edge-{key}", f"{key}: {exc}", line)], None


def _check_edge(edge: GmlEntry, node_ids: set[int]) -> list[GmlIssue]:
    where = edge.describe()
    issues: list[GmlIssue] = []
    for end in ("source", "target"):
        value = edge.attrs.get(end)
        line = edge.lines.get(end, edge.line)
        if value is None:
            issues.append(GmlIssue(where, "edge-endpoint", f"has no '{end}'", edge.line))
        elif not isinstance(value, int):
            issues.append(
                GmlIssue(
                    where,
                    "edge-endpoint",
                    f"'{end}' must be an integer node id, found {value!r}",
                    line,
                )
            )
        elif value not in node_ids:
            issues.append(
                GmlIssue(where, "edge-endpoint", f"{end} node {value} doesn't exist", line)
            )
    if "latency" not in edge.attrs:
        issues.append(
            GmlIssue(where, "edge-latency", "has no 'latency' (e.g. latency \"25 ms\")", edge.line)
        )
    else:
        found, ns = _check_time(edge, "latency", where)
        issues += found
        if ns == 0:
            issues.append(
                GmlIssue(
                    where,
                    "edge-latency",
                    f"latency {edge.attrs['latency']!r} is zero; Shadow requires "
                    'a non-zero latency such as "1 ms"',
                    edge.lines.get("latency"),
                )
            )
    if "jitter" in edge.attrs:
        issues += _check_time(edge, "jitter", where)[0]
    issues += _check_packet_loss(edge, where)
    return issues


def _check_packet_loss(edge: GmlEntry, where: str) -> list[GmlIssue]:
    if "packet_loss" not in edge.attrs:
        return []
    value = edge.attrs["packet_loss"]
    line = edge.lines.get("packet_loss", edge.line)
    if isinstance(value, int):
        return [
            GmlIssue(
                where,
                "edge-packet-loss",
                f"packet_loss is written as the integer {value}; Shadow requires a float "
                f"such as {value}.0",
                line,
            )
        ]
    if not isinstance(value, float):
        return [
            GmlIssue(
                where,
                "edge-packet-loss",
                f"packet_loss must be a float in [0, 1] such as 0.0, found {value!r}",
                line,
            )
        ]
    if not 0.0 <= value <= 1.0:
        return [
            GmlIssue(
                where, "edge-packet-loss", f"packet_loss {value} is not in the range [0, 1]", line
            )
        ]
    return []


def _edge_counts(doc: GmlDocument) -> dict[tuple[int, int], int]:
    counts: dict[tuple[int, int], int] = {}
    for edge in doc.edges:
        src, dst = edge.attrs.get("source"), edge.attrs.get("target")
        if isinstance(src, int) and isinstance(dst, int):
            key = (src, dst) if doc.directed else (min(src, dst), max(src, dst))
            counts[key] = counts.get(key, 0) + 1
    return counts


def _check_routing(doc: GmlDocument, attached: list[int], complete: bool) -> list[GmlIssue]:
    """Self-loops, completeness and reachability among the nodes hosts attach to."""
    issues: list[GmlIssue] = []
    counts = _edge_counts(doc)
    lines = {n.attrs.get("id"): n.line for n in doc.nodes}

    def pair(a: int, b: int) -> int:
        return counts.get((a, b) if doc.directed else (min(a, b), max(a, b)), 0)

    for node in attached:
        loops = pair(node, node)
        if loops != 1:
            problem = "has no self-loop" if loops == 0 else f"has {loops} self-loops"
            issues.append(
                GmlIssue(
                    f"node {node}",
                    "self-loop",
                    f"{problem}; Shadow needs exactly one edge [source {node} target {node}] "
                    "on every node that hosts attach to",
                    lines.get(node),
                )
            )
    if complete:
        for a in attached:
            for b in attached:
                if a == b or (not doc.directed and a > b):
                    continue
                if pair(a, b) != 1:
                    issues.append(
                        GmlIssue(
                            f"nodes {a} and {b}",
                            "complete-graph",
                            f"{pair(a, b)} edges connect node {a} to {b}; with "
                            "use_shortest_path: false Shadow needs exactly one edge between "
                            "every pair of attached nodes",
                        )
                    )
    else:
        issues += _check_reachable(doc, attached)
    return issues


def _check_reachable(doc: GmlDocument, attached: list[int]) -> list[GmlIssue]:
    graph: nx.Graph = nx.DiGraph() if doc.directed else nx.Graph()
    graph.add_nodes_from(_node_ids(doc))
    for edge in doc.edges:
        src, dst = edge.attrs.get("source"), edge.attrs.get("target")
        if src in graph and dst in graph:
            graph.add_edge(src, dst)
    issues: list[GmlIssue] = []
    for src in attached:
        if src not in graph:
            continue
        reach = nx.descendants(graph, src) | {src}
        missing = [dst for dst in attached if dst in graph and dst not in reach]
        if missing:
            issues.append(
                GmlIssue(
                    f"node {src}",
                    "connected",
                    f"cannot reach node(s) {missing[:5]}{' ...' if len(missing) > 5 else ''}; "
                    "Shadow needs a path between every pair of nodes that hosts attach to",
                )
            )
    return issues


def _node_ids(doc: GmlDocument) -> set[int]:
    return {ident for n in doc.nodes if isinstance(ident := n.attrs.get("id"), int)}


def validate_gml_document(
    doc: GmlDocument,
    *,
    attached: Iterable[int] | None = None,
    complete: bool = False,
    require_bandwidth: bool = True,
) -> list[GmlIssue]:
    """Every rule a parsed graph breaks (see :func:`validate_gml`)."""
    issues = _check_nodes(doc, require_bandwidth)
    node_ids = _node_ids(doc)
    for edge in doc.edges:
        issues += _check_edge(edge, node_ids)
    wanted = sorted(node_ids) if attached is None else sorted(set(attached))
    for node in wanted:
        if node not in node_ids:
            issues.append(
                GmlIssue(f"node {node}", "node-exists", f"node {node} does not exist in the graph")
            )
    issues += _check_routing(doc, [n for n in wanted if n in node_ids], complete)
    return issues


def validate_gml(
    text: str,
    *,
    attached: Iterable[int] | None = None,
    complete: bool = False,
    require_bandwidth: bool = True,
) -> list[GmlIssue]:
    """Every rule ``text`` breaks, as Shadow 3.x would apply them; empty when it is legal.

    ``attached`` are the node ids hosts attach to (default: every node);
    ``complete=True`` applies the ``use_shortest_path: false`` rule;
    ``require_bandwidth=False`` allows nodes without ``host_bandwidth_*`` (hosts
    then have to set their own bandwidth).
    """
    try:
        doc = parse_shadow_gml(text)
    except GmlSyntaxError as exc:
        return [GmlIssue("graph", "syntax", exc.message, exc.line)]
    return validate_gml_document(
        doc, attached=attached, complete=complete, require_bandwidth=require_bandwidth
    )
