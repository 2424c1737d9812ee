"""Block rewards against monerod's get_block_reward and known chain values."""

from __future__ import annotations

import pytest

from pytest_monerosim.sim.emission import (
    GENESIS_REWARD,
    MONEY_SUPPLY,
    TAIL_EMISSION_120S,
    BlockTooHeavy,
    base_reward,
    block_reward,
    emission_speed_factor,
    emission_target_s,
    median,
)


def test_constants_match_monerod() -> None:
    assert MONEY_SUPPLY == 18446744073709551615
    # mainnet GENESIS_TX's single output is the varint ffffffffffff03 = 2**44 - 1
    assert GENESIS_REWARD == 2**44 - 1 == 17592186044415
    assert emission_speed_factor(60) == 20
    assert emission_speed_factor(120) == 19
    assert TAIL_EMISSION_120S == 600_000_000_000


def test_mainnet_block_1_reward() -> None:
    # Block 1 was mined under v1 (60 s blocks): 17.592169267200 XMR.
    assert block_reward(0, 0, GENESIS_REWARD, target_s=60) == 17592169267200


def test_first_blocks_at_120s_as_in_regtest() -> None:
    # regtest runs v16 from height 1: the first coinbase is 35.1843385344 XMR
    r1 = block_reward(0, 0, GENESIS_REWARD)
    assert r1 == (2**64 - 2**44) >> 19 == 35184338534400
    r2 = block_reward(0, 0, GENESIS_REWARD + r1)
    assert r2 == (MONEY_SUPPLY - GENESIS_REWARD - r1) >> 19
    assert r2 < r1


def test_tail_emission_floor() -> None:
    nearly_all = MONEY_SUPPLY - (TAIL_EMISSION_120S << 19) + 1
    assert base_reward(nearly_all) == TAIL_EMISSION_120S
    assert base_reward(MONEY_SUPPLY) == TAIL_EMISSION_120S
    assert base_reward(MONEY_SUPPLY, target_s=60) == 300_000_000_000


def test_weight_penalty_above_the_median() -> None:
    base = base_reward(GENESIS_REWARD)
    zone = 300_000
    assert block_reward(0, zone, GENESIS_REWARD) == base  # at the zone: no penalty
    w = 450_000  # 1.5 x median: reward * (2M - W) * W / M^2 = 0.75
    assert block_reward(0, w, GENESIS_REWARD) == base * ((2 * zone - w) * w) // zone // zone
    assert block_reward(0, w, GENESIS_REWARD) == base * 3 // 4
    # a larger median moves the penalty out
    assert block_reward(500_000, w, GENESIS_REWARD) == base
    with pytest.raises(BlockTooHeavy):
        block_reward(0, 2 * zone + 1, GENESIS_REWARD)


def test_helpers() -> None:
    assert median([3, 1, 2]) == 2
    assert median([4, 1, 2, 3]) == 2  # (2 + 3) // 2, integer like epee's median
    assert median([]) == 0
    assert emission_target_s(120) == 120
    assert emission_target_s(10) == 120  # odd simulated targets keep today's curve
    with pytest.raises(ValueError):
        emission_speed_factor(90)
