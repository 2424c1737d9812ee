"""The run's book of outputs and transactions, and per-node main-chain indexes.

The :class:`Ledger` is global truth: every output and transaction ever made,
which blocks (on any fork) include which transactions, and which transactions
spend which key image. What a *node* believes is its main chain, kept as a
:class:`ChainIndex` (block ids by height, plus the cumulative output counts
the decoy picker needs) for the nodes that need one (wallet hosts, miners).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .outputs import Output, Tx, is_unlocked

BlockEffects = dict[str, tuple[list[int], list[int], list[str]]]
"""Wallet → (outputs the block creates for it, its key images the block spends, its txs)."""


class Ledger:
    def __init__(self) -> None:
        self.outputs: list[Output] = []
        self.txs: dict[str, Tx] = {}
        self.by_serial: list[Tx] = []
        self.block_outputs: dict[str, tuple[int, ...]] = {}
        """Outputs a block creates, in chain order: its coinbase, then each tx's outputs."""
        self.block_cum: dict[str, int] = {}
        """Outputs on the chain up to and including the block (Monero's rct offsets)."""
        self.block_height: dict[str, int] = {}
        self.block_txs: dict[str, tuple[str, ...]] = {}
        self.tx_blocks: dict[str, list[str]] = {}
        """Blocks, on any fork, that include the tx."""
        self.spenders: dict[int, list[str]] = {}
        """Key image → txs spending it (more than one: a double spend)."""
        self.block_by_owner: dict[str, BlockEffects] = {}
        """Per block, per wallet: outputs created, key images spent, own txs included."""

    # -- creation --------------------------------------------------------------
    def new_output(self, amount: int, owner: str | None, *, tx: str | None = None,
                   block: str | None = None) -> Output:
        if amount < 0:
            raise ValueError(f"output amount {amount} is negative")
        out = Output(len(self.outputs), amount, owner, tx, block)
        self.outputs.append(out)
        return out

    def add_tx(self, tx: Tx) -> None:
        if tx.id in self.txs:
            raise ValueError(f"tx {tx.id} already exists")
        self.txs[tx.id] = tx
        self.by_serial.append(tx)
        for ki in tx.spends:
            self.spenders.setdefault(ki, []).append(tx.id)

    def add_block(self, block_id: str, parent_id: str | None, height: int,
                  coinbase: Sequence[int], tx_ids: Sequence[str]) -> None:
        outs = list(coinbase)
        for tid in tx_ids:
            outs.extend(self.txs[tid].outputs)
            self.tx_blocks.setdefault(tid, []).append(block_id)
        self.block_outputs[block_id] = tuple(outs)
        self.block_by_owner[block_id] = self._effects(outs, tx_ids)
        before = self.block_cum[parent_id] if parent_id is not None else 0
        self.block_cum[block_id] = before + len(outs)
        self.block_height[block_id] = height
        self.block_txs[block_id] = tuple(tx_ids)

    def _effects(self, outs: Sequence[int], tx_ids: Sequence[str]) -> BlockEffects:
        effects: BlockEffects = {}
        for oid in outs:
            owner = self.outputs[oid].owner
            if owner is not None:
                effects.setdefault(owner, ([], [], []))[0].append(oid)
        for tid in tx_ids:
            tx = self.txs[tid]
            for ki in tx.spends:
                owner = self.outputs[ki].owner
                if owner is not None:
                    effects.setdefault(owner, ([], [], []))[1].append(ki)
            if tx.sender is not None:
                effects.setdefault(tx.sender, ([], [], []))[2].append(tid)
        return effects

    # -- queries ---------------------------------------------------------------
    def conflicts(self, tx: Tx) -> set[str]:
        """Other txs spending one of ``tx``'s key images."""
        out: set[str] = set()
        for ki in tx.spends:
            for other in self.spenders.get(ki, ()):
                if other != tx.id:
                    out.add(other)
        return out

    def output_height(self, out: Output, chain: ChainIndex) -> int | None:
        """Height of the block that created ``out`` on ``chain`` (None: not on it)."""
        if out.tx is None:
            return chain.pos.get(out.block) if out.block is not None else None
        return self.tx_height(out.tx, chain)

    def tx_height(self, tx_id: str, chain: ChainIndex) -> int | None:
        pos = chain.pos
        for b in self.tx_blocks.get(tx_id, ()):
            h = pos.get(b)
            if h is not None:
                return h
        return None

    def spent_on(self, key_image: int, chain: ChainIndex) -> str | None:
        """The tx that spends ``key_image`` on ``chain`` (None: unspent there)."""
        for tid in self.spenders.get(key_image, ()):
            if self.tx_height(tid, chain) is not None:
                return tid
        return None

    def valid_on(self, tx: Tx, chain: ChainIndex, height: int) -> bool:
        """Could ``tx`` go into a block at ``height`` on top of ``chain``'s tip?

        Every ring member exists on the chain, the spent coinbase outputs are
        unlocked at that height, and no key image is already spent there.
        """
        tip = height - 1
        for ring in tx.rings:
            for oid in ring:
                if self.output_height(self.outputs[oid], chain) is None:
                    return False
        for ki in tx.spends:
            out = self.outputs[ki]
            h = self.output_height(out, chain)
            if h is None or (out.tx is None and not is_unlocked(h, tip, True)):
                return False
            if self.spent_on(ki, chain) is not None:
                return False
        return True


class ChainIndex:
    """A node's main chain: block ids by height and the cumulative output counts."""

    __slots__ = ("ids", "pos", "cum")

    def __init__(self, genesis: str, genesis_outputs: int) -> None:
        self.ids: list[str] = [genesis]
        self.pos: dict[str, int] = {genesis: 0}
        self.cum: list[int] = [genesis_outputs]

    @property
    def tip_height(self) -> int:
        return len(self.ids) - 1

    @property
    def tip(self) -> str:
        return self.ids[-1]

    def switch(self, fork_height: int, new_blocks: Iterable[str], ledger: Ledger) -> list[str]:
        """Keep heights ``<= fork_height``, append ``new_blocks``; returns the detached ids."""
        detached = self.ids[fork_height + 1:]
        for bid in detached:
            del self.pos[bid]
        del self.ids[fork_height + 1:]
        del self.cum[fork_height + 1:]
        for bid in new_blocks:
            self.pos[bid] = len(self.ids)
            self.ids.append(bid)
            self.cum.append(ledger.block_cum[bid])
        return detached

    def copy(self) -> ChainIndex:
        other = ChainIndex.__new__(ChainIndex)
        other.ids = list(self.ids)
        other.pos = dict(self.pos)
        other.cum = list(self.cum)
        return other
