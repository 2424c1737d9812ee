"""Connections between nodes: monerod's peer selection, handshakes and timed syncs.

For the dynamic ``monero`` topology the connection graph is an *outcome* of
this module, following ``src/p2p/net_node.inl``:

* **Connection maker** (``connections_maker``, one attempt at a time per
  node). An iteration of its loop, below ``out_peers * white_probability``
  (70% → 8 of 12) outgoing: the anchor list (while fewer than ``anchors``
  outgoing; the list is emptied when taken, so at most ONE anchor reconnects,
  the oldest that answers), then the white list up to 8, then the gray list up
  to 12; at or above 8: gray, then white. (While the node's target height is
  unknown, the white share is every slot: see ``ConnectionMaker._phases``.)
  Each list is worked in passes of
  three random draws (``make_new_connection_from_peerlist``); a draw that hits
  a peer already tried, in use, or failed within the hour, or whose handshake
  fails, is spent, and after three the pass fails and the maker moves to the
  next list (so failed gray picks fall back to white). A success starts a
  fresh pass on the same list. A white draw takes the 20 most recently seen
  candidates and favours the newest (``get_random_index_with_fixed_probability``:
  index = x³ / (16³ m²), x uniform in [0, 16m]); a gray draw is uniform.
  Candidates in the same /16 as an existing connection are left out, and
  each host counts once (monerod 0.18's fallback to connected /16s never
  yields: see :func:`~.peer_choice._white_candidates`). An iteration that
  made connections is followed by another; one that made none ends the call. With no white
  peers, or when a whole call made nothing, the node asks a seed node for its
  peer list (handshake, take the list, close). Then the next call after
  ``connect_retry_s``. (monerod calls it every second for ever; here
  consecutive fruitless calls back off, doubling up to one timed sync period.
  Between timed syncs nothing a retry could find changes — lists grow at
  timed syncs, which also run the maker, and a closed connection wakes it at
  once — so only a lucky draw can come earlier in monerod.)
* **Connecting** costs one round trip (a dead or absent address: the 5 s
  connect timeout). The responder refuses when full (``in_peers``), when the
  initiator's IP already has a connection (``max_connections_per_ip`` 1) or
  when a filter forbids the pair. On success the initiator puts the responder
  in its white list and anchors and merges the responder's advertised list
  into its gray list; the responder pings back and whitelists the initiator if
  it accepts incoming connections. Both compare chains (payload sync).
* **Timed sync** every ``timed_sync_s`` (60 s) on every connection: merge the
  peer's advertised list, refresh last-seen of outgoing peers, sync the chain
  if the peer is heavier. The same tick runs the gray-list housekeeping probe
  (one random gray address: reachable → white, else dropped).
* **Sync search** (``update_sync_search``, every ``sync_search_s`` = 101 s from the
  node's start): a node with all its outgoing slots taken, no heavier chain in sight and
  fewer than two outgoing peers it is syncing from drops one outgoing peer that it did not
  open from the anchor list (monerod takes the last in its connection map, an arbitrary
  one; here a uniform draw), and the connection maker fills the slot again within a
  second. So a full node's outgoing set keeps turning over, one peer every 101 s.
* **Turnover** (optional): an outgoing connection lives an exponential time
  of mean ``turnover_mean_s`` and is then closed and replaced.

Static topologies (star, mesh, ring, file, ...) fix the links from the graph
instead: each edge is (re)connected whenever both ends are online and the
filters allow it; no peer lists are kept.

EXTENSION POINTS (attacks build on these):

* ``world.filters`` — link filters ``f(a, b) -> bool`` consulted before a
  connection is made and before any message is delivered
  (``world.add_filter``/``world.remove_filter``; partition = a filter plus
  ``world.drop_links(pred)``, heal = remove the filter).
* ``node.restart(at, downtime)`` — see :meth:`P2PNetwork.restart`.
* ``node.advertise`` — replaces the node's advertised peer list.
* ``world.add_node(...)`` — nodes (with chosen addresses) join at run time.
* :meth:`P2PNetwork.connect` / :meth:`P2PNetwork.disconnect` — force a link
  open or closed.
* ``node.book`` — the lists themselves (:class:`~.peers.PeerBook`): seed a
  victim's gray list with ``add_gray``/``merge``, whitelist with
  :meth:`P2PNetwork.whitelist`. Outgoing peers' last-seen times are refreshed
  lazily: call :meth:`P2PNetwork.refresh_seen` before reading the values. Write
  the white list through the book's methods (``add_white``, ``set_seen``, ``touch``,
  ``remove_white``): a full list keeps a view of its bottom for the eviction
  (:meth:`~.peers.PeerBook.evict_oldest`), and the advertised head's sort is kept while
  the list's ``version`` is unchanged, which only they update.
"""

