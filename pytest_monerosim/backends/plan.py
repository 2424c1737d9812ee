"""The process plan shared by the real backends (``monerod`` on loopback, ``shadow``).

A plan says *what* runs, never *where on this machine*: hosts (named as
Shadow accepts, lowercase ``a-z 0-9 - .``), per host one ``monerod`` spec, the
``monero-wallet-rpc`` processes of the wallets placed on it and the agent
processes (``python -m pytest_monerosim.agents.<script>``) that drive them,
each with a start time in simulated seconds; plus the host-level network graph
(latency and bandwidth). Everything about the nodes (limits, roles, behaviours,
regions, bandwidth, seed nodes, wallets) comes from the scenario's layout
(:func:`pytest_monerosim.layout.build_layout`), the expansion the simulator
runs from too.

Addresses, directories and the Python interpreter are given only when a
process is rendered into a command line (:mod:`.command_lines`), so the same
plan runs on 127.0.0.1 with allocated ports and under Shadow with one IP per
host.

Peers by topology (the layout's graph, read as the simulator reads it):

* a static topology (star, ring, mesh, file, ...): edge ``(u, v)`` of the graph
  is an outgoing connection of ``u``; a daemon's ``exclusive_peers`` are its
  outgoing edges and ``out_peers`` is their count (0 for a node whose edges all
  come in, which also keeps monerod away from its compiled-in public seed
  nodes), incoming connections are accepted as usual;
* the ``monero`` topology: ``seed_peers`` name the layout's seed nodes and
  monerod's own peer discovery does the rest, within ``out_peers`` /
  ``in_peers``;
* a host with no peer at all (a one-node network) runs ``offline``: monerod
  only reports itself synchronized, and so only mines, with a peer or offline.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import networkx as nx

from ..agents.runtime import BURN_ADDRESS
from ..config.model import Scenario
from ..config.wallets import coinbase_wallet, wallet_roster
from ..layout import NetworkLayout, build_layout
from ..layout.conditions import churn_schedule
from ..registry import Registry
from ..rng import derive_rng
from .command_lines import DAEMON_LOG_LEVEL

HOST_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]*$")
"""Host names Shadow accepts (and DNS does): lowercase letters, digits, ``-`` and ``.``."""

P2P_PORT = 18080
RPC_PORT = 18081
WALLET_RPC_PORT = 18090
"""Default ports for hosts that have an IP of their own (Shadow); wallets count up from here."""

AGENT_PACKAGE = "pytest_monerosim.agents"
AGENT_HOST_LATENCY_S = 0.001
"""Latency between an agent-only host (the monitor) and the nodes it polls."""
Script = Literal["miner", "user", "distributor", "monitor"]
SCRIPTS: tuple[Script, ...] = ("miner", "user", "distributor", "monitor")


PortSource = Callable[[str, str], int]
"""``ports(host, role)`` → port; roles are ``p2p``, ``rpc`` and ``wallet:<name>``."""


class StandardPorts:
    """Monero's standard daemon ports on every host; wallets get 18090, 18091, ... per host."""

    def __init__(self) -> None:
        self._next: dict[str, int] = {}

    def __call__(self, host: str, role: str) -> int:
        if role == "p2p":
            return P2P_PORT
        if role == "rpc":
            return RPC_PORT
        port = self._next.get(host, WALLET_RPC_PORT)
        self._next[host] = port + 1
        return port


# -- the plan ----------------------------------------------------------------------


