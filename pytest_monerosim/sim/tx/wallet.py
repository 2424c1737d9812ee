"""A wallet on the simulator: :class:`~pytest_monerosim.agents.api.WalletAPI` over the tx layer.

Like ``monero-wallet-rpc`` against its ``monerod``, a wallet sees the main
chain of the node it is placed on: its balance is the sum of its outputs on
that chain not spent there, its unlocked balance the part old enough to
spend (60 confirmations for a coinbase, 10 otherwise), minus the outputs its
own unconfirmed txs spend. The view is incremental: the layer tells the
wallet which blocks joined or left its node's main chain, and each block
carries, per owner, the outputs it creates and the key images it spends.
The wallet keeps its unspent outputs sorted by amount and by unlock height as
they come and go, so a balance costs the outputs still locked (the last few
blocks'), not all of them, and a spend finds its input by bisection.
"""

from __future__ import annotations

import random
from bisect import bisect_left, insort
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ...agents.api import InsufficientFunds
from ...config.wallets import WalletInfo
from .outputs import required_confirmations

if TYPE_CHECKING:
    from .component import TxLayer


class NodeUnavailable(InsufficientFunds):
    """The wallet's node is offline: nothing can be sent now."""


class TransferRejected(InsufficientFunds):
    """The node refused the tx (a key image already in its pool or chain)."""


