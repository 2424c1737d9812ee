"""End-to-end tests of the pytest plugin through pytester (a real inner pytest run)."""

from __future__ import annotations

import json
import textwrap

import pytest

SMALL = """
import pytest
from pytest_monerosim import checks

SMALL = {
    "general": {"name": "tiny", "seed": 5, "duration": "1h"},
    "network": {"topology": {"name": "mesh"}},
    "nodes": [{"group": "miners", "count": 3, "role": "miner", "hashrate": 1},
              {"group": "relays", "count": 5, "role": "relay"}],
}
"""


def make(pytester: pytest.Pytester, body: str, name: str = "test_net") -> None:
    pytester.makepyfile(**{name: SMALL + textwrap.dedent(body)})


def test_network_fixture_runs_and_summarises(pytester: pytest.Pytester) -> None:
    make(pytester, """
        @pytest.mark.monerosim(SMALL)
        def test_agrees(monero_network):
            checks.consensus_reached(monero_network, max_height_spread=1)
            assert monero_network.backend == "sim"
            assert monero_network.summary["nodes"] == 8
            assert monero_network.summary["schema"] == "monerosim.summary/1"
    """)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([
        "monerosim: backend=sim seed=from scenario duration=from scenario",
        "*monerosim: 1 network(s)*",
        "*test_agrees: tiny [[]sim[]] 8 nodes, 1.0h simulated in *blocks*consensus*",
    ])


def test_bad_scenario_is_a_usage_error_naming_the_field(pytester: pytest.Pytester) -> None:
    make(pytester, """
        @pytest.mark.monerosim(SMALL, **{"p2p.out_peerz": 3})
        def test_x(monero_network):
            pass
    """)
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*test_x*p2p.out_peerz*unknown field*accepted*out_peers*"])
    assert "Traceback" not in result.stderr.str()


def test_bad_yaml_file_names_file_and_line(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", scen="general:\n  seed: -4\nnodes:\n  - {group: a}\n")
    make(pytester, """
        @pytest.mark.monerosim("scen.yaml")
        def test_x(monero_network):
            pass
    """)
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*scen.yaml:2: general.seed: bad value -4*"])


@pytest.mark.parametrize(
    "option,fragment",
    [("--monerosim-backend=lxc", "accepted: sim, monerod, shadow"),
     ("--monerosim-seed=abc", "accepted: an integer >= 0"),
     ("--monerosim-duration=soon", "duration"),
     ("--monerosim-time-scale=0", "a number > 0")],
)
def test_bad_options_are_usage_errors(pytester: pytest.Pytester, option: str, fragment: str) -> None:
    make(pytester, "def test_x():\n    pass\n")
    result = pytester.runpytest(option, "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert fragment in result.stderr.str()


def test_failure_prints_seed_and_replay_command(pytester: pytest.Pytester) -> None:
    make(pytester, """
        @pytest.mark.monerosim(SMALL)
        def test_fails(monero_network):
            assert monero_network.height() > 10**6, "impossible height"
    """)
    result = pytester.runpytest("-p", "no:cacheprovider", "--monerosim-seed=77")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*monerosim replay*",
        "*seed 77 on sim: replay with*",
        "*pytest test_net.py::test_fails --monerosim-seed=77*",
    ])


def test_seed_option_changes_the_run_and_replays_it(pytester: pytest.Pytester) -> None:
    make(pytester, """
        import json, os
        @pytest.mark.monerosim(SMALL)
        def test_dump(monero_network, monerosim_workdir):
            s = dict(monero_network.summary); s.pop("wall_seconds")
            with open(os.environ["DUMP"], "a") as f:
                f.write(json.dumps(s, sort_keys=True) + "\\n")
    """)
    dump = pytester.path / "dump.jsonl"
    import os

    os.environ["DUMP"] = str(dump)
    try:
        for seed in ("1", "1", "2"):
            pytester.runpytest("-p", "no:cacheprovider", f"--monerosim-seed={seed}").assert_outcomes(passed=1)
    finally:
        del os.environ["DUMP"]
    a, b, c = dump.read_text().splitlines()
    assert a == b, "same seed must give the same summary"
    assert a != c, "another seed must give another run"
    assert json.loads(a)["seed"] == 1


def test_sweep_marker_parametrizes_with_readable_ids(pytester: pytest.Pytester) -> None:
    make(pytester, """
        @pytest.mark.monerosim(SMALL)
        @pytest.mark.monerosim_sweep(out_peers=[2, 3], duration=["30m", "1h"])
        def test_sweep(monero_network, monerosim_params):
            assert monero_network.scenario.p2p.out_peers == monerosim_params["out_peers"]
    """)
    result = pytester.runpytest("-p", "no:cacheprovider", "-v")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["*test_sweep?out_peers=2-duration=30m? PASSED*"])


def test_xdist_runs_networks_in_parallel(pytester: pytest.Pytester) -> None:
    make(pytester, """
        @pytest.mark.monerosim(SMALL)
        @pytest.mark.monerosim_sweep(seed=[1, 2, 3, 4])
        def test_par(monero_network):
            checks.consensus_reached(monero_network, max_height_spread=1)
    """)
    result = pytester.runpytest("-p", "no:cacheprovider", "-n", "2")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["*monerosim: 4 network(s)*"])


