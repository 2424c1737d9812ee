"""Outputs, transactions and the unlock rules.

An output is a one-time amount owned by a wallet (or by nobody: a coinbase
paid to a miner without a wallet, the genesis output). Spending it reveals its
key image; in the simulator the key image of output ``n`` is ``n`` itself,
which the rest of the network cannot link to the output because rings hide
which member is spent (the simulator keeps the truth for analysis).

Unlock rules (``cryptonote_config.h``, ``wallet2::is_transfer_unlocked``):

* a coinbase output of the block at height ``h`` has ``unlock_time = h + 60``
  (``CRYPTONOTE_MINED_MONEY_UNLOCK_WINDOW``); it is spendable once the chain
  holds ``h + 60`` blocks counting the genesis, i.e. with 60 confirmations
  (``tip - h + 1 >= 60``), which is why a fresh coinbase shows
  ``blocks_to_unlock`` 59;
* any other output needs ``CRYPTONOTE_DEFAULT_TX_SPENDABLE_AGE`` = 10
  confirmations.
"""

from __future__ import annotations

COINBASE_UNLOCK_BLOCKS = 60
SPENDABLE_AGE = 10


def confirmations(height: int, tip_height: int) -> int:
    """Blocks on top of (and including) the block at ``height``; 0 if not yet mined."""
    return max(0, tip_height - height + 1)


def required_confirmations(coinbase: bool) -> int:
    return COINBASE_UNLOCK_BLOCKS if coinbase else SPENDABLE_AGE


def is_unlocked(height: int, tip_height: int, coinbase: bool) -> bool:
    return confirmations(height, tip_height) >= required_confirmations(coinbase)


def blocks_to_unlock(height: int, tip_height: int, coinbase: bool) -> int:
    return max(0, required_confirmations(coinbase) - confirmations(height, tip_height))


class Output:
    """One output. ``tx`` is the creating transaction (None for a coinbase, see ``block``)."""

    __slots__ = ("id", "amount", "owner", "tx", "block")

    def __init__(self, id: int, amount: int, owner: str | None, tx: str | None, block: str | None) -> None:
        self.id = id
        self.amount = amount
        self.owner = owner
        self.tx = tx
        self.block = block
        """The block of a coinbase output (None for tx outputs: their tx may be in several blocks)."""

    @property
    def coinbase(self) -> bool:
        return self.tx is None

    @property
    def key_image(self) -> int:
        return self.id

    def __repr__(self) -> str:
        src = self.tx or f"coinbase@{self.block}"
        return f"Output({self.id}, {self.amount}, owner={self.owner}, {src})"


class Tx:
    """A transaction as the simulator made it (the truth behind the ring signatures)."""

    __slots__ = ("id", "serial", "sender", "origin", "spends", "rings", "real", "outputs",
                 "fee", "weight", "created_at", "recipients")

    def __init__(
        self,
        id: str,
        serial: int,
        sender: str | None,
        origin: str,
        spends: tuple[int, ...],
        rings: tuple[tuple[int, ...], ...],
        real: tuple[int, ...],
        outputs: tuple[int, ...],
        fee: int,
        weight: int,
        created_at: float,
        recipients: dict[str, int],
    ) -> None:
        self.id = id
        self.serial = serial
        self.sender = sender
        self.origin = origin
        self.spends = spends
        """Output ids really spent, one per input: the key images."""
        self.rings = rings
        """Per input, the ring members (output ids) sorted as a ring is serialized."""
        self.real = real
        """Per input, the position of the spent output in its ring."""
        self.outputs = outputs
        self.fee = fee
        self.weight = weight
        self.created_at = created_at
        self.recipients = recipients
        """Wallet name → amount (change to the sender excluded)."""

    @property
    def key_images(self) -> tuple[int, ...]:
        return self.spends

    @property
    def fee_per_byte(self) -> float:
        return self.fee / self.weight

    def __repr__(self) -> str:
        return f"Tx({self.id}, fee={self.fee}, weight={self.weight}, inputs={len(self.spends)})"
