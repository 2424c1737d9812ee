"""Per-block records kept compact: each block's per-node flags (received, accepted) and its
arrivals (node name → time, in the order of acceptance)."""

from __future__ import annotations

import math
import pickle

import pytest

from pytest_monerosim.sim.arrivals import Arrivals, NodeNames
from pytest_monerosim.sim.chain import BlockTree, ChainView
from pytest_monerosim.sim.difficulty import DifficultyParams


def test_arrivals_read_as_a_dict_in_the_order_of_acceptance() -> None:
    nodes = NodeNames()
    for name in ("a", "b", "c", "d"):
        nodes.add(name)
    arrivals = Arrivals(nodes)
    assert len(arrivals) == 0 and "a" not in arrivals and arrivals.get("a") is None
    arrivals.first(2, 5.0)
    arrivals.first(0, 7.5)
    arrivals.first(2, 9.0)  # (accepted already: the first time stays)
    want = {"c": 5.0, "a": 7.5}
    assert arrivals == want and list(arrivals) == ["c", "a"] and list(arrivals.items()) == list(want.items())
    assert arrivals["c"] == 5.0 and "b" not in arrivals and "zz" not in arrivals
    with pytest.raises(KeyError):
        arrivals["b"]
    with pytest.raises(KeyError):
        arrivals["zz"]
    assert repr(arrivals) == "Arrivals({'c': 5.0, 'a': 7.5})"
    nodes.add("e")  # a node that joins later
    arrivals.first(4, 11.0)
    assert list(arrivals.items())[-1] == ("e", 11.0) and len(arrivals) == 3
    assert pickle.loads(pickle.dumps(arrivals)) == {"c": 5.0, "a": 7.5, "e": 11.0}


def test_a_time_of_zero_or_below_is_an_arrival() -> None:
    nodes = NodeNames()
    nodes.add("a")
    nodes.add("b")
    arrivals = Arrivals(nodes)
    arrivals.first(1, 0.0)
    arrivals.first(0, -1.0)
    assert arrivals == {"b": 0.0, "a": -1.0} and not math.isnan(arrivals["b"])


def test_a_joining_node_gets_a_byte_in_every_block() -> None:
    tree = BlockTree(100, DifficultyParams())
    assert tree.add_node("a") == 0
    a = ChainView("a", tree.genesis, 0)
    b1 = tree.new_block(tree.genesis, "a", 120.0)
    assert a.add(b1, 120.0) is not None and b1 in a
    assert tree.add_node("b") == 1 and tree.add_node("c") == 2
    assert all(len(blk.seen_by) == len(blk.known_by) == 3 for blk in tree.blocks.values())
    c = ChainView("c", tree.genesis, 2)
    assert tree.genesis in c and b1 not in c  # a late node knows the genesis only
    with pytest.raises(ValueError, match="parent"):
        c.add(tree.new_block(b1, "a", 240.0), 240.0)
    assert c.add(b1, 250.0) is not None and b1 in c and b1 in a
    assert b1.known_by == bytearray([1, 0, 1]) and b1.seen_by == bytearray(3)
    b1.arrivals.first(2, 250.0)
    assert b1.arrivals == {"c": 250.0}
