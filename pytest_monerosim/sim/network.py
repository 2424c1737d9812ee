"""The world: a whole simulated Monero network built from a :class:`NetworkLayout`.

:class:`World` owns the engine, the block tree, the nodes and the services
(:class:`~.p2p.P2PNetwork`, :class:`~.relay.BlockRelay`,
:class:`~.mining.MiningScheduler`), runs until the scenario's duration and
returns the :class:`~pytest_monerosim.result.model.Result`.

Everything about the nodes comes from the layout
(:func:`pytest_monerosim.layout.build_layout`, the one expansion of a
scenario every backend shares): per node its limits, role, behaviour, region,
bandwidth, start time and hashrate; the topology graph (marked ``dynamic`` for
the ``monero`` kind, whose links :mod:`.p2p` makes from the layout's seed
nodes; any other graph fixes the links, edge ``(u, v)``: ``u`` connects out to
``v``); the latency model (``latency(u, v)`` by node name, or an edge's own
``latency_s`` from a topology file); the validated attacks. The world adds
what only the simulator needs: each node's IPv4 address (``"a.b.c.d:18080"``,
distinct /16s drawn from the ``addresses`` stream), behaviour objects started
with a :class:`~.node.SimNodeAPI` when the node first comes online, attack
components, and the components named in :data:`COMPONENT_FACTORIES` (the
wallet/tx layer) and any passed in.

EXTENSION POINTS on the world: :meth:`World.add_component`,
:meth:`World.add_filter` / :meth:`World.remove_filter` / :meth:`World.drop_links`,
:meth:`World.add_node`, :meth:`World.snapshot`, ``world.p2p.connect`` /
``disconnect``, and per node ``restart``, ``advertise``, ``strategy``,
``publish`` (see :mod:`.node`, :mod:`.p2p`, :mod:`.mining`, :mod:`.components`).
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import math
import random
import time as _wall
from collections.abc import Callable, Iterable
from typing import Any

from ..layout import NetworkLayout
from ..registry import Registry
from ..result.model import BlockRecord, PeerSnapshot, ReorgRecord, Result
from ..rng import derive_rng
from . import conditions
from .block_relay import BlockRelay
from .chain import BlockTree, TipChange
from .components import Hooks
from .difficulty import DifficultyParams
from .engine import Engine, ProgressFn
from .mining import (
    EMPTY_SELECTION,
    TOTAL_HASHES_PER_S,
    HonestStrategy,
    MiningScheduler,
    MiningStrategy,
    TxSelection,
)
from .node import Node, SimNodeAPI
from .p2p import P2PNetwork
from .peers import host_of, random_address, subnet_of

LinkFilter = Callable[[Node, Node], bool]
"""``f(a, b)`` → False forbids ``a`` to connect to or deliver a message to ``b``."""

COMPONENT_FACTORIES: tuple[str, ...] = ("pytest_monerosim.sim.tx.component:make_component",)
"""Dotted paths ``"module:callable"`` of ``factory(world) -> component | None``,
imported when a world is built (the wallet/transaction layer registers here)."""

DEFAULT_SNAPSHOT_INTERVAL_S = 600.0
GC_YOUNG_THRESHOLD = 100_000
"""The cyclic collector's first threshold while a world runs (Python's default: 700)."""


class World:
    """One simulated network, from its layout to its result."""

    def __init__(
        self,
        layout: NetworkLayout,
        registry: Registry,
        *,
        snapshot_interval_s: float | None = DEFAULT_SNAPSHOT_INTERVAL_S,
        components: Iterable[Any] = (),
    ) -> None:
        scenario = layout.scenario
        self.layout = layout
        self.scenario = scenario
        self.registry = registry
        self.seed = layout.seed
        self.duration = layout.duration
        self.snapshot_interval_s = snapshot_interval_s
        self.engine = Engine()
        self.hooks = Hooks()
        self.filters: list[LinkFilter] = []
        self.max_tip_cum = 0
        """The heaviest tip any node has had (timed syncs skip the chain check below it)."""
        self.nodes: dict[str, Node] = {}
        self.by_address: dict[str, Node] = {}
        self.host_count: dict[str, int] = {}
        """Host (IP) → how many known addresses it has (ports): monerod counts hosts once."""
        self._known_addresses: set[str] = set()
        self.addr_cache: dict[str, tuple[str, str]] = {}
        """Address → (host, /16), filled by :meth:`addr_parts`."""
        self._edge_latency: dict[tuple[int, int], float] = {}
        self.reorgs: list[ReorgRecord] = []
        self.snapshots: list[PeerSnapshot] = []
        self.log_records: list[dict[str, Any]] = []
        self._address_rng = derive_rng(self.seed, "addresses")

        mining = scenario.mining
        self.target_s = mining.target_s
        # D0 makes the hashrate online at t=0 find one block per target; miners that
        # join later add to it (blocks come faster until the retarget catches up).
        miners = [g for g in scenario.nodes if g.role == "miner"]
        total = sum(g.hashrate * g.count for g in miners if g.start_time <= 0) \
            or sum(g.hashrate * g.count for g in miners)
        self.hashes_per_unit = TOTAL_HASHES_PER_S / total if total > 0 else float(TOTAL_HASHES_PER_S)
        self.initial_difficulty = max(1, round(TOTAL_HASHES_PER_S * mining.target_s))
        self.tree = BlockTree(
            self.initial_difficulty,
            DifficultyParams(mining.target_s, mining.difficulty_window, mining.difficulty_lag,
                             mining.difficulty_cut),
            empty_block_size=mining.block_size_bytes,
        )
        self.mining = MiningScheduler(self, derive_rng(self.seed, "mining"), self.hashes_per_unit)
        self.relay = BlockRelay(self, scenario.network.verification_s)

        self.dynamic = layout.dynamic
        self.p2p = P2PNetwork(self, scenario.p2p, dynamic=self.dynamic)
        self.latency_model = layout.latency_model
        self.asymmetric = layout.asymmetric
        """Links may have a different latency each way (directed GML routes, directed files)."""
        self._build_nodes()

        for path in COMPONENT_FACTORIES:
            module_name, _, attr = path.partition(":")
            factory = getattr(importlib.import_module(module_name), attr or "make_component")
            component = factory(self)
            if component is not None:
                self.add_component(component)
        conditions.apply(self)  # reachability, hidden nodes, spies, ban lists, churn (if set)
        for ref in layout.attacks:  # validated and checked against the scenario by the layout
            self.add_component(registry.get("attack", ref.name).factory(ref.params))
        for component in components:
            self.add_component(component)

    # -- building --------------------------------------------------------------------
    def _build_nodes(self) -> None:
        layout = self.layout
        for spec in layout.nodes.values():
            behaviour = self.registry.get("behaviour", spec.behaviour.name).factory(spec.behaviour.params)
            self._new_node(spec.name, group=spec.group, role=spec.role, honest=spec.honest,
                           address=spec.address, region=spec.region, up_bps=spec.up_bps,
                           down_bps=spec.down_bps, start_time=spec.start_time,
                           seed_node=spec.seed_node, hashrate=spec.hashrate, out_peers=spec.out_peers,
                           in_peers=spec.in_peers, anchors=spec.anchors, behaviour=behaviour)
        if self.dynamic:
            self.p2p.seeds = [self.nodes[name] for name in layout.seed_nodes]
            if layout.scenario.p2p.add_peer:
                self._add_peers()
            return
        peers_of: dict[Node, dict[Node, bool]] = {}
        for n in self.nodes.values():
            n.static_peers = peers_of[n] = {}
        graph = layout.graph
        directed = graph.is_directed()
        for u, v, data in graph.edges(data=True):
            a, b = self.nodes[u], self.nodes[v]
            if directed and a in peers_of[b]:
                pass  # v -> u came first: one connection, dialled by v
            else:
                peers_of[a][b] = True
                peers_of[b][a] = False
            if "latency_s" in data:
                # A directed file gives each direction its own latency; a direction
                # the file lacks takes the other one's.
                lat = float(data["latency_s"])
                self._edge_latency[(a.index, b.index)] = lat
                if not directed or not graph.has_edge(v, u):
                    self._edge_latency[(b.index, a.index)] = lat
                elif lat != graph.edges[v, u].get("latency_s", lat):
                    self.asymmetric = True

    def _add_peers(self) -> None:
        """``p2p.add_peer``: each node starts with the layout's ``add_peers`` on its white list,
        last seen 0 (monerod's ``--add-peer``), in start order as the daemons start."""
        nodes = self.nodes
        for spec in sorted(self.layout.nodes.values(), key=lambda n: (n.start_time, n.index)):
            book = nodes[spec.name].book
            for peer in spec.add_peers:
                book.add_white(nodes[peer].address, 0.0)

    def _new_node(self, name: str, *, group: str, role: str, honest: bool, address: str | None,
                  region: str | None, up_bps: float, down_bps: float, start_time: float,
                  seed_node: bool, hashrate: float, out_peers: int | None,
                  in_peers: int | None, anchors: int | None,
                  behaviour: Any,
                  strategy: MiningStrategy | None = None) -> Node:
        if name in self.nodes:
            raise ValueError(f"node {name!r} already exists")
        if address is None:
            address = self._fresh_address()
        elif address in self.by_address:
            raise ValueError(f"address {address!r} is already used by "
                             f"{self.by_address[address].name!r}")
        p2p = self.scenario.p2p
        limits = p2p.limits(out_peers, in_peers, anchors)
        index = self.tree.add_node(name)
        assert index == len(self.nodes)
        node = Node(
            self, index, name, group=group, role=role, honest=honest, address=address,
            region=region, up_bps=up_bps, down_bps=down_bps, start_time=start_time,
            seed_node=seed_node, hashrate=hashrate,
            out_limit=limits.out_peers, in_limit=limits.in_peers, anchor_limit=limits.anchors,
            white_limit=p2p.white_list_limit, gray_limit=p2p.gray_list_limit,
            genesis=self.tree.genesis, strategy=strategy or HonestStrategy(),
        )
        self.nodes[name] = node
        self.by_address[address] = node
        self.register_address(address)
        node.behaviour = behaviour
        self.engine.at(max(start_time, self.engine.now), self._start_node, node)
        return node

    def _fresh_address(self) -> str:
        rng = self._address_rng
        while True:
            address = random_address(rng)
            if address not in self.by_address and address not in self._known_addresses:
                return address

    def _start_node(self, node: Node) -> None:
        first = node.api is None
        if first:
            node.api = SimNodeAPI(node)
        self.p2p.start(node)
        if first and node.behaviour is not None:
            node.behaviour.start(node.api)

    # -- extension points --------------------------------------------------------------
    def add_component(self, component: Any) -> None:
        """Register a component (see :mod:`.components` for the hooks it may define)."""
        self.hooks.add(component)

    def add_filter(self, fn: LinkFilter) -> LinkFilter:
        """Forbid connections/deliveries for which ``fn(a, b)`` is False; returns ``fn``."""
        self.filters.append(fn)
        return fn

    def remove_filter(self, fn: LinkFilter) -> None:
        self.filters.remove(fn)

    def allowed(self, a: Node, b: Node) -> bool:
        for fn in self.filters:
            if not fn(a, b):
                return False
        return True

    def drop_links(self, pred: Callable[[Node, Node], bool]) -> int:
        """Close every connection (a, b) with ``pred(a, b)`` (a = the side that opened it)."""
        doomed = [(a, b) for a in self.nodes.values() for b in a.out_links if pred(a, b)]
        for a, b in doomed:
            self.p2p.disconnect(a, b)
        return len(doomed)

    def add_node(
        self,
        name: str,
        *,
        group: str = "attacker",
        role: str = "attacker",
        honest: bool = False,
        address: str | None = None,
        hashrate: float = 0.0,
        out_peers: int | None = None,
        in_peers: int | None = None,
        anchors: int | None = None,
        start_at: float | None = None,
        seed_node: bool = False,
        region: str | None = None,
        bandwidth_bps: float | None = None,
        behaviour: Any = None,
        strategy: MiningStrategy | None = None,
    ) -> Node:
        """EXTENSION POINT: a node joining the run (attacker nodes, late joiners).

        ``address`` (``"a.b.c.d:port"``) sets its IP and /16; several nodes may
        share an IP with different ports. ``behaviour`` is an object with
        ``start(node_api)``; ``hashrate`` counts in the run's relative units (a
        miner still needs ``node.set_hashrate`` or a mining behaviour to mine).
        """
        bw = bandwidth_bps or self.scenario.network.bandwidth_bps
        if region is None:
            region_of = getattr(self.latency_model, "region_of", None)
            region = region_of(name) if region_of is not None else None
        when = self.engine.now if start_at is None else start_at
        return self._new_node(name, group=group, role=role, honest=honest, address=address,
                              region=region, up_bps=bw, down_bps=bw, start_time=when,
                              seed_node=seed_node, hashrate=hashrate, out_peers=out_peers,
                              in_peers=in_peers, anchors=anchors, behaviour=behaviour,
                              strategy=strategy)

    def register_address(self, address: str) -> None:
        """Make an address known (nodes' own, or fakes an attacker advertises)."""
        if address not in self._known_addresses:
            self._known_addresses.add(address)
            host = host_of(address)
            self.host_count[host] = self.host_count.get(host, 0) + 1

    def addr_parts(self, address: str) -> tuple[str, str]:
        """(host, /16 subnet) of an address, cached."""
        parts = self.addr_cache.get(address)
        if parts is None:
            parts = (host_of(address), subnet_of(address))
            self.addr_cache[address] = parts
        return parts

    def latency(self, a: Node, b: Node) -> float:
        """One-way latency between two nodes (a topology file's edge value, else the model)."""
        if self._edge_latency:
            lat = self._edge_latency.get((a.index, b.index))
            if lat is not None:
                return lat
        return float(self.latency_model.latency(a.name, b.name))

    def node(self, name: str) -> Node:
        return self.nodes[name]

    def rng(self, name: str) -> random.Random:
        """A fresh stream for component ``name`` (derive once and keep it)."""
        return derive_rng(self.seed, name)

    def log(self, node: str, event: str, **fields: object) -> None:
        self.log_records.append({"time": self.engine.now, "node": node, "event": event, **fields})

    def snapshot(self) -> PeerSnapshot:
        """Record the current connection graph into the result's peer snapshots."""
        edges = [(n.name, p.name) for n in self.nodes.values() for p in n.out_links]
        snap = PeerSnapshot(time=self.engine.now, edges=edges)
        self.snapshots.append(snap)
        return snap

    # -- services used by the sim's own modules ---------------------------------------------
    def tip_changed(self, node: Node, change: TipChange) -> None:
        cum = node.tip_cum = change.new.cum
        if cum > self.max_tip_cum:
            self.max_tip_cum = cum
        node.tips.append(self.engine.now, change.new.height)
        if change.reorg is not None:
            self.reorgs.append(change.reorg)
        if node.mining:
            self.mining.update(node)
        for fn in self.hooks.on_tip_changed:
            fn(node, change)

    def select_txs(self, node: Node, parent: Any) -> TxSelection:
        if self.hooks.select_txs:
            selection = self.hooks.txs_for(node, parent)
            if selection is not None:
                return selection
        return EMPTY_SELECTION

    # -- running ---------------------------------------------------------------------------
    def run(self, progress: ProgressFn | None = None, progress_every: int = 200_000,
            *, freeze_gc: bool = True) -> Result:
        """Run to the end of the scenario and return the result (once per world).

        ``freeze_gc``: the world is millions of long-lived objects (nodes,
        links, lists, blocks) and the loop allocates event tuples by the
        million, so Python's cyclic collector would rescan the whole world
        again and again. ``gc.freeze()`` parks what exists at the start in
        the permanent generation for the run (20% less CPU at 10,000 nodes);
        ``gc.unfreeze()`` restores normal collection afterwards. The youngest
        generation is collected every ``GC_YOUNG_THRESHOLD`` net allocations of
        tracked objects instead of 700 for the run: nearly all of the loop's
        containers die by reference count long before, so rarer young
        collections find the same garbage for less scanning (8% of the 1k
        benchmark's CPU went to collections; docs/performance.md).
        """
        wall0 = _wall.perf_counter()
        for fn in self.hooks.setup:
            fn(self)
        interval = self.snapshot_interval_s
        if interval and interval > 0:
            self.engine.schedule(interval, self._periodic_snapshot, interval)
        if freeze_gc:
            gc.freeze()
            thresholds = gc.get_threshold()
            gc.set_threshold(GC_YOUNG_THRESHOLD, *thresholds[1:])
        try:
            self.engine.run(self.duration, progress=progress, progress_every=progress_every)
        finally:
            if freeze_gc:
                gc.set_threshold(*thresholds)
                gc.unfreeze()
        if interval and interval > 0 and (not self.snapshots
                                          or self.snapshots[-1].time < self.engine.now):
            self.snapshot()
        result = self._result()
        for fn in self.hooks.finish:
            fn(self, result)
        result.wall_seconds = _wall.perf_counter() - wall0
        return result

    def partial_result(self) -> Result:
        """What the run measured until now: the result of a run that was interrupted or raised.

        The chain, the peer graph as it stands and whatever each attack can report
        (a finish hook that cannot run on a half-done world is skipped); ``sim_seconds``
        is the time of the last event that ran.
        """
        with contextlib.suppress(Exception):
            if self.snapshot_interval_s and (not self.snapshots or self.snapshots[-1].time < self.engine.now):
                self.snapshot()
        result = self._result()
        for fn in self.hooks.finish:
            with contextlib.suppress(Exception):
                fn(self, result)
        result.extra["partial"] = True
        return result

    def _periodic_snapshot(self, interval: float) -> None:
        self.snapshot()
        if self.engine.now + interval <= self.duration:
            self.engine.schedule(interval, self._periodic_snapshot, interval)

    def _result(self) -> Result:
        result = Result(scenario=self.scenario.general.name, backend="sim", seed=self.seed,
                        sim_seconds=self.engine.now, events=self.engine.events,
                        genesis=self.tree.genesis.id, target_s=self.target_s)
        for name, node in self.nodes.items():
            result.nodes[name] = node.info
            result.tips[name] = node.chain.tip.id
            result.tip_history[name] = node.tips
        for block in self.tree.blocks.values():
            parent = block.parent
            result.blocks[block.id] = BlockRecord(
                id=block.id, height=block.height, parent=None if parent is None else parent.id,
                miner=block.miner, found_at=block.found_at, difficulty=block.difficulty,
                cumulative_difficulty=block.cum, reward=block.reward, size_bytes=block.size,
                tx_ids=list(block.tx_ids), fees=block.fees, arrivals=block.arrivals,
                timestamp=block.timestamp)
        result.reorgs = list(self.reorgs)
        result.peer_snapshots = list(self.snapshots)
        result.coinbase_issued = sum(b.reward for b in result.main_chain()[1:])
        result.extra.update(
            initial_difficulty=self.initial_difficulty,
            hashes_per_unit=self.hashes_per_unit,
            topology="dynamic" if self.dynamic else "static",
            seed_nodes=[n.name for n in self.p2p.seeds],
            addresses={name: n.address for name, n in self.nodes.items()},
        )
        if self.log_records:
            result.extra["log"] = list(self.log_records)
        if math.isinf(result.sim_seconds):
            result.sim_seconds = 0.0
        return result