class SimWallet:
    """One wallet; ``strategy`` is its wallet-strategy object."""

    def __init__(self, layer: TxLayer, name: str, node: str, group: str, strategy_name: str,
                 strategy: Any) -> None:
        self._layer = layer
        self._world = layer.world
        self.name = name
        self.node = node
        self.group = group
        self.address = f"monerosim:{name}"
        self.strategy_name = strategy_name
        self.strategy = strategy
        self.rng: random.Random = layer.world.rng(f"wallet:{name}")
        self.unspent: dict[int, int] = {}
        """Output id → height, for this wallet's outputs on its node's chain not spent there."""
        self.spent: dict[int, int] = {}
        """Output id → height, for outputs spent on the chain (kept for reorgs)."""
        self.pending: dict[str, tuple[int, ...]] = {}
        """Own txs not yet on the chain → the key images they spend."""
        self.sent: list[str] = []
        self.failed_txs: list[str] = []
        """Own txs that expired from our node's pool unmined."""
        self.funded_at: float | None = None
        self.started = False
        self._version = 0
        self._at: dict[int, int] = {}
        """Unspent output id → the first tip height at which it is unlocked."""
        self._by_amount: list[tuple[int, int]] = []
        """(amount, output id) of the unspent outputs, sorted."""
        self._by_at: list[tuple[int, int]] = []
        """(unlock height, output id) of the unspent outputs, sorted."""
        self._sum = 0
        """Amount of the unspent outputs."""
        self._busy: tuple[int, set[int], int] | None = None
        """Per version: the unspent outputs our pending txs spend, and their amount."""

    def __repr__(self) -> str:
        return f"SimWallet({self.name!r} on {self.node})"

    # -- AgentContext ------------------------------------------------------------
    def now(self) -> float:
        return self._world.engine.now

    def schedule(self, delay: float, callback: Callable[[], None]) -> None:
        self._world.engine.schedule(max(0.0, delay), callback)

    def log(self, event: str, **fields: object) -> None:
        self._world.log(self.name, event, **fields)

    # -- WalletAPI ---------------------------------------------------------------
    def height(self) -> int:
        return self._layer.chain_of(self.node).tip_height

    def directory(self) -> dict[str, str]:
        return self._layer.directory

    def balance(self) -> tuple[int, int]:
        """(total, unlocked) like ``get_balance``: the total counts the change of our own
        unconfirmed txs (as wallet2 does), the unlocked part only what can be spent now."""
        tip = self._layer.chain_of(self.node).tip_height
        busy, busy_sum = self._spending()
        total = self._sum - busy_sum
        locked = 0
        outputs = self._layer.ledger.outputs
        by_at = self._by_at
        # is_unlocked(h, tip, coinbase) <=> tip - h + 1 >= required confirmations <=> at <= tip
        for i in range(bisect_left(by_at, (tip + 1, -1)), len(by_at)):
            oid = by_at[i][1]
            if oid not in busy:
                locked += outputs[oid].amount
        unlocked = total - locked
        if self.pending:
            ledger = self._layer.ledger
            for tid in self.pending:
                change = ledger.outputs[ledger.txs[tid].outputs[-1]]
                if change.owner == self.name:
                    total += change.amount
        return total, unlocked

    def transfer(self, destinations: dict[str, int], priority: int = 1) -> str:
        if not destinations:
            raise ValueError("transfer needs at least one destination")
        return self._layer.send(self, list(destinations.items()), priority)

    def transfer_outputs(self, outputs: list[tuple[str, int]], priority: int = 1) -> str:
        """Like ``transfer`` but several outputs may go to one address (a distributor's batch)."""
        if not outputs:
            raise ValueError("transfer needs at least one destination")
        return self._layer.send(self, outputs, priority)

    # -- extras (RosterWalletAPI) ------------------------------------------------
    def roster(self) -> list[WalletInfo]:
        return self._layer.roster

    def wallet(self, name: str) -> SimWallet:
        return self._layer.wallets[name]

    # -- the view ----------------------------------------------------------------
    def spending(self) -> set[int]:
        out: set[int] = set()
        for kis in self.pending.values():
            out.update(kis)
        return out

    def add_pending(self, tx_id: str, key_images: tuple[int, ...]) -> None:
        self.pending[tx_id] = key_images
        self.sent.append(tx_id)
        self._version += 1

    def failed(self, tx_id: str) -> None:
        """Our tx left our node's pool unmined (expired): as wallet2 marks it failed, its
        inputs are spendable again (``process_unconfirmed_transfer``)."""
        if self.pending.pop(tx_id, None) is not None:
            self.failed_txs.append(tx_id)
            self._version += 1

    def _spending(self) -> tuple[set[int], int]:
        """The unspent outputs our pending txs spend and their amount (cached per version)."""
        busy = self._busy
        if busy is None or busy[0] != self._version:
            kis = self.spending()
            at = self._at
            outputs = self._layer.ledger.outputs
            busy = self._busy = (self._version, kis, sum(outputs[k].amount for k in kis if k in at))
        return busy[1], busy[2]

    def spendable(self) -> list[tuple[int, int]]:
        """(output id, amount) the wallet may spend now, by amount then id."""
        tip = self._layer.chain_of(self.node).tip_height
        busy, _ = self._spending()
        at = self._at
        return [(oid, amount) for amount, oid in self._by_amount
                if at[oid] <= tip and oid not in busy]

    def _add(self, oid: int, height: int) -> None:
        """Output ``oid`` (created at ``height``) is unspent on the node's chain."""
        if oid in self._at:
            self._unindex(oid)
        self.unspent[oid] = height
        o = self._layer.ledger.outputs[oid]
        at = height + required_confirmations(o.tx is None) - 1
        self._at[oid] = at
        insort(self._by_amount, (o.amount, oid))
        insort(self._by_at, (at, oid))
        self._sum += o.amount

    def _drop(self, oid: int) -> int | None:
        """Output ``oid`` is no longer unspent on the node's chain; its height (None: it was not)."""
        h = self.unspent.pop(oid, None)
        if oid in self._at:
            self._unindex(oid)
        return h

    def _unindex(self, oid: int) -> None:
        at = self._at.pop(oid)
        amount = self._layer.ledger.outputs[oid].amount
        lst = self._by_amount
        del lst[bisect_left(lst, (amount, oid))]
        lst = self._by_at
        del lst[bisect_left(lst, (at, oid))]
        self._sum -= amount

    def attach(self, created: list[int], spent: list[int], height: int, own_txs: list[str]) -> None:
        """A block joined the node's main chain: its outputs for us, our key images it spends."""
        self._version += 1
        for oid in created:
            self._add(oid, height)
            if self.funded_at is None and not self._is_change(oid):
                self.funded_at = self._world.engine.now
        for ki in spent:
            h = self._drop(ki)
            if h is not None:
                self.spent[ki] = h
        if spent:
            kis = set(spent)
            for tid in [t for t, k in self.pending.items() if kis.intersection(k)]:
                del self.pending[tid]

    def detach(self, created: list[int], spent: list[int], own_txs: list[str]) -> None:
        """A block left the main chain (a reorg): undo :meth:`attach`; our txs in it are pending again."""
        self._version += 1
        for ki in spent:
            h = self.spent.pop(ki, None)
            if h is not None:
                self._add(ki, h)
        for oid in created:
            self._drop(oid)
            self.spent.pop(oid, None)
        ledger = self._layer.ledger
        for tid in own_txs:
            self.pending[tid] = ledger.txs[tid].spends

    def _is_change(self, oid: int) -> bool:
        o = self._layer.ledger.outputs[oid]
        if o.tx is None:
            return False
        return self._layer.ledger.txs[o.tx].sender == self.name
