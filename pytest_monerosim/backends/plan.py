"""The process plan shared by the real backends (``monerod`` on loopback, ``shadow``).

A plan says *what* runs, never *where on this machine*: hosts (named as
Shadow accepts, lowercase ``a-z 0-9 - .``), per host one ``monerod`` spec, the
``monero-wallet-rpc`` processes of the wallets placed on it and the agent
processes (``python -m pytest_monerosim.agents.<script>``) that drive them,
each with a start time in simulated seconds; plus the host-level network graph
(latency and bandwidth) from the scenario's topology and latency plugins.

Addresses, directories and the Python interpreter are given only when a
process is rendered into a command line by :func:`monerod_argv`,
:func:`wallet_rpc_argv` and :func:`agent_argv` (pure functions), so the same
plan runs on 127.0.0.1 with allocated ports and under Shadow with one IP per
host.

Peers by topology (the same rules as the simulator, :mod:`pytest_monerosim.sim.network`):

* a static topology (star, ring, mesh, file, ...): edge ``(u, v)`` of the graph
  is an outgoing connection of ``u``; a daemon's ``exclusive_peers`` are its
  outgoing edges and ``out_peers`` is their count (0 for a node whose edges all
  come in, which also keeps monerod away from its compiled-in public seed
  nodes), incoming connections are accepted as usual;
* the ``monero`` topology: ``seed_peers`` name the seed hosts (group
  ``seed_node`` flags, else the graph's ``seed_nodes``, else the first node)
  and monerod's own peer discovery does the rest, within ``out_peers`` /
  ``in_peers``;
* a host with no peer at all (a one-node network) runs ``offline``: monerod
  only reports itself synchronized, and so only mines, with a peer or offline.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import networkx as nx

from ..agents.runtime import BURN_ADDRESS
from ..config.model import Scenario
from ..config.wallets import WalletInfo, coinbase_wallet
from ..registry import Registry
from ..rng import derive_rng

HOST_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]*$")
"""Host names Shadow accepts (and DNS does): lowercase letters, digits, ``-`` and ``.``."""

P2P_PORT = 18080
RPC_PORT = 18081
WALLET_RPC_PORT = 18090
"""Default ports for hosts that have an IP of their own (Shadow); wallets count up from here."""

DAEMON_LOG_LEVEL = "0,blockchain:INFO"
"""Level 0 plus monerod's ``blockchain`` category at INFO: one timestamped record per
block a node adds (main chain or alternative) and per reorganisation, which the
parser (:mod:`pytest_monerosim.backends.parse`) turns into arrival times and reorgs."""

RPC_CONNECTION_LIMITS = (
    "--rpc-max-connections", "1000",
    "--rpc-max-connections-per-public-ip", "1000",
    "--rpc-max-connections-per-private-ip", "1000",
)
"""monerod and wallet-rpc allow 3 RPC connections per public IP (25 per private one):
under Shadow the monitor and agents reach daemons from other hosts' (public) IPs."""

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
    exclusive_peers: tuple[str, ...] = ()
    """Hosts this daemon connects out to, and only to (static topologies)."""
    priority_peers: tuple[str, ...] = ()
    """Hosts it always keeps a connection to, on top of discovered peers."""
    seed_peers: tuple[str, ...] = ()
    """Hosts it asks for peer lists when it knows none (the ``monero`` topology)."""
    out_peers: int | None = None
    in_peers: int | None = None
    """``None``: monerod's default (12 out, unlimited in)."""
    offline: bool = False
    start_time: float = 0.0
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
    ports: PortSource | None = None,
    options: PlanOptions | None = None,
) -> ProcessPlan:
    """The process plan of ``scenario`` (plugins resolved through ``registry``).

    ``ports`` defaults to :class:`StandardPorts` (every host its own IP).
    """
    ports = ports or StandardPorts()
    options = options or PlanOptions()
    names = scenario.node_names()
    for name in names:
        check_host_name(name)
    group_of = scenario.group_of()
    topo, dynamic = _topology(scenario, registry, names)
    latency = _latency_model(scenario, registry)
    regions = _regions(scenario, topo, latency, names)
    total_hashrate = sum(g.hashrate * g.count for g in scenario.nodes if g.role == "miner")
    outgoing: dict[str, list[str]] = {n: [] for n in names}
    for u, v in topo.edges():
        outgoing[u].append(v)  # edge (u, v): u connects out to v, as in the simulator
    seeds = _seed_hosts(scenario, topo, names) if dynamic else []
    hosts: dict[str, HostPlan] = {}
    for name in names:
        group = group_of[name]
        attrs = topo.nodes[name]
        bw = group.bandwidth_bps
        default_bw = scenario.network.bandwidth_bps
        up = bw or attrs.get("bandwidth_up_bps") or attrs.get("bandwidth_bps") or default_bw
        down = bw or attrs.get("bandwidth_down_bps") or attrs.get("bandwidth_bps") or default_bw
        out_peers = group.out_peers if group.out_peers is not None else scenario.p2p.out_peers
        in_peers = group.in_peers if group.in_peers is not None else scenario.p2p.in_peers
        if dynamic:
            seed_peers = tuple(s for s in seeds if s != name)
            daemon = DaemonSpec(
                p2p_port=ports(name, "p2p"), rpc_port=ports(name, "rpc"),
                seed_peers=seed_peers, out_peers=out_peers, in_peers=in_peers,
                offline=len(names) == 1, start_time=group.start_time,
            )
        else:
            excl = tuple(outgoing[name])
            has_any = bool(excl) or topo.degree(name) > 0
            daemon = DaemonSpec(
                p2p_port=ports(name, "p2p"), rpc_port=ports(name, "rpc"),
                exclusive_peers=excl, out_peers=len(excl), in_peers=in_peers,
                offline=not has_any, start_time=group.start_time,
            )
        hosts[name] = HostPlan(
            name=name, node=name, group=group.group, role=group.role, honest=group.honest,
            hashrate=group.hashrate, region=regions.get(name), seed_node=name in seeds,
            bandwidth_up_bps=float(up), bandwidth_down_bps=float(down), daemon=daemon,
        )
    _add_wallets(scenario, registry, hosts, ports)
    _add_node_agents(scenario, registry, hosts, total_hashrate)
    _add_monitor(hosts, options)
    graph = _network_graph(hosts, topo, latency, dynamic, names)
    return ProcessPlan(
        scenario=scenario.general.name, seed=scenario.general.seed,
        duration=scenario.general.duration, target_s=scenario.mining.target_s,
        total_hashrate=total_hashrate, dynamic=dynamic, hosts=hosts, graph=graph,
    )


