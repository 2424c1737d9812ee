"""The ``double_spend`` attack plugin on real daemons: one trial, same params as on the simulator."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from pytest_monerosim.analysis.theory import double_spend_exact
from pytest_monerosim.backends import RunOptions
from pytest_monerosim.config.model import Scenario
from pytest_monerosim.registry import Registry
from pytest_monerosim.runner import run_scenario

pytestmark = [
    pytest.mark.monerod,
    pytest.mark.skipif(shutil.which("monerod") is None, reason="needs monerod (package 'monero')"),
]


def _no_monerod_left(workdir: Path) -> None:
    """No monerod of this run still runs (others' tests may run theirs)."""
    found = subprocess.run(["pgrep", "-x", "monerod"], capture_output=True, text=True)
    ours = []
    for pid in found.stdout.split():
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if str(workdir) in cmd:
            ours.append((pid, cmd[:120]))
    assert not ours, f"monerod processes left: {ours}"


def test_double_spend_plugin_on_real_daemons(registry: Registry, tmp_path: Path) -> None:
    q, z = 0.7, 2
    sc = Scenario.model_validate({
        "general": {"name": "double-spend-plugin", "duration": 6000, "seed": 5},
        "network": {"topology": "mesh"},
        "nodes": [{"group": "h", "count": 2, "role": "miner", "hashrate": 1},
                  {"group": "a", "count": 1}],
        "wallets": [{"name": "mallory", "nodes": ["a"], "strategy": "hodler"},
                    {"name": "shop", "nodes": ["h-0"], "strategy": "hodler"}],
        "attacks": [{"name": "double_spend",
                     "params": {"q": q, "z": z, "merchant": "h-0", "pay_at": 120, "trials": 1}}],
    })
    # all blocks come from the driver (rates (1-q):q), none from miner agents;
    # 76 premined blocks give the attacker's wallet an unlocked output
    options = RunOptions(workdir=tmp_path, time_scale=120,
                         extra={"warmup_block": True, "monerod_agents": "none",
                                "premine": {"mallory": 76}})
    result = run_scenario(sc, backend="monerod", registry=registry, options=options).result
    m = result.attacks["double_spend"]
    assert m["params"]["q"] == q and m["params"]["z"] == z, m
    assert m["attacker"] == "a" and m["merchant"] == "h-0", m
    assert m["trials"] == 1 and m["successes"] == int(m["success"]), m
    assert m["theory_exact"] == pytest.approx(double_spend_exact(q, z)), m
    assert m["error"] is None, m
    assert m["released"] is True and m["gave_up"] is False, m
    assert m["private_blocks"] > m["honest_blocks"] >= z, m
    main_txs = {t for b in result.chain(result.reference_tip()) for t in b.tx_ids}
    if m["success"]:
        assert m["payment_tx"] not in main_txs and m["conflict_tx"] in main_txs, m
        assert m["max_reorg_depth"] >= z, (m, result.reorgs)
        assert m["live_success"] is True, m
    assert len(set(result.tips.values())) == 1, result.tips
    _no_monerod_left(tmp_path)


@pytest.mark.monerod_long
def test_double_spend_runs_several_trials_in_one_run(registry: Registry, tmp_path: Path) -> None:
    """Trial after trial with a fresh output each, every one judged from the final chain.

    Two trials: a third, at height ~86, left monero-wallet-rpc's ``sweep_single``
    (ring size 16) busy for minutes with ~26 unlocked outputs on the chain, the
    output starvation of issue 12's item 2.
    """
    q, z = 0.6, 1
    sc = Scenario.model_validate({
        "general": {"name": "double-spend-trials", "duration": 2400, "seed": 9},
        "network": {"topology": "mesh"},
        "nodes": [{"group": "h", "count": 2, "role": "miner", "hashrate": 1},
                  {"group": "a", "count": 1}],
        "wallets": [{"name": "mallory", "nodes": ["a"], "strategy": "hodler"},
                    {"name": "shop", "nodes": ["h-0"], "strategy": "hodler"}],
        "attacks": [{"name": "double_spend",
                     "params": {"q": q, "z": z, "merchant": "h-0", "pay_at": 120, "trials": 2,
                                "settle_s": 60}}],
    })
    options = RunOptions(workdir=tmp_path, time_scale=120,
                         extra={"warmup_block": True, "monerod_agents": "none",
                                "premine": {"mallory": 80}})
    result = run_scenario(sc, backend="monerod", registry=registry, options=options).result
    m = result.attacks["double_spend"]
    assert m["trials"] == 2, m
    assert m["errors"] == [], m
    outcomes = m["series"]["outcomes"]
    assert len(outcomes) == m["trials"] and sum(o for _, o in outcomes) == m["successes"], m
    assert m["success"] == pytest.approx(m["successes"] / m["trials"]), m
    assert m["released"] + m["gave_up"] == m["trials"], m
    starts = [t for t, _ in outcomes]
    assert starts == sorted(starts) and starts[1] - starts[0] >= 60, "trials follow one another"
    assert len(set(result.tips.values())) == 1, result.tips
    _no_monerod_left(tmp_path)
