"""Monero's block reward, as ``get_block_reward`` computes it.

Facts from ``src/cryptonote_config.h`` and
``src/cryptonote_basic/cryptonote_basic_impl.cpp`` (monero-project/monero):

* ``MONEY_SUPPLY = (uint64_t)(-1)`` = 2**64 - 1 atomic units.
* ``emission_speed_factor = EMISSION_SPEED_FACTOR_PER_MINUTE (20) - (target_minutes - 1)``:
  20 for the 60 s blocks of hard-fork v1, 19 for today's 120 s blocks.
* ``base_reward = (MONEY_SUPPLY - already_generated_coins) >> emission_speed_factor``,
  floored at ``FINAL_SUBSIDY_PER_MINUTE (3e11) * target_minutes``: the 0.6 XMR
  tail emission for 120 s blocks.
* The genesis coinbase counts toward ``already_generated_coins``. Mainnet's
  genesis transaction (``config::GENESIS_TX``, also used by regtest) pays one
  output of varint ``ffffffffffff03`` = 2**44 - 1 = 17592186044415 atomic units.
* Penalty: with ``M = max(median_weight, full_reward_zone)`` and block weight
  ``W``, a block with ``W <= M`` earns the base reward, ``W > 2M`` is invalid,
  otherwise ``reward = base * ((2M - W) * W) / M / M`` with two truncating
  integer divisions (``div128_64`` twice). The full-reward zone is 300000
  bytes from v5 on (``CRYPTONOTE_BLOCK_GRANTED_FULL_REWARD_ZONE_V5``).

Fees are paid on top of this amount and are not part of it.
"""

from __future__ import annotations

MONEY_SUPPLY = 2**64 - 1
EMISSION_SPEED_FACTOR_PER_MINUTE = 20
FINAL_SUBSIDY_PER_MINUTE = 300_000_000_000
TAIL_EMISSION_120S = 600_000_000_000
GENESIS_REWARD = 17_592_186_044_415
"""Mainnet (and regtest) genesis coinbase: 2**44 - 1."""

FULL_REWARD_ZONE_V1 = 20_000
FULL_REWARD_ZONE_V2 = 60_000
FULL_REWARD_ZONE_V5 = 300_000
REWARD_BLOCKS_WINDOW = 100
"""Blocks whose median weight sets the penalty (``CRYPTONOTE_REWARD_BLOCKS_WINDOW``)."""


class BlockTooHeavy(ValueError):
    """A block weighs more than twice the median: monerod rejects it."""


def emission_target_s(block_target_s: float) -> int:
    """The target the emission formula uses for a simulated block target.

    Monero insists on a whole number of minutes (a ``static_assert``). A
    simulation with an odd target (say 10 s blocks for a fast test) keeps
    today's 120 s emission curve, so rewards stay those of the real chain.
    """
    if block_target_s >= 60 and float(block_target_s).is_integer() and block_target_s % 60 == 0:
        return int(block_target_s)
    return 120


def emission_speed_factor(target_s: int = 120) -> int:
    if target_s <= 0 or target_s % 60:
        raise ValueError(f"target_s={target_s} must be a positive multiple of 60")
    return EMISSION_SPEED_FACTOR_PER_MINUTE - (target_s // 60 - 1)


def base_reward(already_generated: int, target_s: int = 120) -> int:
    """Reward before any weight penalty, tail emission included."""
    if not 0 <= already_generated <= MONEY_SUPPLY:
        raise ValueError(f"already_generated={already_generated} is outside 0..2**64-1")
    reward = (MONEY_SUPPLY - already_generated) >> emission_speed_factor(target_s)
    tail = FINAL_SUBSIDY_PER_MINUTE * (target_s // 60)
    return reward if reward >= tail else tail


def block_reward(
    median_weight: int,
    block_weight: int,
    already_generated: int,
    *,
    target_s: int = 120,
    full_reward_zone: int = FULL_REWARD_ZONE_V5,
) -> int:
    """The coinbase amount (without fees) for a block of ``block_weight`` bytes."""
    base = base_reward(already_generated, target_s)
    median = median_weight if median_weight >= full_reward_zone else full_reward_zone
    if block_weight <= median:
        return base
    if block_weight > 2 * median:
        raise BlockTooHeavy(
            f"block weight {block_weight} exceeds twice the median {median}; monerod rejects it"
        )
    return base * ((2 * median - block_weight) * block_weight) // median // median


def median(values: list[int]) -> int:
    """Monero's ``epee::misc_utils::median``: mean of the middle two for even counts."""
    if not values:
        return 0
    data = sorted(values)
    n = len(data)
    mid = n // 2
    return data[mid] if n % 2 else (data[mid - 1] + data[mid]) // 2