@dataclass(frozen=True)
class DaemonSpec:
    """One ``monerod``: ports, peers by host name, P2P limits and start time."""

    p2p_port: int
    rpc_port: int
    out_peers: int
    """The layout's ``out_peers`` (dynamic topologies) or the count of ``exclusive_peers``."""
    exclusive_peers: tuple[str, ...] = ()
    """Hosts this daemon connects out to, and only to (static topologies)."""
    priority_peers: tuple[str, ...] = ()
    """Hosts it always keeps a connection to, on top of discovered peers."""
    seed_peers: tuple[str, ...] = ()
    """Hosts it asks for peer lists when it knows none (the ``monero`` topology)."""
    add_peers: tuple[str, ...] = ()
    """Hosts it starts knowing (``--add-peer``): the layout's ``NodeSpec.add_peers``, given to
    namespaced daemons (:func:`~pytest_monerosim.backends.monerod.hosts.bootstrap_peers`)."""
    in_peers: int | None = None
    """``None``: unlimited (monerod's default)."""
    reachable: bool = True
    """False: behind NAT (the layout's ``reachable``): the network refuses connections to its
    P2P port (:mod:`~pytest_monerosim.backends.monerod.nat`; ``--in-peers 0`` also stops
    0.18.0.0's outgoing connections)."""
    hidden: bool = False
    """``--hide-my-port`` (the layout's ``hidden``): never advertised to peers."""
    ban_list: tuple[str, ...] = ()
    """The layout's ban-list entries (``group:<name>`` resolved by the backend that knows
    the hosts' addresses: :func:`~pytest_monerosim.backends.command_lines.ban_list_lines`)."""
    offline: bool = False
    start_time: float = 0.0
    downtimes: tuple[tuple[float, float], ...] = ()
    """Churn (the layout's :func:`~pytest_monerosim.layout.conditions.churn_schedule`): each
    ``(offline at, back at)`` in run time; the daemon is stopped and started again on its
    data directory, which keeps its chain, peer lists and pool."""
    fixed_difficulty: int = 1
    log_level: str = DAEMON_LOG_LEVEL
    extra_args: tuple[str, ...] = ()

    def peers(self) -> tuple[str, ...]:
        """Every host named in any peer list (in order, without repeats)."""
        return tuple(dict.fromkeys(self.exclusive_peers + self.priority_peers + self.seed_peers))


@dataclass(frozen=True)
class WalletSpec:
    """One ``monero-wallet-rpc`` serving one wallet of the scenario, on its node's host."""

    name: str
    node: str
    rpc_port: int
    strategy: str
    """Wallet-strategy plugin name (registry kind ``wallet_strategy``)."""
    group: str = ""
    """The scenario's wallet group (``wallets[].name``)."""
    params: Mapping[str, Any] = field(default_factory=dict)
    """The strategy's validated parameters, as JSON-able data."""
    start_time: float = 0.0

    @property
    def filename(self) -> str:
        return self.name


@dataclass(frozen=True)
class AgentSpec:
    """One agent process: ``python -m pytest_monerosim.agents.<script>``.

    ``node`` is the scenario node whose daemon the agent drives (on its own
    host); ``wallet`` the wallet it uses; ``plugin``/``params`` the behaviour
    or wallet strategy it hosts; ``options`` the script's own settings.
    """

    name: str
    script: Script
    host: str
    start_time: float = 0.0
    node: str | None = None
    wallet: str | None = None
    plugin: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def module(self) -> str:
        return f"{AGENT_PACKAGE}.{self.script}"


@dataclass
class HostPlan:
    """One simulated host: a scenario node (or an agent-only host such as the monitor)."""

    name: str
    node: str | None
    group: str
    role: str
    honest: bool = True
    hashrate: float = 0.0
    region: str | None = None
    seed_node: bool = False
    bandwidth_up_bps: float = 100e6
    bandwidth_down_bps: float = 100e6
    daemon: DaemonSpec | None = None
    wallets: list[WalletSpec] = field(default_factory=list)
    agents: list[AgentSpec] = field(default_factory=list)

    @property
    def start_time(self) -> float:
        return self.daemon.start_time if self.daemon else min(
            (a.start_time for a in self.agents), default=0.0
        )


