"""The scenario model and YAML loading: valid input loads, bad input names its field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_monerosim.config import (
    ScenarioError,
    apply_overrides,
    format_duration,
    load_scenario,
    parse_duration,
    scenario_from_dict,
)

MINIMAL = {"nodes": [{"group": "miners", "count": 2, "role": "miner", "hashrate": 1}]}


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "s.yaml"
    p.write_text(textwrap.dedent(text))
    return p


@pytest.mark.parametrize(
    "text,seconds",
    [(90, 90.0), ("90s", 90.0), ("2h", 7200.0), ("1d", 86400.0), ("1h30m", 5400.0),
     ("250ms", 0.25), ("1.5h", 5400.0), (" 30 min ", 1800.0), ("45", 45.0)],
)
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["abc", "2x", "h", "-5", True, None, "1h junk"])
def test_bad_durations_say_what_is_accepted(bad):
    with pytest.raises(ValueError, match="duration|negative"):
        parse_duration(bad)


@given(st.integers(min_value=0, max_value=10**7))
def test_format_duration_round_trips(seconds):
    assert parse_duration(format_duration(seconds)) == seconds


def test_defaults_follow_monero():
    s = scenario_from_dict(MINIMAL)
    assert s.p2p.out_peers == 12 and s.p2p.in_peers is None
    assert s.p2p.white_list_limit == 1000 and s.p2p.gray_list_limit == 5000
    assert s.p2p.anchors == 2 and s.p2p.handshake_peers == 250 and s.p2p.timed_sync_s == 60
    assert (s.mining.target_s, s.mining.difficulty_window, s.mining.difficulty_lag,
            s.mining.difficulty_cut) == (120, 720, 15, 60)
    assert s.transactions.stem_peers == 2 and s.transactions.fluff_probability == 0.2
    assert s.transactions.embargo_mean_s == 39 and s.transactions.flush_mean_s == 5


def test_node_names_and_wallet_placement():
    s = scenario_from_dict({
        "nodes": [{"group": "m", "count": 2, "role": "miner", "hashrate": 1},
                  {"group": "u", "count": 1, "role": "user"}],
        "wallets": [{"name": "mw", "node_group": "m", "strategy": "mining_wallet"},
                    {"name": "uw", "nodes": ["u"]}],
    })
    assert s.node_names() == ["m-0", "m-1", "u"]
    assert [(w, n) for w, n, _ in s.wallet_placements()] == [("mw-0", "m-0"), ("mw-1", "m-1"), ("uw", "u")]


def test_yaml_typo_names_file_line_field_and_accepted(tmp_path):
    p = write(tmp_path, """\
        general:
          name: t
        p2p:
          out_peer: 8
        nodes:
          - {group: a, role: miner, hashrate: 1}
        """)
    with pytest.raises(ScenarioError) as exc:
        load_scenario(p)
    msg = str(exc.value)
    assert f"{p}:4" in msg and "p2p.out_peer" in msg and "out_peers" in msg


def test_bad_value_names_the_value_and_rule(tmp_path):
    p = write(tmp_path, """\
        general: {duration: soon}
        nodes:
          - {group: a, role: miner, hashrate: 1}
        """)
    with pytest.raises(ScenarioError, match=r"s.yaml:1: general.duration: bad value 'soon'.*90s"):
        load_scenario(p)


def test_invalid_yaml_reports_line(tmp_path):
    p = write(tmp_path, "nodes: [\n  {group: a\n")
    with pytest.raises(ScenarioError, match="invalid YAML"):
        load_scenario(p)


def test_missing_file(tmp_path):
    with pytest.raises(ScenarioError, match="cannot read scenario file"):
        load_scenario(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    "data,fragment",
    [
        ({"nodes": []}, "nodes"),
        ({"nodes": [{"group": "a", "role": "miner"}]}, "needs hashrate > 0"),
        ({"nodes": [{"group": "a", "hashrate": 2}]}, "only role: miner mines"),
        ({"nodes": [{"group": "a"}, {"group": "a"}]}, "appears twice"),
        ({"nodes": [{"group": "Bad_Name"}]}, "nodes[0].group"),
        ({"nodes": [{"group": "a"}], "wallets": [{"name": "w", "nodes": ["zz"]}]}, "node 'zz' does not exist"),
        ({"nodes": [{"group": "a"}], "wallets": [{"name": "w", "node_group": "b"}]}, "node_group 'b'"),
        ({"nodes": [{"group": "a"}], "mining": {"difficulty_cut": 400}}, "2*cut < window"),
        ({"nodes": [{"group": "a", "role": "boss"}]}, "nodes[0].role"),
    ],
)
def test_semantic_errors(data, fragment):
    with pytest.raises(ScenarioError) as exc:
        scenario_from_dict(data, source="inline")
    assert fragment in str(exc.value)


def test_overrides_by_shortcut_path_and_group_name():
    data = {"nodes": [{"group": "m", "role": "miner", "hashrate": 1}, {"group": "r", "count": 3}]}
    s = scenario_from_dict(data, overrides={"seed": 9, "duration": "3h", "out_peers": 4,
                                            "nodes.r.count": 5, "nodes.0.hashrate": 2.5})
    assert (s.general.seed, s.general.duration, s.p2p.out_peers) == (9, 10800, 4)
    assert s.nodes[1].count == 5 and s.nodes[0].hashrate == 2.5
    assert data["nodes"][1]["count"] == 3  # the input is not mutated


def test_override_of_unknown_list_item_lists_choices():
    with pytest.raises(ScenarioError, match=r"no list item 'x'.*\['m'\]"):
        apply_overrides({"nodes": [{"group": "m"}]}, {"nodes.x.count": 2})


def test_plugin_ref_shorthand():
    s = scenario_from_dict({"nodes": [{"group": "o", "role": "observer", "behaviour": "observer"},
                                      {"group": "m", "role": "miner", "hashrate": 1,
                                       "behaviour": {"name": "constant_mining", "interval": 60}}]})
    assert s.nodes[0].behaviour_ref().name == "observer"
    assert s.nodes[1].behaviour_ref().params == {"interval": 60}


def test_backend_section_shrinks_the_network_for_real_daemons():
    from pytest_monerosim.backends import RunOptions
    from pytest_monerosim.runner import for_backend

    s = scenario_from_dict({
        "nodes": [{"group": "m", "count": 4, "role": "miner", "hashrate": 1}, {"group": "r", "count": 96}],
        "backends": {"monerod": {"overrides": {"nodes.r.count": 1, "duration": "10m"}},
                     "shadow": {"options": {"general": {"parallelism": 2}}}},
    })
    options = RunOptions()
    real = for_backend(s, "monerod", options)
    assert real.total_nodes() == 5 and real.general.duration == 600
    assert for_backend(s, "sim", options) is s
    for_backend(s, "shadow", options)
    assert options.extra["shadow"] == {"general": {"parallelism": 2}}
    with pytest.raises(ScenarioError, match="backends.lxc|backends"):
        scenario_from_dict({"nodes": [{"group": "a"}], "backends": {"lxc": {}}})
