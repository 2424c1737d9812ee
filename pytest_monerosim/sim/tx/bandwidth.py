"""Transaction bytes on links: transfer time and bytes relayed per node.

A message of ``size`` bytes from ``a`` to ``b`` takes ``8 * size / min(up(a), down(b))``
seconds on top of the link's latency (as blocks do in :mod:`..block_relay`). A stem hop
carries one tx; a fluff flush (``NOTIFY_NEW_TRANSACTIONS``) carries every tx queued on
the connection, so a flush of many txs, or of one large one, takes longer on a slow link.

A tx that joins a flush its node makes later in the same half-second window (the fluff
engine's "ride-along") is charged as a message of its own: the flush's other bytes do not
delay it.

What is left out: the serialized message's framing (a Levin header of 33 bytes, the
tx blobs' length prefixes) and contention between a node's connections and its block
sends (its uplink is not one FIFO pipe for transactions, as it is for blocks).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ..node import Node


class TxBandwidth:
    def __init__(self, nodes: list[Node]) -> None:
        self.sent = np.zeros(0, dtype=np.int64)
        """Tx bytes each node (by index) sent: stem hops, fluff flushes, re-broadcasts."""
        self.up = np.zeros(0)
        self.down = np.zeros(0)
        self.refresh(nodes)

    def refresh(self, nodes: list[Node]) -> None:
        n = len(nodes)
        if n > self.sent.size:
            self.sent = np.concatenate((self.sent, np.zeros(n - self.sent.size, dtype=np.int64)))
        self.up = np.array([x.up_bps for x in nodes], dtype=np.float64)
        self.down = np.array([x.down_bps for x in nodes], dtype=np.float64)

    def seconds(self, a: Node, b: Node, size: int) -> float:
        """Transfer time of ``size`` bytes from ``a`` to its peer ``b`` (the link's rate)."""
        return 8.0 * size / a.links[b].rate

    def count(self, a: Node, size: int) -> None:
        self.sent[a.index] += size

    def message_delays(self, senders: np.ndarray, receivers: np.ndarray,
                       sizes: np.ndarray) -> np.ndarray:
        """Per arrival (one tx of a flush): the transfer time of its whole message.

        Arrivals from one sender to one receiver in one batch are one message; every
        arrival of it lands when the last byte does. Counts the bytes as sent.
        """
        from .fluff_fused import delays_np

        return delays_np(senders, receivers, sizes, self.up, self.down, self.sent)