@dataclass
class ProcessPlan:
    """Everything a real backend starts, and the network between the hosts."""

    scenario: str
    seed: int
    duration: float
    target_s: float
    total_hashrate: float
    """Sum of the miners' initial hashrates: a miner with hashrate ``h`` finds a block
    every ``target_s * total_hashrate / h`` seconds on average (fixed difficulty)."""
    dynamic: bool
    """The ``monero`` topology: peers come from seed nodes and discovery."""
    hosts: dict[str, HostPlan]
    graph: nx.Graph
    """Host names as nodes (``bandwidth_up_bps``, ``bandwidth_down_bps``, ``region``);
    edges with ``latency_s``: the topology's edges, or every pair for the dynamic
    ``monero`` topology (any two hosts may connect)."""

    # -- views -------------------------------------------------------------------
    def daemon_hosts(self) -> list[HostPlan]:
        return [h for h in self.hosts.values() if h.daemon is not None]

    def host_of_node(self, node: str) -> HostPlan:
        for host in self.hosts.values():
            if host.node == node:
                return host
        raise KeyError(f"no host runs node {node!r}")

    def wallets(self) -> list[tuple[HostPlan, WalletSpec]]:
        return [(h, w) for h in self.hosts.values() for w in h.wallets]

    def wallet(self, name: str) -> tuple[HostPlan, WalletSpec]:
        for host, spec in self.wallets():
            if spec.name == name:
                return host, spec
        raise KeyError(f"no wallet {name!r} in the plan")

    def agents(self, script: Script | None = None) -> list[AgentSpec]:
        return [a for h in self.hosts.values() for a in h.agents
                if script is None or a.script == script]

    def peer_addresses(self, address_of: Callable[[str], str]) -> dict[str, str]:
        """Host → ``"ip:p2p_port"`` given each host's IP (what peer lists are rendered with)."""
        return {h.name: f"{address_of(h.name)}:{h.daemon.p2p_port}"
                for h in self.daemon_hosts() if h.daemon is not None}

    def to_json(self) -> dict[str, Any]:
        """The plan as JSON-able data (for a manifest next to a run's outputs)."""
        return {
            "scenario": self.scenario,
            "seed": self.seed,
            "duration": self.duration,
            "target_s": self.target_s,
            "total_hashrate": self.total_hashrate,
            "dynamic": self.dynamic,
            "hosts": [_host_json(h) for h in self.hosts.values()],
            "edges": [[u, v, d.get("latency_s")] for u, v, d in self.graph.edges(data=True)],
        }


def _host_json(host: HostPlan) -> dict[str, Any]:
    data = asdict(host)
    return json.loads(json.dumps(data, default=list))


@dataclass(frozen=True)
class PlanOptions:
    """What the plan adds around the scenario's own nodes and wallets."""

    monitor: bool = True
    """An agent-only host polling every daemon (tips, peers, blocks) and wallet."""
    monitor_poll_s: float = 30.0
    """Simulated seconds between the monitor's polls."""
    monitor_grace_s: float = 60.0
    """The monitor outlives the other agents by this much before its final sweep, so a
    transfer or block made at the very end is in it (agents in their own processes)."""


# -- building ----------------------------------------------------------------------


def build_plan(
    scenario: Scenario,
    registry: Registry,
    *,
    layout: NetworkLayout | None = None,
    ports: PortSource | None = None,
    options: PlanOptions | None = None,
) -> ProcessPlan:
    """The process plan of ``scenario`` (plugins resolved through ``registry``), from its
    ``layout`` (built here unless given).

    ``ports`` defaults to :class:`StandardPorts` (every host its own IP).
    """
    layout = layout or build_layout(scenario, registry)
    ports = ports or StandardPorts()
    options = options or PlanOptions()
    names = layout.names()
    for name in names:
        check_host_name(name)
    topo, dynamic = layout.graph, layout.dynamic
    outgoing: dict[str, list[str]] = {n: [] for n in names}
    for u, v in topo.edges():
        outgoing[u].append(v)  # edge (u, v): u connects out to v, as in the simulator
    seeds = layout.seed_nodes
    downtimes = churn_schedule(layout)
    hosts: dict[str, HostPlan] = {}
    for node in layout.nodes.values():
        name = node.name
        if dynamic:
            daemon = DaemonSpec(
                p2p_port=ports(name, "p2p"), rpc_port=ports(name, "rpc"),
                seed_peers=tuple(s for s in seeds if s != name), add_peers=tuple(node.add_peers),
                out_peers=node.out_peers,
                in_peers=node.in_peers, offline=len(names) == 1, start_time=node.start_time,
                downtimes=tuple(downtimes.get(name, ())),
                reachable=node.reachable, hidden=node.hidden, ban_list=tuple(node.ban_list),
            )
        else:
            excl = tuple(outgoing[name])
            daemon = DaemonSpec(
                p2p_port=ports(name, "p2p"), rpc_port=ports(name, "rpc"),
                exclusive_peers=excl, out_peers=len(excl), in_peers=node.in_peers,
                offline=not excl and topo.degree(name) == 0, start_time=node.start_time,
                downtimes=tuple(downtimes.get(name, ())),
                reachable=node.reachable, hidden=node.hidden, ban_list=tuple(node.ban_list),
            )
        hosts[name] = HostPlan(
            name=name, node=name, group=node.group, role=node.role, honest=node.honest,
            hashrate=node.hashrate, region=node.region, seed_node=name in seeds,
            bandwidth_up_bps=node.up_bps, bandwidth_down_bps=node.down_bps, daemon=daemon,
        )
    _add_wallets(layout, hosts, ports)
    _add_node_agents(layout, hosts)
    _add_monitor(hosts, options)
    graph = _network_graph(hosts, topo, layout.latency_model, dynamic, names)
    return ProcessPlan(
        scenario=scenario.general.name, seed=layout.seed, duration=layout.duration,
        target_s=scenario.mining.target_s, total_hashrate=layout.total_hashrate, dynamic=dynamic,
        hosts=hosts, graph=graph,
    )