from __future__ import annotations

from heapq import heappush
from typing import TYPE_CHECKING

from ..config.model import P2P
from . import timed_sync
from .maker import ConnectionMaker, _Round
from .node import Link
from .peers import Gossip

if TYPE_CHECKING:
    import numpy as np

    from .network import World
    from .node import Node

MAX_CONNECTIONS_PER_IP = 1
SYNC_SEARCH_CONNECTIONS = 2
"""``P2P_DEFAULT_SYNC_SEARCH_CONNECTIONS_COUNT``: sync search leaves a node alone while it
is syncing from this many outgoing peers."""


class P2PNetwork(ConnectionMaker):
    """Connection management for every node of a world."""

    def __init__(self, world: World, config: P2P, *, dynamic: bool) -> None:
        self.world = world
        self.engine = world.engine
        self.config = config
        self.dynamic = dynamic
        self.period = float(config.timed_sync_s)
        self.retry = float(config.connect_retry_s)
        self.handshake_peers = config.handshake_peers
        self.white_probability = config.white_probability
        self.turnover = config.turnover_mean_s
        self.outgoing_host_limit = config.outgoing_host_limit
        self.ping_back = config.ping_back and not config.outgoing_host_limit
        self.sync_search = config.sync_search_s or 0.0  # 0: off
        self.seeds: list[Node] = []
        self.rounds: dict[Node, _Round] = {}
        """Connection-maker calls in progress, by node."""
        self.waiting: dict[Node, float] = {}
        """Nodes whose connection maker waits out a back-off, with the time it ends. A closed
        connection (:meth:`_wake`) cuts the wait short: monerod's maker runs every second."""
        self.heard_taller: set[Node] = set()
        """Nodes whose target height is set (see :meth:`needs_sync_connections`)."""
        self.gossip = Gossip(self.handshake_peers)
        """Shared by every node's peer book (see :class:`~.peers.Gossip`)."""

    # -- lifecycle -----------------------------------------------------------
    def start(self, node: Node) -> None:
        """Bring ``node`` online (its start time, or the end of a restart's downtime)."""
        if node.online:
            return
        world = self.world
        node.online = True
        node.gen += 1
        gen = node.gen
        node.maker_busy = False
        node.maker_backoff = 0.0
        self.rounds.pop(node, None)
        self.waiting.pop(node, None)
        # a new process: its core's target height is 0 again (m_target_blockchain_height)
        self.heard_taller.discard(node)
        now = self.engine.now
        node.next_seed_at = now
        # get_and_empty_anchor_peerlist: anchors are tried once, oldest first;
        # the ones that connect become anchors again through the handshake.
        anchors = node.book.anchors
        node.anchor_queue = sorted(anchors, key=anchors.__getitem__) if node.anchor_limit else []
        node.book.anchors = {}
        world.mining.update(node)
        for fn in world.hooks.on_node_started:
            fn(node)
        if node.static_peers is not None:
            self._static_connect(node)
        elif self.dynamic:
            self._maker(node, gen)
        self.engine.schedule(node.rng.random() * self.period, self._tick, node, gen)
        if self.sync_search and self.dynamic and node.static_peers is None and node.out_limit:
            # once_a_time_seconds<101> starts immediately: its first call, at start, finds
            # no connection; the first that can drop anything is 101 s later.
            self.engine.schedule(self.sync_search, self._sync_search, node, gen)

    def stop(self, node: Node) -> None:
        """Take ``node`` offline: every connection closes; chain and peer lists stay."""
        if not node.online:
            return
        node.online = False
        node.gen += 1
        for peer in list(node.links):
            self.disconnect(node, peer, shutdown=True)
        node.syncing.clear()
        node.maker_busy = False
        self.rounds.pop(node, None)
        self.waiting.pop(node, None)
        self.world.mining.update(node)

    def restart(self, node: Node, at: float | None = None, downtime: float = 0.0) -> None:
        """EXTENSION POINT: stop ``node`` at ``at`` (default now) and start it ``downtime`` later.

        Connections drop; chain, white/gray lists and anchors survive. Back
        online, the node reconnects one anchor peer first (with ``anchors`` > 0),
        which is what blunts an eclipse attack that waits for a restart.
        """
        if downtime < 0:
            raise ValueError(f"downtime {downtime} must be >= 0")
        when = self.engine.now if at is None else at
        self.engine.at(when, self._restart_now, node, downtime)

    def _restart_now(self, node: Node, downtime: float) -> None:
        self.stop(node)
        self.engine.schedule(downtime, self.start, node)

    # -- links -----------------------------------------------------------------
    def connect(self, a: Node, b: Node, latency: float | None = None) -> bool:
        """EXTENSION POINT: open ``a`` → ``b`` now, as if a handshake just completed.

        Returns False (and does nothing) if either is offline, they are already
        linked, or a filter forbids it. Limits are not checked: this is the
        tool for tests and attacks that need a given link.
        """
        if not (a.online and b.online) or b in a.links or a is b:
            return False
        if self.world.filters and not self.world.allowed(a, b):
            return False
        self._establish(a, b, self.world.latency(a, b) if latency is None else latency)
        return True

    def disconnect(self, a: Node, b: Node, *, shutdown: bool = False) -> None:
        """EXTENSION POINT: close the connection between ``a`` and ``b`` (if any).

        ``shutdown`` means ``a`` is stopping: it keeps ``b`` as an anchor. In
        any other close the side that had opened the connection forgets the
        anchor, as monerod does.
        """
        la = a.links.get(b)
        lb = b.links.get(a)
        if la is None or lb is None:
            return
        for x, link, y in ((a, la, b), (b, lb, a)):
            if link.outgoing:
                x.book.touch(y.address, link.since if link.since > x.last_tick else x.last_tick)
        del a.links[b]
        del b.links[a]
        if la.outgoing:
            del a.out_links[b]
        if lb.outgoing:
            del b.out_links[a]
        # on_connection_close: the target height falls to the highest remote height of the
        # connections left (each is at least 1), so it is 0 (unknown) again only when none is
        # left (monerod 0.18.0.0, cryptonote_protocol_handler.inl)
        if not a.links:
            self.heard_taller.discard(a)
        if not b.links:
            self.heard_taller.discard(b)
        for x, y in ((a, b), (b, a)):
            counts = x.link_subnets
            left = counts.get(y.subnet, 0) - 1
            if left > 0:
                counts[y.subnet] = left
            else:
                counts.pop(y.subnet, None)
        for x, link, y, keep_anchor in ((a, la, b, shutdown), (b, lb, a, False)):
            if link.outgoing:
                x.out_count -= 1
                if not keep_anchor:
                    x.book.anchors.pop(y.address, None)
            else:
                x.in_count -= 1
        hooks = self.world.hooks.on_disconnect
        for fn in hooks:
            fn(a, b)
            fn(b, a)
        for x in (a, b):
            # The side that had dialled lost a slot; the other side may have a free slot it
            # could not fill because every peer it knew was already linked (a stopping node
            # is already offline).
            if x.online and x.out_count < x.out_limit:
                self._wake(x)

    def _establish(self, a: Node, b: Node, latency: float) -> None:
        """The handshake ``a`` → ``b`` succeeded: link both ends and exchange state."""
        now = self.engine.now
        la = Link(latency, True, now, min(a.up_bps, b.down_bps))
        lb = Link(self.world.latency(b, a) if self.world.asymmetric else latency, False, now,
                  min(b.up_bps, a.down_bps))
        la.born = lb.born = self.gossip.tick()
        a.links[b] = la
        b.links[a] = lb
        a.out_links[b] = la
        a.links_added += 1
        b.links_added += 1
        for x, y in ((a, b), (b, a)):
            counts = x.link_subnets
            counts[y.subnet] = counts.get(y.subnet, 0) + 1
        a.out_count += 1
        b.in_count += 1
        if self.dynamic and b.static_peers is None:
            b.new_incoming.append((a, lb))
        if self.dynamic and a.static_peers is None:
            book = a.book
            self.whitelist(a, b.address, now)
            if b.address not in book.anchors:
                book.anchors[b.address] = now
            if a.listed and self.ping_back:  # b pings a back (NAT or --hide-my-port: no) and whitelists it
                self.whitelist(b, a.address, now)
            timed_sync.merge_answer(self, a, b, now)  # the handshake answer: b's list
            la.seen_journal = b.book.journal.end()
            if self.turnover:
                life = a.rng.expovariate(1.0 / self.turnover)
                self.engine.schedule(life, self._turnover, a, b, la)
        for fn in self.world.hooks.on_connect:
            fn(a, b, True)
            fn(b, a, False)
        relay = self.world.relay
        relay.maybe_sync(a, b)
        relay.maybe_sync(b, a)

    def advertised(self, peer: Node, requester: Node) -> list[str]:
        """The peer list ``peer`` hands to ``requester`` (override: ``peer.advertise``)."""
        if peer.advertise is not None:
            return list(peer.advertise(requester))
        names = peer.book.gray.names
        return [names[i] for i in self.advertised_ids(peer).tolist()]

    def advertised_ids(self, peer: Node) -> np.ndarray:
        """The peer list ``peer`` hands out, as address ids, when it is not overridden (what a
        merge in the model reads: :func:`~.timed_sync.merge_answer`)."""
        if peer.book.white.live > self.handshake_peers:
            self.refresh_seen(peer)
        return peer.book.head_ids(peer.rng, self.handshake_peers)

    def _accepts(self, a: Node, b: Node) -> bool:
        """Would ``b`` accept an incoming connection from ``a`` right now?"""
        world = self.world
        if not b.online or a in b.links or b.in_count >= b.in_limit:
            return False
        if world.filters and not world.allowed(a, b):
            return False
        if world.host_count.get(a.host, 1) > 1:  # has_too_many_connections: incoming only
            same = sum(1 for p, link in b.links.items() if p.host == a.host and not link.outgoing)
            if same >= MAX_CONNECTIONS_PER_IP:
                return False
        return True

    def host_limited(self, node: Node, target: Node) -> bool:
        """With ``outgoing_host_limit`` (Debian's 0.18.0.0), would ``node``'s own connection
        to ``target`` be refused by its own per-host limit? Yes if its incoming slots are all
        taken, or ``target``'s host already has an incoming connection to it. Honest nodes
        only: the limit is a property of the daemons' build, and an attack's nodes stand for
        other software (the real backend's attackers and spies are this project's Levin peers)."""
        if not self.outgoing_host_limit or not node.honest:
            return False
        if node.in_count >= node.in_limit:
            return True
        link = node.links.get(target)
        if link is not None and not link.outgoing:
            return True
        if self.world.host_count.get(target.host, 1) > 1:
            host = target.host
            return any(p.host == host and not lk.outgoing for p, lk in node.links.items())
        return False

    def _turnover(self, a: Node, b: Node, link: Link) -> None:
        if a.links.get(b) is link:
            self.disconnect(a, b)

    # -- timed sync ----------------------------------------------------------------
    def _tick(self, node: Node, gen: int) -> None:
        """One timed sync with every connection (``peer_sync_idle_maker``)."""
        if gen != node.gen:
            return
        world = self.world
        now = self.engine.now
        node.last_tick = now
        dynamic = self.dynamic and node.static_peers is None
        if world.filters:
            if dynamic:
                timed_sync.materialize(node)
                node.tick_clock = 0  # filtered links kept older positions
                node.new_incoming.clear()
            timed_sync.sync_filtered(self, node, now, dynamic)
        else:
            if dynamic:
                timed_sync.merge_journals(self, node, now)
            # Only a peer with a heavier chain is synced from; a node at the heaviest tip any
            # node has ever had (usually all of them, between blocks) skips the scan.
            if node.tip_cum < world.max_tip_cum:
                tip_cum = node.tip_cum
                i = node.index
                relay = world.relay
                for peer in node.links:
                    if peer.tip_cum > tip_cum and not peer.chain.tip.seen_by[i]:
                        relay.sync_from(node, peer)
        if dynamic:
            book = node.book
            if len(book.gray) > book.gray_limit:
                book.trim_gray()
            self._housekeeping(node, now)
            if node.out_count < node.out_limit and not node.maker_busy:
                self._maker(node, gen)
        elif node.static_peers is not None:
            self._static_connect(node)
        engine = self.engine
        heappush(engine.heap, (now + self.period, engine.seq(), self._tick, (node, gen)))

    def _sync_search(self, node: Node, gen: int) -> None:
        """``update_sync_search`` (cryptonote_protocol_handler.inl), every ``sync_search_s``:
        drop the peer :meth:`_sync_search_pick` names (``drop_connection(ctx, false, false)``:
        not recorded as failed, not blocked)."""
        if gen != node.gen:
            return
        peer = self._sync_search_pick(node)
        if peer is not None:
            self.disconnect(node, peer)
        self.engine.schedule(self.sync_search, self._sync_search, node, gen)

    def _sync_search_pick(self, node: Node) -> Node | None:
        """With every outgoing slot taken, the node synced (:meth:`sees_heavier_tip` false:
        target height <= height) and fewer than ``SYNC_SEARCH_CONNECTIONS`` outgoing peers it
        is syncing from: one synced outgoing peer that is not an anchor connection."""
        if node.out_count < node.out_limit or self.sees_heavier_tip(node):
            return None
        out_links = node.out_links
        syncing = node.syncing
        if sum(1 for p in syncing if p in out_links) >= SYNC_SEARCH_CONNECTIONS:
            return None
        synced = [p for p, link in out_links.items() if not link.anchor and p not in syncing]
        return synced[int(node.rng.random() * len(synced))] if synced else None

    def refresh_seen(self, node: Node) -> None:
        """Bring outgoing peers' last-seen times up to date in the white list.

        Every timed sync refreshes all outgoing peers at once (the tick time),
        so it is done only when someone reads the times: a white pick, a head
        of more than ``handshake_peers`` entries, an eviction, a disconnect.
        """
        book = node.book
        white, gray = book.white, book.gray
        get, seen = white.id_of.get, white.seen
        last = node.last_tick
        for peer, link in node.out_links.items():  # (book.touch, inlined: nothing to do if unchanged)
            i = get(peer.address, 0)
            pos = gray.pos
            if i < len(pos) and (p := pos[i] - gray.mark) >= 0:
                when = link.since if link.since > last else last
                if seen[p] != when:
                    if when <= book.low_ceiling:  # (the eviction's bucket takes it: the book)
                        book.set_place(p, when)
                    else:
                        seen[p] = when
                        white.version += 1

    def whitelist(self, node: Node, address: str, now: float) -> None:
        """Put ``address`` in ``node``'s white list (refreshing first if that evicts)."""
        book = node.book
        if book.white.live >= book.white_limit and address not in book.white:
            self.refresh_seen(node)
        book.add_white(address, now)

    def _housekeeping(self, node: Node, now: float) -> None:
        """``gray_peerlist_housekeeping``: probe one gray address; alive → white (and its peer
        list merged), else forget it and record the failure (``record_addr_failed``). Skipped while the node
        :meth:`needs_sync_connections`. A probe of the node's own address fails (the probed
        end drops a handshake with its own peer id), and so, with ``outgoing_host_limit``, does
        a probe of a host with an incoming connection to the node (:meth:`host_limited`)."""
        book = node.book
        gray = book.gray
        if not gray or self.needs_sync_connections(node):
            return
        address = gray[int(node.rng.random() * len(gray))]
        target = self.world.by_address.get(address)
        if (target is not None and target is not node and target.online and target.in_limit > 0
                and (not self.world.filters or self.world.allowed(node, target))
                and not self.host_limited(node, target)):
            if book.white.live < book.white_limit:  # fast path of whitelist(): no eviction
                book.take_gray(address)
                book.journal_append(address)
                book.insert_white(address, now)
            else:
                self.whitelist(node, address, now)
            self.merge_probe_answer(node, target, now)
        else:
            book.remove_gray(address)
            book.record_failed(address, now)

    def merge_probe_answer(self, node: Node, target: Node, now: float) -> None:
        """A gray probe is a handshake (``check_connection_and_handshake_with_peer`` →
        ``do_handshake_with_peer`` with ``just_take_peerlist``), and ``do_handshake_with_peer``
        merges the answer's peer list (``handle_remote_peerlist``) before it checks anything
        else: the prober learns the probed node's white list."""
        timed_sync.merge_answer(self, node, target, now)

    def needs_sync_connections(self, node: Node) -> bool:
        """monerod's ``needs_new_sync_connections`` (cryptonote_protocol_handler.inl), which
        makes ``gray_peerlist_housekeeping`` skip its probe: the node has fewer outgoing
        connections than ``out_peers`` and its target height is unknown (0: since it started,
        it never synced a chain from a peer, :meth:`~.block_relay.BlockRelay.sync_from`) or
        above its height (a connected peer has a heavier tip). Blocks relayed to it with a
        known parent do not set the target (monerod 0.18.0.0's victim in the eclipse agreement
        took 28 relayed blocks with its target still 0, its log's "stripe 2 needed",
        get_next_needed_pruning_stripe, and never probed: 2026-12-05)."""
        if node.out_count >= node.out_limit:
            return False
        if node not in self.heard_taller:
            return True
        return self.sees_heavier_tip(node)

    def sees_heavier_tip(self, node: Node) -> bool:
        """Does a linked peer have a heavier tip (monerod: a target height above the height)?"""
        tip_cum = node.tip_cum
        if tip_cum >= self.world.max_tip_cum:  # no node ever had a heavier one (as _tick reads it)
            return False
        return any(peer.tip_cum > tip_cum for peer in node.links)

    # -- static topologies -----------------------------------------------------------
    def _static_connect(self, node: Node) -> None:
        assert node.static_peers is not None
        for peer, initiator in node.static_peers.items():
            if peer in node.links or not peer.online:
                continue
            a, b = (node, peer) if initiator else (peer, node)
            latency = self.world.latency(a, b)
            self.engine.schedule(2 * latency, self._static_done, a, b, latency, a.gen, b.gen)

    def _static_done(self, a: Node, b: Node, latency: float, gen_a: int, gen_b: int) -> None:
        if a.gen != gen_a or b.gen != gen_b or not (a.online and b.online) or b in a.links:
            return
        if self.world.filters and not self.world.allowed(a, b):
            return
        self._establish(a, b, latency)
