"""A simulated ``monerod``: its state, and the handle behaviours and attacks hold.

State lives in plain slots so the relay hot path reads attributes, not
properties. Behaviour belongs to the world's services (:mod:`.relay`,
:mod:`.p2p`, :mod:`.mining`); the methods here are the node-level extension
points, each a thin call into them:

* :meth:`Node.restart` — drop every connection, keep chain, peer lists and
  anchors, come back after ``downtime`` and reconnect (anchors first).
* :attr:`Node.advertise` — override the peer list this node hands out in
  handshakes and timed syncs (``callable(requester) -> list[address]``).
* :attr:`Node.strategy` — the :class:`~.mining.MiningStrategy` deciding what
  the node does with blocks it finds (publish, withhold) and which tip it
  mines on.
* :meth:`Node.publish` — announce a block this node holds (a found or a
  withheld one) to the network.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..result.model import NodeInfo, TipSeries
from ..rng import derive_rng
from .chain import Block, ChainView
from .peers import PeerBook, host_of, subnet_of

if TYPE_CHECKING:
    from .mining import MiningStrategy
    from .network import World

UNLIMITED = 1 << 30
"""``in_peers: None`` (unlimited, monerod's default) as a number comparisons can use."""

Advertiser = Callable[["Node"], list[str]]


class Link:
    """One end of a connection, stored as ``node.links[peer]``."""

    __slots__ = ("latency", "rate", "outgoing", "since", "seen_journal", "born", "anchor")

    def __init__(self, latency: float, outgoing: bool, since: float, rate: float = 0.0) -> None:
        self.latency = latency
        """One-way latency to the peer (seconds)."""
        self.rate = rate
        """Bits per second a block sent over this link moves at: ``min(own up, peer down)``."""
        self.outgoing = outgoing
        """True if this node opened the connection."""
        self.since = since
        self.seen_journal = 0
        """How much of the peer's white-list journal this node has merged (as of its last
        timed sync that looked; see ``Node.skip_clock``)."""
        self.born = 0
        """``Gossip.tick()`` when the connection was made."""
        self.anchor = False
        """Opened from the anchor list (monerod's ``m_anchor``): sync search never drops it."""


class Node:
    """One node of the simulated network."""

    # Slot order is memory order: what the timed-sync and relay loops read on
    # *peer* nodes comes first, so one cache line serves a visit.
    __slots__ = (
        "_advertise", "journal", "tip_cum", "chain", "pending", "down_bps", "online",
        "links", "out_links", "world", "index", "name", "group", "role", "honest", "address", "host",
        "subnet", "region", "up_bps", "start_time", "seed_node", "info",
        # lifecycle
        "gen", "relaying", "behaviour", "api",
        # chain and relay
        "waiting", "invalid", "verify_free_at", "up_free_at", "syncing", "tips", "inflight",
        # p2p
        "out_count", "in_count", "out_limit", "in_limit", "anchor_limit", "book",
        "maker_busy", "next_seed_at", "anchor_queue", "static_peers", "rng", "last_tick",
        "maker_backoff", "tick_clock", "skip_clock", "links_added", "links_ticked", "hidden",
        "link_subnets", "new_incoming",
        # mining
        "hashrate", "mining", "strategy",
    )

    def __init__(
        self,
        world: World,
        index: int,
        name: str,
        *,
        group: str,
        role: str,
        honest: bool,
        address: str,
        region: str | None,
        up_bps: float,
        down_bps: float,
        start_time: float,
        seed_node: bool,
        hashrate: float,
        out_limit: int,
        in_limit: int | None,
        anchor_limit: int,
        white_limit: int,
        gray_limit: int,
        genesis: Block,
        strategy: MiningStrategy,
    ) -> None:
        self.world = world
        self.index = index
        self.name = name
        self.group = group
        self.role = role
        self.honest = honest
        self.address = address
        self.host = host_of(address)
        self.subnet = subnet_of(address)
        self.region = region
        self.up_bps = up_bps
        self.down_bps = down_bps
        self.start_time = start_time
        self.seed_node = seed_node
        self.info = NodeInfo(name=name, group=group, role=role, honest=honest,
                             hashrate=hashrate, region=region)
        self.online = False
        self.gen = 0
        """Bumped on every start/stop: callbacks carrying an older value are stale."""
        self.relaying = True
        self.behaviour: Any = None
        self.api: SimNodeAPI | None = None
        self.chain = ChainView(name, genesis, index)
        genesis.seen_by[index] = 1  # (the blocks this node has received: ``Block.seen_by``)
        self.pending: dict[Block, set[Node | None]] = {}
        """Blocks being verified → peers known to have them (not relayed back to)."""
        self.waiting: dict[Block, list[tuple[Block, bool, Node | None, Any]]] = {}
        """Missing parent → (child, relay when accepted, sender, folded deliveries) waiting for it."""
        self.inflight: dict[Block, list[Any]] = {}
        """Block → ``[arrival, event sequence, folded later deliveries]`` of the first delivery
        of it on its way here (see :mod:`.block_relay`)."""
        self.invalid: set[Block] = set()
        self.verify_free_at = 0.0
        self.up_free_at = 0.0
        self.syncing: dict[Node, int] = {}
        self.tip_cum = genesis.cum
        """``chain.tip.cum``, kept here for the timed-sync loop (one hop instead of three)."""
        self.tips = TipSeries()
        self.tips.append(0.0, 0)
        self.links: dict[Node, Link] = {}
        self.out_links: dict[Node, Link] = {}
        """The outgoing connections of ``links``, in the same order (kept by
        :meth:`~.p2p.P2PNetwork._establish` and :meth:`~.p2p.P2PNetwork.disconnect`)."""
        self.out_count = 0
        self.in_count = 0
        self.out_limit = out_limit
        self.in_limit = UNLIMITED if in_limit is None else in_limit
        self.anchor_limit = anchor_limit
        self.hidden = False
        """``--hide-my-port``: peers never whitelist (so never advertise) this node."""
        p2p = getattr(world, "p2p", None)
        self.book = PeerBook(white_limit, gray_limit, getattr(p2p, "gossip", None))
        self.journal = self.book.journal
        """Alias of ``book.journal`` (read once per link per timed sync)."""
        self.last_tick = 0.0
        self.maker_backoff = 0.0
        """Wait before the next fruitless connection round (doubles up to a timed sync)."""
        """Time of this node's last timed sync (outgoing peers were last seen then)."""
        self.maker_busy = False
        self.next_seed_at = 0.0
        self.anchor_queue: list[str] = []
        self.static_peers: dict[Node, bool] | None = None
        """Static topologies: neighbour → True if this node opens the connection."""
        self._advertise: Advertiser | None = None
        self.tick_clock = 0
        """``Gossip.tick()`` at this node's last timed sync (0: unknown, look at every link)."""
        self.skip_clock = 0
        """Nonzero: the last timed sync skipped the links (nothing to merge) at this tick; each
        link's ``seen_journal`` is then the peer's journal length at that tick."""
        self.links_added = 0
        self.links_ticked = 0
        self.new_incoming: list[tuple[Node, Link]] = []
        """Incoming connections opened since the last timed sync (their ``seen_journal`` is 0:
        the first sync merges the peer's journal from its start; see
        :func:`~.timed_sync.merge_journals`)."""
        self.link_subnets: dict[str, int] = {}
        """The /16s of the connections, each with its number of connections (kept by
        :meth:`~.p2p.P2PNetwork._establish` and :meth:`~.p2p.P2PNetwork.disconnect`)."""
        self.rng = derive_rng(world.seed, f"p2p:{name}")
        self.hashrate = hashrate
        self.mining = False
        self.strategy = strategy

    def __repr__(self) -> str:
        return f"Node({self.name!r})"

    @property
    def advertise(self) -> Advertiser | None:
        """EXTENSION POINT: replaces the peer list this node hands out (``fn(requester)``)."""
        return self._advertise

    @advertise.setter
    def advertise(self, fn: Advertiser | None) -> None:
        shared = self.book.shared
        shared.advertisers += (fn is not None) - (self._advertise is not None)
        self._advertise = fn

    # -- views ---------------------------------------------------------------
    @property
    def tip(self) -> Block:
        return self.chain.tip

    def height(self) -> int:
        return self.chain.tip.height

    def peers(self) -> list[Node]:
        return list(self.links)

    def out_peers(self) -> list[Node]:
        return list(self.out_links)

    def in_peers(self) -> list[Node]:
        return [p for p, link in self.links.items() if not link.outgoing]

    @property
    def accepts_incoming(self) -> bool:
        return self.in_limit > 0

    @property
    def listed(self) -> bool:
        """Do peers put this node in their white list (it listens and announces its port)?"""
        return self.in_limit > 0 and not self.hidden

    # -- extension points ------------------------------------------------------
    def restart(self, at: float | None = None, downtime: float = 0.0) -> None:
        """Stop at ``at`` (default now), come back ``downtime`` seconds later.

        Connections drop, chain and peer lists (with anchors) survive; on the
        way back the node reconnects one anchor first (if ``anchor_limit`` > 0),
        then fills its outgoing slots from the white and gray lists.
        """
        self.world.p2p.restart(self, at, downtime)

    def publish(self, block: Block) -> None:
        """Add ``block`` (this node holds it) to the node's chain and send it to every peer."""
        self.world.relay.publish(self, block)

    def mining_changed(self) -> None:
        """Tell the scheduler the mining tip or hashrate changed (strategies call this)."""
        self.world.mining.update(self)

    def set_hashrate(self, hashrate: float) -> None:
        if hashrate < 0:
            raise ValueError(f"hashrate {hashrate} must be >= 0")
        self.hashrate = hashrate
        self.mining = True
        self.world.mining.update(self)

    def set_strategy(self, strategy: MiningStrategy) -> None:
        self.strategy = strategy
        self.world.mining.update(self)


class SimNodeAPI:
    """:class:`~pytest_monerosim.agents.api.NodeAPI` on the simulator's event loop."""

    def __init__(self, node: Node) -> None:
        self._node = node
        self._world = node.world
        self.name = node.name
        self.group = node.group
        self.role = node.role
        self._rng: random.Random | None = None

    @property
    def rng(self) -> random.Random:
        if self._rng is None:
            self._rng = derive_rng(self._world.seed, f"behaviour:{self.name}")
        return self._rng

    @property
    def node(self) -> Node:
        """The simulator's node (for sim-only agents and attacks)."""
        return self._node

    def now(self) -> float:
        return self._world.engine.now

    def schedule(self, delay: float, callback: Callable[[], None]) -> None:
        self._world.engine.schedule(delay, callback)

    def log(self, event: str, **fields: object) -> None:
        self._world.log(self.name, event, **fields)

    def height(self) -> int:
        return self._node.chain.tip.height

    def hashrate(self) -> float:
        return self._node.hashrate

    def set_hashrate(self, hashrate: float) -> None:
        self._node.set_hashrate(hashrate)

    def mine_block(self) -> None:
        self._world.mining.mine_now(self._node)

    def set_relaying(self, relay: bool) -> None:
        self._node.relaying = relay

    def peers(self) -> list[str]:
        return [p.name for p in self._node.links]
