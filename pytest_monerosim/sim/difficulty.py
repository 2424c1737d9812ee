"""Monero's difficulty retarget (``next_difficulty`` in ``src/cryptonote_basic/difficulty.cpp``).

How monerod uses it (``Blockchain::get_difficulty_for_next_block``): take the
timestamps and cumulative difficulties of the last ``DIFFICULTY_BLOCKS_COUNT``
= window + lag = 735 blocks, skipping the genesis block; ``next_difficulty``
then keeps only the *first* (oldest) 720 of them, which is how the lag of 15
recent blocks is left out. It sorts the timestamps (not the difficulties),
cuts 60 from each end when the window is full, and returns
``ceil(total_work * target / time_span)``.

Timestamps are whole seconds in block headers; this module floors them the
same way, so the result is integer arithmetic throughout, as in monerod.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

DIFFICULTY_TARGET = 120
DIFFICULTY_WINDOW = 720
DIFFICULTY_LAG = 15
DIFFICULTY_CUT = 60


@dataclass(frozen=True)
class DifficultyParams:
    target_s: float = DIFFICULTY_TARGET
    window: int = DIFFICULTY_WINDOW
    lag: int = DIFFICULTY_LAG
    cut: int = DIFFICULTY_CUT

    @property
    def blocks_count(self) -> int:
        """How many recent blocks the caller hands over (window + lag)."""
        return self.window + self.lag


def next_difficulty(
    timestamps: Sequence[float],
    cumulative_difficulties: Sequence[int],
    target_s: float = DIFFICULTY_TARGET,
    *,
    window: int = DIFFICULTY_WINDOW,
    cut: int = DIFFICULTY_CUT,
) -> int:
    """Difficulty of the next block from the chain's recent history, oldest first."""
    if len(timestamps) != len(cumulative_difficulties):
        raise ValueError(f"{len(timestamps)} timestamps but {len(cumulative_difficulties)} "
                         "cumulative difficulties")
    if 2 * cut > window - 2:
        raise ValueError(f"cut={cut} is too large for window={window}")
    ts = [int(t // 1) for t in timestamps[:window]]
    cum = cumulative_difficulties[:window]
    length = len(ts)
    if length <= 1:
        return 1
    ts.sort()
    kept = window - 2 * cut
    if length <= kept:
        begin, end = 0, length
    else:
        begin = (length - kept + 1) // 2
        end = begin + kept
    span = ts[end - 1] - ts[begin]
    if span <= 0:
        span = 1
    work = cum[end - 1] - cum[begin]
    if work <= 0:
        raise ValueError("cumulative difficulties must increase along the chain")
    target = Fraction(target_s)
    num = work * target.numerator
    den = span * target.denominator
    return (num + den - 1) // den
