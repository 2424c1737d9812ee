"""Topology layer: graphs of nodes with latency, region and bandwidth attributes.

Knows nothing of the simulator, the backends or pytest. Nodes are ``0..n-1``
(or a file's ids); edges carry ``latency_s`` (one-way, seconds); nodes may
carry ``region`` and ``bandwidth_up_bps`` / ``bandwidth_down_bps`` /
``bandwidth_bps``.
"""

from .files import (
    TopologyFileError,
    edgelist_to_graph,
    gml_to_graph,
    load_topology_file,
    parse_bandwidth_bps,
    parse_duration_s,
)
from .generators import (
    BUILTIN_TOPOLOGIES,
    FileParams,
    MeshParams,
    MoneroParams,
    RandomRegularParams,
    RingParams,
    ScaleFreeParams,
    StarParams,
    build_network,
    default_seed_count,
)
from .latency import (
    BUILTIN_LATENCY_MODELS,
    BandwidthClass,
    BandwidthModel,
    BandwidthParams,
    ConstantLatency,
    ConstantParams,
    LatencyModel,
    Link,
    LognormalLatency,
    LognormalParams,
    Region,
    RegionLatency,
    RegionsParams,
    UniformLatency,
    UniformParams,
    nodes_by_region,
)
from .spec import LatencySpec, Params, TopologySpec

__all__ = [
    "BUILTIN_LATENCY_MODELS",
    "BUILTIN_TOPOLOGIES",
    "BandwidthClass",
    "BandwidthModel",
    "BandwidthParams",
    "ConstantLatency",
    "ConstantParams",
    "FileParams",
    "LatencyModel",
    "LatencySpec",
    "Link",
    "LognormalLatency",
    "LognormalParams",
    "MeshParams",
    "MoneroParams",
    "Params",
    "RandomRegularParams",
    "Region",
    "RegionLatency",
    "RegionsParams",
    "RingParams",
    "ScaleFreeParams",
    "StarParams",
    "TopologyFileError",
    "TopologySpec",
    "UniformLatency",
    "UniformParams",
    "build_network",
    "default_seed_count",
    "edgelist_to_graph",
    "gml_to_graph",
    "load_topology_file",
    "nodes_by_region",
    "parse_bandwidth_bps",
    "parse_duration_s",
]
