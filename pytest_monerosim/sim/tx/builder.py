"""Building a transaction the way a wallet does: inputs, fee, change, rings.

* Destinations plus one change output (a wallet always makes at least two).
* Fee: the wallet's per-byte fee for the priority (2021 scaling tiers, from
  its node's tip: block reward and median weight) times the estimated weight,
  quantized up; the weight depends on the inputs, so selection iterates.
* Inputs: the smallest single unlocked output that covers amount + fee, else
  the largest ones until they do (at most :data:`MAX_INPUTS`).
* Rings: each input's real output plus 15 decoys drawn by the gamma picker
  from the node's main chain; the simulator keeps which member is real.
"""

from __future__ import annotations

import random
from bisect import bisect_left
from collections.abc import Sequence
from operator import itemgetter

import numpy as np

from ...agents.api import InsufficientFunds
from .decoys import GammaPicker, global_index, output_at
from .fees import fee_for_weight
from .ledger import ChainIndex, Ledger
from .outputs import Tx
from .weights import MAX_OUTPUTS, estimate_weight

MAX_INPUTS = 64


_BY_AMOUNT = itemgetter(1, 0)
_AMOUNT = itemgetter(1)


def select_inputs(spendable: Sequence[tuple[int, int]], amount: int, per_byte: int,
                  n_outputs: int, ring_size: int, min_inputs: int = 1, *,
                  presorted: bool = False) -> tuple[list[tuple[int, int]], int]:
    """Outputs to spend and the fee; ``InsufficientFunds`` if they cannot cover ``amount``.

    ``min_inputs`` (a drawn tx shape): after the covering set, add the smallest other
    outputs that still pay for the larger fee until there are that many (or none are left).
    ``presorted``: ``spendable`` is already sorted by amount, then id (a wallet's view is).
    """
    ordered = spendable if presorted else sorted(spendable, key=_BY_AMOUNT)
    chosen, fee = _covering(ordered, amount, per_byte, n_outputs, ring_size)
    if len(chosen) >= min_inputs:
        return chosen, fee
    taken = {oid for oid, _ in chosen}
    total = sum(v for _, v in chosen)
    for oid, value in ordered:
        if len(chosen) >= min(min_inputs, MAX_INPUTS):
            break
        if oid in taken:
            continue
        more = fee_for_weight(estimate_weight(len(chosen) + 1, n_outputs, ring_size), per_byte)
        if total + value >= amount + more:
            chosen.append((oid, value))
            total += value
            fee = more
    return chosen, fee


def _covering(ordered: Sequence[tuple[int, int]], amount: int, per_byte: int,
              n_outputs: int, ring_size: int) -> tuple[list[tuple[int, int]], int]:
    """The smallest single output that covers ``amount`` and the fee, else the largest ones until
    they do (``ordered``: by amount, then id)."""
    def fee(n_in: int) -> int:
        return fee_for_weight(estimate_weight(n_in, n_outputs, ring_size), per_byte)

    one = fee(1)
    first = bisect_left(ordered, amount + one, key=_AMOUNT)
    if first < len(ordered):
        return [ordered[first]], one
    chosen: list[tuple[int, int]] = []
    total = 0
    for oid, value in reversed(ordered):
        chosen.append((oid, value))
        total += value
        if total >= amount + fee(len(chosen)):
            return chosen, fee(len(chosen))
        if len(chosen) >= MAX_INPUTS:
            break
    available = sum(v for _, v in ordered)
    raise InsufficientFunds(
        f"needs {amount} + fee {fee(max(1, len(chosen)))} atomic units; unlocked {available} in "
        f"{len(ordered)} output(s)")


def split_outputs(outputs: Sequence[tuple[str, int]], payments: int) -> list[tuple[str, int]]:
    """``outputs`` with the first payment split so that there are ``payments`` of them
    (unchanged when there are already as many, or the amount is too small to split)."""
    out = list(outputs)
    extra = min(payments, MAX_OUTPUTS - 1) - len(out)
    if extra <= 0 or not out:
        return out
    name, amount = out[0]
    parts = min(extra + 1, amount)
    each = amount // parts
    return [(name, each)] * (parts - 1) + [(name, amount - each * (parts - 1))] + out[1:]


def make_ring(ledger: Ledger, chain: ChainIndex, picker: GammaPicker, real: int,
              ring_size: int) -> tuple[tuple[int, ...], int]:
    """Ring of output ids around ``real`` (an output on ``chain``) and the real position."""
    out = ledger.outputs[real]
    height = ledger.output_height(out, chain)
    if height is None:
        raise ValueError(f"output {real} is not on the chain it is spent from")

    def block_outputs(h: int) -> tuple[int, ...]:
        return ledger.block_outputs[chain.ids[h]]

    g = global_index(real, height, chain.cum, block_outputs)
    members, pos = picker.ring(g, ring_size)
    return tuple(output_at(i, chain.cum, block_outputs) for i in members), pos


def build(
    ledger: Ledger,
    chain: ChainIndex,
    rng: random.Random | np.random.Generator,
    *,
    tx_id: str,
    sender: str | None,
    origin: str,
    spendable: Sequence[tuple[int, int]],
    outputs: Sequence[tuple[str, int]],
    per_byte: int,
    ring_size: int,
    now: float,
    min_inputs: int = 1,
    n_outputs: int = 0,
    presorted: bool = False,
) -> Tx:
    """A new tx (its outputs registered in ``ledger``, the tx itself not yet).

    ``min_inputs`` and ``n_outputs`` (change included) come from a drawn tx shape; more
    outputs than destinations + change split the first payment into equal parts.
    ``presorted``: ``spendable`` is sorted by amount, then id.
    """
    for name, amount in outputs:
        if amount <= 0:
            raise ValueError(f"amount {amount} to {name} must be positive")
    outputs = split_outputs(outputs, n_outputs - 1)
    amount = sum(a for _, a in outputs)
    n_out = len(outputs) + 1
    inputs, fee = select_inputs(spendable, amount, per_byte, n_out, ring_size, min_inputs,
                                presorted=presorted)
    change = sum(v for _, v in inputs) - amount - fee
    picker = GammaPicker(chain.cum, rng)
    rings: list[tuple[int, ...]] = []
    real: list[int] = []
    for oid, _ in sorted(inputs):
        ring, pos = make_ring(ledger, chain, picker, oid, ring_size)
        rings.append(ring)
        real.append(pos)
    created = [ledger.new_output(a, name, tx=tx_id).id for name, a in outputs]
    created.append(ledger.new_output(change, sender, tx=tx_id).id)
    recipients: dict[str, int] = {}
    for name, a in outputs:
        recipients[name] = recipients.get(name, 0) + a
    weight = estimate_weight(len(inputs), n_out, ring_size)
    return Tx(tx_id, len(ledger.by_serial), sender, origin, tuple(sorted(oid for oid, _ in inputs)),
              tuple(rings), tuple(real), tuple(created), fee, weight, now, recipients)
