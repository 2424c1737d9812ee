"""Where a double-spend trial's payment and conflicting spend come from (:class:`TxModel`).

:class:`ChainLevelTxs` stands in a tx id per trial (no wallets in the scenario);
:class:`LedgerTxs` spends a real output of the attacker's wallet twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..sim.chain import Block
from ..sim.mining import TxSelection
from ..sim.tx.builder import build
from ..sim.tx.outputs import Tx, is_unlocked

if TYPE_CHECKING:
    from ..sim.network import World
    from ..sim.node import Node
    from ..sim.tx.component import TxLayer
    from ..sim.tx.ledger import ChainIndex
    from .double_spend import DoubleSpend, Trial


class TxModel:
    """Where a trial's payment and conflicting spend come from and how blocks get them.

    :meth:`prepare` creates the conflicting spend (kept private) when a trial
    starts, :meth:`broadcast` makes the payment (same key image) and hands it
    to the network, :meth:`conflict_selection` is the content of the
    attacker's first private block, :meth:`done` ends a trial. A model may
    also be a world component (the attack registers it as one).
    """

    attack: DoubleSpend
    world: World

    def setup(self, attack: DoubleSpend, world: World) -> None:
        self.attack = attack
        self.world = world

    def prepare(self, trial: Trial) -> bool:
        """Create the conflicting spend; False when the attacker cannot pay yet."""
        raise NotImplementedError

    def broadcast(self, trial: Trial) -> None:
        """Create the payment and send it; sets ``trial.payment_id``."""
        raise NotImplementedError

    def conflict_selection(self, trial: Trial) -> TxSelection:
        raise NotImplementedError

    def done(self, trial: Trial) -> None:
        """The trial is over."""


class ChainLevelTxs(TxModel):
    """Chain-level payment and conflict (no wallets in the scenario): honest miners include
    the payment in their next block unless it, or the conflict, is already on the chain they
    mine on; only the attacker's private branch carries the conflict."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.active: Trial | None = None

    def prepare(self, trial: Trial) -> bool:
        trial.conflict_id = f"ds{trial.index}-conflict"
        return True

    def broadcast(self, trial: Trial) -> None:
        trial.payment_id = f"ds{trial.index}-payment"
        self.active = trial

    def conflict_selection(self, trial: Trial) -> TxSelection:
        return TxSelection((trial.conflict_id,), self.size, 0)

    def done(self, trial: Trial) -> None:
        if self.active is trial:
            self.active = None

    # component hook
    def select_txs(self, node: Node, parent: Block) -> TxSelection | None:
        trial = self.active
        if trial is None or node is self.attack.node:
            return None
        if on_chain(parent, trial.payment_blocks) or on_chain(parent, trial.conflict_blocks):
            return None
        return TxSelection((trial.payment_id,), self.size, 0)


class LedgerTxs(TxModel):
    """Real transactions in the tx layer (``world.tx``, present when the scenario has wallets).

    The attacker pays with outputs of its own: the coinbases of its blocks
    (unlocked after 60 blocks, so the first trial waits for one) and the
    outputs of its successful conflicting spends (10 blocks). The
    conflicting spend is built against the attacker's chain and entered in
    the ledger but never relayed: it exists only in the attacker's private
    blocks, so honest nodes fetch it when the branch is released (a fluffy
    block's missing transaction). The payment is the tx layer's
    ``double_spend`` of it to the merchant's wallet, submitted at the
    attacker's node: it travels by Dandelion++ (or diffusion) like any tx,
    pools refuse it once the conflict is on their chain, and a reorg to the
    attacker's branch leaves it ``reversed`` in the records.
    """

    def __init__(self, merchant_wallet: str) -> None:
        self.merchant_wallet = merchant_wallet
        self.coins: list[int] = []
        self.private: dict[int, Tx] = {}

    def setup(self, attack: DoubleSpend, world: World) -> None:
        super().setup(attack, world)
        self.layer: TxLayer = world.tx  # type: ignore[attr-defined]
        self.rng = world.rng("attack:double_spend:rings")

    # component hook (after the tx layer's, which registered the coinbase)
    def on_block_found(self, node: Node, block: Block) -> None:
        if node is self.attack.node:
            self.coins.append(self.layer.ledger.block_outputs[block.id][0])

    def _coin(self, chain: ChainIndex) -> int | None:
        ledger = self.layer.ledger
        for oid in list(self.coins):
            if ledger.spenders.get(oid):
                if ledger.spent_on(oid, chain) is not None:
                    self.coins.remove(oid)  # spent for good
                continue
            out = ledger.outputs[oid]
            h = ledger.output_height(out, chain)
            if h is None:
                if out.block is not None and ledger.block_height[out.block] < chain.tip_height - 100:
                    self.coins.remove(oid)  # a long-orphaned coinbase
                continue
            if is_unlocked(h, chain.tip_height, out.coinbase):
                return oid
        return None

    def prepare(self, trial: Trial) -> bool:
        layer = self.layer
        ledger = layer.ledger
        node = self.attack.node
        assert node is not None
        chain = layer.chain_of(node.name)
        coin = self._coin(chain)
        if coin is None:
            return False
        amount = ledger.outputs[coin].amount
        serial = len(ledger.by_serial)
        tx = build(ledger, chain, self.rng, tx_id=f"tx{serial:06d}", sender=None, origin=node.name,
                   spendable=[(coin, amount)], outputs=[(node.name, amount // 2)],
                   per_byte=layer.fee_per_byte(node.chain.tip, 1),
                   ring_size=self.world.scenario.transactions.ring_size,
                   now=self.world.engine.now)
        ledger.add_tx(tx)
        self.coins.extend(tx.outputs)
        self.private[trial.index] = tx
        trial.conflict_id = tx.id
        return True

    def broadcast(self, trial: Trial) -> None:
        node = self.attack.node
        assert node is not None
        trial.payment_id = self.layer.double_spend(trial.conflict_id, recipient=self.merchant_wallet,
                                                   node=node.name)

    def conflict_selection(self, trial: Trial) -> TxSelection:
        tx = self.private[trial.index]
        return TxSelection((tx.id,), tx.weight, tx.fee)

    def done(self, trial: Trial) -> None:
        self.private.pop(trial.index, None)


def on_chain(tip: Block, blocks: list[Block]) -> Block | None:
    """The one of ``blocks`` on ``tip``'s chain, if any."""
    for b in blocks:
        if b.height <= tip.height and tip.ancestor(b.height) is b:
            return b
    return None


__all__ = ["ChainLevelTxs", "LedgerTxs", "TxModel", "on_chain"]
