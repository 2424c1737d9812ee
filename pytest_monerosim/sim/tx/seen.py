"""First-seen times of every tx at every node, compact: float32 rows in chunks.

A run of 100,000 txs over 1,000 nodes holds 10**8 times; as float32 in
chunks of 4,096 txs that is 400 MB, against gigabytes for dicts. ``inf``
means never seen.
"""

from __future__ import annotations

from array import array

import numpy as np

CHUNK = 4096


class SeenTable:
    def __init__(self, n_nodes: int, chunk: int = CHUNK) -> None:
        self.n = n_nodes
        self.chunk = chunk
        self.chunks: list[np.ndarray] = []

    def _ensure(self, row: int) -> None:
        while row >= len(self.chunks) * self.chunk:
            self.chunks.append(np.full((self.chunk, self.n), np.inf, dtype=np.float32))

    def grow(self, n_nodes: int) -> None:
        """Add columns for nodes that joined (never seen anything yet)."""
        if n_nodes <= self.n:
            return
        extra = n_nodes - self.n
        self.chunks = [np.pad(c, ((0, 0), (0, extra)), constant_values=np.inf) for c in self.chunks]
        self.n = n_nodes

    def mark(self, row: int, node: int, t: float) -> bool:
        """Record ``t`` if earlier than what is stored; True if it was the first sight."""
        self._ensure(row)
        block = self.chunks[row // self.chunk]
        r = row % self.chunk
        old = block[r, node]
        if t < old:
            block[r, node] = t
            return bool(np.isinf(old))
        return False

    def mark_many(self, rows: np.ndarray, nodes: np.ndarray, times: np.ndarray) -> None:
        """Vectorised :meth:`mark` (pairs must be distinct)."""
        if rows.size == 0:
            return
        self._ensure(int(rows.max()))
        which = rows // self.chunk
        lo, hi = int(which.min()), int(which.max())
        for k in range(lo, hi + 1):
            sel = which == k if lo != hi else slice(None)
            r = rows[sel] - k * self.chunk
            c = nodes[sel]
            block = self.chunks[k]
            block[r, c] = np.minimum(block[r, c], times[sel].astype(np.float32))

    def drop_chunk(self, k: int) -> None:
        """Free chunk ``k`` once its rows are copied out at the end of a run (reading its rows
        afterwards is an error), so the table and the records never both hold all of it."""
        if k < len(self.chunks):
            self.chunks[k] = np.zeros((0, self.n), dtype=np.float32)

    def get(self, row: int, node: int) -> float:
        if row >= len(self.chunks) * self.chunk:
            return float("inf")
        return float(self.chunks[row // self.chunk][row % self.chunk, node])

    def row(self, row: int) -> np.ndarray:
        """The first-seen times of tx ``row`` at every node (a view)."""
        self._ensure(row)
        return self.chunks[row // self.chunk][row % self.chunk]

    def times(self, rows: np.ndarray, node: int) -> np.ndarray:
        """First-seen times of the txs ``rows`` at ``node`` (``inf`` for never)."""
        out = np.full(rows.size, np.inf, dtype=np.float32)
        if not rows.size or not self.chunks:
            return out
        which = rows // self.chunk
        for k in np.unique(which).tolist():
            if k >= len(self.chunks):
                continue
            sel = which == k
            out[sel] = self.chunks[k][rows[sel] - k * self.chunk, node]
        return out

    def as_array(self, row: int) -> array:
        """A row as ``array('f')`` with NaN for never (what :class:`TxRecord` keeps)."""
        values = np.array(self.row(row), dtype=np.float32)
        values[np.isinf(values)] = np.nan
        out = array("f")
        out.frombytes(values.tobytes())
        return out
