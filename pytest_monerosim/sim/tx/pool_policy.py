"""Pool expiry and re-broadcast, as ``tx_memory_pool`` does them (monero-project/monero).

Facts from ``src/cryptonote_config.h`` and ``src/cryptonote_core/tx_pool.cpp`` (restated; the
same in tag v0.18.4.6 and on master):

* ``CRYPTONOTE_MEMPOOL_TX_LIVETIME`` = 86400*3 s: ``remove_stuck_transactions`` (every
  30 s, ``m_remove_stuck_tx_interval``) drops a pool tx older than that (a tx that came
  back from a popped block: ``CRYPTONOTE_MEMPOOL_TX_FROM_ALT_BLOCK_LIVETIME`` = 604800 s),
  and remembers it in ``m_timed_out_transactions``: ``add_tx`` refuses it from then on
  unless it comes in a block.
* ``get_relayable_transactions`` (asked at most every 2 minutes, ``max_relayable_check``)
  re-relays a fluffed pool tx once ``now - last_relayed`` exceeds
  ``get_relay_delay(last_relayed, received)`` = ``(last_relayed - received + MIN_RELAY_TIME)``
  rounded down to a multiple of ``MIN_RELAY_TIME`` (5 min), capped at ``MAX_RELAY_TIME``
  (4 h): re-relays come about 5, 15, 35, 75, 155 min after receipt, then every 4 h; none
  once the tx is older than half its lifetime. ``relay_txpool_transactions`` sends them as
  a public fluff to every peer; a peer that has the tx ignores it.
* wallet2 (``process_unconfirmed_transfer``): a sent tx that vanished from its daemon's pool
  and is not on the chain is marked failed and its inputs are spendable again.

In the simulator: each tx gets a re-broadcast check at its own schedule from its
submission (the nodes' receipts differ by seconds); at a check, every online node still
missing the tx hears it from each connected peer that holds it (knows it, not mined on its
own chain, younger than half the lifetime) at that peer's re-relay time plus a 0..2 min
check phase, its flush timer and the link's latency (and bytes, with tx bandwidth). Expiry:
a node's tracked pool drops a tx at ``received + livetime``; the sender's wallet frees the
inputs of its tx when its own node expires it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from .poisson import PoissonTimer

if TYPE_CHECKING:
    from ..node import Node
    from .component import TxLayer
    from .mempool import Mempool
    from .outputs import Tx

MEMPOOL_TX_LIVETIME = 86_400 * 3
"""``CRYPTONOTE_MEMPOOL_TX_LIVETIME`` (src/cryptonote_config.h)."""
MEMPOOL_TX_FROM_ALT_BLOCK_LIVETIME = 604_800
"""``CRYPTONOTE_MEMPOOL_TX_FROM_ALT_BLOCK_LIVETIME``: a tx back in the pool from a popped block."""
MIN_RELAY_TIME = 300
MAX_RELAY_TIME = 14_400
RELAYABLE_CHECK_S = 120.0
"""``max_relayable_check``: how often at most a node looks for txs to re-relay."""


def relay_delay(last_relay: float, received: float, lo: float = MIN_RELAY_TIME,
                hi: float = MAX_RELAY_TIME) -> float:
    """``get_relay_delay``: the back-off after a relay at ``last_relay`` of a tx received at ``received``."""
    d = math.floor((last_relay - received + lo) / lo) * lo
    return min(d, hi)


def relay_times(received: float, until: float, lo: float = MIN_RELAY_TIME,
                hi: float = MAX_RELAY_TIME) -> list[float]:
    """Re-relay times (checks ignored) after the first relay at ``received``, up to ``until``."""
    out: list[float] = []
    last = received
    while True:
        nxt = last + relay_delay(last, received, lo, hi)
        if nxt > until:
            return out
        out.append(nxt)
        last = nxt


class PoolPolicy:
    """Re-broadcast checks and expiry for the tx layer (see the module docstring)."""

    def __init__(self, layer: TxLayer) -> None:
        cfg = layer.cfg
        self.layer = layer
        self.world = layer.world
        self.clock = layer.world.engine
        self.enabled = cfg.rebroadcast
        self.livetime = float(cfg.pool_livetime_s)
        self.alt_livetime = max(self.livetime, MEMPOOL_TX_FROM_ALT_BLOCK_LIVETIME * self.livetime
                                / MEMPOOL_TX_LIVETIME)
        self.lo = float(cfg.relay_backoff_min_s)
        self.hi = float(cfg.relay_backoff_max_s)
        self.rng = layer.world.rng("tx.rebroadcast")
        self.flush_in = PoissonTimer(cfg.flush_mean_s, 0.25)
        self.flush_out = PoissonTimer(cfg.flush_mean_s / 2, 0.25)
        self.checks = 0
        self.deliveries = 0
        """Re-broadcasts that brought a tx to a node that lacked it."""
        self.expired: dict[str, float] = {}
        """Tx id → when its origin's pool dropped it (never mined within the lifetime)."""

    # -- scheduling ---------------------------------------------------------------
    def submitted(self, tx: Tx, origin: Node) -> None:
        now = self.clock.now
        if self.enabled:
            times = relay_times(now, now + self.livetime / 2, self.lo, self.hi)
            if times:
                self.clock.at(times[0], self._check, tx, times, 0, now)
        self.clock.at(now + self.livetime + 1e-6, self._expire_at_origin, tx, origin)

    def _check(self, tx: Tx, times: list[float], k: int, t0: float) -> None:
        self.checks += 1
        if self._mined_at(tx, self.world.nodes[tx.origin]):
            return
        lacking = self._lacking(tx.serial)
        if lacking is None:
            pass  # still spreading (or not yet fluffed): look again at the next step
        elif not lacking:
            return  # every node has it
        else:
            self._deliver(tx, lacking, times[k], t0)
        if k + 1 < len(times):
            self.clock.at(times[k + 1], self._check, tx, times, k + 1, t0)

    def _lacking(self, serial: int) -> set[int] | None:
        """Nodes the tx's fluff never reached; None while it is still spreading."""
        fluff = self.layer.relay.fluff
        if serial in fluff.slot_of or serial not in fluff.done:
            return None
        miss = fluff.unreached.get(serial)
        return set() if miss is None else set(miss.tolist())

    def _mined_at(self, tx: Tx, node: Node) -> bool:
        tree = self.world.tree
        for bid in self.layer.ledger.tx_blocks.get(tx.id, ()):
            if node.chain.on_main_chain(tree.get(bid)):
                return True
        return False

    def _deliver(self, tx: Tx, lacking: set[int], tick: float, t0: float) -> None:
        relay = self.layer.relay
        seen = relay.fluff.seen
        now = self.clock.now
        half = self.livetime / 2
        bandwidth = relay.bandwidth
        for b in sorted(lacking):
            node = relay.nodes[b]
            if not node.online:
                continue
            best = math.inf
            best_from: Node | None = None
            for peer, link in node.links.items():
                a = peer.index
                if a in lacking or not peer.online or not peer.relaying:
                    continue
                received = seen.get(tx.serial, a)
                if not math.isfinite(received) or now - received > half:
                    continue
                if self._mined_at(tx, peer):
                    continue
                timer = self.flush_out if peer.links[node].outgoing else self.flush_in
                at = max(now, received + (tick - t0)) + self.rng.uniform(0.0, RELAYABLE_CHECK_S)
                at += timer.draw(self.rng) + link.latency
                if bandwidth is not None:
                    at += bandwidth.seconds(peer, node, tx.weight)
                if at < best:
                    best, best_from = at, peer
            if best_from is not None:
                self.clock.at(best, self._arrive, tx, node, best_from)

    def _arrive(self, tx: Tx, node: Node, sender: Node) -> None:
        relay = self.layer.relay
        if not node.online or sender not in node.links:
            return
        if self.world.filters and not self.world.allowed(sender, node):
            return
        if relay.fluff.knows(node.index, tx.serial):
            return
        self.deliveries += 1
        if relay.bandwidth is not None:
            relay.bandwidth.count(sender, tx.weight)
        relay.fluff.inject(node.index, tx.serial, self.clock.now)

    # -- expiry -------------------------------------------------------------------
    def expire_pool(self, pool: Mempool, now: float) -> None:
        pool.expire(now, self.livetime, self.alt_livetime)

    def _expire_at_origin(self, tx: Tx, origin: Node) -> None:
        """The origin's pool drops the tx; the sender's wallet gets its inputs back."""
        if self._mined_at(tx, origin):
            return
        self.expired[tx.id] = self.clock.now
        wallet = self.layer.wallets.get(tx.sender) if tx.sender is not None else None
        if wallet is not None:
            wallet.failed(tx.id)
