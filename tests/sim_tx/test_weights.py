"""Tx weights as wallet2's estimate_tx_weight computes them (CLSAG, Bulletproofs+, view tags)."""

from __future__ import annotations

import pytest

from pytest_monerosim.sim.tx.weights import estimate_size, estimate_weight


def test_one_in_two_out_by_hand() -> None:
    # prefix 7, input 1+6+16*2+32, outputs 2*(6+32), extra 44, type 1,
    # BP+ (2*(6+1)+6)*32+3, CLSAG 32*16+64, view tags 2, pseudo-out 32,
    # ecdh 2*8, commitments 2*32, fee 4
    expected = 7 + 71 + 76 + 44 + 1 + 643 + 576 + 2 + 32 + 16 + 64 + 4
    assert estimate_size(1, 2) == expected == 1536
    assert estimate_weight(1, 2) == 1536


def test_two_in_two_out_is_the_familiar_2_2_kb() -> None:
    assert estimate_weight(2, 2) == 2215


def test_each_input_adds_a_ring() -> None:
    per_input = estimate_weight(3, 2) - estimate_weight(2, 2)
    assert per_input == (1 + 6 + 32 + 32) + (32 * 16 + 64) + 32


def test_more_than_two_outputs_pay_the_bulletproof_clawback() -> None:
    assert estimate_weight(1, 2) == estimate_size(1, 2)
    for n in (3, 4, 8, 16):
        assert estimate_weight(1, n) > estimate_size(1, n)
    # 4 outputs: padded to 4, clawback (320*4 - 32*(6+16)) * 4/5
    assert estimate_weight(1, 4) - estimate_size(1, 4) == (320 * 4 - 32 * 22) * 4 // 5


def test_ring_size_matters() -> None:
    assert estimate_weight(1, 2, ring_size=11) < estimate_weight(1, 2, ring_size=16)


def test_bad_shapes() -> None:
    with pytest.raises(ValueError):
        estimate_weight(0, 2)
