"""The reporting features end to end through pytester: JSON report, Allure, JUnit, baseline, progress."""

from __future__ import annotations

import json
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from pytest_monerosim.report.json_report import strip_machine_fields

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
@pytest.mark.monerosim_sweep(out_peers=[2, 3], seed=[1, 2])
def test_sweep(monero_network):
    checks.no_deep_reorgs(monero_network, max_depth=5)

def test_plain():
    pass
"""

NO_CACHE = ("-p", "no:cacheprovider")


def suite(pytester: pytest.Pytester, body: str = SUITE) -> None:
    pytester.makepyfile(test_suite=textwrap.dedent(body))


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    # A fresh process per inner session: matplotlib, allure-commons and the check listeners keep
    # module state that an in-process pytester run would tear out from under the next one.
    return pytester.runpytest_subprocess(*NO_CACHE, *args)


# -- JSON report ------------------------------------------------------------------------
def test_json_report_sweep_csv_and_log(pytester: pytest.Pytester) -> None:
    suite(pytester)
    result = run(pytester, "--monerosim-report=out/report.json")
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(["monerosim: report out/report.json", "*monerosim report: out/report.json*"])
    report = json.loads((pytester.path / "out/report.json").read_text())
    assert report["schema"] == "monerosim.report/1"
    assert report["totals"] == {"networks": 5, "outcomes": {"passed": 5}}
    first = report["networks"][0]
    assert first["nodeid"] == "test_suite.py::test_agrees"
    assert {"outcome", "params", "seed", "backend", "summary", "replay", "attack"} <= set(first)
    assert first["replay"] == "pytest test_suite.py::test_agrees --monerosim-seed=5"
    assert [n["params"] for n in report["networks"][1:]] == [
        {"out_peers": 2, "seed": 1}, {"out_peers": 2, "seed": 2}, {"out_peers": 3, "seed": 1},
        {"out_peers": 3, "seed": 2}]
    session = report["session"]
    assert {"started", "finished", "options", "versions", "exitstatus"} <= set(session)
    assert session["versions"]["pytest-monerosim"]
    sweep = report["sweeps"]["test_suite.py::test_sweep"]
    assert sweep[0]["outcome"] == "passed" and "height" in sweep[0]
    csv_lines = (pytester.path / "out/report.sweep.csv").read_text().splitlines()
    assert csv_lines[0].startswith("test,out_peers,seed,")
    assert len(csv_lines) == 5
    log = [json.loads(line) for line in (pytester.path / "out/report.log.jsonl").read_text().splitlines()]
    kinds = {e["kind"] for e in log}
    assert {"run.start", "agent.registered", "block.found", "run.end", "check"} <= kinds
    checks = [e for e in log if e["kind"] == "check"]
    assert checks[0]["data"]["name"] == "consensus_reached" and checks[0]["data"]["passed"] is True


def test_json_report_under_xdist_equals_the_sequential_one(pytester: pytest.Pytester) -> None:
    suite(pytester)
    run(pytester, "--monerosim-report=seq.json").assert_outcomes(passed=6)
    result = run(pytester, "-n", "2", "--monerosim-report=par.json")
    result.assert_outcomes(passed=6)
    seq = json.loads((pytester.path / "seq.json").read_text())
    par = json.loads((pytester.path / "par.json").read_text())
    assert {n["worker"] for n in par["networks"]} <= {"gw0", "gw1"}
    assert par["session"]["workers"] == 2
    a, b = strip_machine_fields(seq), strip_machine_fields(par)
    assert a["session"]["options"]["report"] == "seq.json"
    a["session"]["options"]["report"] = b["session"]["options"]["report"]
    assert a == b
    assert (pytester.path / "par.sweep.csv").read_text() == (pytester.path / "seq.sweep.csv").read_text()
    merged = (pytester.path / "par.log.jsonl").read_text().splitlines()
    assert len(merged) == len((pytester.path / "seq.log.jsonl").read_text().splitlines())
    assert not list(pytester.path.glob("par.log.gw*.jsonl"))


# -- Allure ------------------------------------------------------------------------------
def allure_results(directory: Path) -> dict[str, dict]:
    out = {}
    for path in directory.glob("*-result.json"):
        data = json.loads(path.read_text())
        out[data["fullName"].rsplit("#", 1)[-1] + ("" if not data.get("parameters") else "")] = data
        out[data["name"]] = data
    return out


@pytest.mark.parametrize("xdist", [(), ("-n", "2")], ids=["sequential", "xdist"])
def test_allure_results_are_well_formed(pytester: pytest.Pytester, xdist: tuple[str, ...]) -> None:
    suite(pytester)
    run(pytester, *xdist, "--alluredir=allure").assert_outcomes(passed=6)
    directory = pytester.path / "allure"
    results = [json.loads(p.read_text()) for p in directory.glob("*-result.json")]
    assert len(results) == 6
    by_name = {r["name"]: r for r in results if "[" not in r["name"]}
    agrees = by_name["test_agrees"]
    labels = {(lab["name"], lab["value"]) for lab in agrees["labels"]}
    assert {("feature", "suite"), ("story", "tiny"), ("tag", "sim")} <= labels
    # measured figures are excluded parameters (issue 16); the identity of the test is these three
    params = {p["name"]: p["value"] for p in agrees["parameters"] if not p.get("excluded")}
    assert params == {"scenario": "'tiny'", "seed": "5", "backend": "'sim'"}
    checks_run = [s["name"] for s in agrees["steps"] if s["name"].startswith("check ")]
    assert checks_run == ["check consensus_reached(max_height_spread=1)"]
    attachments = {a["name"]: a for a in agrees["attachments"]}
    assert {"scenario tiny", "summary tiny", "chain height (tiny)", "propagation cdf (tiny)",
            "peer graph (tiny)"} <= set(attachments)
    for att in attachments.values():
        body = (directory / att["source"]).read_bytes()
        if att["type"] == "image/png":
            assert body.startswith(b"\x89PNG")
        elif att["type"] == "application/json":
            assert json.loads(body)["schema"] == "monerosim.summary/1"
        else:
            assert b"general:" in body
    sweeps = [r for r in results if r["name"].startswith("test_sweep[")]
    assert len(sweeps) == 4
    assert all({"out_peers", "seed"} <= {p["name"] for p in r["parameters"]} for r in sweeps)
    plain = by_name["test_plain"]
    assert not plain.get("attachments") and not any(lab["name"] == "story" for lab in plain["labels"])
    steps = [s["name"] for r in results for s in r.get("steps", [])]
    # the network runs in the call phase: one step per run, its phases as sub-steps
    (net,) = [s for s in agrees["steps"] if s["name"].startswith("network tiny on sim (seed 5)")]
    assert [c["name"] for c in net["steps"]] == ["build network", "simulate"]
    assert any(name.startswith("network tiny on sim (seed 5)") for name in steps)


def test_allure_failed_check_is_a_failed_step(pytester: pytest.Pytester) -> None:
    suite(pytester, SUITE + textwrap.dedent("""
        @pytest.mark.monerosim(SMALL)
        def test_fails(monero_network):
            checks.stale_rate_at_most(monero_network, -1.0)
    """))
    run(pytester, "--alluredir=allure", "-k", "fails").assert_outcomes(failed=1, deselected=6)
    (result,) = [json.loads(p.read_text()) for p in (pytester.path / "allure").glob("*-result.json")]
    assert result["status"] == "failed"
    (check,) = [s for s in result["steps"] if s["name"].startswith("check ")]  # after the network step
    assert check["status"] == "failed"
    assert check["name"].startswith("check stale_rate_at_most(")


def test_no_allure_no_cost(pytester: pytest.Pytester) -> None:
    suite(pytester, SUITE + textwrap.dedent("""
        import sys
        def test_zz_nothing_heavy_imported():
            # (allure itself is imported by allure-pytest whenever it is installed)
            heavy = ("matplotlib", "starlette", "uvicorn", "prometheus_client",
                     "pytest_monerosim.report.allure_support", "pytest_monerosim.report.plots")
            assert [m for m in heavy if m in sys.modules] == []
    """))
    run(pytester).assert_outcomes(passed=7)


# -- JUnit XML ----------------------------------------------------------------------------
def test_junit_xml_properties(pytester: pytest.Pytester) -> None:
    suite(pytester)
    run(pytester, "--junitxml=junit.xml").assert_outcomes(passed=6)
    root = ET.parse(pytester.path / "junit.xml").getroot()
    cases = {c.get("name"): c for c in root.iter("testcase")}
    props = {p.get("name"): p.get("value") for p in cases["test_agrees"].iter("property")}
    assert props["monerosim_seed"] == "5" and props["monerosim_backend"] == "sim"
    assert {"monerosim_height", "monerosim_consensus", "monerosim_stale_rate",
            "monerosim_propagation_p50_s"} <= set(props)
    assert list(cases["test_plain"].iter("property")) == []


# -- baseline -----------------------------------------------------------------------------
def test_baseline_update_then_pass_then_fail_with_a_table(pytester: pytest.Pytester) -> None:
    suite(pytester)
    run(pytester, "--monerosim-baseline=base.json", "--monerosim-baseline-update").assert_outcomes(passed=6)
    base = json.loads((pytester.path / "base.json").read_text())
    assert base["schema"] == "monerosim.baseline/1"
    assert len(base["tests"]) == 5
    entry = base["tests"]["test_suite.py::test_agrees"]
    assert entry["consensus.agreed"] == {"value": True}
    run(pytester, "--monerosim-baseline=base.json").assert_outcomes(passed=6)

    height = entry["blocks.main_chain_height"]["value"]
    entry["blocks.main_chain_height"] = {"value": height + 10, "abs": 1}
    entry["blocks.stale_rate"] = {"max": -0.5}
    (pytester.path / "base.json").write_text(json.dumps(base))
    for extra in ((), ("-n", "2")):
        result = run(pytester, *extra, "--monerosim-baseline=base.json", "--monerosim-report=r.json")
        result.assert_outcomes(passed=5, failed=1)
        assert result.ret == pytest.ExitCode.TESTS_FAILED
        result.stdout.fnmatch_lines([
            "*monerosim baseline: 2 metric(s) moved outside the envelope in base.json:",
            "metric*expected*actual*moved",
            f"blocks.main_chain_height*{height + 10} ± 1*{height}*-10 (*%)",
            "blocks.stale_rate*-0.5]*+0.5 above max",
            "*monerosim baseline: 2 metric(s) moved*",
            "network*metric*expected*actual*moved",
            "test_suite.py::test_agrees*blocks.main_chain_height*",
        ])
        assert "Traceback" not in result.stdout.str()
        report = json.loads((pytester.path / "r.json").read_text())
        assert report["networks"][0]["baseline"]["status"] == "moved"
        assert report["networks"][1]["baseline"]["status"] == "ok"
        assert len(report["baseline"]["moved"]) == 2


def test_baseline_reports_networks_it_does_not_know(pytester: pytest.Pytester) -> None:
    suite(pytester)
    (pytester.path / "base.json").write_text('{"schema": "monerosim.baseline/1", "tests": {}}')
    result = run(pytester, "--monerosim-baseline=base.json")
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(["monerosim baseline: 5 network(s) not in base.json*"])


@pytest.mark.parametrize("args,fragment", [
    (("--monerosim-baseline-update",), "needs --monerosim-baseline=PATH"),
    (("--monerosim-baseline=nope.json",), "nope.json: no such file"),
    (("--monerosim-serve=http",), "is not a port"),
    (("--monerosim-progress=loud",), "accepted: auto, on, off"),
])
def test_bad_reporting_options_are_usage_errors(pytester: pytest.Pytester, args: tuple[str, ...],
                                                fragment: str) -> None:
    suite(pytester, "def test_x():\n    pass\n")
    result = pytester.runpytest(*NO_CACHE, *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert fragment in result.stderr.str()


def test_help_lists_the_reporting_options(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines([
        "*--monerosim-report=MONEROSIM_REPORT*",
        "*--monerosim-baseline=MONEROSIM_BASELINE*",
        "*--monerosim-progress=MONEROSIM_PROGRESS*",
        "*--monerosim-baseline-update*",
        "*--monerosim-plots*",
        "*--monerosim-serve=?PORT?*",
    ])


# -- plots and progress ----------------------------------------------------------------------
def test_plots_option_writes_pngs_next_to_the_summary(pytester: pytest.Pytester) -> None:
    suite(pytester)
    run(pytester, "--monerosim-plots", "--monerosim-out=out", "--monerosim-report=r.json",
        "-k", "agrees").assert_outcomes(passed=1, deselected=5)
    (row,) = json.loads((pytester.path / "r.json").read_text())["networks"]
    names = sorted(Path(f).name for f in row["files"])
    assert names == ["chain_height.png", "peer_graph.png", "propagation_cdf.png"]
    assert all(Path(f).read_bytes().startswith(b"\x89PNG") for f in row["files"])
    assert Path(row["files"][0]).parent == Path(row["workdir"])


LONG = """
import pytest

@pytest.mark.monerosim("{scenario}", duration="{duration}")
def test_long(monero_network):
    pass
"""


def test_progress_shows_while_a_long_run_goes_and_is_quiet_under_q(pytester: pytest.Pytester,
                                                                   fixtures_dir: Path) -> None:
    scenario = fixtures_dir / "scenarios" / "small_network.yaml"
    suite(pytester, LONG.format(scenario=scenario, duration="10h"))
    result = run(pytester, "--monerosim-progress=on")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*monerosim test_suite.py::test_long: t=*/10.0h (*%), *events, *ev/s, ETA*",
                                 "test_suite.py .*"])
    result.stdout.fnmatch_lines(["monerosim: 1 network(s): 10.0h simulated, * events in *s of simulation, "
                                 "* events/s"])
    quiet = run(pytester, "-q")
    quiet.assert_outcomes(passed=1)
    assert "ETA" not in quiet.stdout.str()
    parallel = run(pytester, "-n", "2", "--monerosim-progress=on")
    parallel.assert_outcomes(passed=1)
    assert "ETA" not in parallel.stdout.str()
    parallel.stdout.fnmatch_lines(["monerosim: 1 network(s): 10.0h simulated, *"])
