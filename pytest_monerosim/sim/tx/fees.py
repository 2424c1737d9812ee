"""Monero's transaction fees: the relay minimum and the wallet's priority tiers.

Facts read from monero-project/monero (written here from the formulas, not copied):

* ``cryptonote_config.h``: ``DYNAMIC_FEE_REFERENCE_TRANSACTION_WEIGHT = 3000``,
  ``CRYPTONOTE_BLOCK_GRANTED_FULL_REWARD_ZONE_V5 = 300000`` (the floor of every
  median), ``PER_KB_FEE_QUANTIZATION_DECIMALS = 8`` (fees are rounded *up* to a
  multiple of 10**(12-8) = 10000 atomic units),
  ``CRYPTONOTE_SCALING_2021_FEE_ROUNDING_PLACES = 2``.
* ``Blockchain::get_dynamic_base_fee`` (the node's relay minimum per byte):
  ``0.95 * reward * 3000 / median**2`` with integer divisions, at least 1.
  ``Blockchain::check_fee`` accepts ``fee >= needed - needed/50`` (2 % slack),
  where ``needed`` is ``weight * per_byte`` quantized up.
* ``Blockchain::get_dynamic_base_fee_estimate_2021_scaling`` (what wallets pay,
  per byte, one value per priority):
  ``Fl = reward*3000/Mfw**2``, ``Fn = 4*Fl``, ``Fm = 16*reward*3000/(300000*Mfw)``,
  ``Fh = max(4*Fm, 4*Fm*Mfw/(32*3000*Mnw/300000))`` with ``Mfw = min(Mnw, Mlw)``,
  each rounded up to 2 significant digits (``round_money_up``).
* ``wallet2::get_base_fee(priority)``: priority 0 (default) is treated as 1;
  priorities 1..4 (unimportant, normal, elevated, priority) pick tier 0..3.
  Before the 2021 scaling the wallet multiplied one base fee by
  ``{1, 5, 25, 1000}`` (:data:`LEGACY_MULTIPLIERS`); with it the tiers above are
  the multipliers (``1, 4, 16, >=16``, relative to ``Fl``).

The known values of ``tests/unit_tests/scaling_2021.cpp`` are the unit tests here.
"""

from __future__ import annotations

REFERENCE_TX_WEIGHT = 3_000
FULL_REWARD_ZONE = 300_000
FEE_QUANTIZATION_MASK = 10**4
"""10**(CRYPTONOTE_DISPLAY_DECIMAL_POINT - PER_KB_FEE_QUANTIZATION_DECIMALS) = 10**(12-8)."""
SCALING_2021_ROUNDING_DIGITS = 2
COINBASE_BLOB_RESERVED_SIZE = 600
LEGACY_MULTIPLIERS = (1, 5, 25, 1000)
"""wallet2's pre-2021 priority multipliers (fee algorithm 3)."""
PRIORITY_NAMES = ("default", "unimportant", "normal", "elevated", "priority")


def round_money_up(amount: int, significant_digits: int) -> int:
    """Round ``amount`` up to ``significant_digits`` significant decimal digits."""
    if significant_digits <= 0:
        raise ValueError("significant_digits must be > 0")
    if amount < 0:
        raise ValueError(f"amount {amount} is negative")
    digits = len(str(amount))
    if digits <= significant_digits:
        return amount
    unit = 10 ** (digits - significant_digits)
    return -(-amount // unit) * unit


def quantize_fee(fee: int, mask: int = FEE_QUANTIZATION_MASK) -> int:
    """Round a fee up to a multiple of the quantization mask."""
    return -(-fee // mask) * mask


def relay_fee_per_byte(base_reward: int, median_weight: int) -> int:
    """The node's minimum fee per byte (``get_dynamic_base_fee``)."""
    median = max(median_weight, FULL_REWARD_ZONE)
    per_byte = base_reward * REFERENCE_TX_WEIGHT // median // median
    per_byte -= per_byte // 20
    return per_byte if per_byte > 0 else 1


def minimum_fee(weight: int, base_reward: int, median_weight: int) -> int:
    """The fee a node requires for a tx of ``weight`` bytes (before the 2 % slack)."""
    return quantize_fee(weight * relay_fee_per_byte(base_reward, median_weight))


def fee_acceptable(fee: int, weight: int, base_reward: int, median_weight: int) -> bool:
    """``check_fee``: a fee within 2 % of the minimum passes."""
    needed = minimum_fee(weight, base_reward, median_weight)
    return fee >= needed - needed // 50


def wallet_fee_tiers(base_reward: int, short_median: int, long_median: int) -> tuple[int, int, int, int]:
    """Per-byte fees for priorities 1..4 under the 2021 scaling (``Mnw``, ``Mlw``)."""
    mnw = max(short_median, FULL_REWARD_ZONE)
    mlw = max(long_median, FULL_REWARD_ZONE)
    mfw = min(mnw, mlw)
    low = base_reward * REFERENCE_TX_WEIGHT // (mfw * mfw)
    normal = 4 * base_reward * REFERENCE_TX_WEIGHT // (mfw * mfw)
    elevated = 16 * base_reward * REFERENCE_TX_WEIGHT // (FULL_REWARD_ZONE * mfw)
    scale = 32 * REFERENCE_TX_WEIGHT * mnw // FULL_REWARD_ZONE
    high = max(4 * elevated, 4 * elevated * mfw // scale)
    r = SCALING_2021_ROUNDING_DIGITS
    return (
        round_money_up(low, r),
        round_money_up(normal, r),
        round_money_up(elevated, r),
        round_money_up(high, r),
    )


def priority_index(priority: int) -> int:
    """Map a wallet priority (0..4, larger clamps to 4) to a tier index 0..3."""
    if priority < 0:
        raise ValueError(f"priority {priority} is negative; accepted 0..4")
    p = min(priority, 4)
    return max(p, 1) - 1


def wallet_fee_per_byte(priority: int, base_reward: int, median_weight: int = FULL_REWARD_ZONE) -> int:
    """What a wallet pays per byte at ``priority`` (short and long medians equal)."""
    return wallet_fee_tiers(base_reward, median_weight, median_weight)[priority_index(priority)]


def fee_for_weight(weight: int, per_byte: int) -> int:
    """``calculate_fee_from_weight``: ``weight * per_byte`` quantized up."""
    return quantize_fee(weight * per_byte)


def max_block_weight(median_weight: int) -> int:
    """What a block template may hold (``2 * median - coinbase reserve``)."""
    return 2 * max(median_weight, FULL_REWARD_ZONE) - COINBASE_BLOB_RESERVED_SIZE