def test_out_dir_keeps_summary_and_scenario(pytester: pytest.Pytester) -> None:
    make(pytester, """
        @pytest.mark.monerosim(SMALL)
        def test_keep(monero_network):
            pass
    """)
    out = pytester.path / "out"
    result = pytester.runpytest("-p", "no:cacheprovider", f"--monerosim-out={out}")
    result.assert_outcomes(passed=1)
    (folder,) = list(out.iterdir())
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["scenario"] == "tiny" and summary["backend"] == "sim"
    assert "general:" in (folder / "scenario.yaml").read_text()


def test_junit_xml_carries_metrics(pytester: pytest.Pytester) -> None:
    make(pytester, """
        @pytest.mark.monerosim(SMALL)
        def test_j(monero_network):
            pass
    """)
    result = pytester.runpytest("-p", "no:cacheprovider", "--junitxml=junit.xml")
    result.assert_outcomes(passed=1)
    xml = (pytester.path / "junit.xml").read_text()
    assert 'name="monerosim_seed" value="5"' in xml
    assert 'name="monerosim_height"' in xml and 'name="monerosim_consensus"' in xml


def test_conftest_registers_a_behaviour(pytester: pytest.Pytester) -> None:
    pytester.makeconftest("""
        from pydantic import BaseModel, ConfigDict
        from pytest_monerosim.registry import PluginSpec

        class Params(BaseModel):
            model_config = ConfigDict(extra="forbid")
            every: float = 600.0

        class Metronome:
            def __init__(self, params):
                self.params = params
            def start(self, node):
                def tick():
                    node.mine_block()
                    node.schedule(self.params.every, tick)
                node.schedule(self.params.every, tick)

        def pytest_monerosim_register(registry):
            registry.add(PluginSpec("behaviour", "metronome", Params, Metronome))
    """)
    make(pytester, """
        NET = {"general": {"duration": "1h"}, "network": {"topology": {"name": "mesh"}},
               "nodes": [{"group": "clock", "role": "relay",
                          "behaviour": {"name": "metronome", "every": 600}},
                         {"group": "r", "count": 3}]}

        @pytest.mark.monerosim(NET)
        def test_metronome(monero_network):
            # blocks at t = 600, 1200, ... (one at exactly 3600 s may or may not count)
            assert monero_network.height() in (5, 6)
            assert all(b.miner == "clock" for b in monero_network.result.main_chain()[1:])

        @pytest.mark.monerosim(NET, **{"nodes.clock.behaviour": {"name": "metronome", "evry": 1}})
        def test_typo(monero_network):
            pass
    """)
    result = pytester.runpytest("-p", "no:cacheprovider", "test_net.py::test_metronome")
    result.assert_outcomes(passed=1)
    result = pytester.runpytest("-p", "no:cacheprovider", "test_net.py::test_typo")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*nodes[[]0[]].behaviour.evry*unknown field*"])


def test_backends_marker_skips_other_backends(pytester: pytest.Pytester) -> None:
    make(pytester, """
        @pytest.mark.monerosim(SMALL)
        @pytest.mark.monerosim_backends("monerod")
        def test_real_only(monero_network):
            pass
    """)
    result = pytester.runpytest("-p", "no:cacheprovider", "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*runs on backend(s) monerod, not sim*"])


def test_markers_are_registered(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines([
        "@pytest.mark.monerosim(scenario=None, **overrides)*",
        "@pytest.mark.monerosim_attack(name, **params)*",
        "@pytest.mark.monerosim_sweep(**grid)*",
    ])


def test_help_lists_options(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(["*Monero network simulation*", "*--monerosim-backend=*",
                                 "*--monerosim-seed=*"])


def test_behaviour_fixture_runs_every_behaviour_or_the_marked_ones(pytester: pytest.Pytester) -> None:
    make(pytester, """
        @pytest.mark.monerosim(SMALL)
        def test_each(monero_network, monerosim_behaviour):
            group = monero_network.scenario.nodes[0]
            assert group.behaviour_ref().name == monerosim_behaviour.name
            mined = monero_network.height()
            if monerosim_behaviour.name in ("observer", "standard_sync"):
                assert mined == 0, "relays and observers never mine"
            else:
                assert mined > 0

        @pytest.mark.monerosim(SMALL)
        @pytest.mark.monerosim_behaviour("constant_mining", interval=600)
        def test_marked(monero_network, monerosim_behaviour):
            assert monero_network.height() in (5, 6)
    """)
    result = pytester.runpytest("-p", "no:cacheprovider", "-v")
    result.assert_outcomes(passed=5)
    result.stdout.fnmatch_lines([
        "*test_each?constant_mining? PASSED*",
        "*test_each?observer? PASSED*",
        "*test_marked?constant_mining-interval=600? PASSED*",
    ])


def test_unknown_or_misconfigured_attack_is_a_usage_error(pytester: pytest.Pytester) -> None:
    make(pytester, """
        @pytest.mark.monerosim(SMALL)
        @pytest.mark.monerosim_attack("eclipze")
        def test_x(monero_network, monerosim_attack):
            pass
    """)
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unknown attack 'eclipze'; registered: double_spend, eclipse*"])
    make(pytester, """
        @pytest.mark.monerosim(SMALL)
        @pytest.mark.monerosim_attack("double_spend", q=1.5)
        def test_x(monero_network, monerosim_attack):
            pass
    """)
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*test_x[[]double_spend-q=1.5[]]*attacks[[]0[]]: q=1.5*must be in (0, 1)*"])
