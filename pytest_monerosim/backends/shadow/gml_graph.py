"""networkx graphs to and from Shadow's GML (the writing and reading side of :mod:`.gml`).

Attribute conventions of the networkx side (numbers in project units):
node ``bandwidth_down_bps``/``bandwidth_up_bps`` (or ``bandwidth_bps`` for
both), edge ``latency_s``, ``jitter_s`` and ``packet_loss``. Shadow strings
(``host_bandwidth_down``, ``latency``, ``jitter``) are accepted as well.
"""

from __future__ import annotations

import html
import math
from collections.abc import Hashable, Iterable, Mapping
from decimal import Decimal
from typing import Any

import networkx as nx

from ...shadow_units import format_bandwidth, format_time, parse_bandwidth, parse_time_ns
from .gml import (
    _I32_MAX,
    _KEY,
    GmlError,
    GmlIssue,
    GmlSyntaxError,
    GmlValue,
    _edge_counts,
    parse_shadow_gml,
    validate_gml_document,
)

__all__ = ["gml_node_ids", "read_gml", "write_gml"]


# --------------------------------------------------------------------------- writing

_NODE_RESERVED = {
    "id",
    "label",
    "host_bandwidth_down",
    "host_bandwidth_up",
    "bandwidth_down_bps",
    "bandwidth_up_bps",
    "bandwidth_bps",
}
_EDGE_RESERVED = {
    "source",
    "target",
    "latency",
    "latency_s",
    "jitter",
    "jitter_s",
    "packet_loss",
}


def gml_node_ids(graph: nx.Graph) -> dict[Hashable, int]:
    """The GML id of every node: the node itself when all are ints in [0, 2^31), else 0..n-1."""
    nodes = list(graph.nodes)
    if all(isinstance(n, int) and not isinstance(n, bool) and 0 <= n <= _I32_MAX for n in nodes):
        return {n: n for n in nodes}
    return {n: i for i, n in enumerate(nodes)}


def _gml_string(text: str) -> str:
    """A string both Shadow and networkx read back: quotes, '&' and non-ASCII as entities."""
    out = []
    for ch in text:
        if ch == '"' or ch == "&" or ord(ch) > 126 or (ord(ch) < 32 and ch != "\t"):
            out.append(f"&#{ord(ch)};")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _gml_float(value: float) -> str:
    text = format(Decimal(repr(float(value))), "f")
    return text if "." in text else text + ".0"


