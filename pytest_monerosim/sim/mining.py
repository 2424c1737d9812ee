"""Proof-of-work mining as competing Poisson processes, and mining strategies.

Each mining node finds blocks on top of its mining tip at rate
``H_i / D_i``: its absolute hashrate over the difficulty of the next block on
that tip. Rather than keep one pending "block found" event per miner (which
leaves a stale event in the heap for every miner on every tip change), the
scheduler keeps the *sum* ``Λ = Σ H_i / D_i`` and one pending event: the
minimum of independent exponentials is exponential with rate ``Λ``, and the
winner is miner ``i`` with probability ``(H_i / D_i) / Λ``. Whenever a rate
changes (a tip change moves ``D_i``, a hashrate step, a node going offline)
the next event is redrawn from now — exact, because exponential clocks are
memoryless. Unchanged rates skip the redraw.

Hashrates in scenarios are relative. The run fixes one absolute scale at the
start: the initial total relative hashrate is :data:`TOTAL_HASHES_PER_S`, so
the initial difficulty ``D0 = TOTAL_HASHES_PER_S * target`` gives one block
per ``target`` seconds. Later steps (or attacker hashrate) use the same scale.

EXTENSION POINT — :class:`MiningStrategy`. Every node has one
(``node.strategy``); the default is :class:`HonestStrategy`. A strategy
decides which block the node mines on (:meth:`~MiningStrategy.mining_parent`),
which transactions go in (:meth:`~MiningStrategy.select_txs`), what happens to
a block the node finds (:meth:`~MiningStrategy.on_block_found`: publish it with
``node.publish(block)`` or keep it) and how to react to blocks from the
network (:meth:`~MiningStrategy.on_block_accepted`). The scheduler re-reads
the mining tip after each of the node's finds and tip changes; a strategy that
moves it at any other moment must call ``node.mining_changed()``.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, NamedTuple

from .chain import Block, TipChange
from .engine import Engine

if TYPE_CHECKING:
    from .network import World
    from .node import Node

TOTAL_HASHES_PER_S = 1_000_000
"""Absolute hashrate of the initial total relative hashrate (1 MH/s)."""


class TxSelection(NamedTuple):
    tx_ids: tuple[str, ...] = ()
    tx_bytes: int = 0
    fees: int = 0


EMPTY_SELECTION = TxSelection()


class MiningStrategy:
    """Honest behaviour; subclass and override to attack (selfish mining, double spends)."""

    name = "honest"

    def mining_parent(self, node: Node) -> Block:
        """The block the node builds on (honest: its main-chain tip)."""
        return node.chain.tip

    def select_txs(self, node: Node, parent: Block) -> TxSelection:
        """Transactions for a block on ``parent`` (honest: whatever the tx layer offers)."""
        return node.world.select_txs(node, parent)

    def on_block_found(self, node: Node, block: Block) -> None:
        """The node found ``block`` (already in the tree, not yet on any node's chain)."""
        node.publish(block)

    def on_block_accepted(self, node: Node, block: Block, change: TipChange | None) -> None:
        """A block from the network passed verification and joined the node's tree."""


class HonestStrategy(MiningStrategy):
    pass


class MiningScheduler:
    """The run's one source of "block found" events."""

    def __init__(self, world: World, rng: random.Random, hashes_per_unit: float) -> None:
        self.world = world
        self.engine: Engine = world.engine
        self.rng = rng
        self.scale = hashes_per_unit
        """Absolute hashes per second per relative hashrate unit."""
        self.rates: dict[Node, float] = {}
        self.total = 0.0
        self.gen = 0

    def update(self, node: Node) -> None:
        """Recompute ``node``'s rate; redraw the next find if it changed."""
        if node.mining and node.online and node.hashrate > 0:
            parent = node.strategy.mining_parent(node)
            rate = node.hashrate * self.scale / self.world.tree.next_difficulty(parent)
        else:
            rate = 0.0
        old = self.rates.get(node, 0.0)
        if rate == old:
            return
        if rate:
            self.rates[node] = rate
        else:
            self.rates.pop(node, None)
        self.total += rate - old
        self._redraw()

    def _redraw(self) -> None:
        self.gen += 1
        if not self.rates:
            self.total = 0.0
            return
        if self.total <= 0:
            self.total = sum(self.rates.values())
        self.engine.schedule(self.rng.expovariate(self.total), self._fire, self.gen)

    def _fire(self, gen: int) -> None:
        if gen != self.gen:
            return
        # Exact sum here (the running total drifts by float rounding).
        total = 0.0
        for r in self.rates.values():
            total += r
        self.total = total
        target = self.rng.random() * total
        winner: Node | None = None
        acc = 0.0
        for node, r in self.rates.items():
            acc += r
            if target < acc:
                winner = node
                break
        if winner is None:
            winner = next(reversed(self.rates))
        self.found(winner)
        if self.gen == gen:  # nothing redrew during found(): draw the next block
            self._redraw()

    def mine_now(self, node: Node) -> None:
        """``NodeAPI.mine_block``: the node finds a block at this instant."""
        self.found(node)

    def found(self, node: Node) -> Block:
        """Create the block ``node`` finds now and hand it to the node's strategy."""
        world = self.world
        now = self.engine.now
        strategy = node.strategy
        parent = strategy.mining_parent(node)
        sel = strategy.select_txs(node, parent)
        block = world.tree.new_block(parent, node.name, now, tx_ids=tuple(sel.tx_ids),
                                     tx_bytes=sel.tx_bytes, fees=sel.fees)
        block.arrivals.first(node.index, now)
        world.hooks.block_found(node, block)
        strategy.on_block_found(node, block)
        self.update(node)  # a withheld block moves the mining tip without a tip change
        return block
