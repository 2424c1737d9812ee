"""The layout: one expansion of a scenario, read the same way by the simulator and the process plan."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pytest_monerosim.backends.plan import build_plan
from pytest_monerosim.backends.sim import build_world
from pytest_monerosim.config.errors import ScenarioError
from pytest_monerosim.config.loader import apply_run_overrides, load_scenario, scenario_from_dict
from pytest_monerosim.layout import build_layout
from pytest_monerosim.registry import Registry, default_registry

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def registry() -> Registry:
    return default_registry()


def two_groups(topology: object = "monero", **p2p: object) -> dict[str, object]:
    return {
        "general": {"name": "layout", "seed": 7, "duration": "1h"},
        "network": {"topology": topology, "latency": {"name": "constant", "latency_s": 0.04}},
        "p2p": p2p,
        "nodes": [
            {"group": "m", "count": 2, "role": "miner", "hashrate": 1.5, "out_peers": 3, "anchors": 1},
            {"group": "r", "count": 4, "in_peers": 9, "seed_node": True, "bandwidth_bps": 5e6},
        ],
    }


def test_each_node_gets_its_own_limit_else_the_scenario_default(registry: Registry) -> None:
    layout = build_layout(scenario_from_dict(two_groups(out_peers=5, in_peers=20, anchors=2)), registry)
    limits = {n.name: (n.out_peers, n.in_peers, n.anchors) for n in layout.nodes.values()}
    assert limits == {"m-0": (3, 20, 1), "m-1": (3, 20, 1), "r-0": (5, 9, 2), "r-1": (5, 9, 2),
                      "r-2": (5, 9, 2), "r-3": (5, 9, 2)}
    assert [n.index for n in layout.nodes.values()] == list(range(6))
    assert layout.seed_nodes == ["r-0", "r-1", "r-2", "r-3"] and layout.dynamic
    assert layout.total_hashrate == 3.0 and layout.seed == 7 and layout.duration == 3600.0


def test_mainnet_conditions_are_drawn_once_in_the_layout(registry: Registry) -> None:
    data = two_groups()
    data["nodes"][1].update(count=10, reachable=0.6, hidden=0.2, ban_list=["group:s", "1.2.3.4"],
                            churn={"mean_session_s": 600, "mean_downtime_s": 60, "fraction": 0.5})
    data["nodes"].append({"group": "s", "count": 3, "spy": {"relay": "none", "subnets": 1}})
    scenario = scenario_from_dict(data)
    layout = build_layout(scenario, registry)
    relays = [n for n in layout.nodes.values() if n.group == "r"]
    assert sum(not n.reachable for n in relays) == 4 and sum(n.hidden for n in relays) == 2
    assert not any(n.hidden and not n.reachable for n in relays)
    assert sum(n.churn is not None for n in relays) == 5 and set(layout.churn_streams) == {"r"}
    assert all(n.ban_list == ["group:s", "1.2.3.4"] for n in relays)
    assert [n.name for n in layout.nodes.values() if n.spy is not None] == ["s-0", "s-1", "s-2"]
    assert layout.conditions
    again = build_layout(scenario, registry)
    assert [(n.reachable, n.hidden, n.churn) for n in again.nodes.values()] == \
        [(n.reachable, n.hidden, n.churn) for n in layout.nodes.values()]
    world = build_world(scenario, registry, layout=layout)
    for name, spec in layout.nodes.items():
        assert (world.nodes[name].in_limit == 0) == (not spec.reachable)
        assert world.nodes[name].hidden == spec.hidden
    plain = build_layout(scenario_from_dict(two_groups()), registry)
    assert not plain.conditions and not plain.churn_streams
    assert all(n.reachable and not n.hidden and n.churn is None for n in plain.nodes.values())


def test_the_simulator_and_the_process_plan_read_one_layout_alike(registry: Registry) -> None:
    scenario = scenario_from_dict(two_groups(out_peers=5))
    layout = build_layout(scenario, registry)
    world = build_world(scenario, registry, layout=layout)
    plan = build_plan(scenario, registry, layout=layout)
    for name, spec in layout.nodes.items():
        node, host = world.nodes[name], plan.hosts[name]
        assert host.daemon is not None
        assert (node.out_limit, host.daemon.out_peers) == (spec.out_peers, spec.out_peers)
        assert host.daemon.in_peers == spec.in_peers
        assert (node.up_bps, host.bandwidth_up_bps) == (spec.up_bps, spec.up_bps)
        assert node.seed_node == host.seed_node == (name in layout.seed_nodes)
    assert [n.name for n in world.p2p.seeds] == layout.seed_nodes


def test_a_static_topology_gives_the_same_links_to_both(registry: Registry) -> None:
    scenario = scenario_from_dict({**two_groups(topology="ring"), "nodes": [
        {"group": "m", "count": 2, "role": "miner", "hashrate": 1}, {"group": "r", "count": 3}]})
    layout = build_layout(scenario, registry)
    world = build_world(scenario, registry, layout=layout)
    plan = build_plan(scenario, registry, layout=layout)
    for name, node in world.nodes.items():
        dialled = sorted(p.name for p, outgoing in node.static_peers.items() if outgoing)
        daemon = plan.hosts[name].daemon
        assert daemon is not None
        assert dialled == sorted(daemon.exclusive_peers) and daemon.out_peers == len(dialled)
    assert sorted(map(sorted, layout.graph.edges())) == sorted(
        sorted((u, v)) for u, v in plan.graph.edges() if "monitor" not in (u, v))


def test_add_peers_chain_every_node_through_its_seeds_and_predecessor(registry: Registry) -> None:
    """``--add-peer`` of the seeds and of the node started just before (start time, then
    scenario order): one list, read by the process plan and, with ``p2p.add_peer``, by the
    simulator's peer books (white list, last seen 0)."""
    data = two_groups()
    data["nodes"][0]["start_time"] = 60.0  # the miners start after the relays
    layout = build_layout(scenario_from_dict(data), registry)
    seeds = layout.seed_nodes
    assert seeds == ["r-0", "r-1", "r-2", "r-3"]
    add = {n.name: n.add_peers for n in layout.nodes.values()}
    assert add["r-0"] == ["r-1", "r-2", "r-3"]  # the predecessor of the next is a seed already
    assert add["m-0"] == seeds  # started after r-3, a seed
    assert add["m-1"] == [*seeds, "m-0"]
    plan = build_plan(layout.scenario, registry, layout=layout)
    assert {h.name: list(h.daemon.add_peers) for h in plan.daemon_hosts()} == add
    for flag in (False, True):
        data["p2p"] = {"add_peer": flag}
        world = build_world(scenario_from_dict(data), registry, snapshot_interval_s=None)
        book = world.node("m-1").book
        assert (dict(book.white) == {world.node(p).address: 0.0 for p in add["m-1"]}) is flag
        assert (len(book.white) == 0) is not flag
    static = build_layout(scenario_from_dict(two_groups(topology="ring")), registry)
    assert all(not n.add_peers for n in static.nodes.values())