def _scalar(value: Any) -> str | None:
    """GML text for an extra attribute, or None when it has no faithful GML form."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value) if 0 <= value <= _I32_MAX else None
    if isinstance(value, float):
        return _gml_float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        return _gml_string(value)
    return None


def _node_bandwidth(
    node: Hashable, data: Mapping[str, Any], side: str, default_bps: float | None
) -> str:
    text = data.get(f"host_bandwidth_{side}")
    if text is not None:
        parse_bandwidth(text)
        return str(text)
    bps = data.get(f"bandwidth_{side}_bps", data.get("bandwidth_bps", default_bps))
    if bps is None:
        raise ValueError(
            f"node {node!r} has no bandwidth: set bandwidth_{side}_bps (bits/s), "
            f'host_bandwidth_{side} ("100 Mbit") or pass default_bandwidth_bps'
        )
    return format_bandwidth(bps)


def _edge_latency(
    edge: tuple[Hashable, Hashable], data: Mapping[str, Any], default_s: float | None
) -> str:
    text = data.get("latency")
    if text is None:
        seconds = data.get("latency_s", default_s)
        if seconds is None:
            raise ValueError(
                f"edge {edge!r} has no latency: set latency_s (seconds) or pass default_latency_s"
            )
        text = format_time(seconds)
    if parse_time_ns(text) == 0:
        raise ValueError(f"edge {edge!r} has zero latency; Shadow needs a non-zero latency")
    return str(text)


def _extras(data: Mapping[str, Any], reserved: set[str]) -> list[str]:
    lines = []
    for key, value in data.items():
        text = _scalar(value)
        if key not in reserved and text is not None and _KEY.fullmatch(key):
            lines.append(f"    {key} {text}")
    return lines


def write_gml(
    graph: nx.Graph,
    *,
    attach: Iterable[Hashable] | None = None,
    default_bandwidth_bps: float | None = None,
    default_latency_s: float | None = None,
    self_loop_latency_s: float = 0.001,
) -> str:
    """``graph`` as Shadow-legal GML text (see the module docstring for attributes).

    A self-loop (``self_loop_latency_s``, no loss) is added to every node in
    ``attach`` (default: every node) that has none. Node ids come from
    :func:`gml_node_ids`; non-integer node names are kept as ``label``.
    Other scalar attributes are written as they are. Raises ``ValueError``
    naming the node or edge whose bandwidth or latency is missing or illegal.
    """
    if graph.is_multigraph():
        raise ValueError("multigraphs are not supported: Shadow needs one edge per pair")
    ids = gml_node_ids(graph)
    out = ["graph [", f"  directed {1 if graph.is_directed() else 0}"]
    for node, data in graph.nodes(data=True):
        out += ["  node [", f"    id {ids[node]}"]
        if ids[node] != node:
            out.append(f"    label {_gml_string(str(node))}")
        for side in ("down", "up"):
            bandwidth = _node_bandwidth(node, data, side, default_bandwidth_bps)
            out.append(f'    host_bandwidth_{side} "{bandwidth}"')
        out += _extras(data, _NODE_RESERVED) + ["  ]"]
    edges = [(u, v, data) for u, v, data in graph.edges(data=True)]
    looped = {u for u, v, _ in edges if u == v}
    for node in graph.nodes if attach is None else attach:
        if node not in graph:
            raise ValueError(f"cannot attach to {node!r}: it is not a node of the graph")
        if node not in looped:
            edges.append((node, node, {"latency_s": self_loop_latency_s}))
            looped.add(node)
    for u, v, data in edges:
        out += ["  edge [", f"    source {ids[u]}", f"    target {ids[v]}"]
        out.append(f'    latency "{_edge_latency((u, v), data, default_latency_s)}"')
        jitter = data.get("jitter", None)
        if jitter is None and data.get("jitter_s") is not None:
            jitter = format_time(data["jitter_s"])
        if jitter is not None:
            parse_time_ns(jitter)
            out.append(f'    jitter "{jitter}"')
        loss = float(data.get("packet_loss", 0.0))
        if not 0.0 <= loss <= 1.0:
            raise ValueError(f"edge {(u, v)!r} has packet_loss {loss}, outside [0, 1]")
        out.append(f"    packet_loss {_gml_float(loss)}")
        out += _extras(data, _EDGE_RESERVED) + ["  ]"]
    out.append("]")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- reading


def _unescaped(attrs: Mapping[str, GmlValue]) -> dict[str, GmlValue]:
    """Undo :func:`_gml_string`'s character entities (Shadow itself keeps them verbatim)."""
    return {k: html.unescape(v) if isinstance(v, str) else v for k, v in attrs.items()}


def read_gml(text: str, *, attached: Iterable[int] | None = None) -> nx.Graph:
    """Shadow GML text back into networkx, after checking every rule.

    Nodes are keyed by their GML id. Besides the raw GML attributes, nodes get
    ``bandwidth_down_bps``/``bandwidth_up_bps`` and edges ``latency_s``,
    ``jitter_s`` (when given) and ``packet_loss`` as numbers. Raises
    :class:`GmlError` listing every broken rule.
    """
    try:
        doc = parse_shadow_gml(text)
    except GmlSyntaxError as exc:
        raise GmlError([GmlIssue("graph", "syntax", exc.message, exc.line)]) from None
    issues = validate_gml_document(doc, attached=attached, require_bandwidth=False)
    counts = _edge_counts(doc)
    for (src, dst), count in counts.items():
        if count > 1 and src != dst:
            issues.append(
                GmlIssue(
                    f"nodes {src} and {dst}",
                    "parallel-edges",
                    f"{count} edges connect them; read_gml builds a simple graph",
                )
            )
    if issues:
        raise GmlError(issues)
    graph: nx.Graph = nx.DiGraph() if doc.directed else nx.Graph()
    graph.graph.update(_unescaped(doc.attrs))
    for node in doc.nodes:
        attrs: dict[str, Any] = {k: v for k, v in _unescaped(node.attrs).items() if k != "id"}
        for side in ("down", "up"):
            if f"host_bandwidth_{side}" in attrs:
                attrs[f"bandwidth_{side}_bps"] = parse_bandwidth(attrs[f"host_bandwidth_{side}"])
        graph.add_node(node.attrs["id"], **attrs)
    for edge in doc.edges:
        attrs = {k: v for k, v in _unescaped(edge.attrs).items() if k not in ("source", "target")}
        attrs["latency_s"] = parse_time_ns(attrs["latency"]) / 1e9
        if "jitter" in attrs:
            attrs["jitter_s"] = parse_time_ns(attrs["jitter"]) / 1e9
        attrs.setdefault("packet_loss", 0.0)
        graph.add_edge(edge.attrs["source"], edge.attrs["target"], **attrs)
    return graph