def check_host_name(name: str) -> str:
    if not HOST_NAME.match(name):
        raise ValueError(f"host name {name!r} is not valid for Shadow: use lowercase a-z, 0-9, "
                         "'-' and '.', starting with a letter or digit")
    return name


def _add_wallets(layout: NetworkLayout, hosts: dict[str, HostPlan], ports: PortSource) -> None:
    for wallet in layout.wallets:
        check_host_name(wallet.name)
        params = wallet.strategy.params.model_dump(mode="json")
        host = hosts[wallet.node]
        start = host.daemon.start_time if host.daemon else 0.0
        host.wallets.append(WalletSpec(
            name=wallet.name, node=wallet.node, rpc_port=ports(wallet.node, f"wallet:{wallet.name}"),
            strategy=wallet.strategy.name, group=wallet.group, params=params, start_time=start,
        ))
        script: Script = "distributor" if wallet.strategy.name == "distributor" else "user"
        host.agents.append(AgentSpec(
            name=f"{script}-{wallet.name}", script=script, host=wallet.node, start_time=start,
            node=wallet.node, wallet=wallet.name, plugin=wallet.strategy.name, params=params,
        ))


def _add_node_agents(layout: NetworkLayout, hosts: dict[str, HostPlan]) -> None:
    """A ``miner`` agent hosts the node's behaviour: for miners and explicit behaviours.

    A node with its role's default passive behaviour (``standard_sync``,
    ``observer``) and no hashrate needs no agent process: monerod alone does it.
    """
    roster = wallet_roster(layout.scenario)
    for node in layout.nodes.values():
        if node.role != "miner" and not node.behaviour_explicit:
            continue
        host = hosts[node.name]
        ref = node.behaviour
        host.agents.insert(0, AgentSpec(
            name=f"miner-{node.name}", script="miner", host=node.name,
            start_time=host.daemon.start_time if host.daemon else 0.0,
            node=node.name, wallet=coinbase_wallet(roster, node.name), plugin=ref.name,
            params=ref.params.model_dump(mode="json"),
            options={"hashrate": node.hashrate, "total_hashrate": layout.total_hashrate,
                     "target_s": layout.scenario.mining.target_s, "role": node.role,
                     "group": node.group},
        ))


def _add_monitor(hosts: dict[str, HostPlan], options: PlanOptions) -> None:
    if not options.monitor:
        return
    name = "monitor"
    while name in hosts:
        name = "x" + name
    hosts[name] = HostPlan(
        name=name, node=None, group="monitor", role="monitor",
        agents=[AgentSpec(name="monitor", script="monitor", host=name,
                          options={"poll_s": options.monitor_poll_s,
                                   "grace_s": options.monitor_grace_s})],
    )


