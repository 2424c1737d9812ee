"""Real monerod agrees with the model: block rewards (emission) and unlock rules.

Measured on monerod 0.18: the coinbase of block ``h`` becomes spendable when
the top block is ``h + 60`` (60 blocks after it); an ordinary output in block
``h`` when the top is ``h + 9`` (the 10th block counting its own, monerod's
``CRYPTONOTE_DEFAULT_TX_SPENDABLE_AGE``).
"""

from __future__ import annotations

from pathlib import Path

from pytest_monerosim.agents.api import InsufficientFunds
from pytest_monerosim.agents.realtime import Clock, EventLog, Scheduler
from pytest_monerosim.agents.runtime import RpcWallet, WalletDirectory
from pytest_monerosim.backends.monerod.actions import NetworkActions
from pytest_monerosim.backends.monerod.network import LoopbackNetwork
from pytest_monerosim.config.model import Scenario
from pytest_monerosim.registry import Registry
from pytest_monerosim.sim.emission import GENESIS_REWARD, block_reward

XMR = 10**12


def _solo(registry: Registry, tmp_path: Path) -> LoopbackNetwork:
    """One offline node with two wallets, no agents (the test mines)."""
    sc = Scenario.model_validate(dict(
        general={"name": "rules", "duration": 60},
        network={"topology": "mesh"},
        nodes=[{"group": "solo", "role": "miner", "hashrate": 1}],
        wallets=[{"name": "alice", "nodes": ["solo"], "strategy": "hodler"},
                 {"name": "bob", "nodes": ["solo"], "strategy": "hodler"}],
    ))
    return LoopbackNetwork.from_scenario(sc, registry, workdir=tmp_path / "run", agents="none")


def _wallet_api(net: LoopbackNetwork, name: str, tmp_path: Path) -> RpcWallet:
    assert net.t0 is not None
    clock = Clock(net.t0, net.time_scale)
    return RpcWallet(
        name=name, node="solo", address=net.directory.addresses()[name],
        wallet=net.wallets[name].rpc, daemon=net.node("solo").rpc,
        scheduler=Scheduler(clock, name), log=EventLog(tmp_path / f"{name}.jsonl", name, clock),
        seed=1, directory=WalletDirectory(net.shared_dir),
    )


def test_rewards_and_unlock_windows_match_monero(registry: Registry, tmp_path: Path) -> None:
    with _solo(registry, tmp_path) as net:
        net.start()
        act = NetworkActions(net)
        alice = _wallet_api(net, "alice", tmp_path)
        bob = _wallet_api(net, "bob", tmp_path)
        daemon = net.node("solo").rpc

        # -- emission: the first blocks' coinbase equals the model's formula -----------
        act.mine("solo", 1, alice.address)
        assert alice.balance()[0] > 0
        assert alice.balance()[1] == 0, "a fresh coinbase is locked"
        act.mine("solo", 58, alice.address)  # top height 59
        assert alice.balance()[1] == 0, "coinbase of block 1 must still be locked at height 59"
        act.mine("solo", 1, alice.address)  # top height 60 = 1 + 60
        _, unlocked = alice.balance()
        generated = GENESIS_REWARD
        rewards = []
        for height in range(1, 21):
            header = daemon.get_block_header_by_height(height)
            expected = block_reward(0, int(header["block_weight"]), generated)
            rewards.append((int(header["reward"]), expected))
            generated += int(header["reward"])
        assert all(real == model for real, model in rewards), rewards
        first = daemon.get_block_header_by_height(1)
        assert unlocked == int(first["reward"]), "exactly block 1's coinbase unlocks at height 60"

        # -- a transfer's outputs: spendable 10 blocks after the block that holds them --
        try:
            bob.transfer({alice.address: 1})
        except InsufficientFunds:
            pass
        else:  # bob has nothing: the wallet must refuse
            raise AssertionError("an empty wallet paid")
        act.mine("solo", 16, alice.address)  # 16 unlocked outputs: a ring's 15 decoys exist
        txid = alice.transfer({bob.address: 3 * XMR})
        assert txid in daemon.get_transaction_pool_hashes()
        act.mine("solo", 1, alice.address)  # the tx is in block h
        h = int(daemon.get_info()["height"]) - 1
        assert daemon.get_transactions([txid])["txs"][0]["block_height"] == h
        assert bob.balance() == (3 * XMR, 0)
        act.mine("solo", 8, alice.address)  # top h + 8
        assert bob.balance() == (3 * XMR, 0), "an output is locked for 10 blocks"
        act.mine("solo", 1, alice.address)  # top h + 9: the 10th block counting its own
        assert bob.balance() == (3 * XMR, 3 * XMR)
        act.close()
