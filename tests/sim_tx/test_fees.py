"""Fees against the values in Monero's own tests (tests/unit_tests/scaling_2021.cpp)."""

from __future__ import annotations

import pytest

from pytest_monerosim.sim.tx import fees


@pytest.mark.parametrize(("reward", "median", "per_byte"), [
    (1_200_000_000_000, 300_000, 38_000),
    (1_200_000_000_000, 1_425_000, 1_684),
    (1_200_000_000_000, 1_500_000, 1_520),
    (600_000_000_000, 300_000, 19_000),
    (600_000_000_000, 1_425_000, 842),
    (600_000_000_000, 1_500_000, 760),
])
def test_relay_fee_cases_from_monero(reward: int, median: int, per_byte: int) -> None:
    assert fees.relay_fee_per_byte(reward, median) == per_byte


@pytest.mark.parametrize(("mnw", "mlw", "tiers"), [
    (300_000, 300_000, (20_000, 80_000, 320_000, 4_000_000)),
    (15_000_000, 300_000, (20_000, 80_000, 320_000, 1_300_000)),
    (1_425_000, 1_425_000, (890, 3_600, 68_000, 850_000)),
    (1_500_000, 1_500_000, (800, 3_200, 64_000, 800_000)),
    (75_000_000, 1_500_000, (800, 3_200, 64_000, 260_000)),
])
def test_wallet_fee_tiers_from_monero(mnw: int, mlw: int, tiers: tuple[int, ...]) -> None:
    assert fees.wallet_fee_tiers(600_000_000_000, mnw, mlw) == tiers


XMR = 10**12


@pytest.mark.parametrize(("amount", "digits", "expected"), [
    (27810 * XMR, 3, 27900 * XMR),
    (3794 * XMR // 100, 3, 38 * XMR),
    (5555 * XMR // 10_000, 3, 556 * XMR // 1000),
    (2342 * XMR // 1_000_000, 2, 24 * XMR // 10_000),
    (0, 8, 0),
    (12345 * XMR, 8, 12345 * XMR),
    (45678 * XMR, 1, 50000 * XMR),
    (1999999 * XMR // 10**6, 6, 2 * XMR),
    (1999999 * XMR // 10**6, 7, 1999999 * XMR // 10**6),
    (2000001 * XMR // 10**6, 2, 21 * XMR // 10),
    (999 * XMR, 2, 1000 * XMR),
])
def test_round_money_up_cases_from_monero(amount: int, digits: int, expected: int) -> None:
    assert fees.round_money_up(amount, digits) == expected


def test_round_money_up_rejects_zero_digits() -> None:
    with pytest.raises(ValueError):
        fees.round_money_up(123, 0)


def test_fee_is_weight_times_per_byte_quantized_up() -> None:
    assert fees.fee_for_weight(1536, 20_000) == 30_720_000
    assert fees.fee_for_weight(1537, 19_999) == 30_740_000  # 30,738,463 rounded up to 10**4
    assert fees.quantize_fee(10_001) == 20_000


def test_priorities_map_like_wallet2() -> None:
    # 0 (default) is treated as 1 (unimportant); 4 and above are "priority"
    assert [fees.priority_index(p) for p in (0, 1, 2, 3, 4, 9)] == [0, 0, 1, 2, 3, 3]
    low = fees.wallet_fee_per_byte(1, 600_000_000_000)
    assert [fees.wallet_fee_per_byte(p, 600_000_000_000) // low for p in (1, 2, 3, 4)] == [1, 4, 16, 200]
    with pytest.raises(ValueError):
        fees.priority_index(-1)


def test_base_fee_follows_reward_and_median() -> None:
    # the dynamic fee falls as the median grows and rises with the block reward
    assert fees.relay_fee_per_byte(600_000_000_000, 600_000) < fees.relay_fee_per_byte(600_000_000_000, 300_000)
    assert fees.relay_fee_per_byte(35 * XMR, 300_000) > fees.relay_fee_per_byte(XMR, 300_000)
    # the median never counts below the 300 kB full-reward zone
    assert fees.relay_fee_per_byte(XMR, 1) == fees.relay_fee_per_byte(XMR, 300_000)


def test_check_fee_allows_two_percent_slack() -> None:
    need = fees.minimum_fee(1536, 600_000_000_000, 300_000)
    assert fees.fee_acceptable(need, 1536, 600_000_000_000, 300_000)
    assert fees.fee_acceptable(need - need // 50, 1536, 600_000_000_000, 300_000)
    assert not fees.fee_acceptable(need - need // 50 - 1, 1536, 600_000_000_000, 300_000)
    # what a wallet pays at the lowest priority always passes the relay rule
    paid = fees.fee_for_weight(1536, fees.wallet_fee_per_byte(1, 600_000_000_000))
    assert fees.fee_acceptable(paid, 1536, 600_000_000_000, 300_000)


def test_block_template_limit() -> None:
    assert fees.max_block_weight(0) == 2 * 300_000 - 600
    assert fees.max_block_weight(1_000_000) == 2_000_000 - 600