def _network_graph(hosts: dict[str, HostPlan], topo: nx.Graph, latency: Any, dynamic: bool,
                   names: list[str]) -> nx.Graph:
    # Asymmetric links (a directed GML's routes, a directed topology file): one edge per
    # direction, each with its own latency; otherwise one edge per pair.
    directed = topo.is_directed() or bool(getattr(latency, "asymmetric", False))
    graph: nx.Graph = nx.DiGraph() if directed else nx.Graph()
    for host in hosts.values():
        graph.add_node(host.name, bandwidth_up_bps=host.bandwidth_up_bps,
                       bandwidth_down_bps=host.bandwidth_down_bps,
                       **({"region": host.region} if host.region else {}))
    pairs: Iterator[tuple[str, str, dict[str, Any]]]
    if dynamic:
        pairs = ((u, v, {}) for i, u in enumerate(names) for v in names[i + 1:])
    else:
        pairs = ((u, v, d) for u, v, d in topo.edges(data=True))
    loss = getattr(latency, "packet_loss", None)

    def lossy(a: str, b: str, given: Any) -> dict[str, float]:
        value = given if given is not None else (loss(a, b) if loss is not None else 0.0)
        return {"packet_loss": float(value)} if value else {}

    for u, v, data in pairs:
        lat = data.get("latency_s")
        graph.add_edge(u, v, latency_s=float(lat) if lat is not None else float(latency.latency(u, v)),
                       **lossy(u, v, data.get("packet_loss")))
        if directed and not (topo.is_directed() and topo.has_edge(v, u)):
            # the way back: its own latency from the model, or the file's one way
            back = float(latency.latency(v, u)) if lat is None else float(lat)
            graph.add_edge(v, u, latency_s=back, **lossy(v, u, data.get("packet_loss")))
    for extra in (h for h in hosts if h not in topo):
        for n in names:  # agent-only hosts (the monitor) reach every node over a LAN-like link
            graph.add_edge(extra, n, latency_s=AGENT_HOST_LATENCY_S)
            if directed:
                graph.add_edge(n, extra, latency_s=AGENT_HOST_LATENCY_S)
    return graph


def loopback_discovery(plan: ProcessPlan) -> dict[str, tuple[str, ...]]:
    """Outgoing peers standing in for monerod's peer discovery where it cannot work.

    monerod drops loopback addresses from every peer list it receives
    (``sanitize_peerlist`` in ``src/p2p/net_node.inl``), so nodes on 127.0.0.1
    never learn of each other and stay on their seed connections. A backend
    on loopback draws, per dynamic daemon, ``out_peers`` targets: its seed
    peers first, then hosts picked at random (uniformly, seeded) among those
    that started no later than it, avoiding hosts that already picked it
    while others remain. That is the random out-degree-``k`` graph discovery
    converges to in a small network.
    """
    rng = derive_rng(plan.seed, "loopback-discovery")
    chosen: dict[str, tuple[str, ...]] = {}
    hosts = plan.daemon_hosts()
    for host in hosts:
        daemon = host.daemon
        assert daemon is not None
        want = daemon.out_peers
        pool = [h.name for h in hosts if h.name != host.name and h.daemon is not None
                and h.daemon.start_time <= daemon.start_time]
        picks = [s for s in daemon.seed_peers if s in pool][:want]
        fresh = [h for h in pool if h not in picks and host.name not in chosen.get(h, ())]
        back = [h for h in pool if h not in picks and h not in fresh]
        rng.shuffle(fresh)
        rng.shuffle(back)
        picks += (fresh + back)[: max(0, want - len(picks))]
        chosen[host.name] = tuple(picks)
    return chosen


__all__ = [
    "AGENT_PACKAGE",
    "BURN_ADDRESS",
    "DAEMON_LOG_LEVEL",
    "HOST_NAME",
    "AgentSpec",
    "DaemonSpec",
    "HostPlan",
    "PlanOptions",
    "PortSource",
    "ProcessPlan",
    "SCRIPTS",
    "StandardPorts",
    "WalletSpec",
    "build_plan",
    "check_host_name",
    "loopback_discovery",
]
