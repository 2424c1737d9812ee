"""Double spends on a Monero network against the exact probability of success.

An attacker with a share q of the hashrate pays a merchant with a real
transaction, mines a private chain holding a conflicting spend of the same
output (same key image) and releases it once it is heavier than the public
chain after the merchant has seen z confirmations. Each test runs hundreds of
such trials one after another (independent: see
``pytest_monerosim/attacks/double_spend.py``) and compares the MEASURED
success rate with Rosenfeld's (2014) exact probability, written by Grunspan &
Pérez-Marco (2017) as I_{4pq}(z, 1/2).

Run: ``pytest scenarios/test_double_spend.py``.
"""

import pytest

from pytest_monerosim.analysis.stats import wilson_interval
from pytest_monerosim.analysis.theory import double_spend_exact

pytestmark = pytest.mark.monerosim("../fixtures/scenarios/double_spend.yaml")

TRIALS = 200
CONFIDENCE = 0.99


def rate(m):
    """Successes over trials, with the Wilson interval at CONFIDENCE."""
    assert m["trials"] == TRIALS, f"only {m['trials']} trials were judged before the run ended"
    return m["successes"] / m["trials"], wilson_interval(m["successes"], m["trials"], CONFIDENCE)


def check_theory(m, q, z):
    measured, ci = rate(m)
    exact = double_spend_exact(q, z)
    assert exact in ci, (
        f"q={q}, z={z}: {m['successes']}/{m['trials']} = {measured:.3f} succeeded, "
        f"{CONFIDENCE:.0%} interval [{ci.low:.3f}, {ci.high:.3f}]; exact probability {exact:.4f}")
    return measured


@pytest.mark.monerosim_attack("double_spend", trials=TRIALS)
@pytest.mark.monerosim_sweep(q=[0.1, 0.25, 0.35], z=[1, 2, 4])
def test_success_rate_matches_the_exact_probability(monero_network, monerosim_params):
    m = monero_network.attack("double_spend")
    assert m["tx_model"] == "ledger"
    check_theory(m, monerosim_params["q"], monerosim_params["z"])
    # the give-up cut-off costs less than 1e-4 of probability
    assert double_spend_exact(monerosim_params["q"], monerosim_params["z"]) - m["theory_with_cutoff"] < 1e-4
    # every success is a payment the merchant's chain no longer has
    reversed_payments = [t for t in monero_network.result.txs.values()
                         if "till" in t.recipients and t.status == "reversed"]
    assert len(reversed_payments) >= m["successes"]


@pytest.mark.monerosim_attack("double_spend", q=0.3, z=1, trials=TRIALS)
def test_success_falls_with_confirmations(monero_network, monerosim_run):
    rates = {1: check_theory(monero_network.attack("double_spend"), 0.3, 1)}
    for z in (3, 6):
        run = monerosim_run(**{"attacks.0.params.z": z})
        rates[z] = check_theory(run.attack("double_spend"), 0.3, z)
    assert rates[1] > rates[3] > rates[6], f"success by confirmations: {rates}"


@pytest.mark.monerosim_attack("double_spend", q=0.1, z=10, trials=TRIALS)
def test_ten_confirmations_against_ten_percent_are_safe(monero_network):
    m = monero_network.attack("double_spend")
    assert double_spend_exact(0.1, 10) < 1e-5
    assert m["successes"] == 0, f"{m['successes']} of {m['trials']} double spends succeeded"
    _, ci = rate(m)
    assert ci.high < 0.035  # 0 of 200: the 99% Wilson bound is 3.2%; theory says 8e-6
    # the merchant's payments all stand
    payments = [t for t in monero_network.result.txs.values() if "till" in t.recipients]
    assert payments and all(t.status != "reversed" for t in payments)
