"""Allure results (``--alluredir``) carry each network's time, figures and attack metrics (issue 16)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

NO_CACHE = ("-p", "no:cacheprovider")

SUITE = """
import pytest
from pytest_monerosim import checks

SMALL = {
    "general": {"name": "tiny", "seed": 5, "duration": "1h"},
    "network": {"topology": {"name": "mesh"}},
    "nodes": [{"group": "miners", "count": 3, "role": "miner", "hashrate": 1},
              {"group": "relays", "count": 5, "role": "relay"}],
}

@pytest.mark.monerosim(SMALL)
def test_agrees(monero_network):
    checks.consensus_reached(monero_network, max_height_spread=1)

@pytest.mark.monerosim(SMALL)
@pytest.mark.monerosim_attack("partition", start="20m", heal="40m")
def test_partition(monero_network, monerosim_attack):
    assert "partition" in monero_network.result.attacks

@pytest.mark.monerosim(SMALL)
def test_two_networks(monerosim_run):
    '''Compares two seeds.'''
    a = monerosim_run(seed=1)
    b = monerosim_run(seed=2)
    assert a.seed != b.seed
"""


@pytest.fixture(scope="module")
def allure_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One inner session writing Allure results for the three tests above (run once)."""
    import subprocess
    import sys

    where = tmp_path_factory.mktemp("allure_suite")
    (where / "test_suite.py").write_text(textwrap.dedent(SUITE))
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", *NO_CACHE, "-q", "--alluredir=allure", "test_suite.py"],
        cwd=where, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return where / "allure"


def _results(directory: Path) -> dict[str, dict]:
    out = {}
    for path in directory.glob("*-result.json"):
        data = json.loads(path.read_text())
        out[data["name"].split("[", 1)[0]] = data
    return out


def test_duration_covers_the_network_run(allure_dir: Path) -> None:
    agrees = _results(allure_dir)["test_agrees"]
    (step,) = [s for s in agrees["steps"] if s["name"].startswith("network ")]
    figures = {p["name"]: p["value"] for p in step["parameters"]}
    wall_ms = float(figures["wall_seconds"]) * 1000
    # the network ran in fixture set-up; the test's duration now includes it
    assert agrees["stop"] - agrees["start"] >= step["stop"] - step["start"] >= wall_ms * 0.9
    assert agrees["start"] <= step["start"] and step["stop"] <= agrees["stop"]
    assert step["name"].startswith("network tiny on sim (seed 5): 1.00 h simulated in ")
    assert [s["name"] for s in step["steps"]] == ["build network", "simulate"]
    assert float(figures["sim_seconds"]) == 3600.0
    assert int(figures["height"]) > 0 and figures["consensus"] in ("True", "False")
    # steps in time order: the network, then the check the body made
    assert [s["name"].split(" ", 1)[0] for s in agrees["steps"]] == ["network", "check"]


def test_figures_are_excluded_parameters(allure_dir: Path) -> None:
    agrees = _results(allure_dir)["test_agrees"]
    params = {p["name"]: p for p in agrees["parameters"]}
    for name in ("sim_seconds", "wall_seconds", "height", "stale_rate", "reorgs"):
        assert params[name].get("excluded") is True, name
    assert not params["seed"].get("excluded")
    assert float(params["sim_seconds"]["value"]) == 3600.0


def test_attack_metrics_and_readable_attack_parameter(allure_dir: Path) -> None:
    result = _results(allure_dir)["test_partition"]
    params = {p["name"]: p for p in result["parameters"]}
    assert params["monerosim_attack"]["value"] == "partition(start=20m, heal=40m)"
    metric_names = [n for n in params if n.startswith("partition.")]
    assert {"partition.heavier_won", "partition.reconverged"} <= set(metric_names)
    assert all(params[n].get("excluded") for n in metric_names)
    (step,) = [s for s in result["steps"] if s["name"].startswith("network ")]
    (attack,) = [s for s in step["steps"] if s["name"].startswith("attack partition: ")]
    attack_params = {p["name"]: p["value"] for p in attack["parameters"]}
    assert attack_params["heavier_won"] == params["partition.heavier_won"]["value"]
    labels = {(lab["name"], lab["value"]) for lab in result["labels"]}
    assert ("feature", "partition") in labels
    assert "partition(start=20m, heal=40m)" in result["description"]


def test_runs_in_the_body_get_steps_in_order(allure_dir: Path) -> None:
    result = _results(allure_dir)["test_two_networks"]
    networks = [s for s in result["steps"] if s["name"].startswith("network ")]
    assert [s["name"].split(":")[0] for s in networks] == [
        "network tiny on sim (seed 1)", "network tiny on sim (seed 2)"]
    assert networks[0]["stop"] <= networks[1]["start"]
    params = {p["name"] for p in result["parameters"]}
    assert {"net0.height", "net1.height", "net0.wall_seconds"} <= params
    assert result["description"] == "Compares two seeds."  # a docstring wins over the generated text
