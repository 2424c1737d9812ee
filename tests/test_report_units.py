"""Units of pytest_monerosim.report: plots, baselines, the JSON report, progress lines."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from report_support import fake_result

from pytest_monerosim.report import baseline as bl
from pytest_monerosim.report import json_report as jr
from pytest_monerosim.report import plots
from pytest_monerosim.report.progress import ProgressLine, progress_text
from pytest_monerosim.result import summarize

PNG = b"\x89PNG\r\n\x1a\n"


# -- plots ---------------------------------------------------------------------------
def test_every_plot_is_a_png_and_marks_attacker_and_victim() -> None:
    result = fake_result()
    assert plots.attackers(result) == {"n9"}
    assert plots.victims(result) == {"n3"}
    out = plots.all_plots(result)
    assert set(out) == {"chain_height", "propagation_cdf", "peer_graph", "attack_eclipse"}
    assert all(png.startswith(PNG) and len(png) > 5000 for png in out.values())


def test_time_series_takes_only_numeric_pairs() -> None:
    series = plots.time_series({"share": [[0, 0.1], [60, 0.5]], "victim": "n3", "bad": [[0, "x"]], "empty": []})
    assert series == {"share": [(0.0, 0.1), (60.0, 0.5)]}


def test_plots_of_an_empty_result_are_none() -> None:
    from pytest_monerosim.result.model import Result

    empty = Result(scenario="e", backend="sim", seed=1, sim_seconds=0.0)
    assert plots.all_plots(empty) == {}


def test_behind_best_shows_a_lagging_node() -> None:
    result = fake_result(blocks=5)
    lag = plots._behind_best(result, ["n3"])["n3"]
    assert max(lag[1]) >= 1  # n3 hears of each block after the miner
    assert lag[1][-1] == 0


# -- baseline ------------------------------------------------------------------------
def test_envelopes_value_tolerance_bounds_and_exact() -> None:
    assert bl.check_metric("k", "blocks.mined", {"value": 30, "abs": 1}, 31) is None
    dev = bl.check_metric("k", "blocks.mined", {"value": 30, "abs": 1}, 33)
    assert dev is not None and dev.moved == "+3 (+10.0%)" and dev.expected == "30 ± 1"
    assert bl.check_metric("k", "x", {"value": 100.0, "rel": 0.1}, 109.0) is None
    assert bl.check_metric("k", "x", {"value": 100.0, "rel": 0.1}, 111.0) is not None
    assert bl.check_metric("k", "x", {"min": 0, "max": 0.05}, 0.04) is None
    over = bl.check_metric("k", "x", {"max": 0.05}, 0.08)
    assert over is not None and "above max" in over.moved
    assert bl.check_metric("k", "consensus.agreed", {"value": True}, False) is not None
    assert bl.check_metric("k", "consensus.agreed", {"value": True}, True) is None


def test_refresh_keeps_tolerances_and_bounds_and_compare_reports_missing(tmp_path: Path) -> None:
    summary = summarize(fake_result())
    base = bl.Baseline()
    base.refresh("t::a", summary)
    entries = base.entries["t::a"]
    assert entries["blocks.mined"] == {"value": 31, "rel": 0.1, "abs": 1}
    assert entries["blocks.stale_rate"]["abs"] == 0.02
    assert entries["attacks.eclipse.attacker_share"]["abs"] == 0.02
    assert "wall_seconds" not in entries and "events" not in entries
    entries["blocks.mined"]["abs"] = 5
    entries["reorgs.count"] = {"min": 0, "max": 3}
    entries["gone.metric"] = {"value": 1}
    changed = json.loads(json.dumps(summary))
    changed["blocks"]["mined"] = 40
    base.refresh("t::a", changed)
    assert base.entries["t::a"]["blocks.mined"] == {"value": 40, "rel": 0.1, "abs": 5}
    assert base.entries["t::a"]["reorgs.count"] == {"min": 0, "max": 3}
    path = tmp_path / "b.json"
    path.write_text(base.dumps())
    loaded = bl.Baseline.load(path)
    assert loaded.compare("t::a", changed) == []
    assert loaded.compare("t::other", changed) is None
    loaded.entries["t::a"]["made.up"] = {"value": 1}
    devs = loaded.compare("t::a", summary)
    assert devs is not None
    assert {d.metric for d in devs} == {"blocks.mined", "made.up"}
    lines = bl.format_deviations(devs)
    assert lines[0].split() == ["metric", "expected", "actual", "moved"]


@pytest.mark.parametrize("text,fragment", [
    ("{", "not readable JSON"),
    ('{"tests": {}}', "monerosim.baseline/1"),
    ('{"schema": "monerosim.baseline/1", "tests": {"t": {"m": {"tol": 1}}}}', "needs value"),
])
def test_bad_baseline_files_are_named(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "b.json"
    path.write_text(text)
    with pytest.raises(bl.BaselineError, match=fragment):
        bl.Baseline.load(path)
    with pytest.raises(bl.BaselineError, match="no such file"):
        bl.Baseline.load(tmp_path / "missing.json")
    assert bl.Baseline.load(tmp_path / "missing.json", missing_ok=True).entries == {}


# -- JSON report -----------------------------------------------------------------------
def test_rows_follow_collection_order_not_arrival() -> None:
    rows = [{"nodeid": "b", "network": 0}, {"nodeid": "a", "network": 1}, {"nodeid": "zz"},
            {"nodeid": "a", "network": 0}]
    ordered = jr.order_rows(rows, ["a", "b"])
    assert [(r["nodeid"], r.get("network")) for r in ordered] == [("a", 0), ("a", 1), ("b", 0), ("zz", None)]


def test_sweep_csv_has_a_test_column_and_the_union_of_columns() -> None:
    text = jr.sweep_csv({"t.py::f": [{"x": 1, "height": 3}, {"x": 2, "height": 4}],
                         "t.py::g": [{"y": [1, 2], "height": None}]})
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == ["test", "x", "height", "y"]
    assert rows[2] == {"test": "t.py::g", "x": "", "height": "", "y": "[1, 2]"}


def test_strip_machine_fields_and_atomic_write(tmp_path: Path) -> None:
    report = jr.build_report(
        [{"nodeid": "a", "outcome": "passed", "duration_s": 1.0, "worker": "gw0", "workdir": "/x",
          "summary": {"wall_seconds": 2.0, "blocks": 3}}],
        session=jr.session_info({}, "s", "f", 1.0, exitstatus=0, workers=2, rootdir="/r"),
        sweeps={},
    )
    assert report["totals"] == {"networks": 1, "outcomes": {"passed": 1}}
    stripped = jr.strip_machine_fields(report)
    assert stripped["networks"] == [{"nodeid": "a", "outcome": "passed", "summary": {"blocks": 3}}]
    assert "started" not in stripped["session"] and "versions" in stripped["session"]
    path = tmp_path / "deep" / "r.json"
    jr.write_report(path, report)
    assert json.loads(path.read_text())["schema"] == jr.SCHEMA
    assert [p.name for p in path.parent.iterdir()] == ["r.json"]
    assert jr.sweep_csv_path(path).name == "r.sweep.csv"
    assert jr.log_path(path, "gw1").name == "r.log.gw1.jsonl"


# -- progress ------------------------------------------------------------------------------
class FakeTerminal:
    def __init__(self) -> None:
        self.out: list[str] = []
        self.currentfspath: object = "x.py"

    def ensure_newline(self) -> None:
        self.out.append("\\n")

    def rewrite(self, line: str, erase: bool = False) -> None:
        self.out.append("\\r" + line)

    def write(self, text: str) -> None:
        self.out.append(text)

    def write_line(self, line: str) -> None:
        self.out.append(line + "\\n")


def test_progress_text_has_time_rate_and_eta() -> None:
    text = progress_text("t::x", 1800, 7200, 1_000_000, 250_000.0, 4.0)
    assert text == "monerosim t::x: t=30.0m/2.0h (25%), 1,000,000 events, 250k ev/s, ETA 12s"


def test_progress_line_is_silent_at_first_then_redraws_and_closes() -> None:
    now = [0.0]
    term = FakeTerminal()
    line = ProgressLine(term, "t::x", tty=True, clock=lambda: now[0])
    line(100.0, 1000.0, 1000)
    assert term.out == []  # short runs print nothing
    now[0] = 3.0
    line(300.0, 1000.0, 3000)
    assert term.out[-1].startswith("\\rmonerosim t::x: t=5.0m/16.7m (30%), 3,000 events")
    now[0] = 3.1
    line(310.0, 1000.0, 3100)
    assert len([o for o in term.out if o.startswith("\\r")]) == 1  # throttled
    line.close()
    assert term.currentfspath == -2


def test_progress_line_without_a_tty_prints_full_lines_rarely() -> None:
    now = [0.0]
    term = FakeTerminal()
    line = ProgressLine(term, "t", tty=False, clock=lambda: now[0])
    for i in range(1, 100):
        now[0] = float(i)
        line(i * 10.0, 10_000.0, i * 100)
    assert len([o for o in term.out if o.startswith("monerosim")]) == 4  # at 2 s, then every 30 s
