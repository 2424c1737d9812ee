"""Agent scripts as real processes; a node killed mid-run; a missing binary."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

from pytest_monerosim.backends import BackendUnavailable, RunOptions
from pytest_monerosim.backends.monerod.errors import ProcessDied
from pytest_monerosim.backends.parse import read_records
from pytest_monerosim.config.model import Scenario
from pytest_monerosim.registry import Registry
from pytest_monerosim.runner import run_scenario


def test_agent_scripts_mine_fund_and_transfer_as_processes(registry: Registry, tmp_path: Path) -> None:
    sc = Scenario.model_validate({
        "general": {"name": "scripts", "duration": 1200, "seed": 5},
        "network": {"topology": "ring"},
        "nodes": [{"group": "m", "count": 2, "role": "miner", "hashrate": 1},
                  {"group": "u", "role": "user"}],
        "wallets": [
            {"name": "mw", "nodes": ["m-0"], "strategy": "mining_wallet"},
            {"name": "bank", "nodes": ["m-0"],
             "strategy": {"name": "distributor", "initial_fund_amount": "8 XMR",
                          "outputs_per_recipient": 2, "interval_s": None}},
            {"name": "alice", "nodes": ["m-1"],
             "strategy": {"name": "transaction_bot", "interval_s": 60, "amount": "1 XMR",
                          "recipients": ["bob"]}},
            {"name": "bob", "nodes": ["u"], "strategy": "hodler"},
        ],
    })
    # 20 coinbases to mw then 66 to alice: at height 86 both have unlocked outputs
    run = run_scenario(sc, backend="monerod", registry=registry, options=RunOptions(
        workdir=tmp_path, extra={"monerod_agents": "process", "premine": {"mw": 20, "alice": 66}}))
    result = run.result
    hosts = Path(result.extra["workdir"]) / "hosts"

    miners = [r for h in ("m-0", "m-1") for r in read_records(hosts / h)
              if r["agent"].startswith("miner-")]
    starts = [r for r in miners if r["type"] == "start"]
    assert len(starts) == 2 and all(r["pid"] != os.getpid() for r in starts), "own processes"
    mined = {r["block"] for r in miners if r["type"] == "mined"}
    assert mined, "the miner scripts mined"
    main = {b.id for b in result.main_chain()}
    assert mined & main and {result.blocks[b].miner for b in mined & main} <= {"m-0", "m-1"}

    sent = [t for t in result.txs.values() if t.sender == "alice"]
    assert sent, "the user script transferred"
    assert all(t.recipients == {"bob": 10**12} and t.origin == "m-1" for t in sent)
    assert all(t.key_images for t in sent), "the monitor decoded each tx"
    alice = result.wallets["alice"]
    assert alice.tx_count == len(sent) and alice.sent >= len(sent) * 10**12
    funding = [t for t in result.txs.values() if t.sender == "mw"]
    assert funding and funding[0].recipients == {"bob": 8 * 10**12}, "the distributor script paid"
    bank_log = [r for r in read_records(hosts / "m-0") if r["agent"] == "distributor-bank"]
    assert bank_log[0]["pid"] != os.getpid()
    assert any(r["type"] == "log" and r["event"] == "distributor_funded" for r in bank_log)
    user_log = [r for r in read_records(hosts / "m-1") if r["agent"] == "user-alice"]
    assert user_log[0]["type"] == "start" and user_log[0]["pid"] != os.getpid()
    assert user_log[-1]["type"] == "stop"
    assert not result.extra["agent_errors"]


def test_killed_node_is_reported_with_its_log_and_everything_stops(
    registry: Registry, tmp_path: Path
) -> None:
    sc = Scenario.model_validate({
        "general": {"name": "crash", "duration": 24 * 3600},
        "network": {"topology": "star"},
        "nodes": [{"group": "hub", "role": "miner", "hashrate": 1},
                  {"group": "leaf", "count": 2}],
    })
    killed: list[int] = []

    def kill_leaf(t: float, duration: float, events: int) -> None:
        if t >= 240 and not killed:
            (pid_file,) = tmp_path.glob("run-*/hosts/leaf-1/leaf-1.pid.json")
            pid = json.loads(pid_file.read_text())["pid"]
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    began = time.monotonic()
    with pytest.raises(ProcessDied) as caught:
        run_scenario(sc, backend="monerod", registry=registry,
                     options=RunOptions(workdir=tmp_path, progress=kill_leaf))
    assert killed
    assert time.monotonic() - began < 60, "the run stops at the death, not at its end"
    err = caught.value
    assert err.name == "leaf-1" and err.returncode == -signal.SIGKILL
    assert "leaf-1" in str(err) and "last log lines" in str(err)
    assert err.log_tail.strip(), "the node's log tail is in the report"


def test_missing_monerod_makes_the_backend_unavailable(registry: Registry, tmp_path: Path) -> None:
    sc = Scenario.model_validate({"nodes": [{"group": "n", "count": 2}]})
    with pytest.raises(BackendUnavailable, match="Debian's package 'monero'"):
        run_scenario(sc, backend="monerod", registry=registry,
                     options=RunOptions(workdir=tmp_path, monerod_bin=str(tmp_path / "no-monerod")))
