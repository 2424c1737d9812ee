"""Link models: one-way latency between any two nodes, and node bandwidth.

Dynamic topologies (the ``monero`` kind) connect pairs nobody knew about when
the graph was built, so a latency model must answer ``latency(u, v)`` for any
pair. Storing a value per pair would cost O(n²) memory (10⁸ entries at 10,000
nodes); instead every pair's random draw is *derived* by hashing
``(seed, tag, pair)``. The answer is symmetric (the pair is put in a canonical
order first), deterministic across processes (``blake2b``, not ``hash()``,
whose string hashing is salted per process) and O(1) in time and memory.
"""

from __future__ import annotations

import math
import random
from abc import ABC, abstractmethod
from collections.abc import Hashable, Sequence
from hashlib import blake2b
from statistics import NormalDist

import networkx as nx
from pydantic import Field, model_validator

from .spec import LatencySpec, Params

_TWO_64 = float(2**64)
_STD_NORMAL = NormalDist()


def _canonical(node: Hashable) -> str:
    return repr(node)


def hashed_unit(seed: int, tag: str, *keys: Hashable) -> float:
    """A uniform draw in the open interval (0, 1) fixed by ``(seed, tag, keys)``."""
    text = "\x1f".join([str(seed), tag, *(_canonical(k) for k in keys)])
    value = int.from_bytes(blake2b(text.encode(), digest_size=8).digest(), "big")
    return (value + 0.5) / _TWO_64


def pair_unit(seed: int, tag: str, u: Hashable, v: Hashable) -> float:
    """Like :func:`hashed_unit` for an unordered pair: ``pair_unit(s, t, u, v) == (.., v, u)``."""
    a, b = _canonical(u), _canonical(v)
    return hashed_unit(seed, tag, *((a, b) if a <= b else (b, a)))


def weighted_pick(weights: Sequence[float], unit: float) -> int:
    """Index chosen with probability proportional to ``weights`` from one uniform draw."""
    target = unit * sum(weights)
    acc = 0.0
    for i, w in enumerate(weights):
        acc += w
        if target < acc:
            return i
    return len(weights) - 1


def quota_labels(
    labels: Sequence[str], weights: Sequence[float], count: int, rng: random.Random
) -> list[str]:
    """``count`` labels in proportion to ``weights`` (largest-remainder rounding), shuffled.

    Exact quotas rather than independent draws: with 10 nodes and weights
    0.5/0.5 every run gets 5 and 5, not sometimes 8 and 2.
    """
    total = sum(weights)
    shares = [w / total * count for w in weights]
    counts = [math.floor(s) for s in shares]
    by_remainder = sorted(range(len(labels)), key=lambda i: (-(shares[i] - counts[i]), i))
    for i in by_remainder[: count - sum(counts)]:
        counts[i] += 1
    out = [label for label, c in zip(labels, counts, strict=True) for _ in range(c)]
    rng.shuffle(out)
    return out


class LatencyModel(ABC):
    """One-way latency in seconds for any node pair; deterministic, symmetric unless
    :attr:`asymmetric` (then ``latency(u, v)`` is the direction u -> v)."""

    name: str = "latency"
    asymmetric: bool = False
    """True when ``latency(u, v)`` may differ from ``latency(v, u)`` (directed GML routes)."""

    @abstractmethod
    def latency(self, u: Hashable, v: Hashable) -> float:
        """One-way latency (seconds, > 0) between ``u`` and ``v``."""

    def region_of(self, node: Hashable) -> str | None:
        """The node's region, for models that have regions."""
        return None

    def assign_regions(self, graph: nx.Graph) -> None:
        """Give graph nodes a ``region`` attribute (no-op for region-less models)."""
        return None

    def apply(self, graph: nx.Graph, *, overwrite: bool = False) -> nx.Graph:
        """Fill ``region`` on nodes and ``latency_s`` on edges; returns ``graph``.

        Edges that already carry ``latency_s`` (say, from a GML file) keep it
        unless ``overwrite``.
        """
        self.assign_regions(graph)
        for u, v, data in graph.edges(data=True):
            if overwrite or "latency_s" not in data:
                data["latency_s"] = self.latency(u, v)
        return graph


