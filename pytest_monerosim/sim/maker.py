"""The connection maker (``connections_maker``, src/p2p/net_node.inl): draw, attempt, back off.

One attempt at a time per node; the passes, lists and draws are described in
:mod:`.p2p`'s docstring. Split from :class:`~.p2p.P2PNetwork`, which mixes this in and
owns the links, timed syncs and sync search.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from .peer_choice import pick_gray, pick_white

if TYPE_CHECKING:
    from .engine import Engine
    from .network import World
    from .node import Node
    from .p2p import P2PNetwork

CONNECTION_TIMEOUT_S = 5.0
"""``P2P_DEFAULT_CONNECTION_TIMEOUT``: an attempt to a dead address fails after this."""
PASS_DRAWS = 3
"""Random draws of one ``make_new_connection_from_peerlist`` call (``rand_count < 3``): a
draw already tried, in use, recently failed or refused is spent, and after three the
call fails and ``connections_maker`` moves on to the next list (gray → white)."""
ANCHOR, WHITE, GRAY = "anchor", "white", "gray"

class _Round:
    """A node's ``connections_maker`` call in progress (attempts take time here).

    ``phases``: the lists still to try in this iteration of its loop, each with
    the outgoing count to fill up to; ``kind``/``target``/``draws``/``tried``:
    the pass (``make_expected_connections_count``) under way.
    """

    __slots__ = ("round_start", "iteration_start", "phases", "kind", "target", "draws", "tried")

    def __init__(self, out: int) -> None:
        self.round_start = out
        self.iteration_start = out
        self.phases: list[tuple[str, int]] = []
        self.kind: str | None = None
        self.target = 0
        self.draws = 0
        self.tried: set[str] = set()


class ConnectionMaker:
    """The connection maker's steps, as methods of :class:`~.p2p.P2PNetwork`."""

    if TYPE_CHECKING:  # what P2PNetwork provides
        engine: Engine
        world: World
        rounds: dict[Node, _Round]
        waiting: dict[Node, float]
        seeds: list[Node]
        retry: float
        period: float
        dynamic: bool
        white_probability: float
        ping_back: bool
        heard_taller: set[Node]

        def _establish(self, a: Node, b: Node, latency: float) -> None: ...
        def _accepts(self, a: Node, b: Node) -> bool: ...
        def host_limited(self, node: Node, target: Node) -> bool: ...
        def whitelist(self, node: Node, address: str, now: float) -> None: ...
        def advertised(self, peer: Node, requester: Node) -> list[str]: ...

    def _wake(self, node: Node) -> None:
        node.maker_backoff = 0.0
        if self.waiting.pop(node, None) is not None:  # cut a back-off short
            node.maker_busy = False
        if self.dynamic and node.static_peers is None and not node.maker_busy:
            # monerod's maker runs once a second: the gap closes within a second.
            self.engine.schedule(node.rng.random() * self.retry, self._maker, node, node.gen)

    def _maker(self, node: Node, gen: int) -> None:
        """One step of ``connections_maker`` (see :class:`_Round`): draw, attempt or back off."""
        if gen != node.gen or not node.online or node.maker_busy:
            return
        if node.out_count >= node.out_limit:
            self.rounds.pop(node, None)
            return
        now = self.engine.now
        r = self.rounds.get(node)
        if r is None:
            if not node.book.white and now >= node.next_seed_at and self._contact_seed(node):
                return
            r = self.rounds[node] = _Round(node.out_count)
            r.phases = self._phases(node)
        while True:
            if r.kind is None:
                if r.phases:
                    r.kind, r.target = r.phases.pop(0)
                    r.draws = 0
                    r.tried.clear()
                    continue
                if node.out_count > r.iteration_start:  # made connections: another iteration
                    r.iteration_start = node.out_count
                    r.phases = self._phases(node)
                    continue
                break
            if node.out_count >= r.target or node.out_count >= node.out_limit:
                r.kind = None
                continue
            address = self._draw(node, r, now)
            if address is None:
                continue
            self._attempt(node, address)
            return
        # the round is over: nothing more to try now
        del self.rounds[node]
        if node.out_count >= node.out_limit:
            return
        if (node.out_count == r.round_start and now >= node.next_seed_at
                and self._contact_seed(node)):
            return
        node.maker_busy = True
        if node.out_count > r.round_start:
            delay = self.retry
            node.maker_backoff = 0.0
        else:
            delay = node.maker_backoff or self.retry
            node.maker_backoff = min(2 * delay, max(self.period, self.retry))
        self.waiting[node] = token = self.engine.now + delay
        self.engine.schedule(delay, self._maker_retry, node, gen, token)

    def _maker_retry(self, node: Node, gen: int, token: float) -> None:
        if gen == node.gen and self.waiting.get(node) == token:
            del self.waiting[node]
            node.maker_busy = False
            self._maker(node, gen)

    def _phases(self, node: Node) -> list[tuple[str, int]]:
        """One iteration of ``connections_maker``'s loop: (list, fill up to) in order."""
        out, limit = node.out_count, node.out_limit
        # connections_maker fills white slots up to every outgoing slot while its core's next
        # needed pruning stripe is non-zero, which it is while the target height is unknown
        # (get_next_needed_pruning_stripe takes an unknown target as an endless chain, and
        # get_pruning_stripe is 0 only within 5,500 blocks of the target), then up to 70%
        # (src/p2p/net_node.inl, cryptonote_protocol_handler.inl, v0.18.0.0; the eclipse
        # victim's log: "type 1, 3/12" after its restart). The target is known once the node
        # synced a chain from a peer (heard_taller, see needs_sync_connections).
        if node in self.heard_taller:
            expected_white = int(limit * self.white_probability)
        else:
            expected_white = limit
        if out < expected_white:
            phases = [(ANCHOR, node.anchor_limit)] if node.anchor_limit and node.anchor_queue else []
            return phases + [(WHITE, expected_white), (GRAY, limit)]
        return [(GRAY, limit), (WHITE, limit)]

    def _draw(self, node: Node, r: _Round, now: float) -> str | None:
        """One draw of the current pass: an address to attempt, or None (the draw is spent,
        or the pass is over and ``r.kind`` is cleared)."""
        if r.kind == ANCHOR:
            # make_new_connection_from_anchor_peerlist: every anchor in turn (oldest
            # first) until one handshake succeeds; the list was emptied when taken
            # (get_and_empty_anchor_peerlist), so one anchor at most reconnects.
            queue = node.anchor_queue
            while queue:
                address = queue.pop(0)
                if self._usable(node, address, now):
                    return address
            r.kind = None
            return None
        if r.draws >= PASS_DRAWS:  # make_new_connection_from_peerlist gives up
            r.kind = None
            return None
        r.draws += 1
        if r.kind == WHITE:
            picked = pick_white(cast("P2PNetwork", self), node)
        else:
            picked = pick_gray(self.world, node)
        if picked is None:  # nothing in the filtered list: the pass fails at once
            r.kind = None
            return None
        if picked in r.tried:
            return None
        r.tried.add(picked)
        if not self._usable(node, picked, now):
            return None
        return picked

    def _usable(self, node: Node, address: str, now: float) -> bool:
        if address == node.address:
            return False
        if node.book.failed and node.book.recently_failed(address, now):
            return False
        target = self.world.by_address.get(address)
        return target is None or target not in node.links

    def _attempt(self, node: Node, address: str) -> None:
        node.maker_busy = True
        target = self.world.by_address.get(address)
        if target is None or not target.online:
            self.engine.schedule(CONNECTION_TIMEOUT_S, self._attempt_done, node, None, address,
                                 0.0, node.gen)
        else:
            latency = self.world.latency(node, target)
            self.engine.schedule(2 * latency, self._attempt_done, node, target, address,
                                 latency, node.gen)

    def _attempt_done(self, node: Node, target: Node | None, address: str, latency: float,
                      gen: int) -> None:
        if gen != node.gen:
            return
        node.maker_busy = False
        r = self.rounds.get(node)
        if (target is not None and node.out_count < node.out_limit and self._accepts(node, target)
                and not self.host_limited(node, target)):
            node.maker_backoff = 0.0
            self._establish(node, target, latency)
            if r is not None:
                if r.kind == ANCHOR:  # the rest of the anchor list was emptied when taken
                    node.links[target].anchor = True
                    node.anchor_queue.clear()
                    r.kind = None
                else:  # the list's loop calls the pass again: three fresh draws
                    r.draws = 0
                    r.tried.clear()
        else:
            node.book.record_failed(address, self.engine.now)
        self._maker(node, gen)

    def _contact_seed(self, node: Node) -> bool:
        """``connect_to_seed``: handshake with a seed node just to take its peer list."""
        seeds = [s for s in self.seeds if s is not node]
        if not seeds:
            return False
        seed = seeds[node.rng.randrange(len(seeds))]
        node.next_seed_at = self.engine.now + self.retry
        node.maker_busy = True
        if seed.online:
            latency = self.world.latency(node, seed)
            self.engine.schedule(2 * latency, self._seed_done, node, seed, node.gen)
        else:
            self.engine.schedule(CONNECTION_TIMEOUT_S, self._seed_done, node, None, node.gen)
        return True

    def _seed_done(self, node: Node, seed: Node | None, gen: int) -> None:
        if gen != node.gen:
            return
        node.maker_busy = False
        world = self.world
        if (seed is not None and seed.online and (not world.filters or world.allowed(node, seed))
                and not self.host_limited(node, seed)):
            now = self.engine.now
            if node.listed and self.ping_back:
                self.whitelist(seed, node.address, now)
            node.book.merge(self.advertised(seed, node), node.address, now)
        self._maker(node, gen)
