"""Block relay (fluffy blocks) and chain sync between connected nodes.

The path of a block through a node, as in ``cryptonote_protocol_handler``:

1. **Receive.** A fluffy block (header + tx hashes) arrives over a link. A
   block already seen is dropped, but its sender is remembered as having it.
   If the node lacks some of its transactions (the tx layer's
   ``fluffy_missing_bytes`` hook), it asks the sender for them: one more round
   trip plus their transfer time.
2. **Verify.** Each node verifies one block at a time (a FIFO queue), taking
   ``network.verification_s`` per block.
3. **Accept.** The block joins the node's tree; if it moved the main-chain tip
   (an extension or a reorg) the node relays it once to every peer except
   those known to have it. Like monerod, a block that lands on an
   alternative chain is not relayed.
4. **Orphans.** A block whose parent the node has never seen waits for it,
   and the node starts a chain sync with the sender.

Sending: a node's uplink is one FIFO pipe. Sending ``size`` bytes to a peer
takes ``8 * size / min(up, peer down)`` seconds after the previous send
finishes; the block then arrives one link latency later. A send to a peer
that already holds the block still occupies the uplink but schedules no
arrival (it would be dropped on arrival anyway); this halves the events of a
flood without changing any arrival time.

Duplicate deliveries are folded: while a delivery of a block to a node is on
its way (``node.inflight``), a later one from another peer is not scheduled
but kept with it. When the first one arrives and is taken, the later ones
would only have been dropped, and told the node that their senders hold the
block (not to relay it back to them) if they arrived while it was verifying:
that is worked out from their times when it is queued for verification, and
the engine counts them as run events (:meth:`~.engine.Engine.fold`). If the
first one is refused (the node went offline, the connection closed, a filter),
the later ones are scheduled after all and each arrives on its own, as before.

Chain sync (``NOTIFY_REQUEST_CHAIN`` then ``NOTIFY_REQUEST_GET_OBJECTS`` in
batches of 20): a node that learns of a heavier chain — in a handshake, a
timed sync, or from an orphan — asks that peer for it. After one round trip
it knows the missing blocks; each batch then costs a round trip plus its
transfer time. Synced blocks are verified like any other but not relayed:
peers catch up by syncing themselves, as in monerod.
"""

from __future__ import annotations

from heapq import heappush
from typing import TYPE_CHECKING, TypeAlias

from .chain import Block, TipChange

if TYPE_CHECKING:
    from .network import World
    from .node import Link, Node

Later: TypeAlias = "list[tuple[float, int, Node]] | None"
"""Deliveries folded into the first one: (arrival time, event sequence, sender)."""

SYNC_BATCH = 20
"""Blocks per request while syncing (``BLOCKS_SYNCHRONIZING_DEFAULT_COUNT``)."""


