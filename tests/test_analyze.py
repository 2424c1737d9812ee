"""Sweep aggregation and ``monerosim analyze``."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from pytest_monerosim.analysis.aggregate import aggregate, format_groups
from pytest_monerosim.analysis.theory import double_spend_exact
from pytest_monerosim.cli import main


def summaries(q: float, z: int, n: int, p: float, seed: int = 1) -> list[dict]:
    rng = random.Random(seed)
    return [{"attacks": {"double_spend": {"params": {"q": q, "z": z}, "success": rng.random() < p,
                                          "blocks_withheld": rng.randint(1, 9)}}} for _ in range(n)]


def test_rate_interval_contains_truth_and_theory_is_attached() -> None:
    truth = double_spend_exact(0.3, 2)
    (group,) = aggregate(summaries(0.3, 2, 2000, truth), confidence=0.999)
    stat = group.metrics["success"]
    assert group.runs == 2000 and stat.kind == "rate"
    assert stat.low <= truth <= stat.high
    assert stat.theory == pytest.approx(truth) and stat.agrees
    assert group.metrics["blocks_withheld"].kind == "mean"


def test_wrong_rate_disagrees_with_theory() -> None:
    (group,) = aggregate(summaries(0.3, 2, 2000, 0.9))
    assert group.metrics["success"].agrees is False
    assert "DISAGREES" in "\n".join(format_groups([group]))


def test_groups_by_params() -> None:
    groups = aggregate(summaries(0.1, 1, 50, 0.2) + summaries(0.2, 1, 30, 0.4))
    assert [(g.params["q"], g.runs) for g in groups] == [(0.1, 50), (0.2, 30)]


def test_cli_analyze(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = []
    for i, s in enumerate(summaries(0.25, 3, 40, 0.2)):
        f = tmp_path / f"s{i}.json"
        f.write_text(json.dumps(s))
        files.append(str(f))
    assert main(["analyze", *files]) == 0
    out = capsys.readouterr().out
    assert "double_spend (q=0.25, z=3): 40 run(s)" in out and "theory" in out
    assert main(["analyze", str(tmp_path / "nope.json")]) == 2
    assert main(["analyze", "--confidence", "2", *files]) == 2
