"""The existing Monerosim's GML network (``network.path``) as a ``regions`` latency model.

Upstream attaches each host to a node of an AS-level GML graph and lets Shadow
route packets along the fastest path; a ``directed 1`` graph (the CAIDA files
it ships) routes each direction on its own edges, so a link may be slower one
way than the other. Here a GML node (or, above :data:`MAX_GML_REGIONS` nodes,
a GML ``region``) becomes a region of the ``regions`` latency model, the
region matrix holds the shortest-path latency between them (one-way, per
direction when the graph makes them differ: ``directed: true``), and the
latency within a node is its self-loop's.

Path resolution follows upstream: its generator opens ``network.path`` as
given, i.e. relative to the working directory it runs in (the repository
root); when that finds nothing, the config's own folder is tried.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

from ..config.errors import ScenarioError
from .model import LegacyGmlNetwork

__all__ = ["MAX_GML_REGIONS", "gml_network", "resolve_network_path", "shortest_path_matrix"]

MAX_GML_REGIONS = 64
"""Above this many GML nodes, regions are the nodes' ``region`` attributes, not the nodes."""
SWITCH_LATENCY_S = 0.001
UPSTREAM_HOST_BANDWIDTH_BPS = 1e9
"""Upstream gives every host 1 Gbit/s up and down (``DEFAULT_BANDWIDTH_BPS``, src/lib.rs)."""

Warn = Callable[[str, str], None]


def resolve_network_path(
    raw: str, config_file: str | Path | None, base_dir: str | Path | None = None
) -> tuple[Path, str]:
    """(the GML file, how it was found) for a legacy ``network.path``.

    ``base_dir`` given: relative paths are resolved against it alone. Otherwise
    the working directory first (where upstream's generator resolves it), then
    the config file's folder. When neither has the file, the path returned is
    the working directory's (its error names it) and ``how`` lists both tries.
    """
    path = Path(raw).expanduser()
    if path.is_absolute():
        return path, "an absolute path"
    if base_dir is not None:
        return Path(base_dir) / path, f"relative to --base-dir {base_dir}"
    cwd = Path.cwd() / path
    if cwd.exists():
        return cwd, f"relative to the working directory {Path.cwd()} (as upstream resolves it)"
    if config_file is not None:
        beside = Path(config_file).parent / path
        if beside.exists():
            return beside, f"relative to the config's folder {Path(config_file).parent}"
        return cwd, (f"tried the working directory {Path.cwd()} and the config's folder "
                     f"{Path(config_file).parent}; run from the upstream checkout or pass --base-dir")
    return cwd, f"tried the working directory {Path.cwd()}"


def _self_loop(graph: nx.Graph, node: Any) -> float:
    loop = graph.graph.get("self_loops", {}).get(node, {})
    return float(loop.get("latency_s", SWITCH_LATENCY_S))


def shortest_path_matrix(graph: nx.Graph, nodes: list[Any]) -> np.ndarray:
    """One-way latency (s) from ``nodes[i]`` to ``nodes[j]`` along the fastest path.

    Directed graphs follow edge directions (Shadow's routing); the diagonal is
    each node's self-loop latency. Unreachable pairs are ``inf``. Uses SciPy's
    compiled Dijkstra when it is installed (0.2 s for the 1,200-node CAIDA
    graph), networkx otherwise.
    """
    index = {n: i for i, n in enumerate(graph.nodes)}
    rows = [index[n] for n in nodes]
    try:
        from scipy.sparse import csr_matrix
        from scipy.sparse.csgraph import dijkstra
    except ImportError:  # scipy is in the test extra, not a runtime dependency
        out = np.full((len(nodes), len(graph)), np.inf)
        for r, n in enumerate(nodes):
            for m, d in nx.single_source_dijkstra_path_length(graph, n, weight="latency_s").items():
                out[r, index[m]] = d
    else:
        src, dst, lat = [], [], []
        for u, v, d in graph.edges(data="latency_s"):
            src.append(index[u])
            dst.append(index[v])
            lat.append(float(d) if d is not None else SWITCH_LATENCY_S)
        matrix = csr_matrix((lat, (src, dst)), shape=(len(graph), len(graph)))
        out = dijkstra(matrix, directed=graph.is_directed(), indices=rows)
    out = np.asarray(out)[:, rows]
    for r, n in enumerate(nodes):
        out[r, r] = _self_loop(graph, n)
    return out


