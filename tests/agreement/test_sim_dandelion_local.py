"""Debian's monerod 0.18.0.0 fluffs a node's own transactions in a fluff epoch.

Its ``dandelionpp_notify`` (src/cryptonote_protocol/levin_notify.cpp, v0.18.0.0) checks only
``zone_->fluffing``: a wallet's transaction (``relay_method::local``) submitted during a fluff
epoch is fluffed by its own node. monerod commit a7bf3aff2 ("Fix dandelion++ fluff/stem bug
with local txes", Oct 2022) stems local transactions always, which the simulator models by
default; ``transactions.local_stem: false`` models the daemons the agreement suite runs.
"""

from __future__ import annotations

import random

from pytest_monerosim.config.model import Transactions
from pytest_monerosim.sim.tx.dandelion import LOCAL, DandelionRouter


def router(local_stem: bool) -> DandelionRouter:
    return DandelionRouter(random.Random(1), lambda name: ["a", "b", "c"], fluff_probability=1.0,
                           local_stem=local_stem)


def test_a_fluff_epoch_node_fluffs_its_own_tx_only_with_local_stem_off() -> None:
    assert router(True).next_hop("n", LOCAL, 10.0) in {"a", "b", "c"}
    assert router(False).next_hop("n", LOCAL, 10.0) is None  # old model: always a stem peer
    for local_stem in (True, False):
        assert router(local_stem).next_hop("n", "a", 10.0) is None  # a peer's stem tx: fluffed


def test_the_default_is_current_monerod() -> None:
    assert Transactions().local_stem is True
