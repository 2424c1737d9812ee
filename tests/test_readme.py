"""The README's promises hold: its scenario YAML validates and runs."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from pytest_monerosim.config import scenario_from_dict
from pytest_monerosim.registry import default_registry
from pytest_monerosim.runner import prepare, run_scenario

README = Path(__file__).resolve().parents[1] / "README.md"


def yaml_blocks() -> list[dict]:
    return [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", README.read_text(), re.S)]


def test_readme_scenario_validates_and_runs() -> None:
    (data,) = yaml_blocks()
    scenario = scenario_from_dict(data, source="README.md")
    registry = default_registry()
    prepare(scenario, registry, source="README.md")
    run = run_scenario(scenario, registry=registry)
    s = run.summary
    assert s["blocks"]["main_chain_height"] > 100
    assert s["transactions"]["created"] > 0 and s["wallets"]["funded"] >= 20
    assert s["attacks"]["partition"]["reconverged"]


def test_readme_quick_start_names_the_main_job() -> None:
    text = README.read_text()
    assert "pip install -e . && pytest scenarios/test_eclipse.py" in text
    assert (README.parent / "scenarios" / "test_eclipse.py").exists()