def test_regions_come_from_the_layout(registry: Registry) -> None:
    scenario = load_scenario(ROOT / "fixtures" / "scenarios" / "regions.yaml")
    layout = build_layout(scenario, registry)
    world = build_world(scenario, registry, layout=layout)
    plan = build_plan(scenario, registry, layout=layout)
    regions = {n: s.region for n, s in layout.nodes.items()}
    assert all(regions.values())
    assert {n: w.region for n, w in world.nodes.items()} == regions
    assert {n: plan.hosts[n].region for n in regions} == regions


def test_a_region_the_latency_model_lacks_names_its_group(registry: Registry) -> None:
    data = two_groups()
    data["network"] = {"latency": {"name": "regions", "regions": [{"name": "eu"}, {"name": "us"}],
                                   "latency_s": {"eu": {"eu": 0.01, "us": 0.05}, "us": {"us": 0.01}}}}
    data["nodes"][1]["region"] = "atlantis"  # type: ignore[index]
    with pytest.raises(ScenarioError, match="atlantis") as err:
        build_layout(scenario_from_dict(data), registry)
    assert err.value.path == "nodes[1].region" and "group 'r'" in str(err.value)


def test_run_overrides_reach_the_scenario_and_so_the_layout(registry: Registry) -> None:
    scenario = apply_run_overrides(scenario_from_dict(two_groups()), seed=99, duration="2h",
                                   overrides={"p2p.out_peers": 4, "general.seed": 1})
    assert scenario.general.seed == 99 and scenario.general.duration == 7200.0  # seed wins over the path
    layout = build_layout(scenario, registry)
    assert layout.seed == 99 and layout.nodes["r-0"].out_peers == 4
    with pytest.raises(ScenarioError, match="general.seed"):
        apply_run_overrides(scenario, seed=-1)
    base = scenario_from_dict(two_groups())
    assert apply_run_overrides(base) is base


def test_a_layout_is_only_reused_for_its_unchanged_scenario(registry: Registry) -> None:
    scenario = scenario_from_dict(two_groups())
    layout = build_layout(scenario, registry)
    assert layout.is_layout_of(scenario)
    assert not layout.is_layout_of(scenario_from_dict(two_groups()))  # an equal copy is another scenario
    scenario.general.duration = 60.0
    assert not layout.is_layout_of(scenario)


def test_the_layout_imports_neither_backends_nor_pytest() -> None:
    code = ("import sys, pytest_monerosim.layout; "
            "bad = sorted(m for m in sys.modules if m == 'pytest' or m.startswith('_pytest') "
            "or m.startswith('pytest_monerosim.backends')); print(bad); sys.exit(1 if bad else 0)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
