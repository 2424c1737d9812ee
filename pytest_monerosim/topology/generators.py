"""Built-in topology kinds and :func:`build_network`, which adds latency and bandwidth.

Every builder has the signature ``build(n, params, rng)`` and returns an
undirected ``networkx.Graph`` on nodes ``0..n-1`` (the ``file`` kind keeps the
file's node ids). Randomness comes only from ``rng``; networkx generators
accept a ``random.Random`` as their ``seed`` argument, so they draw from it too.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import networkx as nx
from pydantic import BaseModel, Field

from .files import FileFormat, describe_disconnected, load_topology_file
from .latency import BandwidthModel, LatencyModel
from .spec import Params, TopologySpec


def _need_nodes(kind: str, n: int, minimum: int = 1) -> None:
    if n < minimum:
        raise ValueError(f"topology {kind!r} needs at least {minimum} node(s); got n={n}")


# --- star / mesh / ring -----------------------------------------------------------


class StarParams(Params):
    center: int = Field(default=0, ge=0)


def build_star(n: int, params: StarParams, rng: random.Random) -> nx.Graph:
    _need_nodes("star", n)
    if params.center >= n:
        raise ValueError(f"star center={params.center} is not a node; nodes are 0..{n - 1}")
    graph = nx.empty_graph(n)
    graph.add_edges_from((params.center, v) for v in range(n) if v != params.center)
    return graph


class MeshParams(Params):
    pass


def build_mesh(n: int, params: MeshParams, rng: random.Random) -> nx.Graph:
    _need_nodes("mesh", n)
    return nx.complete_graph(n)


class RingParams(Params):
    k: int = Field(default=1, ge=1)
    """Neighbours on each side: every node has degree 2k."""


def build_ring(n: int, params: RingParams, rng: random.Random) -> nx.Graph:
    _need_nodes("ring", n, 3)
    if 2 * params.k > n - 1:
        raise ValueError(f"ring k={params.k} needs 2k <= n-1 (n={n}); use k <= {(n - 1) // 2} "
                         "or the 'mesh' topology")
    graph = nx.empty_graph(n)
    graph.add_edges_from((i, (i + j) % n) for i in range(n) for j in range(1, params.k + 1))
    return graph


# --- random_regular ---------------------------------------------------------------


class RandomRegularParams(Params):
    degree: int = Field(default=4, ge=1)
    connected: bool = True
    """Redraw (up to ``attempts`` times) until the graph is connected."""
    attempts: int = Field(default=100, ge=1)


def build_random_regular(n: int, params: RandomRegularParams, rng: random.Random) -> nx.Graph:
    _need_nodes("random_regular", n, 2)
    d = params.degree
    if d >= n:
        raise ValueError(f"random_regular degree={d} needs degree < n (n={n})")
    if n * d % 2:
        raise ValueError(f"random_regular needs n*degree even; n={n} and degree={d} give "
                         f"{n * d} edge ends (change n or degree by one)")
    for _ in range(params.attempts):
        graph = nx.Graph(nx.random_regular_graph(d, n, seed=rng))
        if not params.connected or nx.is_connected(graph):
            graph.add_nodes_from(range(n))
            return _ordered(graph)
    raise ValueError(f"random_regular degree={d}, n={n}: no connected graph in "
                     f"{params.attempts} attempts (degree >= 3 is almost always connected; "
                     "or set connected: false)")


# --- scale_free -------------------------------------------------------------------


class ScaleFreeParams(Params):
    m: int = Field(default=2, ge=1)
    """Edges each new node attaches with (preferential attachment)."""


def build_scale_free(n: int, params: ScaleFreeParams, rng: random.Random) -> nx.Graph:
    """Barabási–Albert graph: degree distribution P(k) ~ k^-3.

    Cao et al. (FC 2020) measured a power-law degree distribution in Monero's
    P2P network; preferential attachment is the standard way to get one.
    """
    _need_nodes("scale_free", n, 2)
    if params.m >= n:
        raise ValueError(f"scale_free m={params.m} needs m < n (n={n})")
    return _ordered(nx.Graph(nx.barabasi_albert_graph(n, params.m, seed=rng)))


# --- file -------------------------------------------------------------------------


class FileParams(Params):
    path: Path
    format: FileFormat = "auto"
    allow_disconnected: bool = False
    """A file whose nodes do not all reach each other is an error unless this says it is
    intended (directed files: weakly connected, since each link is a connection)."""


def build_file(n: int, params: FileParams, rng: random.Random) -> nx.Graph:
    """Load the file; ``n == 0`` takes the node count from it, otherwise it must match."""
    graph = load_topology_file(params.path, params.format)
    if n and graph.number_of_nodes() != n:
        raise ValueError(f"topology file {params.path} has {graph.number_of_nodes()} nodes but "
                         f"the scenario asks for {n}; accepted: a file with exactly one node per "
                         "scenario node")
    problem = None if params.allow_disconnected else describe_disconnected(graph, strong=False)
    if problem is not None:
        raise ValueError(f"topology file {params.path} {problem}; accepted: a connected graph, "
                         "or allow_disconnected: true if that is intended")
    return graph


# --- monero (dynamic) -------------------------------------------------------------


MAX_DEFAULT_SEEDS = 6


class MoneroParams(Params):
    seeds: int | list[int] | None = None
    """How many seed nodes (the first ids), or their ids. Default: min(6, max(1, n // 4))."""


def default_seed_count(n: int) -> int:
    return min(MAX_DEFAULT_SEEDS, max(1, n // 4))


def build_monero(n: int, params: MoneroParams, rng: random.Random) -> nx.Graph:
    """Nodes only: the simulator's P2P model (peer lists, handshakes) makes the links.

    ``graph.graph['seed_nodes']`` lists the hard-coded seed nodes new peers
    bootstrap from, as Monero's are compiled into ``net_node.inl``.
    """
    _need_nodes("monero", n)
    seeds = default_seed_count(n) if params.seeds is None else params.seeds
    if isinstance(seeds, int):
        if not 1 <= seeds <= n:
            raise ValueError(f"monero seeds={seeds} must be between 1 and n={n}")
        seed_nodes = list(range(seeds))
    else:
        bad = [s for s in seeds if not 0 <= s < n]
        if bad or not seeds or len(set(seeds)) != len(seeds):
            raise ValueError(f"monero seeds={seeds} must be distinct node ids in 0..{n - 1}")
        seed_nodes = list(seeds)
    graph = nx.empty_graph(n)
    graph.graph.update(seed_nodes=seed_nodes, dynamic=True)
    return graph


def _ordered(graph: nx.Graph) -> nx.Graph:
    """Same graph with nodes and each adjacency in sorted order (stable iteration)."""
    out = nx.Graph()
    out.graph.update(graph.graph)
    out.add_nodes_from(sorted(graph.nodes(data=True)))
    out.add_edges_from(sorted((min(u, v), max(u, v), d) for u, v, d in graph.edges(data=True)))
    return out


BUILTIN_TOPOLOGIES: dict[str, TopologySpec[Any]] = {
    spec.name: spec
    for spec in (
        TopologySpec("star", StarParams, build_star, "every node linked to one center"),
        TopologySpec("mesh", MeshParams, build_mesh, "complete graph: every pair linked"),
        TopologySpec("ring", RingParams, build_ring, "ring, each node linked to k neighbours "
                     "on each side"),
        TopologySpec("random_regular", RandomRegularParams, build_random_regular,
                     "random graph where every node has the same degree"),
        TopologySpec("scale_free", ScaleFreeParams, build_scale_free,
                     "Barabási–Albert preferential attachment (power-law degrees)"),
        TopologySpec("file", FileParams, build_file, "GML (Shadow style) or edge-list file"),
        TopologySpec("monero", MoneroParams, build_monero, "nodes and seed nodes only; the "
                     "P2P model connects them (dynamic)"),
    )
}


def build_network(
    kind: str,
    n: int,
    params: Mapping[str, Any] | BaseModel | None,
    rng: random.Random,
    *,
    latency: LatencyModel | None = None,
    bandwidth: BandwidthModel | None = None,
    registry: Mapping[str, TopologySpec[Any]] = BUILTIN_TOPOLOGIES,
) -> nx.Graph:
    """Build topology ``kind`` and fill in regions, latencies and bandwidths.

    Values already present (from a file, or set by the caller) are kept.
    """
    try:
        spec = registry[kind]
    except KeyError:
        raise ValueError(f"unknown topology {kind!r}; known: {', '.join(sorted(registry))}") \
            from None
    graph = spec.generate(n, params, rng)
    if latency is not None:
        latency.apply(graph)
    if bandwidth is not None:
        bandwidth.apply(graph)
    return graph
