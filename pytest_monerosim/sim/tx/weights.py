"""Transaction size and weight as ``wallet2`` estimates them (CLSAG, Bulletproofs+, view tags).

From ``estimate_rct_tx_size`` / ``estimate_tx_weight`` in src/wallet/wallet2.cpp
(monero-project/monero), restated:

* prefix: 1 + 6 bytes; per input ``1 + 6 + ring_size*2 + 32`` (type, amount,
  varint offsets, key image); per output ``6 + 32``; the extra field;
* RingCT: type byte; one aggregated Bulletproof+ of
  ``(2*(6 + log2(padded outputs)) + 6) * 32 + 3`` bytes; per input a CLSAG of
  ``32*ring_size + 64`` and a pseudo-output of 32; per output a view tag (1),
  ecdh info (8) and commitment (32); 4 bytes for the fee;
* weight = size, plus for more than 2 outputs the "clawback"
  ``(bp_base * padded - bp_size) * 4/5`` with ``bp_base = 32*(6 + 7*2)/2``,
  which charges a multi-output proof as if it were several 2-output ones.

A 1-input, 2-output transaction of ring size 16 weighs 1,536 bytes by this
estimate, the figure wallets use when they quote a fee; the simulator uses
these estimates as the weights of the transactions it makes.
"""

from __future__ import annotations

RING_SIZE = 16
DEFAULT_EXTRA_SIZE = 44
"""tx public key (1+32) plus an encrypted payment id (1+1+1+8), what a 2-output transfer carries."""
MAX_OUTPUTS = 16
"""BULLETPROOF_PLUS_MAX_OUTPUTS: a transaction has at most 16 outputs."""
MIN_OUTPUTS = 2
"""Wallets always make at least two outputs (a dummy change output if needed)."""


def _log2_padded(n: int, start: int = 0) -> int:
    k = start
    while (1 << k) < n:
        k += 1
    return k


def estimate_size(n_inputs: int, n_outputs: int, ring_size: int = RING_SIZE,
                  extra_size: int = DEFAULT_EXTRA_SIZE) -> int:
    """Serialized size in bytes of a CLSAG + Bulletproof+ + view-tag transaction."""
    if n_inputs < 1 or n_outputs < 1 or ring_size < 1:
        raise ValueError(f"need inputs, outputs and ring size >= 1; got {n_inputs}, {n_outputs}, {ring_size}")
    size = 1 + 6
    size += n_inputs * (1 + 6 + ring_size * 2 + 32)
    size += n_outputs * (6 + 32)
    size += extra_size
    size += 1
    size += (2 * (6 + _log2_padded(n_outputs)) + 6) * 32 + 3
    size += n_inputs * (32 * ring_size + 64)
    size += n_outputs * 1
    size += 32 * n_inputs
    size += 8 * n_outputs
    size += 32 * n_outputs
    size += 4
    return size


def estimate_weight(n_inputs: int, n_outputs: int, ring_size: int = RING_SIZE,
                    extra_size: int = DEFAULT_EXTRA_SIZE) -> int:
    """Weight in bytes (size plus the Bulletproof clawback above two outputs)."""
    size = estimate_size(n_inputs, n_outputs, ring_size, extra_size)
    if n_outputs > 2:
        bp_base = (32 * (6 + 7 * 2)) // 2
        log_padded = _log2_padded(n_outputs, start=2)
        bp_size = 32 * (6 + 2 * (6 + log_padded))
        size += (bp_base * (1 << log_padded) - bp_size) * 4 // 5
    return size
