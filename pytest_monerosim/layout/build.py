"""Building a :class:`~.model.NetworkLayout`: the only place a scenario is expanded."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

import networkx as nx

from ..config.errors import ScenarioError
from ..config.resolve import ResolvedPlugin, resolve_plugins
from ..rng import derive_rng
from ..topology.files import TopologyFileError
from . import conditions
from .model import NetworkLayout, NodeSpec, WalletPlacement

if TYPE_CHECKING:
    from ..config.model import NodeGroup, Scenario
    from ..registry import Registry


def make_topology(registry: Registry, name: str, params: Any, n: int, rng: random.Random) -> nx.Graph:
    """A topology plugin's graph of ``n`` nodes (factories with ``generate`` or plain callables)."""
    factory = registry.get("topology", name).factory
    build = factory.generate if hasattr(factory, "generate") else factory
    graph: nx.Graph = build(n, params, rng)
    if graph.number_of_nodes() != n:
        raise ValueError(f"topology {name!r} built {graph.number_of_nodes()} nodes; the scenario has {n}")
    return graph


def make_latency_model(registry: Registry, name: str, params: Any, rng: random.Random) -> Any:
    """A latency-model plugin's object (factories with ``create`` or plain callables)."""
    factory = registry.get("latency_model", name).factory
    return factory.create(params, rng) if hasattr(factory, "create") else factory(params, rng)


def build_layout(scenario: Scenario, registry: Registry, *, source: str | None = None) -> NetworkLayout:
    """Expand ``scenario`` (plugins from ``registry``); ``ScenarioError`` names a bad field.

    Streams: the topology draws from ``derive_rng(seed, "topology")``, the latency
    model from ``"latency"`` (the simulator's streams since the start, so results stay).
    """
    plugins = resolve_plugins(scenario, registry, source=source)
    seed = scenario.general.seed
    names = scenario.node_names()
    topo = plugins["network.topology"]
    lat = plugins["network.latency"]
    try:
        graph = _named(make_topology(registry, topo.name, topo.params, len(names),
                                     derive_rng(seed, "topology")), names)
    except (TopologyFileError, ValueError) as exc:
        raise ScenarioError(str(exc), source=source, path="network.topology") from None
    try:
        latency = make_latency_model(registry, lat.name, lat.params, derive_rng(seed, "latency"))
    except ValueError as exc:
        raise ScenarioError(str(exc), source=source, path="network.latency") from None
    regions = _regions(scenario, graph, latency, names, source)
    dynamic = bool(graph.graph.get("dynamic"))
    seeds = _seed_nodes(scenario, graph, names) if dynamic else []
    group_of = scenario.group_of()
    index_of = {g.group: i for i, g in enumerate(scenario.nodes)}
    drawn = conditions.draw(scenario, seed)
    nodes: dict[str, NodeSpec] = {}
    for index, name in enumerate(names):
        group = group_of[name]
        behaviour = plugins[f"nodes[{index_of[group.group]}].behaviour"]
        nodes[name] = _node_spec(scenario, group, name, index, graph.nodes[name], regions.get(name),
                                 seed_node=group.seed_node or name in seeds, behaviour=behaviour,
                                 drawn=drawn)
    if dynamic:
        _add_peers(nodes, seeds)
    wallets = _wallets(scenario, plugins, nodes)
    attacks = [plugins[f"attacks[{i}]"] for i in range(len(scenario.attacks))]
    _check_attacks(scenario, registry, attacks, source)
    return NetworkLayout(
        scenario=scenario, seed=seed, duration=float(scenario.general.duration), nodes=nodes,
        graph=graph, dynamic=dynamic, seed_nodes=seeds, latency_model=latency, wallets=wallets,
        attacks=attacks, plugins=plugins,
        total_hashrate=sum(g.hashrate * g.count for g in scenario.nodes if g.role == "miner"),
        conditions=conditions.any_conditions(scenario), churn_streams=drawn.churn_streams,
        built_from=scenario.model_dump_json(),
    )


def _add_peers(nodes: dict[str, NodeSpec], seeds: list[str]) -> None:
    """Each node's ``add_peers``: its seeds, then the node started just before it (see
    :attr:`NodeSpec.add_peers`). A chain through every node, so a network whose seeds hand
    out nothing (Debian's failing back pings) still spreads every address by gossip."""
    order = sorted(nodes.values(), key=lambda n: (n.start_time, n.index))
    for i, node in enumerate(order):
        known = [s for s in seeds if s != node.name]
        if i and order[i - 1].name not in known:
            known.append(order[i - 1].name)
        node.add_peers = known


