"""First-seen times of every tx at every node, compact: float32 rows in chunks.

A run of 100,000 txs over 1,000 nodes holds 10**8 times; as float32 in
chunks of 4,096 txs that is 400 MB, against gigabytes for dicts. ``inf``
means never seen. A chunk holds at most 64 MB (:func:`chunk_rows`): in networks
of more than 4,096 nodes it holds fewer txs.

Beyond ``budget`` cells (:data:`DENSE_BUDGET`: 256 MB) the oldest *settled*
chunks (none of their txs spreading any more, nothing marked in them for
:data:`SETTLE_S`) become sparse (:class:`Sparse`): the times at the *watched*
nodes (those with a pool or a watcher: wallets' nodes, miners, spies), and per
tx how many nodes saw it, when the last one did, and which never did. So
once a run outgrows the budget, memory grows with the watched nodes times the txs,
not with all nodes times the txs: the 33,047-node mainnet twin with a day of txs
would need 3.4 GB dense, and most of its watched nodes are its 13,420 spies.
What a sparse chunk no longer knows is an unwatched node's exact time;
:meth:`SeenTable.get` answers with the tx's last time there (the node had it by
then), which is exact for what the run asks of old txs (had the node seen it
by now?).
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .fluff_kernels import compiled_twin

CHUNK = 4096
"""Txs (rows) a chunk holds, in networks of up to :data:`CHUNK_CELLS` / ``CHUNK`` nodes."""
CHUNK_CELLS = 16 * 2**20
"""Cells (float32: 64 MB) a chunk holds at most: a larger network gets fewer rows a chunk (the
33,047-node mainnet twin: 507 txs, 68 MB, instead of 4,096 txs in 541 MB, which the table
took all at once at the run's first tx, and which could not turn sparse before every one of
its 4,096 txs had settled)."""
MIN_CHUNK = 64
"""Rows a chunk holds however large the network."""
DENSE_BUDGET = 64 * 2**20
"""Cells (float32) kept dense before the oldest settled chunks turn sparse (256 MB)."""
SETTLE_S = 3600.0
"""A chunk turns sparse only when nothing was marked in it for this long (embargoes, stems
and re-fluffs are long over by then)."""


@dataclass
class Sparse:
    """A settled chunk: times at the watched nodes, and per tx what the other nodes did."""

    n: int
    """Nodes when it was made (later nodes never saw its txs)."""
    cols: np.ndarray
    """Watched nodes (sorted)."""
    times: np.ndarray
    """float32 [chunk, len(cols)]."""
    reached: np.ndarray
    """int32 [chunk]: nodes that saw each tx."""
    last: np.ndarray
    """float32 [chunk]: when the last of them did (inf: none did)."""
    unseen: dict[int, np.ndarray]
    """Row → the nodes that never saw it (rows some but not all nodes saw)."""

    def get(self, r: int, node: int) -> float:
        if node >= self.n or not self.reached[r]:
            return float("inf")
        i = int(np.searchsorted(self.cols, node))
        if i < self.cols.size and self.cols[i] == node:
            return float(self.times[r, i])
        miss = self.unseen.get(r)
        if miss is not None and bool((miss == node).any()):
            return float("inf")
        return float(self.last[r])

    def times_at(self, rows: np.ndarray, node: int, base: int,
                 late: dict[tuple[int, int], float]) -> np.ndarray:
        """Vectorised :meth:`get` over in-chunk ``rows`` (``late``: the table's late marks)."""
        if node >= self.n:
            out = np.full(rows.size, np.inf)
        else:
            i = int(np.searchsorted(self.cols, node))
            if i < self.cols.size and self.cols[i] == node:
                out = self.times[rows, i].astype(np.float64)
            else:
                out = self.last[rows].astype(np.float64)
                if self.unseen:
                    for j, r in enumerate(rows.tolist()):
                        miss = self.unseen.get(r)
                        if miss is not None and bool((miss == node).any()):
                            out[j] = np.inf
        if late:
            for j, r in enumerate(rows.tolist()):
                t = late.get((base + r, node))
                if t is not None:
                    out[j] = min(out[j], t)
        return out

    def nbytes(self) -> int:
        return self.times.nbytes + self.reached.nbytes + self.last.nbytes + \
            sum(m.nbytes for m in self.unseen.values())


_SCALARS: dict[type, bool] = {float: True, int: True, np.float64: False}
"""Types of ``now`` the compiled :meth:`SeenTable.unseen_weight` takes: whether numpy compares a
float32 chunk with it in float32 (a Python number) or in float64 (a numpy float64)."""


def _compiled_unseen() -> Callable[..., int] | None:
    """numba's ``unseen_weight_nb`` (None without numba, or with ``MONEROSIM_FLUFF_KERNEL=numpy``
    when first asked)."""
    return compiled_twin("unseen_weight_nb")


def chunk_rows(n_nodes: int) -> int:
    """Rows a chunk of a table over ``n_nodes`` holds: :data:`CHUNK`, or fewer where that many
    would pass :data:`CHUNK_CELLS` (but at least :data:`MIN_CHUNK`, or ``CHUNK`` if smaller)."""
    return min(CHUNK, max(MIN_CHUNK, CHUNK_CELLS // max(1, n_nodes)))


class SeenTable:
    def __init__(self, n_nodes: int, chunk: int | None = None, budget: int | None = None) -> None:
        self.n = n_nodes
        self.chunk = chunk if chunk is not None else chunk_rows(n_nodes)
        """Rows a chunk holds, fixed at creation (nodes that join later widen the chunks)."""
        self.budget = budget if budget is not None else DENSE_BUDGET
        self.chunks: list[np.ndarray] = []
        """Dense chunks; a sparse or dropped one is left as an empty array."""
        self.sparse: dict[int, Sparse] = {}
        self.latest: list[float] = []
        """Per chunk, the latest time marked in it."""
        self.late: dict[tuple[int, int], float] = {}
        """Marks into sparse chunks (a node that got an old tx after all): (row, node) → time."""
        self._retry_at = -np.inf

    def _ensure(self, row: int) -> None:
        while row >= len(self.chunks) * self.chunk:
            self.chunks.append(np.full((self.chunk, self.n), np.inf, dtype=np.float32))
            self.latest.append(-np.inf)

    def dense_cells(self) -> int:
        return sum(c.size for c in self.chunks)

    def nbytes(self) -> int:
        return sum(c.nbytes for c in self.chunks) + sum(s.nbytes() for s in self.sparse.values())

    def grow(self, n_nodes: int) -> None:
        """Add columns for nodes that joined (never seen anything yet)."""
        if n_nodes <= self.n:
            return
        extra = n_nodes - self.n
        self.chunks = [np.pad(c, ((0, 0), (0, extra)), constant_values=np.inf) if c.size else
                       np.zeros((0, n_nodes), dtype=np.float32) for c in self.chunks]
        self.n = n_nodes

    def mark(self, row: int, node: int, t: float) -> bool:
        """Record ``t`` if earlier than what is stored; True if it was the first sight."""
        self._ensure(row)
        k = row // self.chunk
        if k in self.sparse:
            old = self.get(row, node)
            if t < old:
                self.late[row, node] = t
                return bool(np.isinf(old))
            return False
        block = self.chunks[k]
        r = row % self.chunk
        old = block[r, node]
        if t < old:
            block[r, node] = t
            self.latest[k] = max(self.latest[k], t)
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
            if k in self.sparse:
                for row, node, t in zip(rows[sel].tolist(), nodes[sel].tolist(),
                                        times[sel].astype(np.float32).tolist(), strict=True):
                    self.mark(row, node, t)
                continue
            r = rows[sel] - k * self.chunk
            c = nodes[sel]
            block = self.chunks[k]
            t32 = times[sel].astype(np.float32)
            block[r, c] = np.minimum(block[r, c], t32)
            if t32.size:
                self.latest[k] = max(self.latest[k], float(t32.max()))

    def drop_chunk(self, k: int) -> None:
        """Free chunk ``k`` once its rows are copied out at the end of a run (reading its rows
        afterwards is an error), so the table and the records never both hold all of it."""
        if k < len(self.chunks):
            self.chunks[k] = np.zeros((0, self.n), dtype=np.float32)

    def get(self, row: int, node: int) -> float:
        """``node``'s first-seen time of tx ``row`` (in a sparse chunk, an unwatched node's is
        the tx's last time: it had the tx by then)."""
        if row >= len(self.chunks) * self.chunk:
            return float("inf")
        k = row // self.chunk
        sp = self.sparse.get(k)
        if sp is not None:
            t = sp.get(row % self.chunk, node)
            return min(t, self.late.get((row, node), t)) if self.late else t
        return float(self.chunks[k][row % self.chunk, node])

    def unseen_by(self, k: int, rows: np.ndarray, node: int, now: float) -> np.ndarray:
        """Mask of chunk ``k``'s ``rows`` (in-chunk) that ``node`` had not seen by ``now``."""
        if k >= len(self.chunks):
            return np.ones(rows.size, dtype=bool)
        sp = self.sparse.get(k)
        if sp is None:
            return self.chunks[k][rows, node] > now
        return sp.times_at(rows, node, k * self.chunk, self.late) > now

    def unseen_weight(self, k: int, rows: np.ndarray, node: int, now: float, weights: np.ndarray) -> int:
        """The sum of ``weights`` over chunk ``k``'s ``rows`` that ``node`` had not seen by ``now``
        (one compiled pass over a dense chunk when numba is there)."""
        kind = type(now)
        if k < len(self.chunks) and k not in self.sparse and kind in _SCALARS:
            gather = _compiled_unseen()
            if gather is not None:
                return int(gather(self.chunks[k], rows, node, float(now), weights, _SCALARS[kind]))
        return int(weights[self.unseen_by(k, rows, node, now)].sum())

    def is_sparse(self, row: int) -> bool:
        return row // self.chunk in self.sparse

    def row(self, row: int) -> np.ndarray:
        """The first-seen times of tx ``row`` at every node (a view; dense chunks only)."""
        self._ensure(row)
        if row // self.chunk in self.sparse:
            raise ValueError(f"tx row {row} is in a sparse chunk: read it with sparse_row")
        return self.chunks[row // self.chunk][row % self.chunk]

    def sparse_row(self, row: int) -> tuple[np.ndarray, np.ndarray, int, float, np.ndarray]:
        """A sparse row: (watched nodes, their times, nodes reached, last time, nodes never)."""
        sp = self.sparse[row // self.chunk]
        r = row % self.chunk
        times = sp.times[r].copy()
        reached, last = int(sp.reached[r]), float(sp.last[r])
        for (lrow, node), t in self.late.items():  # an old tx reaching a node late (rare)
            if lrow != row:
                continue
            i = int(np.searchsorted(sp.cols, node))
            if i < sp.cols.size and sp.cols[i] == node:
                times[i] = min(times[i], t)
            reached += int(np.isinf(sp.get(r, node)))
            last = max(last, t) if np.isfinite(last) else t
        if not sp.reached[r]:
            never = np.arange(sp.n, dtype=np.int64)
        else:
            never = sp.unseen.get(r, np.zeros(0, dtype=np.int64))
        never = np.concatenate((never, np.arange(sp.n, self.n, dtype=np.int64)))
        late = {node for (lrow, node) in self.late if lrow == row}
        if late:
            never = np.array([x for x in never.tolist() if x not in late], dtype=np.int64)
        return sp.cols, times, reached, last, never

    # -- sparse ------------------------------------------------------------------------------
    def settle(self, now: float, active: Callable[[], set[int]], watched: np.ndarray) -> int:
        """Turn the oldest settled chunks sparse while the dense ones exceed the budget.

        ``active()``: rows whose tx may still be marked (spreading, embargoed, queued).
        Returns how many chunks turned sparse.
        """
        if now < self._retry_at or self.dense_cells() <= self.budget:
            return 0
        done = 0
        live = active()
        cols = np.unique(np.asarray(watched, dtype=np.int64))
        for k in range(len(self.chunks) - 1):  # the newest chunk is still filling
            if self.dense_cells() <= self.budget:
                break
            if not self.chunks[k].size or self.latest[k] > now - SETTLE_S:
                continue
            lo = k * self.chunk
            if any(lo <= r < lo + self.chunk for r in live):
                continue
            self.sparse[k] = self._sparse(self.chunks[k], cols)
            self.chunks[k] = np.zeros((0, self.n), dtype=np.float32)
            done += 1
        if self.dense_cells() > self.budget:
            self._retry_at = now + 60.0
        return done

    def _sparse(self, block: np.ndarray, cols: np.ndarray) -> Sparse:
        finite = np.isfinite(block)
        reached = finite.sum(axis=1).astype(np.int32)
        last = np.where(finite, block, -np.inf).max(axis=1)
        last[reached == 0] = np.inf
        unseen = {r: np.flatnonzero(~finite[r]) for r in
                  np.flatnonzero((reached > 0) & (reached < self.n)).tolist()}
        return Sparse(n=self.n, cols=cols, times=np.ascontiguousarray(block[:, cols]),
                      reached=reached, last=last.astype(np.float32), unseen=unseen)

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
            if k in self.sparse:
                out[sel] = [self.get(int(r), node) for r in rows[sel].tolist()]
                continue
            out[sel] = self.chunks[k][rows[sel] - k * self.chunk, node]
        return out

    def as_array(self, row: int) -> array:
        """A row as ``array('f')`` with NaN for never (what :class:`TxRecord` keeps)."""
        values = np.array(self.row(row), dtype=np.float32)
        values[np.isinf(values)] = np.nan
        out = array("f")
        out.frombytes(values.tobytes())
        return out
