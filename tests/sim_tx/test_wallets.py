"""Wallet strategies: parameters, amounts, and the scenario-level checks run before a run."""

from __future__ import annotations

import random
from typing import Any

import pytest
from pydantic import ValidationError

from pytest_monerosim.agents.wallets import (
    AmountDist,
    DistributorParams,
    TransactionBotParams,
    parse_amount,
)
from pytest_monerosim.config.errors import ScenarioError
from pytest_monerosim.config.model import Scenario
from pytest_monerosim.config.wallets import coinbase_wallet, validate_wallets
from pytest_monerosim.registry import Registry

XMR = 10**12


def test_amounts_in_atomic_units_or_xmr() -> None:
    assert parse_amount(1500) == 1500
    assert parse_amount("0.5 XMR") == XMR // 2
    assert parse_amount("2xmr") == 2 * XMR
    assert parse_amount("1500000 atomic") == 1_500_000
    assert parse_amount(0.25, "xmr") == XMR // 4
    for bad in ("-1 XMR", -5, "five", True, "0.5"):
        with pytest.raises(ValueError):
            parse_amount(bad)


def test_amount_distributions() -> None:
    rng = random.Random(1)
    assert AmountDist.model_validate("0.1 XMR").sample(rng) == XMR // 10
    uni = AmountDist.model_validate({"dist": "uniform", "min": "1 XMR", "max": "2 XMR"})
    draws = [uni.sample(rng) for _ in range(1000)]
    assert XMR <= min(draws) and max(draws) <= 2 * XMR
    logn = AmountDist.model_validate({"dist": "lognormal", "median": 0.5, "sigma": 0.3, "unit": "xmr"})
    draws = sorted(logn.sample(rng) for _ in range(2001))
    assert draws[1000] == pytest.approx(XMR // 2, rel=0.05)


@pytest.mark.parametrize(("raw", "field"), [
    ({"amount": "-1 XMR"}, "negative"),
    ({"amount": {"dist": "uniform", "min": "2 XMR", "max": "1 XMR"}}, "above max"),
    ({"amount": {"dist": "uniform", "min": 1}}, "max is missing"),
    ({"amount": 0}, "positive"),
    ({"recipients": []}, "empty list"),
    ({"interval_s": 0}, "greater than 0"),
    ({"start_time": 100, "stop_time": 50}, "not after start_time"),
    ({"colour": "red"}, "Extra inputs"),
])
def test_bot_params_reject_bad_input(raw: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        TransactionBotParams.model_validate(raw)


def test_distributor_params() -> None:
    p = DistributorParams.model_validate({"initial_fund_amount": "3 XMR", "min_transaction_amount": 5,
                                          "max_transaction_amount": "1 XMR"})
    assert p.initial_fund_amount == 3 * XMR and p.min_transaction_amount == 5
    with pytest.raises(ValidationError, match="above"):
        DistributorParams.model_validate({"min_transaction_amount": "2 XMR",
                                          "max_transaction_amount": "1 XMR"})
    with pytest.raises(ValidationError, match="negative"):
        DistributorParams.model_validate({"initial_fund_amount": "-3 XMR"})


def scenario(wallets: list[dict[str, Any]], *, miners: int = 2) -> Scenario:
    nodes: list[dict[str, Any]] = [{"group": "users", "count": 2, "role": "user"},
                                   {"group": "relay", "role": "relay"}]
    if miners:
        nodes.insert(0, {"group": "miners", "count": miners, "role": "miner", "hashrate": 1})
    return Scenario.model_validate({"nodes": nodes, "wallets": wallets})


MINING = {"name": "mining", "node_group": "miners", "strategy": "mining_wallet"}
BOTS = {"name": "bot", "node_group": "users", "strategy": {"name": "transaction_bot"}}
DIST = {"name": "dist", "nodes": ["relay"], "strategy": "distributor"}


def test_a_complete_setup_validates(registry: Registry) -> None:
    params = validate_wallets(scenario([MINING, BOTS, DIST]), registry)
    assert set(params) == {"mining", "bot", "dist"}


def test_unknown_recipient_names_the_field(registry: Registry) -> None:
    bots = {"name": "bot", "node_group": "users",
            "strategy": {"name": "transaction_bot", "recipients": ["bob"]}}
    with pytest.raises(ScenarioError, match=r"wallets\[1\]\.strategy: params\.recipients: unknown "
                                            r"wallet or wallet group 'bob'"):
        validate_wallets(scenario([MINING, bots, DIST]), registry)


def test_recipients_by_group_or_name(registry: Registry) -> None:
    bots = {"name": "bot", "node_group": "users",
            "strategy": {"name": "transaction_bot", "recipients": ["mining", "bot-1"]}}
    validate_wallets(scenario([MINING, bots, DIST]), registry)


def test_unfundable_bot_without_miner_or_distributor(registry: Registry) -> None:
    with pytest.raises(ScenarioError, match=r"wallets\[0\]\.strategy: transaction_bot wallet 'bot-0' "
                                            r"\(on users-0\) can never be funded"):
        validate_wallets(scenario([BOTS], miners=0), registry)


def test_unfundable_bot_with_miners_but_no_distributor(registry: Registry) -> None:
    with pytest.raises(ScenarioError, match="can never be funded"):
        validate_wallets(scenario([MINING, BOTS]), registry)


def test_bots_on_miners_fund_themselves(registry: Registry) -> None:
    bots = {"name": "bot", "node_group": "miners", "strategy": {"name": "transaction_bot"}}
    validate_wallets(scenario([bots]), registry)


def test_distributor_needs_a_source(registry: Registry) -> None:
    with pytest.raises(ScenarioError, match="no wallet has strategy mining_wallet"):
        validate_wallets(scenario([BOTS, DIST], miners=2), registry)


def test_mining_wallet_on_a_relay_is_an_error(registry: Registry) -> None:
    bad = {"name": "m", "nodes": ["relay"], "strategy": "mining_wallet"}
    with pytest.raises(ScenarioError, match=r"wallets\[0\]\.strategy: mining_wallet 'm' is placed on relay"):
        validate_wallets(scenario([bad]), registry)


def test_bad_params_name_the_field(registry: Registry) -> None:
    bots = {"name": "bot", "node_group": "users",
            "strategy": {"name": "transaction_bot", "amount": "-0.1 XMR"}}
    with pytest.raises(ScenarioError, match=r"wallets\[1\]\.strategy\.amount: .*negative"):
        validate_wallets(scenario([MINING, bots, DIST]), registry)


def test_unknown_strategy(registry: Registry) -> None:
    bad = {"name": "x", "nodes": ["relay"], "strategy": "spender"}
    with pytest.raises(ScenarioError, match=r"wallets\[0\]\.strategy\.name: unknown wallet strategy"):
        validate_wallets(scenario([bad]), registry)


def test_coinbase_goes_to_the_mining_wallet_first(registry: Registry) -> None:
    from pytest_monerosim.config.wallets import WalletInfo

    roster = [WalletInfo("d", "d", "m0", "miner", "distributor"),
              WalletInfo("w", "w", "m0", "miner", "mining_wallet"),
              WalletInfo("h", "h", "m1", "miner", "hodler")]
    assert coinbase_wallet(roster, "m0") == "w"
    assert coinbase_wallet(roster, "m1") == "h"
    assert coinbase_wallet(roster, "m2") is None
