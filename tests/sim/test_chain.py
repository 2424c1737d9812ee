"""Fork choice, reorg records and ancestry on hand-built trees."""

from __future__ import annotations

import pytest

from pytest_monerosim.sim.chain import Block, BlockTree, ChainView, common_ancestor
from pytest_monerosim.sim.difficulty import DifficultyParams


def tree() -> BlockTree:
    return BlockTree(100, DifficultyParams())


def child(parent: Block, miner: str, difficulty: int, t: float) -> Block:
    """A block with a chosen difficulty (what a different retarget history would give)."""
    return Block(f"{parent.height + 1}-{miner}", 0, parent.height + 1, parent, miner, t,
                 difficulty, parent.cum + difficulty, 0, 0, 100, (), parent.generated)


def test_extension_moves_the_tip_without_a_reorg() -> None:
    t = tree()
    view = ChainView("n", t.genesis)
    a = child(t.genesis, "a", 100, 1)
    change = view.add(a, 1.0)
    assert change is not None and change.reorg is None
    assert view.tip is a and view.height() == 1


def test_equal_weight_keeps_the_first_seen() -> None:
    t = tree()
    view = ChainView("n", t.genesis)
    a = child(t.genesis, "a", 100, 1)
    b = child(t.genesis, "b", 100, 2)
    view.add(a, 1.0)
    assert view.add(b, 2.0) is None  # alternative chain, kept
    assert view.tip is a and b in view
    assert not view.on_main_chain(b) and view.on_main_chain(a)


def test_heavier_chain_wins_even_when_shorter() -> None:
    t = tree()
    view = ChainView("n", t.genesis)
    a1 = child(t.genesis, "a", 100, 1)
    a2 = child(a1, "a", 100, 2)
    b1 = child(t.genesis, "b", 250, 3)  # one block, more work than two
    view.add(a1, 1.0)
    view.add(a2, 2.0)
    change = view.add(b1, 3.0)
    assert change is not None and change.reorg is not None
    r = change.reorg
    assert (r.node, r.depth, r.old_tip, r.new_tip, r.fork_height, r.time) == \
        ("n", 2, a2.id, b1.id, 0, 3.0)
    assert view.tip is b1 and view.height() == 1


def test_deep_reorg_depth_and_fork_height() -> None:
    t = tree()
    view = ChainView("n", t.genesis)
    base = t.genesis
    for i in range(3):
        base = child(base, "c", 100, i)
        view.add(base, float(i))
    fork = base
    a = fork
    for i in range(5):
        a = child(a, "a", 100, 10 + i)
        view.add(a, 10.0 + i)
    b = fork
    changes = []
    for i in range(6):
        b = child(b, "b", 100, 20 + i)
        changes.append(view.add(b, 20.0 + i))
    reorgs = [c.reorg for c in changes if c is not None and c.reorg is not None]
    assert len(reorgs) == 1
    assert reorgs[0].depth == 5 and reorgs[0].fork_height == 3
    assert view.tip is b and common_ancestor(a, b) is fork


def test_parent_must_be_known() -> None:
    t = tree()
    view = ChainView("n", t.genesis)
    a = child(t.genesis, "a", 100, 1)
    with pytest.raises(ValueError, match="parent"):
        view.add(child(a, "a", 100, 2), 2.0)


def test_tree_records_rewards_and_generated_coins() -> None:
    t = tree()
    b1 = t.new_block(t.genesis, "m", 120.0)
    b2 = t.new_block(b1, "m", 240.0)
    assert b1.reward == 35184338534400
    assert b2.generated == t.genesis.generated + b1.reward + b2.reward
    assert b2.chain() == [t.genesis, b1, b2]
    assert b2.ancestor(1) is b1
    assert t.get(b2.id) is b2
