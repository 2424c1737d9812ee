"""Decoy selection: wallet2's ``gamma_picker``, restated.

``src/wallet/wallet2.cpp`` (monero-project/monero): ``GAMMA_SHAPE = 19.28``,
``GAMMA_SCALE = 1/1.61`` (Miller et al.'s fit of spend ages in log-seconds),
``DEFAULT_UNLOCK_TIME = 10 * 120`` and ``RECENT_SPEND_WINDOW = 15 * 120``
seconds. A pick draws ``x = exp(Gamma(shape, scale))`` seconds; if ``x`` is
past the unlock time it is shifted back by it, otherwise a uniform time in
the recent-spend window replaces it. The age in outputs is
``x / average_output_time`` (average over at most a year of blocks), counted
back from the newest *unlocked* output (outputs of the last 9 blocks are
excluded); the output's block is found in the cumulative counts and a member
of that block is taken uniformly. A pick past the oldest output, or in an
empty block, is thrown away and redrawn.

Rings hold the real output and ``ring_size - 1`` distinct decoys, sorted by
global index as they are serialized; the picker keeps which member is real.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_left
from collections.abc import Callable, Sequence

import numpy as np

from .fluff_kernels import compiled_twin

GAMMA_SHAPE = 19.28
GAMMA_SCALE = 1 / 1.61
TARGET_S = 120
SPENDABLE_AGE = 10
DEFAULT_UNLOCK_TIME = SPENDABLE_AGE * TARGET_S
RECENT_SPEND_WINDOW = 15 * TARGET_S
BLOCKS_IN_A_YEAR = 86400 * 365 // TARGET_S
MAX_TRIES_PER_MEMBER = 100


def _compiled_picks() -> Callable[..., np.ndarray] | None:
    """:meth:`GammaPicker.pick_many`'s arithmetic after the draws, compiled with numba (None
    without it, or with ``MONEROSIM_FLUFF_KERNEL=numpy`` when first asked, as for the fluff
    engine's steps)."""
    return compiled_twin("decoy_picks_nb")


class NotEnoughOutputs(ValueError):
    """The chain has no unlocked output to draw from."""


class GammaPicker:
    """Picks global output indices on one chain, given its cumulative output counts.

    ``rng`` is a ``random.Random`` (one pick at a time) or a numpy ``Generator``
    (picks drawn in batches, what the simulator uses: a young chain throws most
    picks away, as wallet2 does, and batches make that cheap).
    """

    def __init__(self, offsets: Sequence[int], rng: random.Random | np.random.Generator,
                 shape: float = GAMMA_SHAPE, scale: float = GAMMA_SCALE) -> None:
        n = len(offsets)
        if n < SPENDABLE_AGE:
            raise NotEnoughOutputs(f"chain of {n} blocks has no output {SPENDABLE_AGE} blocks deep")
        self.offsets = offsets
        self.rng = rng
        self.shape = shape
        self.scale = scale
        consider = min(n, BLOCKS_IN_A_YEAR)
        outputs_considered = offsets[-1] - (offsets[n - consider - 1] if consider < n else 0)
        if outputs_considered <= 0:
            raise NotEnoughOutputs("no outputs in the last year of blocks")
        self.end = n - (SPENDABLE_AGE - 1)
        """Blocks [0, end) hold the unlocked outputs."""
        self.num_outputs = offsets[self.end - 1]
        self.average_output_time = TARGET_S * consider / outputs_considered
        self._offsets_np: np.ndarray | None = None

    def pick(self) -> int | None:
        """One global output index, or None for a bad pick (the caller redraws)."""
        if isinstance(self.rng, np.random.Generator):
            i = int(self.pick_many(1)[0])
            return None if i < 0 else i
        rng = self.rng
        x = math.exp(rng.gammavariate(self.shape, self.scale))
        if x > DEFAULT_UNLOCK_TIME:
            x -= DEFAULT_UNLOCK_TIME
        else:
            x = float(rng.randrange(RECENT_SPEND_WINDOW))
        age = int(x / self.average_output_time)
        if age >= self.num_outputs:
            return None
        index = self.num_outputs - 1 - age
        block = bisect_left(self.offsets, index, 0, self.end)
        first = self.offsets[block - 1] if block > 0 else 0
        count = self.offsets[block] - first
        if count <= 0:
            return None
        return first + rng.randrange(count)

    def pick_many(self, size: int) -> np.ndarray:
        """``size`` picks at once (numpy ``Generator`` only); -1 marks a bad pick."""
        rng = self.rng
        assert isinstance(rng, np.random.Generator)
        if self._offsets_np is None:
            self._offsets_np = np.asarray(self.offsets[:self.end], dtype=np.int64)
        offsets = self._offsets_np
        x = np.exp(rng.gamma(self.shape, self.scale, size))
        compiled = _compiled_picks()
        if compiled is not None:  # the arithmetic below in one compiled call (same results)
            recent_s = rng.integers(0, RECENT_SPEND_WINDOW, size)
            return compiled(x, recent_s, rng.random(size), offsets, self.num_outputs,
                            self.average_output_time, float(DEFAULT_UNLOCK_TIME))
        recent = x <= DEFAULT_UNLOCK_TIME
        x = np.where(recent, rng.integers(0, RECENT_SPEND_WINDOW, size).astype(np.float64),
                     x - DEFAULT_UNLOCK_TIME)
        age = (x / self.average_output_time).astype(np.int64)
        ok = age < self.num_outputs
        index = self.num_outputs - 1 - np.where(ok, age, 0)
        block = np.searchsorted(offsets, index, side="left")
        first = np.where(block > 0, offsets[np.maximum(block - 1, 0)], 0)
        count = offsets[np.minimum(block, offsets.size - 1)] - first
        ok &= count > 0
        pick = first + (rng.random(size) * np.maximum(count, 1)).astype(np.int64)
        return np.where(ok, pick, -1)

    def ring(self, real: int, size: int,
             usable: Callable[[int], bool] | None = None) -> tuple[list[int], int]:
        """``real`` plus up to ``size - 1`` distinct decoys, sorted; returns (ring, real position).

        ``usable(index)`` can veto a candidate. When the chain holds fewer
        usable outputs than the ring needs, the ring is as large as it can be.
        """
        members = {real}
        want = min(size, self.num_outputs)
        budget = MAX_TRIES_PER_MEMBER * size
        tries = 0
        batched = isinstance(self.rng, np.random.Generator)
        while len(members) < want and tries < budget:
            picks = self.pick_many(4 * size).tolist() if batched else [self.pick()]
            for p in picks:
                tries += 1
                i = None if p is None or p < 0 else int(p)
                if i is None or i in members or (usable is not None and not usable(i)):
                    continue
                members.add(i)
                if len(members) >= want:
                    break
        ring = sorted(members)
        return ring, ring.index(real)


def output_at(index: int, offsets: Sequence[int], block_outputs: Callable[[int], Sequence[int]]) -> int:
    """The output id at global ``index``, given the blocks' output lists by height."""
    height = bisect_left(offsets, index + 1)
    first = offsets[height - 1] if height > 0 else 0
    return block_outputs(height)[index - first]


def global_index(output_id: int, height: int, offsets: Sequence[int],
                 block_outputs: Callable[[int], Sequence[int]]) -> int:
    """Global index on a chain of the output ``output_id`` created at ``height``."""
    first = offsets[height - 1] if height > 0 else 0
    return first + list(block_outputs(height)).index(output_id)
