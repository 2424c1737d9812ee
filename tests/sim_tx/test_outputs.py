"""Unlock rules and the ledger: outputs, key images, chain views."""

from __future__ import annotations

from pytest_monerosim.sim.tx.ledger import ChainIndex, Ledger
from pytest_monerosim.sim.tx.outputs import Tx, blocks_to_unlock, confirmations, is_unlocked


def test_coinbase_unlocks_after_60_blocks() -> None:
    # mined at height 100: monero-wallet-rpc shows blocks_to_unlock 59 right away
    assert blocks_to_unlock(100, 100, coinbase=True) == 59
    assert not is_unlocked(100, 158, coinbase=True)
    assert is_unlocked(100, 159, coinbase=True)
    assert confirmations(100, 159) == 60


def test_ordinary_outputs_unlock_after_10_blocks() -> None:
    assert blocks_to_unlock(100, 100, coinbase=False) == 9
    assert not is_unlocked(100, 108, coinbase=False)
    assert is_unlocked(100, 109, coinbase=False)


def test_not_yet_mined_has_no_confirmations() -> None:
    assert confirmations(10, 5) == 0
    assert blocks_to_unlock(10, 5, coinbase=False) == 10


def _tx(ledger: Ledger, tid: str, spends: tuple[int, ...], owner: str, amount: int) -> Tx:
    out = ledger.new_output(amount, owner, tx=tid)
    tx = Tx(tid, len(ledger.by_serial), "a", "n", spends, (spends,), (0,) * len(spends), (out.id,),
            1000, 1536, 0.0, {owner: amount})
    ledger.add_tx(tx)
    return tx


def _chain(ledger: Ledger) -> ChainIndex:
    g = ledger.new_output(5, None, block="g")
    ledger.add_block("g", None, 0, [g.id], [])
    return ChainIndex("g", ledger.block_cum["g"])


def test_key_images_and_conflicts() -> None:
    ledger = Ledger()
    chain = _chain(ledger)
    cb = ledger.new_output(100, "a", block="b1")
    ledger.add_block("b1", "g", 1, [cb.id], [])
    chain.switch(0, ["b1"], ledger)
    t1 = _tx(ledger, "t1", (cb.id,), "b", 90)
    t2 = _tx(ledger, "t2", (cb.id,), "c", 90)
    assert ledger.conflicts(t1) == {"t2"}
    assert ledger.spent_on(cb.id, chain) is None
    ledger.add_block("b2", "b1", 2, [ledger.new_output(1, None, block="b2").id], ["t1"])
    chain.switch(1, ["b2"], ledger)
    assert ledger.spent_on(cb.id, chain) == "t1"
    assert ledger.tx_height("t1", chain) == 2
    # t2 spends a key image already spent on this chain
    assert not ledger.valid_on(t2, chain, 3)
    # a reorg away from b2 frees it again
    detached = chain.switch(1, [], ledger)
    assert detached == ["b2"]
    assert ledger.spent_on(cb.id, chain) is None
    assert ledger.valid_on(t2, chain, 2) is False  # coinbase at height 1 is still locked at 2


def test_block_effects_by_owner() -> None:
    ledger = Ledger()
    _chain(ledger)
    cb = ledger.new_output(100, "a", block="b1")
    ledger.add_block("b1", "g", 1, [cb.id], [])
    t1 = _tx(ledger, "t1", (cb.id,), "b", 90)
    ledger.add_block("b2", "b1", 2, [], ["t1"])
    eff = ledger.block_by_owner["b2"]
    assert eff["b"][0] == list(t1.outputs)  # b receives the output
    assert eff["a"][1] == [cb.id]  # a's key image is spent
    assert ledger.block_cum["b2"] == ledger.block_cum["b1"] + 1