def _node_spec(scenario: Scenario, group: NodeGroup, name: str, index: int, attrs: dict[str, Any],
               region: str | None, *, seed_node: bool, behaviour: ResolvedPlugin,
               drawn: conditions.Drawn) -> NodeSpec:
    """THE place a node's settings are filled in (add new per-node fields here)."""
    default_bw = scenario.network.bandwidth_bps
    bw = group.bandwidth_bps
    up = bw or attrs.get("bandwidth_up_bps") or attrs.get("bandwidth_bps") or default_bw
    down = bw or attrs.get("bandwidth_down_bps") or attrs.get("bandwidth_bps") or default_bw
    limits = scenario.p2p.limits(group.out_peers, group.in_peers, group.anchors)
    return NodeSpec(
        name=name, index=index, group=group.group, role=group.role, honest=group.honest,
        hashrate=group.hashrate, start_time=group.start_time, out_peers=limits.out_peers,
        in_peers=limits.in_peers, anchors=limits.anchors, seed_node=seed_node, region=region,
        up_bps=float(up), down_bps=float(down), behaviour=behaviour,
        behaviour_explicit=group.behaviour is not None,
        reachable=name not in drawn.nat, hidden=name in drawn.hidden, churn=drawn.churn.get(name),
        spy=group.spy, ban_list=list(group.ban_list),
    )


def _named(graph: nx.Graph, names: list[str]) -> nx.Graph:
    """``graph`` relabelled with node names, in order; self-loops dropped.

    Relabelled by hand so the order of ``edges()`` (and so each static edge's
    orientation: ``u`` connects to ``v``) is the generator's.
    """
    mapping = dict(zip(list(graph.nodes()), names, strict=True))
    named = graph.__class__()
    named.graph.update(graph.graph)
    named.graph["seed_nodes"] = [mapping[s] for s in graph.graph.get("seed_nodes", []) if s in mapping]
    for gn in graph.nodes():
        named.add_node(mapping[gn], **graph.nodes[gn])
    for u, v, data in graph.edges(data=True):
        if u != v:
            named.add_edge(mapping[u], mapping[v], **data)
    return named


def _regions(scenario: Scenario, graph: nx.Graph, latency: Any, names: list[str],
             source: str | None) -> dict[str, str]:
    """Node → region: its group's, else the graph's, else what the latency model assigns."""
    group_of = scenario.group_of()
    named = nx.Graph()
    for name in names:
        region = group_of[name].region or graph.nodes[name].get("region")
        named.add_node(name, **({"region": region} if region else {}))
    assign = getattr(latency, "assign_regions", None)
    if assign is not None:
        try:
            assign(named)
        except ValueError as exc:
            raise _region_error(scenario, names, str(exc), source) from None
    return {n: r for n, r in named.nodes(data="region") if r}


def _region_error(scenario: Scenario, names: list[str], message: str, source: str | None) -> ScenarioError:
    group_of = scenario.group_of()
    for name in names:
        group = group_of[name]
        if group.region is not None and f"node {name!r}" in message:
            i = scenario.nodes.index(group)
            return ScenarioError(message.replace(f"node {name!r}", f"group {group.group!r}"),
                                 source=source, path=f"nodes[{i}].region")
    return ScenarioError(message, source=source, path="network.topology")


def _seed_nodes(scenario: Scenario, graph: nx.Graph, names: list[str]) -> list[str]:
    """Groups' ``seed_node`` flags, else the graph's ``seed_nodes``, else the first node."""
    group_of = scenario.group_of()
    flagged = [n for n in names if group_of[n].seed_node]
    if flagged:
        return flagged
    listed = [s for s in graph.graph.get("seed_nodes", []) if s in graph]
    return listed or names[:1]


def _wallets(scenario: Scenario, plugins: dict[str, ResolvedPlugin],
             nodes: dict[str, NodeSpec]) -> list[WalletPlacement]:
    index_of = {w.name: i for i, w in enumerate(scenario.wallets)}
    out: list[WalletPlacement] = []
    for wallet, node, group in scenario.wallet_placements():
        strategy = plugins[f"wallets[{index_of[group.name]}].strategy"]
        out.append(WalletPlacement(name=wallet, node=node, group=group.name, strategy=strategy))
        nodes[node].wallets.append(wallet)
    return out


def _check_attacks(scenario: Scenario, registry: Registry, attacks: list[ResolvedPlugin],
                   source: str | None) -> None:
    """Each attack's own view of the scenario (``factory.check(params, scenario)``)."""
    for i, ref in enumerate(attacks):
        check = getattr(registry.get("attack", ref.name).factory, "check", None)
        if callable(check):
            try:
                check(ref.params, scenario)
            except ValueError as exc:
                raise ScenarioError(str(exc), source=source, path=f"attacks[{i}]") from None