class BlockRelay:
    def __init__(self, world: World, verification_s: float) -> None:
        self.world = world
        self.engine = world.engine
        self.hooks = world.hooks
        self.verification_s = verification_s
        self.fold_duplicates = True
        """Fold duplicate deliveries (see the module doc); False schedules every one (the same
        results, more events to run: tests compare the two)."""

    def _rtt(self, node: Node, peer: Node, link: Link) -> float:
        """Request from ``node`` to ``peer`` and back (each way its own latency if asymmetric)."""
        if not self.world.asymmetric:
            return 2 * link.latency
        back = peer.links.get(node)
        return link.latency + (back.latency if back is not None else link.latency)

    # -- sending -------------------------------------------------------------
    def send_block(self, node: Node, block: Block, skip: set[Node | None] | None) -> None:
        """Fluffy block from ``node`` to every linked peer not in ``skip``."""
        links = node.links
        if not links:
            return
        engine = self.engine
        now = engine.now
        bits = block.size * 8.0
        t = node.up_free_at if node.up_free_at > now else now
        heap = engine.heap
        seq = engine.seq
        deliver = self.on_block
        fold = self.fold_duplicates
        if skip is not None and len(skip) == 1 and None in skip:
            skip = None  # a block this node mined or synced: nobody to leave out
        seen_by = block.seen_by
        for peer, link in links.items():
            if skip is not None and peer in skip:
                continue
            t += bits / link.rate  # min(up, peer down), fixed when the link was made
            if seen_by[peer.index]:
                known = peer.pending.get(block)
                if known is not None:
                    known.add(node)
                continue
            arrive = t + link.latency
            s = seq()
            if fold:
                first = peer.inflight.get(block)
                if first is None:
                    peer.inflight[block] = [arrive, s, None]
                elif arrive >= first[0]:  # after the one on its way (and queued after it): fold
                    later = first[2]
                    if later is None:
                        first[2] = [(arrive, s, node)]
                    else:
                        later.append((arrive, s, node))
                    continue
                else:  # overtakes it: this one is the first now, the other arrives as a duplicate
                    first[0] = arrive
                    first[1] = s
            # Inlined Engine.at (this loop runs once per link per block).
            heappush(heap, (arrive, s, deliver, (peer, block, node, s)))
        node.up_free_at = t

    def publish(self, node: Node, block: Block) -> None:
        """``node`` announces a block it holds (its own find, or a withheld one)."""
        parent = block.parent
        if parent is None or parent not in node.chain:
            raise ValueError(f"{node.name} cannot publish {block!r}: its parent is not on "
                             f"the node's chain (publish ancestors first)")
        block.seen_by[node.index] = 1
        self._settle(node, block)
        block.arrivals.first(node.index, self.engine.now)
        self._join(node, block)
        if node.online:
            self.send_block(node, block, None)

    # -- receiving -----------------------------------------------------------
    def on_block(self, node: Node, block: Block, sender: Node, seq: int) -> None:
        """A fluffy block from ``sender`` arrives at ``node`` (``seq``: the event's own)."""
        if block.seen_by[node.index]:
            known = node.pending.get(block)
            if known is not None:
                known.add(sender)
            return
        world = self.world
        if (not node.online or sender not in node.links  # closed while the block was in flight
                or (world.filters and not world.allowed(sender, node))):
            first = node.inflight.get(block)
            if first is not None and first[1] == seq:
                # Refused: the deliveries folded into this one arrive on their own after all.
                del node.inflight[block]
                if first[2]:
                    heap = self.engine.heap
                    deliver = self.on_block
                    for t, s, other in first[2]:
                        heappush(heap, (t, s, deliver, (node, block, other, s)))
            return
        block.seen_by[node.index] = 1
        later = self._settle(node, block)
        extra = 0.0
        if self.hooks.fluffy_missing_bytes:
            missing = self.hooks.missing_bytes(node, block, sender)
            if missing > 0:
                link = node.links[sender]
                bw = sender.up_bps if sender.up_bps < node.down_bps else node.down_bps
                extra = self._rtt(node, sender, link) + missing * 8.0 / bw
        self._receive(node, block, True, sender, extra, later, seq)

    def _settle(self, node: Node, block: Block) -> Later:
        """``block`` is now seen at ``node``: the deliveries folded into the one on its way
        (if any) will find it seen; the engine counts them. Returns them."""
        first = node.inflight.pop(block, None)
        if first is None or first[2] is None:
            return None
        later = first[2]
        self.engine.fold([t for t, _s, _sender in later])
        return later

    def _receive(self, node: Node, block: Block, relay: bool, sender: Node | None,
                 extra: float = 0.0, later: Later = None, seq: int = -1) -> None:
        parent = block.parent
        assert parent is not None  # (the genesis block is never sent)
        if parent.known_by[node.index] or parent in node.pending:
            self._enqueue(node, block, relay, sender, extra, later, seq)
            return
        if parent in node.invalid:
            node.invalid.add(block)
            return
        node.waiting.setdefault(parent, []).append((block, relay, sender, later))
        if not parent.seen_by[node.index] and sender is not None:
            self.sync_from(node, sender)

    def _enqueue(self, node: Node, block: Block, relay: bool, sender: Node | None,
                 extra: float = 0.0, later: Later = None, seq: int = -1) -> None:
        """Queue ``block`` for verification, now: in the event at ``(engine.now, seq)``."""
        engine = self.engine
        start = engine.now + extra
        if node.verify_free_at > start:
            start = node.verify_free_at
        done = start + self.verification_s
        node.verify_free_at = done
        known = {sender}
        if later and relay:
            # A folded delivery arriving while the block verifies, i.e. after this event and
            # before the acceptance queued below (which comes after any at its time), tells
            # the node its sender has the block.
            now = engine.now
            for t, s, other in later:
                if t <= done and (t > now or (t == now and s > seq)):
                    known.add(other)
        node.pending[block] = known
        s = engine.seq()
        heappush(engine.heap, (done, s, self._accept, (node, block, relay, s)))

    def _accept(self, node: Node, block: Block, relay: bool, seq: int) -> None:
        known = node.pending.pop(block, None)
        hooks = self.hooks
        parent = block.parent
        if parent is None or not parent.known_by[node.index]:  # queued behind a rejected parent
            self._reject(node, block)
            return
        if hooks.validate_block and not hooks.block_is_valid(node, block):
            self._reject(node, block)
            return
        block.arrivals.first(node.index, self.engine.now)
        change = self._join(node, block)
        node.strategy.on_block_accepted(node, block, change)
        if relay and change is not None and node.relaying and node.online:
            self.send_block(node, block, known)
        children = node.waiting.pop(block, None)
        if children:
            for child, child_relay, sender, later in children:
                self._enqueue(node, child, child_relay, sender, 0.0, later, seq)

    def _join(self, node: Node, block: Block) -> TipChange | None:
        change = node.chain.add(block, self.engine.now)
        if change is not None:
            self.world.tip_changed(node, change)
        for fn in self.hooks.on_block_accepted:
            fn(node, block)
        return change

    def _reject(self, node: Node, block: Block) -> None:
        todo = [block]
        while todo:
            b = todo.pop()
            node.invalid.add(b)
            for child, _relay, _sender, _later in node.waiting.pop(b, ()):
                todo.append(child)

    # -- chain sync ----------------------------------------------------------
    def maybe_sync(self, node: Node, peer: Node) -> None:
        """Payload sync data says ``peer`` is heavier: fetch its chain."""
        tip = peer.chain.tip
        if tip.cum > node.chain.tip.cum and not tip.seen_by[node.index]:
            self.sync_from(node, peer)

    def sync_from(self, node: Node, peer: Node) -> None:
        # A chain sync is where monerod 0.18 learns a target height (the P2P layer's
        # heard_taller, read by needs_sync_connections): process_payload_sync_data sets it from a
        # handshake or timed sync whose peer is taller and has a top block this node lacks,
        # handle_response_chain_entry from the chain an orphan's sender answers with
        # (src/cryptonote_protocol/cryptonote_protocol_handler.inl, v0.18.0.0). A block relayed
        # with a known parent (handle_notify_new_fluffy_block) never sets it.
        self.world.p2p.heard_taller.add(node)
        if peer in node.syncing or not peer.relaying:
            return
        link = node.links.get(peer)
        if link is None:
            return
        node.syncing[peer] = node.gen
        self.engine.schedule(self._rtt(node, peer, link), self._sync_chain, node, peer, node.gen)

    def _sync_alive(self, node: Node, peer: Node, gen: int) -> bool:
        """Is this sync still possible? (A restart clears ``node.syncing`` itself.)"""
        if node.gen != gen:
            return False
        world = self.world
        if (peer not in node.links or not peer.online
                or (world.filters and not world.allowed(peer, node))):
            node.syncing.pop(peer, None)
            return False
        return True

    def _sync_chain(self, node: Node, peer: Node, gen: int) -> None:
        """The peer's chain ids arrived: work out what is missing and fetch it."""
        if not self._sync_alive(node, peer, gen):
            return
        missing: list[Block] = []
        i = node.index
        pending = node.pending
        b: Block | None = peer.chain.tip
        while b is not None and not b.known_by[i] and b not in pending:
            if not b.seen_by[i]:
                missing.append(b)
            b = b.parent
        if not missing:
            node.syncing.pop(peer, None)
            return
        missing.reverse()
        self._request_batch(node, peer, missing, 0, gen)

    def _request_batch(self, node: Node, peer: Node, blocks: list[Block], start: int,
                       gen: int) -> None:
        link = node.links[peer]
        batch = blocks[start:start + SYNC_BATCH]
        bw = peer.up_bps if peer.up_bps < node.down_bps else node.down_bps
        transfer = sum(b.size for b in batch) * 8.0 / bw
        self.engine.schedule(self._rtt(node, peer, link) + transfer, self._sync_batch, node, peer, blocks,
                             start, gen)

    def _sync_batch(self, node: Node, peer: Node, blocks: list[Block], start: int,
                    gen: int) -> None:
        if not self._sync_alive(node, peer, gen):
            return
        i = node.index
        for b in blocks[start:start + SYNC_BATCH]:
            if not b.seen_by[i]:
                b.seen_by[i] = 1
                self._settle(node, b)
                self._receive(node, b, False, peer)
        nxt = start + SYNC_BATCH
        if nxt < len(blocks):
            self._request_batch(node, peer, blocks, nxt, gen)
            return
        node.syncing.pop(peer, None)
        self.maybe_sync(node, peer)
