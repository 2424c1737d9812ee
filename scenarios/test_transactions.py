"""Money moving through a Monero network: wallets earn, hold and spend; Dandelion++ relays.

The first test holds the existing Monerosim's quickstart run to that project's
own smoke bar; the rest are the properties a researcher asserts about
transactions.
"""

import pytest

from pytest_monerosim import checks

pytestmark = pytest.mark.monerosim("../fixtures/scenarios/quickstart.yaml")


def test_quickstart_meets_the_existing_monerosim_bar(monero_network):
    s = monero_network.summary
    assert s["blocks"]["main_chain_height"] >= 100
    assert s["consensus"]["max_height_spread"] <= 2
    assert s["transactions"]["created"] >= 150
    assert s["transactions"]["in_blocks_ratio"] >= 0.8
    users = [w for w in monero_network.result.wallets.values() if w.strategy == "transaction_bot"]
    assert len(users) == 3 and all(w.funded_at is not None for w in users), "every user wallet funded"


DANDELION_WALL_TIMERS = (
    "monerod's Dandelion++ timers run in wall seconds (fluff flush 5 s on average per hop, "
    "CRYPTONOTE_DANDELIONPP_FLUSH_AVERAGE; embargo 39 s, CRYPTONOTE_DANDELIONPP_EMBARGO_AVERAGE; "
    "monero src/cryptonote_config.h, 0.18) and the time scale multiplies them: {}")


def relayed_within(monero_network, within_s):
    """``checks.all_txs_relayed``; on real daemons a miss is an expected failure, with why."""
    try:
        return checks.all_txs_relayed(monero_network, within_s=within_s)
    except AssertionError as exc:
        if monero_network.result.backend == "monerod":
            pytest.xfail(DANDELION_WALL_TIMERS.format(str(exc)[:160]))
        raise


def test_every_tx_reaches_every_node_and_is_confirmed(monero_network):
    checks.all_txs_confirmed(monero_network, within_blocks=10)
    latency = checks.confirmation_latency(monero_network, p50_max_s=360, p90_max_s=900)
    assert latency["p50_s"] > 0
    slowest = relayed_within(monero_network, 90)
    assert slowest > 0


def test_no_key_image_is_spent_twice_and_money_is_conserved(monero_network):
    checks.no_double_spend_on_chain(monero_network)
    books = checks.money_conserved(monero_network)
    assert books, "the ledger balanced"


def test_coinbase_is_spent_only_after_60_blocks(monero_network):
    """The distributor can pay only once the miners' coinbase unlocked (60 blocks)."""
    result = monero_network.result
    chain = result.main_chain()
    first_payout = min(t.created_at for t in result.txs.values())
    height_then = max(b.height for b in chain if b.found_at <= first_payout)
    assert height_then >= 60, f"first spend at height {height_then}, before any coinbase unlocked"


@pytest.mark.monerosim_backends("sim")  # stem lengths are not observable from real daemons' RPC
@pytest.mark.monerosim_sweep(relay=["dandelion", "diffusion"])
def test_dandelion_delays_but_still_delivers(monero_network, monerosim_params):
    """Dandelion++'s stem phase costs seconds of latency; every tx still reaches everyone."""
    slowest = checks.all_txs_relayed(monero_network, within_s=120)
    stems = monero_network.result.extra["transactions"]["stem_lengths"]
    if monerosim_params["relay"] == "dandelion":
        assert stems, "txs took stem hops"
    else:
        assert not any(stems), "plain diffusion has no stem"
    assert slowest < 120
