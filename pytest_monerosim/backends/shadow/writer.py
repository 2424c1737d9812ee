"""Write a scenario's process plan as a ready-to-run Shadow 3.x directory.

The directory holds::

    shadow.yaml        the Shadow config (validated with validate_shadow_config first)
    network.gml        the network graph (written by gml.write_gml, checked by validate_gml)
    plan.json          the process plan it was made from (hosts, processes, addresses)
    agents/<host>/<agent>.py
                       one wrapper per agent process: `python agents/miner-0/miner-miner-0.py`
                       runs the agent exactly as Shadow does, for debugging by hand
    template/hosts/<host>/
                       Shadow's template directory: copied to shadow.data/hosts/<host>/
                       at startup (wallet directories exist before wallet-rpc starts)
    shared/            the directory every agent reads and writes (wallet addresses)

Run it with ``cd DIR && shadow shadow.yaml``; Shadow writes ``shadow.data/``.

How the plan maps onto Shadow:

* every plan host is a Shadow host with its own IPv4 address, one /16 per host
  (``11.0.0.1``, ``11.1.0.1``, ... as on the internet; monerod prefers peers in
  distinct subnets), and monerod's command line comes from the plan's shared
  :func:`~pytest_monerosim.backends.command_lines.monerod_argv` with that address;
* processes start at the plan's start times, staggered by
  :attr:`ShadowSettings.stagger_s` per host among hosts that start together;
  a host's wallet RPCs start :attr:`ShadowSettings.wallet_delay_s` after its
  monerod and its agents :attr:`ShadowSettings.agent_delay_s` after it;
* daemons and wallet RPCs are expected to be ``running`` when Shadow stops;
  agents stop by themselves at the scenario's duration and must have exited 0
  by ``stop_time`` (duration + :attr:`ShadowSettings.grace_s`);
* the network: one GML node per host, with the plan's latencies (to the
  microsecond) on edges
  (every pair for the dynamic ``monero`` topology, so routing is direct;
  ``use_shortest_path`` otherwise) and bandwidths on nodes; or, for large
  networks whose latency model is ``constant`` or jitter-free ``regions``, one
  GML node per region (hosts carry their own bandwidths) — see
  :func:`network_graph`;
* each process gets an explicit environment (Shadow passes nothing on): PATH,
  HOME (its host directory) and, for agents, PYTHONPATH.

Times are written in Shadow's integer units (:mod:`pytest_monerosim.shadow_units`); Shadow's
simulated clock starts at 2000-01-01 00:00:00 UTC, which is the agents' ``t0``.
"""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx
import yaml

from ...atomic import atomic_write
from ...shadow_units import format_bandwidth, format_time_ns
from ...topology.files import describe_disconnected
from ..command_lines import (
    AgentRuntimeArgs,
    agent_argv,
    agent_env,
    ban_list_lines,
    monerod_argv,
    wallet_rpc_argv,
)
from ..parse import MONEROD_LOG
from ..plan import AgentSpec, DaemonSpec, HostPlan, PlanOptions, ProcessPlan, build_plan
from .gml import validate_gml
from .gml_graph import gml_node_ids, write_gml
from .schema import ShadowConfig, ShadowConfigError, validate_shadow_config

if TYPE_CHECKING:
    from ...config.model import Scenario
    from ...registry import Registry

__all__ = [
    "BAN_FILE",
    "CONFIG_FILE",
    "DATA_DIRECTORY",
    "GRAPH_FILE",
    "SHADOW_EPOCH",
    "ShadowDirectory",
    "ShadowSettings",
    "build_shadow_config",
    "host_addresses",
    "network_graph",
    "shadow_latency",
    "not_emulated",
    "write_shadow_dir",
]