def check_host_name(name: str) -> str:
    if not HOST_NAME.match(name):
        raise ValueError(f"host name {name!r} is not valid for Shadow: use lowercase a-z, 0-9, "
                         "'-' and '.', starting with a letter or digit")
    return name


def _topology(scenario: Scenario, registry: Registry, names: list[str]) -> tuple[nx.Graph, bool]:
    """The scenario's topology relabelled with node names (the simulator's stream and order)."""
    ref = scenario.network.topology
    spec = registry.get("topology", ref.name)
    params = spec.validate(ref.params)
    rng = derive_rng(scenario.general.seed, "topology")
    factory = spec.factory
    graph = factory.generate(len(names), params, rng) if hasattr(factory, "generate") \
        else factory(len(names), params, rng)
    if graph.number_of_nodes() != len(names):
        raise ValueError(f"topology {ref.name!r} built {graph.number_of_nodes()} nodes; "
                         f"the scenario has {len(names)}")
    mapping = dict(zip(list(graph.nodes()), names, strict=True))
    # Relabel by hand so edge order (and so orientation: u connects to v) is kept.
    named = graph.__class__()
    named.graph.update(graph.graph)
    named.graph["seed_nodes"] = [mapping[s] for s in graph.graph.get("seed_nodes", []) if s in mapping]
    for gn in graph.nodes():
        named.add_node(mapping[gn], **graph.nodes[gn])
    for u, v, data in graph.edges(data=True):
        if u != v:
            named.add_edge(mapping[u], mapping[v], **data)
    return named, bool(graph.graph.get("dynamic"))