def path_loss_matrix(graph: nx.Graph, nodes: list[Any]) -> np.ndarray:
    """Share of packets lost from ``nodes[i]`` to ``nodes[j]`` along the fastest path.

    A packet survives a path if it survives every edge: 1 - prod(1 - loss). The
    diagonal is the node's self-loop loss. (Where several paths are equally
    fast, Shadow may route along another one.)
    """
    keep = np.ones((len(nodes), len(nodes)))
    for r, source in enumerate(nodes):
        pred, dist = nx.dijkstra_predecessor_and_distance(graph, source, weight="latency_s")
        survive = {source: 1.0}
        for node in sorted(dist, key=dist.__getitem__):
            if node == source:
                continue
            p = pred[node][0]
            survive[node] = survive[p] * (1.0 - float(graph.edges[p, node].get("packet_loss", 0.0)))
        for c, target in enumerate(nodes):
            keep[r, c] = survive.get(target, 1.0)
    out = 1.0 - keep
    loops = graph.graph.get("self_loops", {})
    for r, n in enumerate(nodes):
        out[r, r] = float(loops.get(n, {}).get("packet_loss", 0.0))
    return out


def gml_network(net: LegacyGmlNetwork, path: Path, how: str, warn: Warn, note: Warn,
                source: str | None) -> dict[str, Any]:
    """The ``network`` section (latency model, bandwidth) for a legacy GML network."""
    from ..topology.files import TopologyFileError, load_topology_file

    try:
        graph = load_topology_file(path, "gml")
    except TopologyFileError as exc:
        raise ScenarioError(f"cannot use the GML network {net.path!r} ({how}): {exc}",
                            source=source, path="network.path") from None
    note("network.path", f"{net.path} -> {path} ({how})")
    weights = placement_weights(graph, net, warn)
    kept = [n for n, w in weights.items() if w > 0]
    lengths = shortest_path_matrix(graph, kept)
    _check_reachable(lengths, kept, graph, path, source)
    asymmetric = bool(graph.is_directed() and not np.allclose(lengths, lengths.T, rtol=0, atol=1e-9))
    if len(graph) <= MAX_GML_REGIONS:
        names = _region_names(graph)
        regions = [{"name": names[n], "weight": weights[n]} for n in kept]
        matrix: dict[str, dict[str, float]] = {}
        for i, a in enumerate(kept):
            cols = range(len(kept)) if asymmetric else range(i, len(kept))
            matrix[names[a]] = {names[kept[j]]: _ms(lengths[i, j]) for j in cols}
    else:
        regions, matrix = _coarse_regions(graph, lengths, kept, weights, asymmetric, warn)
    if graph.is_directed():
        note("network.path", f"directed GML: {'asymmetric' if asymmetric else 'symmetric'} "
                             "shortest-path latencies"
                             + (" (regions latency with directed: true)" if asymmetric else ""))
    lossy = [(u, v) for u, v, d in graph.edges(data=True) if d.get("packet_loss", 0.0) > 0]
    lossy += [(n, n) for n, d in graph.graph.get("self_loops", {}).items()
              if d.get("packet_loss", 0.0) > 0]
    loss_table: dict[str, dict[str, float]] = {}
    if lossy:
        loss = path_loss_matrix(graph, kept)
        if len(graph) <= MAX_GML_REGIONS:
            names = _region_names(graph)
            groups = {names[n]: [i] for i, n in enumerate(kept)}
        else:
            groups = _members(graph, kept)
        for a, rows in groups.items():
            for b, members in groups.items():
                value = round(float(loss[np.ix_(rows, members)].mean()), 9)
                if value > 0:
                    loss_table.setdefault(a, {})[b] = value
        warn("network.path", f"packet_loss on {len(lossy)} GML edge(s) becomes the regions' "
                             "packet_loss (loss along each fastest path, per direction): written "
                             "for Shadow; the embedded simulator does not model loss")
    bandwidth = _weighted_median(
        [(float(graph.nodes[n].get("bandwidth_up_bps", UPSTREAM_HOST_BANDWIDTH_BPS)), weights[n])
         for n in kept])
    ups = {graph.nodes[n].get("bandwidth_up_bps") for n in graph}
    downs = {graph.nodes[n].get("bandwidth_down_bps") for n in graph}
    if len(ups | downs) > 1:
        warn("network.path", f"GML nodes have different host bandwidths; every node gets "
                             f"{bandwidth / 1e6:g} Mbit/s (the placement-weighted median upload)")
    if net.distribution is not None and net.distribution.strategy == "Sequential":
        warn("network.distribution.strategy",
             "Sequential fills GML nodes in order; here nodes are dealt to them in proportion "
             "(equal weights), not in agent order")
    warn("network.path", f"{path.name}: hosts attach to GML nodes as regions of a 'regions' "
                         "latency model (shortest-path latencies); which agent lands on which GML "
                         "node may differ from upstream, the proportions do not")
    latency: dict[str, Any] = {"name": "regions", "regions": regions, "latency_s": matrix,
                               "intra_s": _ms(float(min(lengths[i, i] for i in range(len(kept)))))}
    if asymmetric or (loss_table and graph.is_directed()):
        latency["directed"] = True
    if loss_table:
        latency["packet_loss"] = loss_table
    return {"latency": latency, "bandwidth_bps": bandwidth}