CONFIG_FILE = "shadow.yaml"
GRAPH_FILE = "network.gml"
PLAN_FILE = "plan.json"
DATA_DIRECTORY = "shadow.data"
TEMPLATE_DIRECTORY = "template"
SHARED_DIRECTORY = "shared"
AGENTS_DIRECTORY = "agents"
BAN_FILE = "ban.txt"
"""A banning daemon's ``--ban-list`` file, in its host's directory (from the template)."""
SHADOW_EPOCH = 946684800.0
"""Shadow's simulated wall clock at time 0: 2000-01-01 00:00:00 UTC (epoch seconds)."""
SELF_LOOP_LATENCY_S = 0.001
COMPACT_ABOVE_HOSTS = 200
"""With more hosts than this, a network that allows it is written one GML node per region."""
_NS = 10**9
_SKIPPED_FIRST_OCTETS = {100, 127}  # shared address space (RFC 6598) and loopback


@dataclass(frozen=True)
class ShadowSettings:
    """How the plan becomes a Shadow directory (binaries, timing, network form, overrides)."""

    monerod_bin: str = "monerod"
    wallet_rpc_bin: str = "monero-wallet-rpc"
    python: str = sys.executable
    pythonpath: tuple[str, ...] | None = None
    """Directories agents import from (default: the running interpreter's ``sys.path``)."""
    path_env: str = "/usr/local/bin:/usr/bin:/bin"
    stagger_s: float = 0.1
    """Start offset between consecutive hosts that would otherwise start at the same time."""
    wallet_delay_s: float = 1.0
    agent_delay_s: float = 2.0
    grace_s: float = 300.0
    """Simulated seconds after the scenario's duration before Shadow stops: the agents stop
    at the duration, and the monitor then sweeps every daemon and wallet before it exits."""
    compact: bool | None = None
    """One GML node per region (True), per host (False), or decide by size (None)."""
    overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Extra Shadow config sections merged in: ``general``, ``experimental``,
    ``host_option_defaults`` (e.g. :attr:`Migration.shadow_options`)."""
    plan_options: PlanOptions = field(default_factory=PlanOptions)
    resolve_binaries: bool = True
    """Write absolute paths for binaries found on PATH (else the names as given)."""
    addresses: Mapping[str, str] | None = None
    """Host → IPv4 address instead of :func:`host_addresses` (to run the processes outside
    Shadow, e.g. on 127.0.0.x in tests)."""
    t0: float = SHADOW_EPOCH
    """Epoch seconds at simulated time 0 as the agents see it (Shadow's clock: its epoch)."""
    time_scale: float = 1.0
    """Simulated seconds per second of the agents' clock (1 under Shadow)."""


@dataclass
class ShadowDirectory:
    """What :func:`write_shadow_dir` wrote."""

    directory: Path
    plan: ProcessPlan
    config: ShadowConfig
    addresses: dict[str, str]
    """Host name → IPv4 address."""
    processes: dict[str, list[str]]
    """Host name → description of each process, in Shadow's order (for error messages)."""
    compact: bool
    settings: ShadowSettings = field(default_factory=ShadowSettings)
    notes: list[str] = field(default_factory=list)
    """What of the scenario this config does not emulate, one line each (also in plan.json)."""

    @property
    def config_file(self) -> Path:
        return self.directory / CONFIG_FILE

    @property
    def graph_file(self) -> Path:
        return self.directory / GRAPH_FILE

    @property
    def data_directory(self) -> Path:
        return self.directory / DATA_DIRECTORY

    def host_directory(self, host: str) -> Path:
        return self.data_directory / "hosts" / host


# --------------------------------------------------------------------------- addresses


def host_addresses(hosts: Sequence[str]) -> dict[str, str]:
    """One IPv4 address per host, each in its own /16: 11.0.0.1, 11.1.0.1, ... 12.0.0.1, ..."""
    out: dict[str, str] = {}
    first, second = 11, 0
    for host in hosts:
        while first in _SKIPPED_FIRST_OCTETS:
            first += 1
        if first > 223:
            raise ValueError(f"{len(hosts)} hosts are more than this address plan holds "
                             f"({len(out)} addresses)")
        out[host] = str(ipaddress.IPv4Address(f"{first}.{second}.0.1"))
        second += 1
        if second == 256:
            first, second = first + 1, 0
    return out


# --------------------------------------------------------------------------- network


def network_graph(
    plan: ProcessPlan, scenario: Scenario, *, compact: bool | None = None
) -> tuple[nx.Graph, dict[str, Any], bool, bool]:
    """(graph, host → graph node, use_shortest_path, compact) for the Shadow network.

    Per host (the default): the plan's graph as it is — hosts as nodes with
    their bandwidths, the plan's edges with their latencies. A complete graph
    is routed directly (``use_shortest_path: false``, so every pair gets the
    plan's latency exactly); any other is routed along shortest paths.

    Compact (large dynamic networks with a ``constant`` or jitter-free
    ``regions`` latency model): one node per region (or a single node for
    ``constant``) whose self-loop carries the latency within it and whose edges
    carry the latency between regions; hosts set their own bandwidth. Latency
    between two hosts is then exactly what the latency model gives them.
    """
    regional = _regional_latency(plan, scenario)
    if compact is None:
        compact = regional is not None and len(plan.hosts) > COMPACT_ABOVE_HOSTS
    elif compact and regional is None:
        raise ValueError("a compact network needs the dynamic 'monero' topology and a 'constant' "
                         "or jitter-free 'regions' latency model")
    if compact and regional is not None:
        return (*_compact_graph(plan, scenario, regional), False, True)
    # A directed plan graph (asymmetric links) is written as directed GML: one edge per
    # direction with its own latency, as Shadow allows.
    graph: nx.Graph = nx.DiGraph() if plan.graph.is_directed() else nx.Graph()
    for name, data in plan.graph.nodes(data=True):
        graph.add_node(name, bandwidth_up_bps=round(data["bandwidth_up_bps"]),
                       bandwidth_down_bps=round(data["bandwidth_down_bps"]))
    for u, v, data in plan.graph.edges(data=True):
        graph.add_edge(u, v, latency_s=shadow_latency(data["latency_s"]),
                       packet_loss=float(data.get("packet_loss", 0.0)))
    n = graph.number_of_nodes()
    pairs = n * (n - 1) if graph.is_directed() else n * (n - 1) // 2
    complete = graph.number_of_edges() == pairs
    problem = None if complete else describe_disconnected(graph, strong=True)
    if problem is not None:
        raise ValueError(f"the network graph {problem}; Shadow routes between every pair of "
                         "hosts")
    return graph, {h: h for h in graph.nodes}, not complete, False


def shadow_latency(seconds: float) -> float:
    """A latency Shadow can take: whole microseconds (latency models draw arbitrary floats).

    At least 1 µs, since Shadow refuses a zero latency.
    """
    return max(1, round(float(seconds) * 1_000_000)) / 1_000_000


def _regional_latency(plan: ProcessPlan, scenario: Scenario) -> dict[str, Any] | None:
    """The latency model's region table when a compact graph reproduces it exactly."""
    if not plan.dynamic:
        return None
    from ...topology.latency import ConstantParams, RegionsParams

    ref = scenario.network.latency
    if ref.name == "constant":
        return {"kind": "constant", "latency_s": ConstantParams.model_validate(ref.params).latency_s}
    if ref.name == "regions":
        params = RegionsParams.model_validate(ref.params)
        if params.jitter:
            return None
        return {"kind": "regions", "regions": [r.model_dump() for r in params.regions],
                "latency_s": params.latency_s, "intra_s": params.intra_s,
                "directed": params.directed, "packet_loss": params.packet_loss}
    return None


def _compact_graph(
    plan: ProcessPlan, scenario: Scenario, table: Mapping[str, Any]
) -> tuple[nx.Graph, dict[str, Any]]:
    directed = bool(table.get("directed"))
    graph: nx.Graph = nx.DiGraph() if directed else nx.Graph()
    default = scenario.network.bandwidth_bps
    attach: dict[str, Any] = {}
    if table["kind"] == "constant":
        graph.add_node("internet", bandwidth_bps=default)
        graph.add_edge("internet", "internet", latency_s=shadow_latency(table["latency_s"]),
                       packet_loss=0.0)
        attach.update(dict.fromkeys(plan.hosts, "internet"))
        return graph, attach
    names = [r["name"] for r in table["regions"]]
    intra = float(table.get("intra_s", 0.005))
    # (a, b) -> one-way latency; a pair given one way only is the same both ways.
    between: dict[tuple[str, str], float] = {}
    for a, row in dict(table.get("latency_s") or {}).items():
        for b, value in dict(row).items():
            between[(a, b)] = float(value)
            if not directed:
                between[(b, a)] = float(value)
    for (a, b), value in list(between.items()):
        between.setdefault((b, a), value)
    loss: dict[tuple[str, str], float] = {}
    for a, row in dict(table.get("packet_loss") or {}).items():
        for b, value in dict(row).items():
            loss[(a, b)] = float(value)
            if not directed:
                loss.setdefault((b, a), float(value))
    for name in names:
        graph.add_node(name, bandwidth_bps=default)
        graph.add_edge(name, name, latency_s=shadow_latency(between.get((name, name), intra)),
                       packet_loss=loss.get((name, name), 0.0))
    for i, a in enumerate(names):
        for b in (names if directed else names[i + 1:]):
            if a != b:
                graph.add_edge(a, b, latency_s=shadow_latency(between[(a, b)]),
                               packet_loss=loss.get((a, b), 0.0))
    agent_only = [h for h in plan.hosts.values() if h.node is None]
    if agent_only:  # the monitor: one node linked to every region over a LAN-like link
        graph.add_node("agents", bandwidth_bps=default)
        graph.add_edge("agents", "agents", latency_s=SELF_LOOP_LATENCY_S, packet_loss=0.0)
        for name in names:
            graph.add_edge("agents", name, latency_s=SELF_LOOP_LATENCY_S, packet_loss=0.0)
            if directed:
                graph.add_edge(name, "agents", latency_s=SELF_LOOP_LATENCY_S, packet_loss=0.0)
    for plan_host in plan.hosts.values():
        if plan_host.node is None:
            attach[plan_host.name] = "agents"
        elif plan_host.region in names:
            attach[plan_host.name] = plan_host.region
        else:
            raise ValueError(f"host {plan_host.name!r} has region {plan_host.region!r}, "
                             f"not one of {names}")
    return graph, attach


# --------------------------------------------------------------------------- config


def _ns(seconds: float) -> int:
    return int(round(seconds * _NS))


def _time(ns: int) -> str:
    return format_time_ns(ns)


def _pythonpath() -> list[str]:
    """This package's root first, then the running interpreter's import path."""
    root = str(Path(__file__).resolve().parents[3])
    rest = [p for p in sys.path if p and Path(p).is_dir() and p != root]
    return [root, *dict.fromkeys(rest)]


def _binary(name: str, resolve: bool) -> str:
    if not resolve or os.sep in name:
        return name
    found = shutil.which(name)
    return found or name


def _start_offsets(plan: ProcessPlan, stagger_s: float) -> dict[str, int]:
    """Host → its start in ns: the plan's start plus a stagger among hosts that start together."""
    seen: dict[int, int] = {}
    out: dict[str, int] = {}
    for host in plan.hosts.values():
        base = _ns(host.start_time)
        k = seen.get(base, 0)
        seen[base] = k + 1
        out[host.name] = base + k * _ns(stagger_s)
    return out


def _sessions(daemon: DaemonSpec, start_ns: int, stop_ns: int) -> list[tuple[int, int | None]]:
    """The daemon's sessions in Shadow time, ``(start, shutdown or None)``: one unless it
    churns, then one per stretch between the layout's downtimes (``DaemonSpec.downtimes``,
    run time, shifted as the host's start is), each on the same data directory."""
    shift = start_ns - _ns(daemon.start_time)
    out: list[tuple[int, int | None]] = []
    begin = start_ns
    for at, back in daemon.downtimes:
        end = max(_ns(at) + shift, begin + _ns(0.001))  # Shadow: a shutdown after the start
        if end >= stop_ns:
            break
        out.append((begin, end))
        begin = _ns(back) + shift
        if begin >= stop_ns:
            return out
    out.append((begin, None))
    return out


def build_shadow_config(
    plan: ProcessPlan,
    scenario: Scenario,
    directory: Path,
    settings: ShadowSettings,
) -> tuple[dict[str, Any], str, dict[str, str], dict[str, list[str]], dict[str, str], bool]:
    """(config data, GML text, addresses, process descriptions, wrapper files, compact).

    ``wrapper files`` maps a path relative to ``directory`` to its text: the agents'
    wrappers and the banning daemons' ban lists (in the template directory, which Shadow
    copies into each host's directory, the daemon's working directory).
    Nothing is written here.
    """
    directory = directory.resolve()
    addresses = dict(settings.addresses) if settings.addresses is not None \
        else host_addresses(list(plan.hosts))
    missing = [h for h in plan.hosts if h not in addresses]
    if missing:
        raise ValueError(f"no address for host(s) {', '.join(missing)}")
    graph, attach, shortest, compact = network_graph(plan, scenario, compact=settings.compact)
    ids = gml_node_ids(graph)
    gml = write_gml(graph, self_loop_latency_s=SELF_LOOP_LATENCY_S)
    problems = validate_gml(gml, attached={ids[n] for n in attach.values()}, complete=not shortest)
    if problems:
        raise ShadowConfigError([f"{GRAPH_FILE}: {p}" for p in problems])
    peers = plan.peer_addresses(addresses.__getitem__)
    starts = _start_offsets(plan, settings.stagger_s)
    monerod = _binary(settings.monerod_bin, settings.resolve_binaries)
    wallet_rpc = _binary(settings.wallet_rpc_bin, settings.resolve_binaries)
    pythonpath = list(settings.pythonpath) if settings.pythonpath is not None else _pythonpath()
    runtime = AgentRuntimeArgs(
        out_dir=".", shared_dir=str(directory / SHARED_DIRECTORY), t0=settings.t0,
        time_scale=settings.time_scale, duration=plan.duration, seed=plan.seed,
    )
    hosts: dict[str, Any] = {}
    described: dict[str, list[str]] = {}
    wrappers: dict[str, str] = {}
    groups = {h.name: h.group for h in plan.hosts.values()}
    for host in plan.hosts.values():
        home = str(directory / DATA_DIRECTORY / "hosts" / host.name)
        base_env = {"PATH": settings.path_env, "HOME": home}
        start = starts[host.name]
        processes: list[dict[str, Any]] = []
        described[host.name] = []
        if host.daemon is not None:
            # "./": monerod puts a log file without a directory inside its data directory
            ban_file = None
            if host.daemon.ban_list:  # group:<name> resolved to /24s: each host has a /16 here
                lines = ban_list_lines(host.daemon.ban_list, groups=groups, addresses=addresses)
                wrappers[f"{TEMPLATE_DIRECTORY}/hosts/{host.name}/{BAN_FILE}"] = "\n".join(lines) + "\n"
                ban_file = BAN_FILE
            argv = monerod_argv(host.daemon, address=addresses[host.name], data_dir="monerod",
                                log_file=f"./{MONEROD_LOG}", peer_addresses=peers, binary=monerod,
                                ban_list_file=ban_file)
            stop_ns = _ns(plan.duration) + _ns(settings.grace_s)
            for i, (begin, end) in enumerate(_sessions(host.daemon, start, stop_ns)):
                proc = _process(argv, base_env, begin, "running" if end is None else {"exited": 0})
                if end is not None:  # churn: SIGTERM, monerod's graceful shutdown (exit 0: tests/monerod)
                    proc["shutdown_time"] = _time(end)
                processes.append(proc)
                described[host.name].append(f"monerod ({argv[0]})" if not i
                                            else f"monerod after churn downtime {i}")
        for wallet in host.wallets:
            daemon = host.daemon
            assert daemon is not None, f"wallet {wallet.name} on host {host.name} without a daemon"
            argv = wallet_rpc_argv(wallet, address=addresses[host.name],
                                   daemon_address=f"{addresses[host.name]}:{daemon.rpc_port}",
                                   wallet_dir=f"wallets/{wallet.name}", binary=wallet_rpc)
            processes.append(_process(argv, base_env, start + _ns(settings.wallet_delay_s), "running"))
            described[host.name].append(f"monero-wallet-rpc for wallet {wallet.name}")
        for agent in host.agents:
            argv = agent_argv(agent, plan, runtime, address_of=addresses.__getitem__,
                              python=settings.python)
            rel = f"{AGENTS_DIRECTORY}/{host.name}/{agent.name}.py"
            wrappers[rel] = _wrapper(agent, host, argv)
            env = agent_env(home=home, pythonpath=pythonpath, path=settings.path_env)
            delay = _ns(settings.agent_delay_s) if host.daemon is not None else 0
            proc_argv = [settings.python, str(directory / rel)]
            processes.append(_process(proc_argv, env, start + delay, {"exited": 0}))
            described[host.name].append(f"agent {agent.name} ({agent.module})")
        host_entry: dict[str, Any] = {
            "network_node_id": ids[attach[host.name]],
            "ip_addr": addresses[host.name],
            "processes": processes,
        }
        if compact:
            host_entry["bandwidth_down"] = format_bandwidth(round(host.bandwidth_down_bps))
            host_entry["bandwidth_up"] = format_bandwidth(round(host.bandwidth_up_bps))
        hosts[host.name] = host_entry
    general: dict[str, Any] = {
        "stop_time": _time(_ns(plan.duration) + _ns(settings.grace_s)),
        "seed": plan.seed % 2**32,
        "data_directory": DATA_DIRECTORY,
        "template_directory": TEMPLATE_DIRECTORY,
        "model_unblocked_syscall_latency": True,
    }
    config: dict[str, Any] = {
        "general": general,
        "network": {"graph": {"type": "gml", "file": {"path": GRAPH_FILE}}},
        "hosts": hosts,
    }
    if not shortest:
        config["network"]["use_shortest_path"] = False
    _merge_overrides(config, settings.overrides)
    return config, gml, addresses, described, wrappers, compact


def _process(argv: list[str], env: Mapping[str, str], start_ns: int,
             final: str | dict[str, Any]) -> dict[str, Any]:
    return {
        "path": argv[0],
        "args": argv[1:],
        "environment": dict(env),
        "start_time": _time(start_ns),
        "expected_final_state": final,
    }


_OVERRIDABLE = ("general", "experimental", "host_option_defaults")


def _merge_overrides(config: dict[str, Any], overrides: Mapping[str, Mapping[str, Any]]) -> None:
    for section, values in overrides.items():
        if section not in _OVERRIDABLE:
            raise ShadowConfigError([f"{section}: not a section that can be overridden; accepted: "
                                     f"{', '.join(_OVERRIDABLE)}"])
        if not isinstance(values, Mapping):
            raise ShadowConfigError([f"{section}: overrides must be a map, not {values!r}"])
        config.setdefault(section, {}).update(values)


def _wrapper(agent: AgentSpec, host: HostPlan, argv: list[str]) -> str:
    """A Python file that runs the agent as Shadow runs it (``argv[0:3]`` is ``python -m <module>``)."""
    args = argv[3:]
    return (
        f"# Agent {agent.name} on host {host.name}: written by pytest-monerosim for Shadow.\n"
        f"# Shadow runs it as `python <this file>` with the host directory as working directory.\n"
        "import runpy\n"
        "import sys\n\n"
        f"sys.argv = [{agent.module!r}] + {json.dumps(args, indent=4)}\n"
        f"runpy.run_module({agent.module!r}, run_name=\"__main__\", alter_sys=True)\n"
    )


# --------------------------------------------------------------------------- writing


def write_shadow_dir(
    scenario: Scenario,
    registry: Registry,
    directory: str | Path,
    settings: ShadowSettings | None = None,
    *,
    plan: ProcessPlan | None = None,
) -> ShadowDirectory:
    """Build the plan (unless given), validate the Shadow config and write the directory.

    Raises ``ShadowConfigError`` (naming the YAML path) when the config would
    not pass Shadow's checks; nothing is written then. An existing
    ``shadow.data`` is left alone (Shadow refuses to start over one: the
    runner removes it).
    """
    settings = settings or ShadowSettings()
    out = Path(directory)
    if plan is None:
        plan = build_plan(scenario, registry, options=settings.plan_options)
    config, gml, addresses, described, wrappers, compact = build_shadow_config(
        plan, scenario, out, settings)
    inline = {**config, "network": {**config["network"], "graph": {"type": "gml", "inline": gml}}}
    validate_shadow_config(inline)  # every rule, the graph included, before anything is written
    checked = validate_shadow_config(config)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(out / GRAPH_FILE, gml)
    for sub in (SHARED_DIRECTORY, AGENTS_DIRECTORY):
        shutil.rmtree(out / sub, ignore_errors=True)
        (out / sub).mkdir()
    template = out / TEMPLATE_DIRECTORY
    shutil.rmtree(template, ignore_errors=True)
    for host in plan.hosts.values():
        base = template / "hosts" / host.name
        base.mkdir(parents=True)
        for wallet in host.wallets:
            (base / "wallets" / wallet.name).mkdir(parents=True)
    for rel, text in wrappers.items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    manifest = {k: v for k, v in plan.to_json().items() if k != "edges"}  # the GML has the network
    notes = not_emulated(plan)
    atomic_write(out / PLAN_FILE, json.dumps({**manifest, "addresses": addresses, "notes": notes}, indent=1,
                                             sort_keys=True) + "\n")
    atomic_write(
        out / CONFIG_FILE,
        "# Shadow 3.x config written by pytest-monerosim; run: shadow shadow.yaml (in this directory).\n"
        "# monerod's database uses msync and mlock, which stock Shadow does not support: run it with\n"
        "# a Shadow that does (upstream Monerosim runs a patched fork).\n"
        + yaml.safe_dump(config, sort_keys=False, default_flow_style=False, width=120))
    return ShadowDirectory(directory=out, plan=plan, config=checked, addresses=addresses,
                           processes=described, compact=compact, settings=settings, notes=notes)


def not_emulated(plan: ProcessPlan) -> list[str]:
    """The scenario's mainnet conditions this config leaves out, one line each."""
    notes = []
    natted = sorted(h.name for h in plan.hosts.values() if h.daemon is not None and not h.daemon.reachable)
    if natted:
        notes.append(f"reachable: false ({len(natted)} hosts, e.g. {natted[0]}) is not emulated: "
                     "Shadow has no packet filter, and monerod binds its outgoing connections to "
                     "--p2p-bind-ip (try_connect, abstract_tcp_server2.inl), so a listener on "
                     "loopback alone would cut the host off; these hosts take inbound connections")
    return notes
