"""Connectivity checks on the peer graph the run produced."""

from __future__ import annotations

from typing import Any

import networkx as nx

from ..result.model import Result
from ._common import as_result, listing
from .observed import observed


def peer_graph(run: Any, at: float | None = None, directed: bool = False) -> nx.Graph:
    """The connection graph from the snapshot nearest ``at`` (default: the last one)."""
    result = as_result(run)
    if not result.peer_snapshots:
        raise AssertionError("the run recorded no peer-graph snapshot")
    snaps = result.peer_snapshots
    snap = snaps[-1] if at is None else min(snaps, key=lambda s: abs(s.time - at))
    g: nx.Graph = nx.DiGraph() if directed else nx.Graph()
    g.add_nodes_from(result.nodes)
    g.add_edges_from(snap.edges)
    return g


@observed
def connected(run: Any, at: float | None = None) -> None:
    """The honest nodes form one connected component."""
    _require_connected(as_result(run), at)


def _require_connected(result: Result, at: float | None) -> None:
    g = peer_graph(result, at).subgraph(result.honest_nodes())
    parts = sorted(nx.connected_components(g), key=len, reverse=True)
    if len(parts) > 1:
        raise AssertionError(
            f"the honest peer graph has {len(parts)} components (sizes {[len(p) for p in parts[:6]]}); "
            f"cut off from the largest: {listing(sorted(set().union(*parts[1:])))}"
        )


@observed
def no_isolated_nodes(run: Any, at: float | None = None) -> None:
    result = as_result(run)
    g = peer_graph(result, at)
    lonely = sorted(n for n in result.honest_nodes() if g.degree(n) == 0)
    if lonely:
        raise AssertionError(f"{len(lonely)} honest node(s) have no connection: {listing(lonely)}")


@observed
def degree_bounds(
    run: Any, min_out: int | None = None, max_out: int | None = None, max_in: int | None = None,
    at: float | None = None,
) -> None:
    """Outgoing/incoming connection counts per honest node within bounds."""
    result = as_result(run)
    g = peer_graph(result, at, directed=True)
    problems: list[str] = []
    for n in result.honest_nodes():
        out_d, in_d = g.out_degree(n), g.in_degree(n)
        if min_out is not None and out_d < min_out:
            problems.append(f"{n} out={out_d}<{min_out}")
        if max_out is not None and out_d > max_out:
            problems.append(f"{n} out={out_d}>{max_out}")
        if max_in is not None and in_d > max_in:
            problems.append(f"{n} in={in_d}>{max_in}")
    if problems:
        raise AssertionError(f"{len(problems)} degree violation(s): {listing(problems)}")


@observed
def diameter_at_most(run: Any, hops: int, at: float | None = None) -> int:
    result = as_result(run)
    g = peer_graph(result, at).subgraph(result.honest_nodes())
    if not nx.is_connected(g):
        _require_connected(result, at)  # its diagnosis, not a second reported check
    d = nx.diameter(g)
    if d > hops:
        raise AssertionError(f"peer graph diameter is {d} hops, bound {hops}")
    return int(d)
