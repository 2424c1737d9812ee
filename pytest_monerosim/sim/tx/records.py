"""The tx layer's records in the :class:`~pytest_monerosim.result.model.Result`.

* ``TxRecord`` per tx: its block and confirmation time on the reference main
  chain, its status, its first-seen times (``seen_times``, the ``first_seen``
  dict too when the run is small enough; for a tx the seen table made sparse
  (:mod:`.seen`: runs beyond its dense budget), ``seen_times`` at the watched
  nodes only, named by ``seen_nodes``, with ``seen_last``/``unseen`` for the rest), how many nodes saw it, its
  rings and real inputs.
* ``WalletRecord`` per wallet, from the main chain of the wallet's node.
* ``Result.double_spends_rejected``: txs some node refused because a key
  image was already in its pool or on its chain.
* ``Result.extra["transactions"]``: relay figures, per-tx refusals, the
  wallets' balances on the reference chain (what :func:`money_conserved`
  checks) and the outputs table (owner, amount, creator) for analysis.

Statuses: ``confirmed`` (on the reference chain), ``reversed`` (it was in a
block, and the reference chain spends one of its key images in another tx),
``rejected`` (refused by its origin, or beaten by a conflicting tx before it
was ever mined), ``pending`` (still waiting).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ...result.model import Result, TxRecord, WalletRecord
from .outputs import is_unlocked

if TYPE_CHECKING:
    from .component import TxLayer
    from .ledger import ChainIndex

FIRST_SEEN_DICT_LIMIT = 2_000_000
"""Fill the ``first_seen`` dicts when nodes x txs is at most this (else only ``seen_times``)."""


def write_records(layer: TxLayer, result: Result) -> None:
    world = layer.world
    ledger = layer.ledger
    tree = world.tree
    ref = layer.chain_at(None, tree.get(result.reference_tip())).copy()
    names = list(result.nodes)
    index_of = {n.name: n.index for n in world.nodes.values()}
    columns = np.array([index_of[n] for n in names], dtype=np.int64)
    seen = layer.relay.fluff.seen
    small = len(names) * len(ledger.by_serial) <= FIRST_SEEN_DICT_LIMIT
    name_at = {int(c): names[i] for i, c in enumerate(columns.tolist())}
    shared: dict[bytes, tuple[np.ndarray, list[str]]] = {}
    for tx in ledger.by_serial:
        rec = TxRecord(
            id=tx.id, origin=tx.origin, sender=tx.sender, recipients=dict(tx.recipients),
            fee=tx.fee, weight=tx.weight, created_at=tx.created_at,
            key_images=[str(ki) for ki in tx.spends],
            rings=[list(r) for r in tx.rings], real=list(tx.real),
        )
        if seen.n and seen.is_sparse(tx.serial):
            _sparse_seen(rec, seen.sparse_row(tx.serial), name_at, shared)
        else:
            row = seen.row(tx.serial)[columns] if seen.n else np.zeros(0, dtype=np.float32)
            if seen.n and (tx.serial + 1) % seen.chunk == 0:
                seen.drop_chunk(tx.serial // seen.chunk)  # copied into records: the run is over
            finite = np.isfinite(row)
            rec.reached = int(finite.sum())
            values = np.where(finite, row, np.nan).astype(np.float32)
            rec.seen_times = _farray(values)
            if small:
                rec.first_seen = {names[i]: float(row[i]) for i in np.flatnonzero(finite).tolist()}
        h = ledger.tx_height(tx.id, ref)
        if h is not None:
            rec.block = ref.ids[h]
            rec.confirmed_at = tree.get(rec.block).found_at
            rec.status = "confirmed"
        else:
            rec.status = _unconfirmed_status(layer, tx.id, tx.serial, tx.spends, ref)
        result.txs[tx.id] = rec
    rejected = {s for s, nodes in layer.rejected.items() if nodes}
    rejected |= {s for s, why in layer.refused.items() if why == "double spend"}
    result.double_spends_rejected = len(rejected)
    for wallet in layer.wallets.values():
        result.wallets[wallet.name] = _wallet_record(layer, wallet)
    result.extra["transactions"] = _extra(layer, ref, names)


def _sparse_seen(rec: TxRecord, sparse: tuple[np.ndarray, np.ndarray, int, float, np.ndarray],
                 name_at: dict[int, str], shared: dict[bytes, tuple[np.ndarray, list[str]]]) -> None:
    """A tx of a settled, sparse chunk: the watched nodes' times (``seen_times`` in the order
    of ``seen_nodes``, one list shared by the txs with the same watched nodes), and the rest as
    a summary."""
    cols, times, reached, last, never = sparse
    key = cols.tobytes()
    if key not in shared:
        keep = np.array([c in name_at for c in cols.tolist()], dtype=bool)
        shared[key] = (keep, [name_at[c] for c in cols[keep].tolist()])
    keep, watched = shared[key]
    values = times[keep]
    rec.seen_times = _farray(np.where(np.isfinite(values), values, np.nan))
    rec.seen_nodes = watched
    rec.reached = reached
    rec.seen_sparse = True
    rec.seen_last = last if last != float("inf") else None
    rec.unseen = sorted(name_at[c] for c in never.tolist() if c in name_at)


def _unconfirmed_status(layer: TxLayer, tx_id: str, serial: int, spends: tuple[int, ...],
                        ref: ChainIndex) -> str:
    ledger = layer.ledger
    if serial in layer.refused:
        return "rejected"
    if any(ledger.spent_on(ki, ref) not in (None, tx_id) for ki in spends):
        return "reversed" if ledger.tx_blocks.get(tx_id) else "rejected"
    return "pending"


def _farray(values: np.ndarray) -> Any:
    from array import array

    out = array("f")
    out.frombytes(values.astype(np.float32).tobytes())
    return out


def _wallet_record(layer: TxLayer, wallet: Any) -> WalletRecord:
    ledger = layer.ledger
    chain = layer.chain_of(wallet.node)
    tip = chain.tip_height
    balance = unlocked = received = 0
    for oid, h in wallet.unspent.items():
        out = ledger.outputs[oid]
        balance += out.amount
        if is_unlocked(h, tip, out.tx is None):
            unlocked += out.amount
    for oid in (*wallet.unspent, *wallet.spent):
        out = ledger.outputs[oid]
        if out.tx is None or ledger.txs[out.tx].sender != wallet.name:
            received += out.amount
    sent = fees = 0
    for tid in wallet.sent:
        if ledger.tx_height(tid, chain) is not None:
            tx = ledger.txs[tid]
            sent += sum(a for name, a in tx.recipients.items() if name != wallet.name)
            fees += tx.fee
    return WalletRecord(name=wallet.name, node=wallet.node, strategy=wallet.strategy_name,
                        address=wallet.address, balance=balance, unlocked=unlocked,
                        received=received, sent=sent, fees_paid=fees, funded_at=wallet.funded_at,
                        tx_count=len(wallet.sent))


def reference_balances(layer: TxLayer, ref: ChainIndex) -> dict[str, int]:
    """Every wallet's balance on the reference chain (unspent outputs there)."""
    ledger = layer.ledger
    out = {name: 0 for name in layer.wallets}
    for o in ledger.outputs:
        if o.owner is None or o.owner not in out:
            continue
        if ledger.output_height(o, ref) is None or ledger.spent_on(o.id, ref) is not None:
            continue
        out[o.owner] += o.amount
    return out


def _extra(layer: TxLayer, ref: ChainIndex, names: list[str]) -> dict[str, Any]:
    ledger = layer.ledger
    relay = layer.relay
    lengths = relay.stem_lengths
    info = layer.info()
    info.update(
        relay=layer.cfg.relay,
        stem_length_mean=(sum(lengths) / len(lengths)) if lengths else None,
        stem_lengths=_histogram(lengths),
        refused={ledger.by_serial[s].id: why for s, why in sorted(layer.refused.items())},
        double_spend_refusals={ledger.by_serial[s].id: sorted(names[i] for i in nodes
                                                             if i < len(names))
                               for s, nodes in sorted(layer.rejected.items())},
        reference_balances=reference_balances(layer, ref),
        coinbase_wallets={n: w for n, w in sorted(layer.coinbase_to.items()) if w},
        outputs={
            "owner": [o.owner for o in ledger.outputs],
            "amount": [o.amount for o in ledger.outputs],
            "created_by": [o.tx if o.tx is not None else o.block for o in ledger.outputs],
        },
    )
    return info


def _histogram(values: list[int]) -> dict[int, int]:
    out: dict[int, int] = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return dict(sorted(out.items()))