# --- constant ---------------------------------------------------------------------


class ConstantParams(Params):
    latency_s: float = Field(default=0.05, gt=0)


class ConstantLatency(LatencyModel):
    name = "constant"

    def __init__(self, params: ConstantParams) -> None:
        self.value = params.latency_s

    def latency(self, u: Hashable, v: Hashable) -> float:
        return self.value


# --- uniform ----------------------------------------------------------------------


class UniformParams(Params):
    low: float = Field(gt=0)
    high: float = Field(gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> UniformParams:
        if self.high < self.low:
            raise ValueError(f"high={self.high} must be >= low={self.low}")
        return self


class UniformLatency(LatencyModel):
    name = "uniform"

    def __init__(self, params: UniformParams, seed: int) -> None:
        self.low, self.high, self.seed = params.low, params.high, seed

    def latency(self, u: Hashable, v: Hashable) -> float:
        return self.low + (self.high - self.low) * pair_unit(self.seed, "latency", u, v)


# --- lognormal --------------------------------------------------------------------


class LognormalParams(Params):
    median_s: float = Field(gt=0)
    sigma: float = Field(default=0.5, ge=0)
    """Standard deviation of ln(latency); 0 makes every latency the median."""


class LognormalLatency(LatencyModel):
    name = "lognormal"

    def __init__(self, params: LognormalParams, seed: int) -> None:
        self.median, self.sigma, self.seed = params.median_s, params.sigma, seed

    def latency(self, u: Hashable, v: Hashable) -> float:
        z = _STD_NORMAL.inv_cdf(pair_unit(self.seed, "latency", u, v))
        return self.median * math.exp(self.sigma * z)


# --- regions ----------------------------------------------------------------------


class Region(Params):
    name: str = Field(min_length=1)
    weight: float = Field(default=1.0, gt=0)
    """Relative share of nodes placed in this region."""


class RegionsParams(Params):
    """Regions with weights, one-way latencies between them, and within them.

    ``latency_s`` is a symmetric matrix written as a nested mapping; each
    unordered pair of distinct regions must appear once (either order) or twice
    with the same value. A diagonal entry ``latency_s[r][r]`` overrides
    ``intra_s`` for region ``r``. ``jitter`` spreads each pair's latency
    uniformly over ±jitter of the region figure.

    ``directed: true`` makes the matrix one-way (asymmetric links, as on a
    directed GML graph): ``latency_s[a][b]`` is the latency from ``a`` to
    ``b``; a pair given in one direction only is the same both ways.

    ``packet_loss[a][b]`` is the share of packets lost from ``a`` to ``b``
    (one way, as on a directed GML path; absent = 0). The Shadow backend
    writes it on its graph's edges; the embedded simulator does not model
    loss (its messages are TCP streams and it models no retransmissions).
    """

    regions: list[Region] = Field(min_length=1)
    latency_s: dict[str, dict[str, float]] = Field(default_factory=dict)
    intra_s: float = Field(default=0.005, gt=0)
    jitter: float = Field(default=0.0, ge=0, lt=1)
    directed: bool = False
    packet_loss: dict[str, dict[str, float]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _matrix_complete(self) -> RegionsParams:
        names = [r.name for r in self.regions]
        if len(set(names)) != len(names):
            raise ValueError(f"region names must be unique; got {names}")
        known = set(names)
        for a, row in self.packet_loss.items():
            for b, value in row.items():
                if a not in known or b not in known:
                    raise ValueError(f"packet_loss names unknown region {a if a not in known else b!r}; "
                                     f"regions are {names}")
                if not 0 <= value < 1:
                    raise ValueError(f"packet_loss[{a!r}][{b!r}] = {value}; accepted: 0 <= loss < 1")
        seen: dict[frozenset[str], float] = {}
        for a, row in self.latency_s.items():
            for b, value in row.items():
                for name in (a, b):
                    if name not in known:
                        raise ValueError(f"latency_s names unknown region {name!r}; "
                                         f"regions are {names}")
                if value <= 0:
                    raise ValueError(f"latency_s[{a!r}][{b!r}] = {value} must be > 0")
                key = frozenset((a, b))
                if self.directed:
                    seen.setdefault(key, value)
                    continue
                if key in seen and seen[key] != value:
                    raise ValueError(f"latency_s is not symmetric: {a!r}<->{b!r} is given as "
                                     f"{seen[key]} and {value}")
                seen[key] = value
        missing = [f"{a}<->{b}" for i, a in enumerate(names) for b in names[i + 1:]
                   if frozenset((a, b)) not in seen]
        if missing:
            raise ValueError(f"latency_s lacks the pairs {', '.join(missing)}")
        return self


class RegionLatency(LatencyModel):
    """Latency from the regions of the two nodes, plus optional per-pair jitter.

    Regions come from, in order: what :meth:`assign_regions` recorded (a node's
    existing ``region`` attribute, or an exact-quota assignment of the rest),
    else a per-node hashed weighted draw for nodes never seen in a graph.
    """

    name = "regions"

    def __init__(self, params: RegionsParams, seed: int) -> None:
        self.names = [r.name for r in params.regions]
        self.weights = [r.weight for r in params.regions]
        self.jitter, self.seed = params.jitter, seed
        self.asymmetric = params.directed
        # (a, b) -> one-way latency a -> b; a pair given one way only is symmetric.
        self._between: dict[tuple[str, str], float] = {}
        for a, row in params.latency_s.items():
            for b, value in row.items():
                self._between[(a, b)] = value
        if params.directed:
            for (a, b), value in list(self._between.items()):
                self._between.setdefault((b, a), value)
        else:
            for (a, b), value in list(self._between.items()):
                self._between[(b, a)] = value
        for name in self.names:
            self._between.setdefault((name, name), params.intra_s)
        self._loss: dict[tuple[str, str], float] = {
            (a, b): value for a, row in params.packet_loss.items() for b, value in row.items()}
        if not params.directed:
            for (a, b), value in list(self._loss.items()):
                self._loss.setdefault((b, a), value)
        self._assigned: dict[Hashable, str] = {}

    def region_of(self, node: Hashable) -> str:
        found = self._assigned.get(node)
        if found is not None:
            return found
        return self.names[weighted_pick(self.weights, hashed_unit(self.seed, "region", node))]

    def assign_regions(self, graph: nx.Graph) -> None:
        known = set(self.names)
        fresh = []
        for node, data in graph.nodes(data=True):
            region = data.get("region")
            if region is None:
                fresh.append(node)
            elif region not in known:
                raise ValueError(f"node {node!r} has region {region!r}, which the latency model "
                                 f"does not know; regions are {self.names}")
            else:
                self._assigned[node] = region
        rng = random.Random(f"{self.seed}:regions:{len(fresh)}")
        for node, region in zip(fresh, quota_labels(self.names, self.weights, len(fresh), rng),
                                strict=True):
            graph.nodes[node]["region"] = region
            self._assigned[node] = region

    def region_latency(self, a: str, b: str) -> float:
        """The configured one-way latency from region ``a`` to ``b`` (no jitter)."""
        return self._between[(a, b)]

    def packet_loss(self, u: Hashable, v: Hashable) -> float:
        """Share of packets lost from ``u`` to ``v`` (the regions' ``packet_loss``; else 0)."""
        if not self._loss:
            return 0.0
        return self._loss.get((self.region_of(u), self.region_of(v)), 0.0)

    def latency(self, u: Hashable, v: Hashable) -> float:
        base = self.region_latency(self.region_of(u), self.region_of(v))
        if not self.jitter:
            return base
        return base * (1 + self.jitter * (2 * pair_unit(self.seed, "jitter", u, v) - 1))


def _seed(rng: random.Random) -> int:
    return rng.getrandbits(64)


BUILTIN_LATENCY_MODELS: dict[str, LatencySpec] = {
    spec.name: spec
    for spec in (
        LatencySpec("constant", ConstantParams, lambda p, rng: ConstantLatency(p),
                    "every link has the same one-way latency"),
        LatencySpec("uniform", UniformParams, lambda p, rng: UniformLatency(p, _seed(rng)),
                    "per-pair latency uniform in [low, high]"),
        LatencySpec("lognormal", LognormalParams,
                    lambda p, rng: LognormalLatency(p, _seed(rng)),
                    "per-pair latency lognormal with the given median and sigma"),
        LatencySpec("regions", RegionsParams, lambda p, rng: RegionLatency(p, _seed(rng)),
                    "nodes placed in weighted regions; latency from a region matrix"),
    )
}


# --- bandwidth --------------------------------------------------------------------


class Link(Params):
    up_bps: float = Field(gt=0)
    down_bps: float = Field(gt=0)


class BandwidthClass(Link):
    name: str = Field(min_length=1)
    weight: float = Field(default=1.0, gt=0)


class BandwidthParams(Params):
    """Node bandwidth: per region if listed, else a weighted class, else the default.

    Classes (for example "home" and "datacenter") are dealt to nodes in exact
    proportion to their weights, like regions.
    """

    up_bps: float = Field(default=100e6, gt=0)
    down_bps: float = Field(default=100e6, gt=0)
    classes: list[BandwidthClass] = Field(default_factory=list)
    by_region: dict[str, Link] = Field(default_factory=dict)


class BandwidthModel:
    """Sets ``bandwidth_up_bps``, ``bandwidth_down_bps`` and ``bandwidth_bps`` (= up) on nodes."""

    def __init__(self, params: BandwidthParams, rng: random.Random) -> None:
        self.params = params
        self.seed = _seed(rng)

    def apply(self, graph: nx.Graph, *, overwrite: bool = False) -> nx.Graph:
        p = self.params
        todo = [n for n, d in graph.nodes(data=True) if overwrite or "bandwidth_bps" not in d]
        by_region = [n for n in todo if graph.nodes[n].get("region") in p.by_region]
        rest = [n for n in todo if graph.nodes[n].get("region") not in p.by_region]
        links: dict[Hashable, tuple[float, float]] = {}
        for n in by_region:
            link = p.by_region[graph.nodes[n]["region"]]
            links[n] = (link.up_bps, link.down_bps)
        if p.classes:
            by_name = {c.name: c for c in p.classes}
            dealt = quota_labels([c.name for c in p.classes], [c.weight for c in p.classes],
                                 len(rest), random.Random(f"{self.seed}:classes:{len(rest)}"))
            for n, name in zip(rest, dealt, strict=True):
                links[n] = (by_name[name].up_bps, by_name[name].down_bps)
                graph.nodes[n]["bandwidth_class"] = name
        else:
            links.update((n, (p.up_bps, p.down_bps)) for n in rest)
        for n, (up, down) in links.items():
            graph.nodes[n].update(bandwidth_up_bps=up, bandwidth_down_bps=down, bandwidth_bps=up)
        return graph


def nodes_by_region(graph: nx.Graph) -> dict[str, list[Hashable]]:
    """Region name → nodes, in graph order (nodes without a region are left out)."""
    out: dict[str, list[Hashable]] = {}
    for node, region in graph.nodes(data="region"):
        if region is not None:
            out.setdefault(region, []).append(node)
    return out

