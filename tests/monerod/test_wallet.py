"""monero-wallet-rpc against a regtest daemon: coinbase lock, unlock, transfer."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from pytest_monerosim.backends.monerod import MonerodNode, RpcError, WalletRpcNode

pytestmark = pytest.mark.monerod

COINBASE_UNLOCK = 60
#: ring size 16 needs 16 unlocked RCT outputs on the chain; coinbases count
DECOY_BLOCKS = 16
XMR = 10**12


def test_mined_coinbase_unlocks_after_60_blocks_and_can_be_sent(
    make_node: Callable[..., MonerodNode],
    make_wallet: Callable[..., WalletRpcNode],
    burn_address: str,
) -> None:
    node = make_node("chain", offline=True)
    node.start()
    wallet = make_wallet("wallets", node)
    wallet.start()
    node.wait_ready(30)
    wallet.wait_ready(30)

    receiver = wallet.open_or_create("receiver")
    miner = wallet.open_or_create("miner")
    assert miner != receiver
    assert wallet.open_or_create("miner") == miner  # opening again finds the file

    node.rpc.generateblocks(1, miner)
    wallet.rpc.refresh()
    fresh = wallet.rpc.get_balance()
    assert fresh.balance > 0
    assert fresh.unlocked_balance == 0
    assert fresh.blocks_to_unlock == COINBASE_UNLOCK - 1

    node.rpc.generateblocks(COINBASE_UNLOCK, burn_address)
    wallet.rpc.refresh()
    unlocked = wallet.rpc.get_balance()
    assert unlocked.blocks_to_unlock == 0
    assert unlocked.unlocked_balance == unlocked.balance == fresh.balance

    node.rpc.generateblocks(DECOY_BLOCKS, burn_address)
    wallet.rpc.refresh()
    sent = wallet.rpc.transfer([(receiver, XMR)], get_tx_hex=True)
    assert sent["amount"] == XMR
    assert sent["fee"] > 0
    assert sent["tx_hash"] in node.rpc.get_transaction_pool_hashes()

    with pytest.raises(RpcError) as broke:
        wallet.rpc.transfer([(receiver, 10 * fresh.balance)])
    assert broke.value.code is not None and broke.value.code < 0

    node.rpc.generateblocks(1, burn_address)
    assert node.rpc.get_transaction_pool()["transactions"] == []
    wallet.rpc.refresh()
    outgoing = wallet.rpc.get_transfers(incoming=False)["out"]
    assert [t["txid"] for t in outgoing] == [sent["tx_hash"]]
    assert outgoing[0]["confirmations"] >= 1
    assert wallet.rpc.get_balance().balance == fresh.balance - XMR - sent["fee"]

    assert wallet.open_or_create("receiver") == receiver
    wallet.rpc.refresh()
    received = wallet.rpc.get_balance()
    assert received.balance == XMR
    assert received.blocks_to_unlock == 9  # ordinary outputs lock for 10 blocks
    incoming = wallet.rpc.incoming_transfers()
    assert [t["amount"] for t in incoming] == [XMR]
