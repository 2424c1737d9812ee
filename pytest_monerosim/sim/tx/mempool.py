"""A node's transaction pool and block-template filling.

Rules from ``src/cryptonote_core/tx_pool.cpp`` (monero-project/monero):

* a tx whose key image is already in the pool (or on the chain, which the
  caller checks) is rejected: a double spend;
* ``fill_block_template`` walks the pool by fee per byte (highest first, then
  the earliest received), skips a tx that would push the block over
  ``2 * median - 600`` bytes (and keeps looking for smaller ones), skips a tx
  that would lower the coinbase (reward penalty above the median is larger
  than its fee), skips one that is not ready (its inputs are not on this
  chain) and never puts a key image twice in a block;
* only txs in the fluff phase are mined: a tx a node holds only as a
  Dandelion++ stem is in its pool but not in its templates;
* ``remove_stuck_transactions``: a tx older than the pool lifetime (a week
  for one that came back from a popped block, ``kept_by_block``) is dropped
  and remembered as timed out; ``add_tx`` refuses a timed-out tx unless it
  comes from a block (:mod:`.pool_policy`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import Enum

from .outputs import Tx


class AddResult(Enum):
    ADDED = "added"
    DUPLICATE = "duplicate"
    DOUBLE_SPEND = "double_spend"
    TIMED_OUT = "timed_out"


class PoolEntry:
    __slots__ = ("tx", "received", "fluffed", "kept_by_block")

    def __init__(self, tx: Tx, received: float, fluffed: bool, kept_by_block: bool = False) -> None:
        self.tx = tx
        self.received = received
        self.fluffed = fluffed
        self.kept_by_block = kept_by_block


class Mempool:
    def __init__(self, node: str) -> None:
        self.node = node
        self.entries: dict[str, PoolEntry] = {}
        self.key_images: dict[int, str] = {}
        self.timed_out: set[str] = set()
        """Txs dropped for age (``m_timed_out_transactions``): refused unless from a block."""

    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, tx_id: object) -> bool:
        return tx_id in self.entries

    def conflicting(self, tx: Tx) -> str | None:
        """The pool tx that already spends one of ``tx``'s key images."""
        for ki in tx.spends:
            other = self.key_images.get(ki)
            if other is not None and other != tx.id:
                return other
        return None

    def add(self, tx: Tx, received: float, *, fluffed: bool = True,
            kept_by_block: bool = False) -> AddResult:
        entry = self.entries.get(tx.id)
        if entry is not None:
            if fluffed and not entry.fluffed:
                entry.fluffed = True
            return AddResult.DUPLICATE
        if not kept_by_block and tx.id in self.timed_out:
            return AddResult.TIMED_OUT
        if self.conflicting(tx) is not None:
            return AddResult.DOUBLE_SPEND
        self.entries[tx.id] = PoolEntry(tx, received, fluffed, kept_by_block)
        for ki in tx.spends:
            self.key_images[ki] = tx.id
        return AddResult.ADDED

    def remove(self, tx_id: str) -> Tx | None:
        entry = self.entries.pop(tx_id, None)
        if entry is None:
            return None
        for ki in entry.tx.spends:
            if self.key_images.get(ki) == tx_id:
                del self.key_images[ki]
        return entry.tx

    def remove_conflicts(self, spent: Iterable[int]) -> list[str]:
        """Drop pool txs spending any of these key images (now spent on the chain)."""
        dropped: list[str] = []
        for ki in spent:
            tid = self.key_images.get(ki)
            if tid is not None:
                self.remove(tid)
                dropped.append(tid)
        return dropped

    def expire(self, now: float, livetime: float, alt_livetime: float) -> list[str]:
        """Drop txs older than their lifetime (``remove_stuck_transactions``); their ids."""
        old = [e.tx.id for e in self.entries.values()
               if now - e.received > (alt_livetime if e.kept_by_block else livetime)]
        for tid in old:
            self.remove(tid)
            self.timed_out.add(tid)
        return old

    def ordered(self) -> list[PoolEntry]:
        """Fee per byte descending, then receive time, then id (deterministic)."""
        return sorted(self.entries.values(),
                      key=lambda e: (-e.tx.fee / e.tx.weight, e.received, e.tx.id))

    def template(
        self,
        max_weight: int,
        *,
        ready: Callable[[Tx], bool] | None = None,
        reward_for: Callable[[int], int] | None = None,
        base_weight: int = 0,
    ) -> list[Tx]:
        """Txs for a block, as ``fill_block_template`` picks them.

        ``reward_for(total_tx_weight)`` gives the (penalised) reward for a
        block carrying that many bytes of txs; without it there is no penalty
        check. ``base_weight`` counts bytes already in the block (the empty
        block) toward ``max_weight``.
        """
        chosen: list[Tx] = []
        total = 0
        fees = 0
        best = reward_for(0) if reward_for is not None else 0
        seen_ki: set[int] = set()
        for entry in self.ordered():
            if not entry.fluffed:
                continue
            tx = entry.tx
            if base_weight + total + tx.weight > max_weight:
                continue
            if reward_for is not None:
                coinbase = reward_for(total + tx.weight) + fees + tx.fee
                if coinbase < best:
                    continue
            else:
                coinbase = 0
            if ready is not None and not ready(tx):
                continue
            if any(ki in seen_ki for ki in tx.spends):
                continue
            chosen.append(tx)
            total += tx.weight
            fees += tx.fee
            best = coinbase
            seen_ki.update(tx.spends)
        return chosen
