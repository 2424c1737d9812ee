"""Reference-chain balances from monero-wallet-rpc's reports (backends/parse.py).

get_balance (not strict) counts the pool both ways (wallet2::balance_per_subaddress,
monero 0.18.0.0): a sender's pool tx is already out of its balance, change kept; a
recipient's incoming pool payment is already in. On the reference chain neither happened.
"""

from types import SimpleNamespace

from pytest_monerosim.backends.parse import _wallets
from pytest_monerosim.result.model import Result


def _plan(*names):
    specs = [SimpleNamespace(name=n, node=f"node-{n}", strategy="transaction_bot") for n in names]
    return SimpleNamespace(wallets=lambda: [(None, s) for s in specs])


def test_a_pool_tx_between_two_wallets_moves_nothing_on_the_reference_chain():
    result = Result(scenario="t", backend="monerod", seed=1, sim_seconds=1.0)
    # alice had 100 and sends 30 (fee 1, change 69) in a tx still in the pool at the end
    pending = {"txid": "t1", "amount": 30, "fee": 1, "height": 0, "type": "pending"}
    records = {"wallet": [
        {"name": "alice", "balance": 69, "outgoing": [pending], "pool_in": []},
        {"name": "bob", "balance": 50 + 30, "outgoing": [],
         "pool_in": [{"txid": "t1", "amount": 30, "fee": 1, "height": 0, "type": "pool"}]},
    ]}
    _wallets(result, _plan("alice", "bob"), records)
    assert result.extra["transactions"]["reference_balances"] == {"alice": 100, "bob": 50}
    assert result.wallets["bob"].balance == 80, "the wallet's own figure is kept as reported"
