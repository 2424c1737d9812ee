"""The retarget on hand-made windows, and the tree's window bookkeeping."""

from __future__ import annotations

import pytest

from pytest_monerosim.sim.chain import BlockTree
from pytest_monerosim.sim.difficulty import DifficultyParams, next_difficulty


def window(n: int, spacing: float, diff: int) -> tuple[list[float], list[int]]:
    ts = [i * spacing for i in range(n)]
    cum = [diff * (i + 1) for i in range(n)]
    return ts, cum


def test_steady_chain_keeps_its_difficulty() -> None:
    ts, cum = window(735, 120, 1000)
    assert next_difficulty(ts, cum, 120) == 1000


def test_faster_blocks_raise_difficulty_in_proportion() -> None:
    ts, cum = window(735, 60, 1000)
    assert next_difficulty(ts, cum, 120) == 2000


def test_short_windows() -> None:
    assert next_difficulty([], [], 120) == 1
    assert next_difficulty([5], [10], 120) == 1
    # two blocks, 60 s apart, work 10 between them: ceil(10 * 120 / 60)
    assert next_difficulty([0, 60], [5, 15], 120) == 20
    # equal timestamps: span counts as 1
    assert next_difficulty([7, 7], [5, 15], 120) == 1200


def test_rounds_up() -> None:
    # work 10, span 7: 10 * 120 / 7 = 171.43 -> 172
    assert next_difficulty([0, 7], [0, 10], 120) == 172


def test_cut_drops_outliers_after_sorting_timestamps() -> None:
    ts, cum = window(720, 120, 1000)
    # Wild timestamps on 60 blocks at each end are cut away after sorting...
    for i in range(60):
        ts[i] = -10**9 - i
        ts[-1 - i] = 10**9 + i
    # ...and the 600 kept span 599 intervals of 120 s over the work of the
    # positions 60..659 (cumulative difficulties are taken by position, unsorted).
    assert next_difficulty(ts, cum, 120) == 1000


def test_only_the_oldest_window_entries_count() -> None:
    # 735 entries: the last 15 (the lag) are ignored even if absurd.
    ts, cum = window(735, 120, 1000)
    for i in range(720, 735):
        ts[i] = ts[719] + 1  # 15 blocks in 15 seconds
        cum[i] = cum[i - 1] + 10**12
    assert next_difficulty(ts, cum, 120) == 1000


def test_cut_begin_for_partial_windows() -> None:
    # length 700 > 600: cut_begin = (700 - 600 + 1) // 2 = 50, keep 600
    ts = [float(i) for i in range(700)]
    cum = [i * 3 for i in range(700)]
    # span = ts[649] - ts[50] = 599, work = 3 * 599 -> 3 * 120
    assert next_difficulty(ts, cum, 120) == 360


def test_bad_input() -> None:
    with pytest.raises(ValueError):
        next_difficulty([1, 2], [1], 120)
    with pytest.raises(ValueError):
        next_difficulty([0, 10], [5, 5], 120)


def test_tree_starts_in_equilibrium_and_caches_per_parent() -> None:
    tree = BlockTree(120_000_000, DifficultyParams())
    assert tree.next_difficulty(tree.genesis) == 120_000_000
    b = tree.genesis
    for _ in range(30):  # on-target blocks keep D0
        b = tree.new_block(b, "m", b.found_at + 120)
        assert b.difficulty == 120_000_000
    assert b._next_difficulty is None
    d = tree.next_difficulty(b)
    assert b._next_difficulty == d == 120_000_000


def test_tree_retargets_to_a_hashrate_step() -> None:
    tree = BlockTree(120_000, DifficultyParams())
    b = tree.genesis
    hashrate = 1000.0
    for i in range(2000):
        if i == 200:
            hashrate = 2000.0
        b = tree.new_block(b, "m", b.found_at + tree.next_difficulty(b) / hashrate)
    assert tree.next_difficulty(b) == pytest.approx(240_000, rel=0.001)
    assert b.cum == sum(x.difficulty for x in b.chain())
