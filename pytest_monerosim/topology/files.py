"""Topology files: Shadow-style GML and plain edge lists.

GML is read by a small parser of our own rather than ``networkx.read_gml`` so
that every error names the file and the line, and so Shadow's unit strings
(``latency "25 ms"``, ``host_bandwidth_up "100 Mbit"``) become plain numbers:
``latency_s`` (seconds) on edges, ``bandwidth_up_bps`` / ``bandwidth_down_bps``
/ ``bandwidth_bps`` (= up) on nodes.

Edge lists hold one ``u v [latency_ms]`` per line, or a lone ``u`` to declare an
isolated node; ``#`` starts a comment.

Directed GML (``directed 1``, as Shadow allows) becomes an ``nx.DiGraph``: each
edge is one direction with its own latency, bandwidth and loss (asymmetric
links). Self-loops, which carry the link of the hosts attached to a node, are
kept out of the graph's edges and recorded in ``graph.graph["self_loops"]``
(node -> the loop's attributes), so a writer can put them back.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal, Union

import networkx as nx

FileFormat = Literal["auto", "gml", "edgelist"]


class TopologyFileError(ValueError):
    """A problem in a topology file; ``str()`` reads ``path:line: message``."""

    def __init__(self, path: str | Path, line: int | None, message: str) -> None:
        self.path, self.line, self.message = str(path), line, message
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")


# --- units ------------------------------------------------------------------------

_TIME_UNITS = {
    "ns": 1e-9, "nanosecond": 1e-9, "nanoseconds": 1e-9,
    "us": 1e-6, "μs": 1e-6, "microsecond": 1e-6, "microseconds": 1e-6,
    "ms": 1e-3, "millisecond": 1e-3, "milliseconds": 1e-3,
    "s": 1.0, "sec": 1.0, "secs": 1.0, "second": 1.0, "seconds": 1.0,
    "min": 60.0, "mins": 60.0, "minute": 60.0, "minutes": 60.0,
    "h": 3600.0, "hr": 3600.0, "hour": 3600.0, "hours": 3600.0,
}
_BIT_PREFIXES = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12,
                 "ki": 2**10, "mi": 2**20, "gi": 2**30, "ti": 2**40}
_LONG_PREFIXES = {"": "", "kilo": "k", "mega": "m", "giga": "g", "tera": "t",
                  "kibi": "ki", "mebi": "mi", "gibi": "gi", "tebi": "ti"}
_QUANTITY = re.compile(r"^\s*([0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?)\s*([^\s0-9].*?)?\s*$")


def _split(text: str) -> tuple[float, str]:
    m = _QUANTITY.match(text)
    if not m:
        raise ValueError(f"{text!r} is not a number with a unit")
    return float(m.group(1)), (m.group(2) or "")


@lru_cache(maxsize=4096)  # topology files repeat a few unit strings thousands of times
def parse_duration_s(text: str) -> float:
    """``"25 ms"`` → 0.025. Accepts ns, us, ms, s, min, h and their long names."""
    value, unit = _split(text)
    factor = _TIME_UNITS.get(unit) or _TIME_UNITS.get(unit.lower())
    if factor is None:
        raise ValueError(f"{text!r} needs a time unit (ns, us, ms, s, min, h)")
    return value * factor


@lru_cache(maxsize=4096)
def parse_bandwidth_bps(text: str) -> float:
    """``"100 Mbit"`` → 1e8 bits/s.

    Bits (``Kbit``, ``Mibit``, ``Mbps``) or bytes (``KB``, ``MiB``); K, M, G, T
    are powers of 1000, Ki, Mi, Gi, Ti powers of 1024.
    """
    value, unit = _split(text)
    u = unit[:-2] if unit.endswith(("/s", "ps")) else unit
    low = u.lower()
    for word, scale in (("bits", 1), ("bit", 1), ("bytes", 8), ("byte", 8)):
        if low.endswith(word):
            prefix, base = low[: -len(word)], scale
            break
    else:
        # Abbreviations keep their case: "MB" is megabytes, "Mb" megabits.
        if not u.endswith(("B", "b")):
            raise ValueError(f"{text!r} needs a bandwidth unit (bit, Kbit, Mbit, KB, MB, ...)")
        prefix, base = low[:-1], (8 if u.endswith("B") else 1)
    prefix = _LONG_PREFIXES.get(prefix, prefix)
    if prefix not in _BIT_PREFIXES:
        raise ValueError(f"{text!r} has an unknown prefix; use K, M, G, T or Ki, Mi, Gi, Ti")
    return value * _BIT_PREFIXES[prefix] * base


# --- GML tokens and tree ------------------------------------------------------------

_TOKEN = re.compile(
    r"""(?P<ws>[ \t\r\f\v]+)|(?P<nl>\n)|(?P<comment>\#[^\n]*)
    |(?P<open>\[)|(?P<close>\])
    |(?P<string>"[^"]*")
    |(?P<number>[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)
    |(?P<key>[A-Za-z_][A-Za-z0-9_]*)""",
    re.VERBOSE,
)

GmlValue = Union[int, float, str, "list[GmlItem]"]


@dataclass(frozen=True)
class GmlItem:
    key: str
    value: GmlValue
    line: int


@dataclass(frozen=True)
class _Tok:
    kind: str
    text: str
    line: int


def _tokens(text: str, path: str) -> Iterator[_Tok]:
    pos, line = 0, 1
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise TopologyFileError(path, line, f"unexpected character {text[pos]!r}")
        kind = m.lastgroup or ""
        if kind == "string":
            yield _Tok(kind, m.group()[1:-1], line)
            line += m.group().count("\n")
        elif kind == "nl":
            line += 1
        elif kind not in ("ws", "comment"):
            yield _Tok(kind, m.group(), line)
        pos = m.end()


def _parse_slowly(text: str, path: str) -> list[GmlItem]:
    """Token by token: the reference parser, and the one that words the errors."""
    stack: list[tuple[list[GmlItem], str, int]] = []
    current: list[GmlItem] = []
    pending: _Tok | None = None
    for tok in _tokens(text, path):
        if pending is None:
            if tok.kind == "close":
                if not stack:
                    raise TopologyFileError(path, tok.line, "']' without a matching '['")
                parent, key, line = stack.pop()
                parent.append(GmlItem(key, current, line))
                current = parent
            elif tok.kind == "key":
                pending = tok
            else:
                raise TopologyFileError(path, tok.line, f"expected a key, found {tok.text!r}")
            continue
        if tok.kind == "open":
            stack.append((current, pending.text, pending.line))
            current = []
        elif tok.kind == "number":
            num = float(tok.text) if any(c in tok.text for c in ".eE") else int(tok.text)
            current.append(GmlItem(pending.text, num, pending.line))
        elif tok.kind == "string":
            current.append(GmlItem(pending.text, tok.text, pending.line))
        else:
            raise TopologyFileError(path, tok.line,
                                    f"key {pending.text!r} needs a value, found {tok.text!r}")
        pending = None
    if pending is not None:
        raise TopologyFileError(path, pending.line, f"key {pending.text!r} has no value")
    if stack:
        raise TopologyFileError(path, stack[-1][2], f"'{stack[-1][1]} [' is never closed")
    return current


_GAP = r"(?:[ \t\r\f\v\n]+|\#[^\n]*)*"
_PAIR = re.compile(
    _GAP + r"""(?:(?P<key>[A-Za-z_][A-Za-z0-9_]*)""" + _GAP + r"""
    (?:(?P<open>\[)|"(?P<string>[^"]*)"|(?P<number>[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?))
    |(?P<close>\])|(?P<end>\Z)|(?P<bad>.))""",
    re.VERBOSE | re.DOTALL,
)


def parse_gml_tree(text: str, path: str = "<gml>") -> list[GmlItem]:
    """The file as nested ``GmlItem`` lists (key, value, line).

    A fast pass reads one ``key value`` pair per regex match (a 1.7 MB,
    1,200-node CAIDA file in about a third of the time of a token-by-token
    pass); anything it does not expect hands the text to the token-by-token
    parser, whose error names the line and what was found.
    """
    stack: list[tuple[list[GmlItem], str, int]] = []
    current: list[GmlItem] = []
    line, last = 1, 0
    count = text.count
    for m in _PAIR.finditer(text):
        kind = m.lastgroup
        if kind == "end":
            break
        if kind == "bad":
            return _parse_slowly(text, path)
        begin = m.start("key") if kind != "close" else m.start("close")
        line += count("\n", last, begin)
        last = begin
        if kind == "close":
            if not stack:
                return _parse_slowly(text, path)
            parent, key, open_line = stack.pop()
            parent.append(GmlItem(key, current, open_line))
            current = parent
        elif kind == "open":
            stack.append((current, m.group("key"), line))
            current = []
        elif kind == "number":
            num = m.group("number")
            value: GmlValue = float(num) if ("." in num or "e" in num or "E" in num) else int(num)
            current.append(GmlItem(m.group("key"), value, line))
        else:
            current.append(GmlItem(m.group("key"), m.group("string"), line))
    if stack:
        return _parse_slowly(text, path)
    return current


# --- GML → graph ------------------------------------------------------------------


def _fields(item: GmlItem, path: str) -> dict[str, GmlItem]:
    assert isinstance(item.value, list)
    out: dict[str, GmlItem] = {}
    for sub in item.value:
        if sub.key in out:
            raise TopologyFileError(path, sub.line, f"{item.key} repeats key {sub.key!r}")
        out[sub.key] = sub
    return out


def _number(item: GmlItem, path: str, *, positive: bool = False) -> float:
    if isinstance(item.value, (int, float)):
        value = float(item.value)
    else:
        raise TopologyFileError(path, item.line, f"{item.key} must be a number, got {item.value!r}")
    if positive and value <= 0:
        raise TopologyFileError(path, item.line, f"{item.key} must be > 0, got {item.value!r}")
    return value


def _converted(
    item: GmlItem, path: str, parse: Callable[[str], float], *, allow_zero: bool = False
) -> float:
    if item.value == 0 and allow_zero:
        return 0.0
    if not isinstance(item.value, str):
        raise TopologyFileError(path, item.line,
                                f'{item.key} needs a unit: write it quoted, e.g. "25 ms"')
    try:
        value = parse(item.value)
    except ValueError as exc:
        raise TopologyFileError(path, item.line, f"{item.key}: {exc}") from None
    if value < 0 or (value == 0 and not allow_zero):
        raise TopologyFileError(path, item.line, f"{item.key} must be > 0, got {item.value!r}")
    return value


_NODE_BANDWIDTH = {"host_bandwidth_up": "bandwidth_up_bps",
                   "host_bandwidth_down": "bandwidth_down_bps"}


def _node_attrs(fields: dict[str, GmlItem], path: str) -> dict[str, object]:
    attrs: dict[str, object] = {}
    for key, item in fields.items():
        if key == "id":
            continue
        if key in _NODE_BANDWIDTH:
            attrs[_NODE_BANDWIDTH[key]] = _converted(item, path, parse_bandwidth_bps)
        elif key in ("bandwidth_up_bps", "bandwidth_down_bps", "bandwidth_bps"):
            attrs[key] = _number(item, path, positive=True)
        elif isinstance(item.value, list):
            raise TopologyFileError(path, item.line, f"node attribute {key!r} cannot be a list")
        else:
            attrs[key] = item.value
    if "bandwidth_up_bps" in attrs:
        attrs.setdefault("bandwidth_bps", attrs["bandwidth_up_bps"])
    return attrs


def _edge_attrs(fields: dict[str, GmlItem], path: str) -> dict[str, object]:
    attrs: dict[str, object] = {}
    for key, item in fields.items():
        if key in ("source", "target"):
            continue
        if key == "latency":
            attrs["latency_s"] = _converted(item, path, parse_duration_s)
        elif key == "latency_s":
            attrs["latency_s"] = _number(item, path, positive=True)
        elif key == "jitter":
            attrs["jitter_s"] = _converted(item, path, parse_duration_s, allow_zero=True)
        elif key == "bandwidth":
            attrs["bandwidth_bps"] = _converted(item, path, parse_bandwidth_bps)
        elif key == "bandwidth_bps":
            attrs["bandwidth_bps"] = _number(item, path, positive=True)
        elif key == "packet_loss":
            loss = _number(item, path)
            if not 0 <= loss <= 1:
                raise TopologyFileError(path, item.line,
                                        f"packet_loss must be in [0, 1], got {loss}")
            attrs["packet_loss"] = loss
        elif isinstance(item.value, list):
            raise TopologyFileError(path, item.line, f"edge attribute {key!r} cannot be a list")
        else:
            attrs[key] = item.value
    return attrs


def _node_id(fields: dict[str, GmlItem], owner: GmlItem, key: str, path: str) -> int:
    item = fields.get(key)
    if item is None:
        raise TopologyFileError(path, owner.line, f"{owner.key} has no {key}")
    if not isinstance(item.value, int):
        raise TopologyFileError(path, item.line,
                                f"{item.key} must be an integer, got {item.value!r}")
    return item.value


def gml_to_graph(text: str, path: str = "<gml>") -> nx.Graph:
    """Build a graph from GML text: ``nx.DiGraph`` for ``directed 1``, else ``nx.Graph``.

    Self-loops (Shadow needs one on every node hosts attach to) are not edges
    of the result; their attributes are in ``graph.graph["self_loops"]``.
    """
    top = [i for i in parse_gml_tree(text, path) if i.key == "graph"]
    if len(top) != 1 or not isinstance(top[0].value, list):
        raise TopologyFileError(path, top[1].line if len(top) > 1 else None,
                                "expected exactly one 'graph [ ... ]' block")
    directed = [i for i in top[0].value if i.key == "directed"]
    for item in directed:
        if item.value not in (0, 1):
            raise TopologyFileError(path, item.line,
                                    f"directed must be 0 or 1, got {item.value!r}")
    if len(directed) > 1:
        raise TopologyFileError(path, directed[1].line, "directed is given twice")
    graph: nx.Graph = nx.DiGraph() if directed and directed[0].value == 1 else nx.Graph()
    loops: dict[int, dict[str, object]] = {}
    edges: list[tuple[GmlItem, dict[str, GmlItem]]] = []
    for item in top[0].value:
        if item.key == "directed":
            continue
        elif item.key == "node" and isinstance(item.value, list):
            fields = _fields(item, path)
            node = _node_id(fields, item, "id", path)
            if node in graph:
                raise TopologyFileError(path, fields["id"].line, f"node id {node} is used twice")
            graph.add_node(node, **_node_attrs(fields, path))
        elif item.key == "edge" and isinstance(item.value, list):
            edges.append((item, _fields(item, path)))
        elif isinstance(item.value, list):
            raise TopologyFileError(path, item.line, f"unexpected block {item.key!r}")
        else:
            graph.graph[item.key] = item.value
    for item, fields in edges:
        u = _node_id(fields, item, "source", path)
        v = _node_id(fields, item, "target", path)
        for end in (u, v):
            if end not in graph:
                raise TopologyFileError(path, item.line, f"edge refers to undeclared node {end}")
        attrs = _edge_attrs(fields, path)
        if u == v:
            if u in loops:
                raise TopologyFileError(path, item.line, f"self-loop {u}-{u} is declared twice")
            loops[u] = attrs
            continue
        if graph.has_edge(u, v):
            arrow = "->" if graph.is_directed() else "-"
            raise TopologyFileError(path, item.line, f"edge {u}{arrow}{v} is declared twice")
        graph.add_edge(u, v, **attrs)
    if loops:
        graph.graph["self_loops"] = loops
    return graph


# --- edge lists -------------------------------------------------------------------


def _label(token: str) -> Hashable:
    try:
        return int(token)
    except ValueError:
        return token


def edgelist_to_graph(text: str, path: str = "<edgelist>") -> nx.Graph:
    """Build a graph from ``u v [latency_ms]`` lines."""
    graph = nx.Graph()
    for lineno, raw in enumerate(text.splitlines(), start=1):
        parts = raw.split("#", 1)[0].split()
        if not parts:
            continue
        if len(parts) > 3:
            raise TopologyFileError(path, lineno, f"expected 'u v [latency_ms]', got {len(parts)} "
                                    f"fields: {raw.strip()!r}")
        u = _label(parts[0])
        if len(parts) == 1:
            graph.add_node(u)
            continue
        v = _label(parts[1])
        if u == v:
            raise TopologyFileError(path, lineno, f"self-loop {u}-{v}")
        if graph.has_edge(u, v):
            raise TopologyFileError(path, lineno, f"edge {u}-{v} is listed twice")
        attrs: dict[str, float] = {}
        if len(parts) == 3:
            try:
                ms = float(parts[2])
            except ValueError:
                raise TopologyFileError(path, lineno,
                                        f"latency_ms must be a number, got {parts[2]!r}") from None
            if not ms > 0:
                raise TopologyFileError(path, lineno, f"latency_ms must be > 0, got {parts[2]}")
            attrs["latency_s"] = ms / 1000.0
        graph.add_edge(u, v, **attrs)
    if all(isinstance(n, int) for n in graph):
        ordered = nx.Graph()
        ordered.add_nodes_from(sorted(graph.nodes(data=True), key=lambda nd: nd[0]))
        ordered.add_edges_from(graph.edges(data=True))
        graph = ordered
    return graph


# --- entry point ------------------------------------------------------------------


def detect_format(path: Path, text: str) -> Literal["gml", "edgelist"]:
    if path.suffix.lower() == ".gml":
        return "gml"
    if path.suffix.lower() in (".txt", ".edges", ".edgelist", ".el", ".tsv"):
        return "edgelist"
    return "gml" if re.search(r"^\s*graph\s*\[", text, re.MULTILINE) else "edgelist"


MAX_FILE_BYTES = 512 * 2**20
"""Largest topology file read (512 MiB): the 1,200-node CAIDA GML is 1.7 MB; a
file hundreds of times larger is a wrong path, not a network."""
_ACCEPTED = "a GML ('graph [ ... ]') or edge-list ('u v [latency_ms]' lines) text file"


def read_topology_text(path: str | Path) -> str:
    """The file's text, or one :class:`TopologyFileError` saying why it is not a topology file."""
    path = Path(path)
    if path.is_dir():
        raise TopologyFileError(path, None, f"is a directory; accepted: {_ACCEPTED}")
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise TopologyFileError(path, None, f"is {size / 2**20:.0f} MiB, larger than the "
                                    f"{MAX_FILE_BYTES // 2**20} MiB accepted for a topology file")
        data = path.read_bytes()
    except OSError as exc:
        raise TopologyFileError(path, None, f"cannot read topology file: {exc.strerror}; accepted: "
                                f"an existing, readable {_ACCEPTED} (relative paths are from the "
                                "working directory)") from None
    nul = data.find(b"\0")
    if nul >= 0:
        raise TopologyFileError(path, None, f"is binary (a NUL byte at offset {nul}); "
                                f"accepted: {_ACCEPTED}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TopologyFileError(path, None, f"is not UTF-8 text (byte offset {exc.start}); "
                                f"accepted: {_ACCEPTED}") from None
    if not text.strip():
        raise TopologyFileError(path, None, f"is empty; accepted: {_ACCEPTED}")
    return text


def load_topology_file(path: str | Path, fmt: FileFormat = "auto") -> nx.Graph:
    """Read a GML or edge-list file; errors are :class:`TopologyFileError` naming file and line."""
    path = Path(path)
    text = read_topology_text(path)
    kind = detect_format(path, text) if fmt == "auto" else fmt
    graph = gml_to_graph(text, str(path)) if kind == "gml" else edgelist_to_graph(text, str(path))
    if graph.number_of_nodes() == 0:
        raise TopologyFileError(path, None, "the file declares no nodes")
    graph.graph["source_file"] = str(path)
    return graph


def connectivity(graph: nx.Graph, *, strong: bool = True) -> tuple[str, list[list[Hashable]]]:
    """(kind, parts) of a topology: its components, largest first; one part means connected.

    Undirected graphs: connected components (``kind == "connected"``).
    Directed graphs: *strongly* connected components when ``strong`` (a
    packet follows the edges' directions, so every node must reach every
    other one and back: Shadow's routing graph), else *weakly* connected ones
    (an edge u->v is one connection that carries traffic both ways: the
    links of a ``file`` topology).
    """
    if graph.is_directed():
        parts = (nx.strongly_connected_components(graph) if strong
                 else nx.weakly_connected_components(graph))
        kind = "strongly" if strong else "weakly"
    else:
        parts = nx.connected_components(graph)
        kind = "connected"
    ordered = sorted((sorted(p, key=repr) for p in parts), key=lambda p: (-len(p), repr(p[0])))
    return kind, ordered


def describe_disconnected(graph: nx.Graph, *, strong: bool = True) -> str | None:
    """None if the graph is connected (see :func:`connectivity`), else one line saying how not."""
    if graph.number_of_nodes() <= 1:
        return None
    kind, parts = connectivity(graph, strong=strong)
    if len(parts) == 1:
        return None
    small = parts[-1]
    shown = ", ".join(repr(n) for n in small[:4]) + (" ..." if len(small) > 4 else "")
    what = {"strongly": "is not strongly connected (directed edges: every node must reach every "
                        "other one and back)",
            "weakly": "is not weakly connected (directed edges taken as connections both ways)",
            "connected": "is not connected"}[kind]
    sizes = ", ".join(str(len(p)) for p in parts[:5]) + (" ..." if len(parts) > 5 else "")
    return (f"{what}: {len(parts)} parts of {sizes} nodes; e.g. {shown} cannot reach node "
            f"{parts[0][0]!r}")