def _latency_model(scenario: Scenario, registry: Registry) -> Any:
    ref = scenario.network.latency
    spec = registry.get("latency_model", ref.name)
    params = spec.validate(ref.params)
    rng = derive_rng(scenario.general.seed, "latency")
    factory = spec.factory
    return factory.create(params, rng) if hasattr(factory, "create") else factory(params, rng)


def _regions(scenario: Scenario, topo: nx.Graph, latency: Any, names: list[str]) -> dict[str, str]:
    group_of = scenario.group_of()
    named = nx.Graph()
    for name in names:
        region = group_of[name].region or topo.nodes[name].get("region")
        named.add_node(name, **({"region": region} if region else {}))
    assign = getattr(latency, "assign_regions", None)
    if assign is not None:
        assign(named)
    return {n: r for n, r in named.nodes(data="region") if r}


def _seed_hosts(scenario: Scenario, topo: nx.Graph, names: list[str]) -> list[str]:
    flagged = [n for n, g in scenario.group_of().items() if g.seed_node]
    if flagged:
        return [n for n in names if n in flagged]
    listed = [s for s in topo.graph.get("seed_nodes", []) if s in topo]
    return listed or names[:1]


def _add_wallets(scenario: Scenario, registry: Registry, hosts: dict[str, HostPlan],
                 ports: PortSource) -> None:
    for wallet, node, group in scenario.wallet_placements():
        check_host_name(wallet)
        spec = registry.get("wallet_strategy", group.strategy.name)
        params = spec.validate(group.strategy.params).model_dump(mode="json")
        host = hosts[node]
        host.wallets.append(WalletSpec(
            name=wallet, node=node, rpc_port=ports(node, f"wallet:{wallet}"),
            strategy=group.strategy.name, group=group.name, params=params,
            start_time=host.daemon.start_time if host.daemon else 0.0,
        ))
        script: Script = "distributor" if group.strategy.name == "distributor" else "user"
        host.agents.append(AgentSpec(
            name=f"{script}-{wallet}", script=script, host=node,
            start_time=host.daemon.start_time if host.daemon else 0.0,
            node=node, wallet=wallet, plugin=group.strategy.name, params=params,
        ))


def wallet_roster(scenario: Scenario) -> list[WalletInfo]:
    """Every wallet of the run as wallet strategies see it (name, group, node, role, strategy)."""
    group_of = scenario.group_of()
    return [WalletInfo(name, g.name, node, group_of[node].role, g.strategy.name)
            for name, node, g in scenario.wallet_placements()]


