"""What a layout holds: one :class:`NodeSpec` per node, the wallets, the graph, the seeds.

To give nodes a new per-node setting, add a field to :class:`NodeSpec` and fill
it in :func:`pytest_monerosim.layout.build._node_spec` (the one place that
does); every backend then reads it from there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import networkx as nx

if TYPE_CHECKING:
    from ..config.model import Churn, Scenario, Spy
    from ..config.resolve import ResolvedPlugin


@dataclass
class NodeSpec:
    """One node of the run, with every default already applied."""

    name: str
    index: int
    """Position in the scenario's node order (groups in order, then ``node_names()``)."""
    group: str
    role: str
    honest: bool
    hashrate: float
    """Relative hashrate (the scenario's units); 0 for non-miners."""
    start_time: float
    out_peers: int
    in_peers: int | None
    """``None`` = unlimited (monerod's default)."""
    anchors: int
    seed_node: bool
    """Flagged by its group, or chosen as a seed node of a dynamic topology."""
    region: str | None
    up_bps: float
    down_bps: float
    behaviour: ResolvedPlugin
    """The behaviour plugin and its validated parameters (the role's default if unset)."""
    behaviour_explicit: bool
    """The group names a behaviour (rather than taking its role's default)."""
    address: str | None = None
    """A fixed address; ``None`` lets the backend assign one (the simulator draws it, the
    real backends allocate an IP and ports)."""
    wallets: list[str] = field(default_factory=list)
    """Names of the wallets placed on this node."""
    reachable: bool = True
    """False: behind NAT (drawn from the group's ``reachable`` share), no inbound connection."""
    hidden: bool = False
    """Run with ``--hide-my-port`` (drawn from the group's ``hidden`` share)."""
    churn: Churn | None = None
    """The group's churn settings if this node was drawn to churn, else ``None``."""
    spy: Spy | None = None
    """The group's spy settings (every node of a spy group is a spy)."""
    ban_list: list[str] = field(default_factory=list)
    """The group's ban list entries (``group:<name>`` resolved by the backend's addresses)."""
    add_peers: list[str] = field(default_factory=list)
    """Nodes this one starts knowing, as by monerod's ``--add-peer`` (white list, last seen
    0): in a dynamic topology its seeds and the node started just before it (start time,
    then scenario order); empty in a static one. Applied by the monerod backend to
    namespaced daemons, and by the simulator when ``p2p.add_peer`` is set."""


@dataclass(frozen=True)
class WalletPlacement:
    """One wallet of the scenario on its node."""

    name: str
    node: str
    group: str
    """The scenario's wallet group (``wallets[].name``)."""
    strategy: ResolvedPlugin


@dataclass
class NetworkLayout:
    """The scenario expanded for a backend: nodes, wallets, graph, latency, seeds, attacks."""

    scenario: Scenario
    seed: int
    duration: float
    nodes: dict[str, NodeSpec]
    """Name → spec, in the scenario's node order."""
    graph: nx.Graph
    """The topology with node names: edge ``(u, v)`` means ``u`` connects out to ``v`` (static
    topologies); an edge's ``latency_s`` / ``packet_loss`` come from a topology file;
    ``graph.graph["dynamic"]`` marks the ``monero`` topology (peers from discovery)."""
    dynamic: bool
    seed_nodes: list[str]
    """Seed nodes of a dynamic topology (empty for a static one)."""
    latency_model: Any
    """The latency model plugin's object (``latency(u, v)``, maybe ``region_of``, ``packet_loss``)."""
    wallets: list[WalletPlacement]
    attacks: list[ResolvedPlugin]
    plugins: dict[str, ResolvedPlugin]
    """Every plugin reference of the scenario, validated, by dotted path."""
    total_hashrate: float
    """Sum of the miners' hashrates (each group's ``hashrate * count``)."""
    conditions: bool = False
    """Some group sets mainnet conditions (``reachable`` < 1, ``hidden``, ``churn``, ``spy``,
    ``ban_list``): the simulator installs and reports them even if no node was drawn."""
    churn_streams: dict[str, Any] = field(default_factory=dict, repr=False)
    """Group → state of its ``churn:<group>`` stream after the layout drew which nodes churn
    (the run draws sessions and downtimes on from there); see :mod:`.conditions`."""
    built_from: str = field(default="", repr=False)
    """The scenario as JSON when the layout was built (see :meth:`is_layout_of`)."""

    def is_layout_of(self, scenario: Scenario) -> bool:
        """``scenario`` is (still) the one this layout expanded: same object, unchanged since."""
        return scenario is self.scenario and scenario.model_dump_json() == self.built_from

    @property
    def asymmetric(self) -> bool:
        """Links may have a different latency each way (directed GML routes, directed files)."""
        return bool(getattr(self.latency_model, "asymmetric", False))

    def names(self) -> list[str]:
        return list(self.nodes)

    def latency(self, u: str, v: str) -> float:
        """One-way latency ``u`` → ``v``: the topology file's edge value, else the model's."""
        if self.graph.has_edge(u, v):
            lat = self.graph.edges[u, v].get("latency_s")
            if lat is not None:
                return float(lat)
        return float(self.latency_model.latency(u, v))
