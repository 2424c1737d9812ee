"""Sybil attacks: attacker identities take connection slots and spy on transaction relay.

The sybil attack adds identities that join like ordinary nodes and advertise
only each other; honest nodes' new connections then land on them. Spies log
when, and from which peer, they first get every transaction; the first-spy
estimator guesses that peer is the transaction's origin. Dandelion++ (Monero's
relay since v0.13) sends a transaction along a random stem before anyone
broadcasts it, which is meant to defeat exactly this estimator (Fanti et al.,
SIGMETRICS 2018).

Run: ``pytest scenarios/test_sybil.py``; the tables show ``sybil.out_share``
(share of honest nodes' outgoing connections held by sybils) and
``sybil.precision`` of the first-spy estimator.
"""

import pytest

from pytest_monerosim.analysis.stats import wilson_interval

pytestmark = pytest.mark.monerosim("../fixtures/scenarios/sybil.yaml")

# Connection-share tests need no transactions: drop the wallets (no tx layer, fast runs).
NO_TXS = pytest.mark.monerosim(wallets=[])


@NO_TXS
@pytest.mark.monerosim_attack("sybil")
@pytest.mark.monerosim_sweep(identities=[2, 4, 8, 16, 32])
def test_sybil_share_of_connections_by_identities(monero_network, monerosim_params):
    m = monero_network.attack("sybil")
    n = monerosim_params["identities"]
    assert 0 < m["out_share"] < 1
    # Each honest node takes at most one peer per /16 while it has other candidates:
    # n identities in n /16s cannot hold more than n of anyone's 12 outgoing slots.
    assert m["out_share"] <= min(1.0, n / 12)


@NO_TXS
def test_sybil_share_grows_with_identities(monerosim_run):
    shares = [
        monerosim_run(attacks=[{"name": "sybil", "params": {"identities": n}}]).attack("sybil")["out_share"]
        for n in (2, 8, 32)
    ]
    assert shares == sorted(shares) and shares[-1] > 3 * shares[0], f"shares by identities: {shares}"


@NO_TXS
@pytest.mark.monerosim_attack("sybil", identities=16, subnets=1)
@pytest.mark.monerosim_attack("sybil", identities=16, subnets=16)
def test_identities_in_one_subnet_get_few_outgoing_slots(monero_network, monerosim_attack):
    """monerod avoids two outgoing peers in one /16: cheap sybils in one /16 gain little."""
    m = monero_network.attack("sybil")
    if monerosim_attack.params["subnets"] == 1:
        assert m["out_share"] <= 2 / 12
    else:
        assert m["out_share"] >= 0.3


@pytest.mark.monerosim_attack("sybil", identities=4)
def test_dandelion_sharply_cuts_first_spy_precision(monerosim_run, monerosim_attack):
    diffusion = monerosim_run(relay="diffusion").attack("sybil")
    dandelion = monerosim_run(relay="dandelion").attack("sybil")
    assert diffusion["txs"] > 300 and dandelion["txs"] > 300
    hi = wilson_interval(round(diffusion["precision"] * diffusion["guessed"]), diffusion["guessed"])
    lo = wilson_interval(round(dandelion["precision"] * dandelion["guessed"]), dandelion["guessed"])
    assert lo.high < hi.low, f"diffusion {hi}, dandelion {lo}"
    assert dandelion["precision"] < 0.6 * diffusion["precision"]
    # Under Dandelion++ the spies learn of a tx on a stem only when one of them is the stem
    # peer; their precision is then about the share of connections they hold.
    assert dandelion["precision"] < dandelion["out_share"] + 0.15