def _add_node_agents(scenario: Scenario, registry: Registry, hosts: dict[str, HostPlan],
                     total_hashrate: float) -> None:
    """A ``miner`` agent hosts the node's behaviour: for miners and explicit behaviours.

    A node with its role's default passive behaviour (``standard_sync``,
    ``observer``) and no hashrate needs no agent process: monerod alone does it.
    """
    group_of = scenario.group_of()
    roster = wallet_roster(scenario)
    for name, host in hosts.items():
        group = group_of[name]
        if group.role != "miner" and group.behaviour is None:
            continue
        ref = group.behaviour_ref()
        params = registry.get("behaviour", ref.name).validate(ref.params).model_dump(mode="json")
        wallet = coinbase_wallet(roster, name)
        host.agents.insert(0, AgentSpec(
            name=f"miner-{name}", script="miner", host=name,
            start_time=host.daemon.start_time if host.daemon else 0.0,
            node=name, wallet=wallet, plugin=ref.name, params=params,
            options={"hashrate": group.hashrate, "total_hashrate": total_hashrate,
                     "target_s": scenario.mining.target_s, "role": group.role,
                     "group": group.group},
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


# -- rendering processes into command lines ------------------------------------------


def monerod_argv(
    daemon: DaemonSpec,
    *,
    address: str,
    data_dir: str | os.PathLike[str],
    peer_addresses: Mapping[str, str],
    rpc_address: str | None = None,
    log_file: str | os.PathLike[str] | None = None,
    binary: str | os.PathLike[str] = "monerod",
    max_connections_per_ip: int | None = None,
) -> list[str]:
    """monerod's command line for ``daemon`` on a host with IP ``address``.

    ``peer_addresses`` maps host names to ``"ip:port"`` (see
    :meth:`ProcessPlan.peer_addresses`); ``rpc_address`` binds the RPC
    elsewhere than P2P (default: ``address``); ``max_connections_per_ip``
    must be raised when every host shares one IP (loopback: all connections
    come from 127.0.0.1). Flags checked against Debian's monero 0.18.0.0.
    """
    data_dir = os.fspath(data_dir)
    log = os.fspath(log_file) if log_file is not None else os.path.join(data_dir, "monerod.log")
    argv = [
        os.fspath(binary),
        "--regtest",
        "--keep-fakechain",
        "--fixed-difficulty", str(daemon.fixed_difficulty),
        "--non-interactive",
        "--no-igd",
        "--no-zmq",
        "--data-dir", data_dir,
        "--log-file", log,
        "--log-level", daemon.log_level,
        "--p2p-bind-ip", address,
        "--p2p-bind-port", str(daemon.p2p_port),
        "--rpc-bind-ip", rpc_address or address,
        "--rpc-bind-port", str(daemon.rpc_port),
        "--rpc-ssl", "disabled",
        "--disable-rpc-ban",
        *RPC_CONNECTION_LIMITS,
        "--allow-local-ip",
        "--disable-dns-checkpoints",
        "--check-updates", "disabled",
    ]
    if rpc_address is None and not address.startswith("127."):
        argv.append("--confirm-external-bind")
    if daemon.offline:
        argv.append("--offline")
    if max_connections_per_ip is not None:
        argv += ["--max-connections-per-ip", str(max_connections_per_ip)]
    if daemon.out_peers is not None:
        argv += ["--out-peers", str(daemon.out_peers)]
    if daemon.in_peers is not None:
        argv += ["--in-peers", str(daemon.in_peers)]
    for flag, hosts in (
        ("--add-exclusive-node", daemon.exclusive_peers),
        ("--add-priority-node", daemon.priority_peers),
        ("--seed-node", daemon.seed_peers),
    ):
        for host in hosts:
            try:
                argv += [flag, peer_addresses[host]]
            except KeyError:
                raise ValueError(f"peer {host!r} has no address; known: "
                                 f"{', '.join(sorted(peer_addresses))}") from None
    return argv + list(daemon.extra_args)


def wallet_rpc_argv(
    wallet: WalletSpec,
    *,
    address: str,
    daemon_address: str,
    wallet_dir: str | os.PathLike[str],
    log_file: str | os.PathLike[str] | None = None,
    binary: str | os.PathLike[str] = "monero-wallet-rpc",
) -> list[str]:
    """monero-wallet-rpc's command line (mainnet mode against the regtest daemon)."""
    wallet_dir = os.fspath(wallet_dir)
    log = os.fspath(log_file) if log_file is not None else os.path.join(wallet_dir, "wallet-rpc.log")
    argv = [
        os.fspath(binary),
        "--daemon-address", daemon_address,
        "--trusted-daemon",
        "--daemon-ssl", "disabled",
        "--disable-rpc-login",
        "--disable-rpc-ban",
        "--rpc-ssl", "disabled",  # else it makes a TLS key at every start: seconds of CPU
        *RPC_CONNECTION_LIMITS,
        "--rpc-bind-ip", address,
        "--rpc-bind-port", str(wallet.rpc_port),
        "--wallet-dir", wallet_dir,
        "--shared-ringdb-dir", os.path.join(wallet_dir, "ringdb"),
        "--log-file", log,
        "--log-level", "0",
        "--non-interactive",
        "--no-dns",
    ]
    if not address.startswith("127."):
        argv.append("--confirm-external-bind")
    return argv


@dataclass(frozen=True)
class AgentRuntimeArgs:
    """What an agent process needs besides its spec: where things are and the clock."""

    out_dir: str
    """Its host's directory: it writes ``<agent name>.jsonl`` there."""
    shared_dir: str
    """A directory every agent can read and write (wallet addresses)."""
    t0: float
    """Epoch seconds at simulated time 0."""
    time_scale: float
    """Simulated seconds per second of the process clock (1 under Shadow)."""
    duration: float
    seed: int
    plugin_modules: tuple[str, ...] = ()
    """Extra modules with a ``PLUGINS`` list to load into the agent's registry."""


def agent_argv(
    agent: AgentSpec,
    plan: ProcessPlan,
    runtime: AgentRuntimeArgs,
    *,
    address_of: Callable[[str], str],
    rpc_address_of: Callable[[str], str] | None = None,
    python: str = sys.executable,
) -> list[str]:
    """``python -m pytest_monerosim.agents.<script> ...`` for ``agent``.

    ``address_of(host)`` gives a host's IP; ``rpc_address_of`` (default the
    same) the IP its RPC servers bind to.
    """
    rpc_of = rpc_address_of or address_of
    argv = [python, "-m", agent.module,
            "--name", agent.name, "--host", agent.host,
            "--out", runtime.out_dir, "--shared", runtime.shared_dir,
            "--t0", repr(runtime.t0), "--time-scale", repr(runtime.time_scale),
            "--duration", repr(runtime.duration), "--seed", str(runtime.seed)]
    for module in runtime.plugin_modules:
        argv += ["--plugin-module", module]
    if agent.start_time:
        argv += ["--start", repr(agent.start_time)]
    if agent.node is not None:
        host = plan.host_of_node(agent.node)
        assert host.daemon is not None
        argv += ["--node", agent.node,
                 "--daemon", f"http://{rpc_of(host.name)}:{host.daemon.rpc_port}"]
    if agent.wallet is not None:
        whost, wspec = plan.wallet(agent.wallet)
        argv += ["--wallet-name", agent.wallet,
                 "--wallet", f"http://{rpc_of(whost.name)}:{wspec.rpc_port}"]
    if agent.plugin is not None:
        argv += ["--plugin", agent.plugin, "--params", json.dumps(dict(agent.params), sort_keys=True)]
    options = dict(agent.options)
    if agent.script == "miner" and agent.node is not None:
        daemon = plan.host_of_node(agent.node).daemon
        assert daemon is not None
        options.update(p2p=plan.peer_addresses(address_of), out_peers=daemon.out_peers,
                       in_peers=daemon.in_peers)
    if agent.script in ("user", "distributor"):
        options["roster"] = [
            {"name": w.name, "node": w.node, "group": w.group, "role": h.role,
             "strategy": w.strategy, "url": f"http://{rpc_of(h.name)}:{w.rpc_port}",
             "daemon": f"http://{rpc_of(h.name)}:{h.daemon.rpc_port}" if h.daemon else None}
            for h, w in plan.wallets()
        ]
    if agent.script == "monitor":
        options["agents"] = [a.name for a in plan.agents() if a.script != "monitor"]
        options["daemons"] = {h.name: f"http://{rpc_of(h.name)}:{h.daemon.rpc_port}"
                              for h in plan.daemon_hosts() if h.daemon is not None}
        options["p2p"] = plan.peer_addresses(address_of)
    if options:
        argv += ["--options", json.dumps(options, sort_keys=True)]
    return argv


def agent_env(
    *, home: str, pythonpath: Sequence[str] | None = None, path: str | None = None,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The complete environment of an agent process (Shadow passes nothing else on)."""
    if pythonpath is None:
        pythonpath = [p for p in sys.path if p and Path(p).is_dir()]
    env = {
        "PATH": path if path is not None else os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "HOME": home,
        "PYTHONPATH": os.pathsep.join(pythonpath),
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "TZ": "UTC",
        "LANG": "C.UTF-8",
    }
    env.update(extra or {})
    return env


def loopback_discovery(plan: ProcessPlan, *, seed: int | None = None) -> dict[str, tuple[str, ...]]:
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
    rng = derive_rng(plan.seed if seed is None else seed, "loopback-discovery")
    chosen: dict[str, tuple[str, ...]] = {}
    hosts = plan.daemon_hosts()
    for host in hosts:
        daemon = host.daemon
        assert daemon is not None
        want = daemon.out_peers if daemon.out_peers is not None else 12
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
    "AgentRuntimeArgs",
    "AgentSpec",
    "DaemonSpec",
    "HostPlan",
    "PlanOptions",
    "PortSource",
    "ProcessPlan",
    "SCRIPTS",
    "StandardPorts",
    "WalletSpec",
    "agent_argv",
    "agent_env",
    "build_plan",
    "check_host_name",
    "loopback_discovery",
    "monerod_argv",
    "wallet_rpc_argv",
]
