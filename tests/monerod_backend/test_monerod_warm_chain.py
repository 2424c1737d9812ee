"""Wallets transact on real daemons from the first minute: the warm regtest chain.

Ring size 16 needs 15 unlocked decoys; a fresh regtest chain has none until
height 76. The monerod backend starts a run with sending wallets from a cached
chain (``backends/monerod/warmchain.py``) and counts heights from its tip.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pytest_monerosim.backends import RunOptions
from pytest_monerosim.backends.monerod import warmchain
from pytest_monerosim.backends.monerod.backend import warm_chain_height
from pytest_monerosim.config.model import Scenario
from pytest_monerosim.registry import Registry
from pytest_monerosim.runner import run_scenario

pytestmark = [
    pytest.mark.monerod,
    pytest.mark.skipif(shutil.which("monerod") is None, reason="needs monerod (package 'monero')"),
]


def test_the_option_reads_as_a_height() -> None:
    assert warm_chain_height("auto", True) == warmchain.DEFAULT_HEIGHT
    assert warm_chain_height("auto", False) == 0
    assert warm_chain_height(False, True) == 0 and warm_chain_height("true", False) == 100
    assert warm_chain_height(7, False) == 7
    with pytest.raises(ValueError, match="warm_chain='x'; accepted: auto, true, false"):
        warm_chain_height("x", True)


def test_snapshot_is_mined_once_then_copied(tmp_path: Path) -> None:
    first, how = warmchain.snapshot(height=3, root=tmp_path)
    again, how_again = warmchain.snapshot(height=3, root=tmp_path)
    assert (how, how_again) == ("mined", "cache") and first == again and first.stat().st_size > 0
    assert first.parent.name.startswith("regtest-0.18") and first.parent.name.endswith("-h3-d1")
    data = tmp_path / "node"
    warmchain.seed_data_dir(first, data)
    assert (data / "fake" / "lmdb" / "data.mdb").read_bytes() == first.read_bytes()


def test_wallets_send_from_the_start_on_a_warm_chain(registry: Registry, tmp_path: Path) -> None:
    sc = Scenario.model_validate({
        "general": {"name": "warm-chain", "duration": 1800, "seed": 3},
        "network": {"topology": "mesh"},
        "nodes": [{"group": "m", "count": 1, "role": "miner", "hashrate": 1},
                  {"group": "a", "count": 1, "role": "miner", "hashrate": 1},
                  {"group": "u", "count": 1, "role": "user"}],
        "wallets": [{"name": "miner", "nodes": ["m"], "strategy": "mining_wallet"},
                    {"name": "alice", "nodes": ["a"],  # paid by her node's coinbase
                     "strategy": {"name": "transaction_bot", "interval_s": 120,
                                  "recipients": ["bob"]}},
                    {"name": "bob", "nodes": ["u"], "strategy": "hodler"}],
    })
    # 61 blocks to alice before time 0: the first of them unlocked when the run begins
    options = RunOptions(workdir=tmp_path, time_scale=60, extra={"premine": {"alice": 61}})
    result = run_scenario(sc, backend="monerod", registry=registry, options=options).result
    warm = result.extra["warm_chain"]
    assert warm["height"] == warmchain.DEFAULT_HEIGHT and warm["source"] in ("cache", "mined")
    # heights count from the warm chain's tip (+ its warm-up block): it is the result's genesis
    assert result.genesis == warm["tip"] and warm["tip_height"] == warmchain.DEFAULT_HEIGHT + 1
    assert result.blocks[result.genesis].height == 0
    main = result.main_chain()
    assert [b.height for b in main] == list(range(len(main)))
    sent = [t for t in result.txs.values() if t.sender == "alice"]
    assert len(sent) >= 8, f"{len(sent)} txs in 30 simulated minutes at one per 2 minutes"
    assert sum(t.status == "confirmed" for t in sent) >= len(sent) - 3
    failures = [json.loads(line) for path in Path(result.extra["workdir"]).rglob("*.jsonl")
                for line in path.read_text().splitlines() if '"tx_failed"' in line]
    assert not failures, failures[:3]