def _check_reachable(lengths: np.ndarray, kept: list[Any], graph: nx.Graph, path: Path,
                     source: str | None) -> None:
    bad = np.argwhere(~np.isfinite(lengths))
    if len(bad):
        i, j = (int(x) for x in bad[0])
        how = " along its directed edges" if graph.is_directed() else ""
        raise ScenarioError(
            f"GML file {path}: node {kept[j]} cannot be reached from node {kept[i]}{how} "
            f"({len(bad)} unreachable pair(s)); accepted: a graph where every node hosts attach "
            f"to reaches every other one (Shadow routes between every pair of hosts)",
            source=source, path="network.path")


def placement_weights(graph: nx.Graph, net: LegacyGmlNetwork, warn: Warn) -> dict[Any, float]:
    dist = net.distribution
    nodes = list(graph.nodes)
    if dist is None or dist.strategy != "Weighted" or dist.weights is None:
        return dict.fromkeys(nodes, 1.0)
    wanted = {k: v for k, v in dist.weights.model_dump().items() if v}
    by_region: dict[str, list[Any]] = {}
    for n in nodes:
        region = graph.nodes[n].get("region")
        if isinstance(region, str):
            by_region.setdefault(region, []).append(n)
    missing = sorted(set(wanted) - set(by_region))
    if missing:
        warn("network.distribution.weights",
             f"no GML node has region {', '.join(missing)}; those weights are dropped")
    weights = dict.fromkeys(nodes, 0.0)
    for region, share in wanted.items():
        for n in by_region.get(region, []):
            weights[n] = share / len(by_region[region])
    if not any(weights.values()):
        warn("network.distribution", "no GML node matches the weights; nodes are spread evenly")
        return dict.fromkeys(nodes, 1.0)
    return weights


def _coarse_regions(
    graph: nx.Graph, lengths: np.ndarray, kept: list[Any], weights: Mapping[Any, float],
    asymmetric: bool, warn: Warn,
) -> tuple[list[dict[str, Any]], dict[str, dict[str, float]]]:
    """Large graphs: one region per ``region`` attribute, mean latencies between them."""
    members = _members(graph, kept)
    warn("network.path",
         f"{len(graph)} GML nodes are more than {MAX_GML_REGIONS}; latencies are averaged "
         f"over {len(members)} region(s) ({', '.join(sorted(members))})")
    names = sorted(members)
    regions = [{"name": r, "weight": sum(weights[kept[i]] for i in members[r])} for r in names]
    matrix: dict[str, dict[str, float]] = {}
    for i, a in enumerate(names):
        matrix[a] = {}
        for b in (names if asymmetric else names[i:]):
            block = lengths[np.ix_(members[a], members[b])]
            matrix[a][b] = _ms(float(block.mean()))
    return regions, matrix


def _members(graph: nx.Graph, kept: list[Any]) -> dict[str, list[int]]:
    """GML ``region`` -> indexes into ``kept`` of its nodes ("internet" for nodes without one)."""
    members: dict[str, list[int]] = {}
    for i, n in enumerate(kept):
        region = graph.nodes[n].get("region")
        members.setdefault(region if isinstance(region, str) else "internet", []).append(i)
    return members


def _region_names(graph: nx.Graph) -> dict[Any, str]:
    labels = [graph.nodes[n].get("label") for n in graph]
    if all(isinstance(x, str) and x for x in labels) and len(set(labels)) == len(labels):
        return {n: str(graph.nodes[n]["label"]) for n in graph}
    return {n: f"node{n}" for n in graph}


def _weighted_median(values: list[tuple[float, float]]) -> float:
    ordered = sorted(values)
    total = sum(w for _, w in ordered)
    acc = 0.0
    for value, weight in ordered:
        acc += weight
        if acc >= total / 2:
            return value
    return ordered[-1][0]


def _ms(seconds: float) -> float:
    """Seconds rounded to the microsecond (sums of GML latencies carry float noise)."""
    return round(float(seconds), 6)
