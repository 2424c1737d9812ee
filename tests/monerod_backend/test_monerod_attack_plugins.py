"""Attack plugins on real daemons: the ``partition`` plugin, same params as on the simulator."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from pytest_monerosim.backends import BackendUnavailable, RunOptions
from pytest_monerosim.config.model import Scenario
from pytest_monerosim.registry import Registry
from pytest_monerosim.runner import run_scenario

pytestmark = [
    pytest.mark.monerod,
    pytest.mark.skipif(shutil.which("monerod") is None, reason="needs monerod (package 'monero')"),
]


def _scenario(attacks: list[dict[str, object]]) -> Scenario:
    # west mines twice as fast as east: over a 30-minute cut west is heavier
    return Scenario.model_validate({
        "general": {"name": "partition-plugin", "duration": 3000, "seed": 11},
        "network": {"topology": "mesh"},
        "nodes": [{"group": "w", "count": 2, "role": "miner", "hashrate": 2},
                  {"group": "e", "count": 2, "role": "miner", "hashrate": 1}],
        "attacks": attacks,
    })


def _no_monerod_left(workdir: Path) -> None:
    """No monerod of this run still runs (``pgrep -x monerod``; others' tests may run theirs)."""
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


def test_partition_plugin_on_real_daemons(registry: Registry, tmp_path: Path) -> None:
    sc = _scenario([{"name": "partition",
                     "params": {"parts": {"west": ["w"], "east": ["e"]},
                                "start": 300, "heal": 2100}}])
    options = RunOptions(workdir=tmp_path, time_scale=60, extra={"warmup_block": True})
    run = run_scenario(sc, backend="monerod", registry=registry, options=options)
    result = run.result
    m = result.attacks["partition"]
    assert m["params"]["start"] == 300 and m["parts"] == {"east": ["e-0", "e-1"],
                                                          "west": ["w-0", "w-1"]}
    assert m["blocks"]["west"] > m["blocks"]["east"] >= 1, m
    assert m["heavier"] == "west" and m["winner"] == "west" and m["heavier_won"] is True, m
    assert m["reconverged"] is True and m["reconverge_s"] is not None and m["reconverge_s"] >= 0, m
    assert m["reorg_depth"] >= 1 and m["lighter_blocks"] >= 1, m
    after = [r for r in result.reorgs if r.time >= m["healed_at"] - 1e-6]
    assert {r.node for r in after} >= {"e-0", "e-1"}, result.reorgs
    assert all(r.depth >= 1 for r in after if r.node in ("e-0", "e-1"))
    assert m["orphaned"] >= 1
    assert m["series"]["distinct_tips"], m
    assert len(set(result.tips.values())) == 1, result.tips
    _no_monerod_left(tmp_path)


def test_attacks_without_a_driver_name_the_supported_ones(tmp_path: Path) -> None:
    """A third-party attack plugin with no monerod driver: skipped with the list that runs.

    (All five built-in attacks have drivers now; selfish mining was the last.)"""
    from pydantic import BaseModel, ConfigDict

    from pytest_monerosim.registry import PluginSpec, default_registry

    class Params(BaseModel):
        model_config = ConfigDict(extra="forbid")

    class Nudge:
        def __init__(self, params: Params) -> None:
            self.params = params

    registry = default_registry()  # its own: the session's registry stays as it is
    registry.add(PluginSpec("attack", "nudge", Params, Nudge))
    sc = _scenario([{"name": "nudge", "params": {}}])
    with pytest.raises(BackendUnavailable, match=r"does not run the attack plugin\(s\) nudge; it runs "
                                                 r"double_spend, eclipse, partition, selfish_mining, sybil"):
        run_scenario(sc, backend="monerod", registry=registry,
                     options=RunOptions(workdir=tmp_path, time_scale=60))
    _no_monerod_left(tmp_path)
