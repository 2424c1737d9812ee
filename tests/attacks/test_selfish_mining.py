"""Selfish mining: the Eyal-Sirer state machine step by step, check() errors, determinism."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_monerosim.agents import behaviours
from pytest_monerosim.attacks import selfish_mining as sm
from pytest_monerosim.attacks.selfish_mining import SelfishMining
from pytest_monerosim.backends.sim import build_world, run_scenario
from pytest_monerosim.config.errors import ScenarioError
from pytest_monerosim.config.model import Scenario
from pytest_monerosim.registry import Registry
from pytest_monerosim.runner import prepare
from pytest_monerosim.sim.chain import Block
from pytest_monerosim.sim.network import World
from pytest_monerosim.sim.node import Node
from pytest_monerosim.topology import plugins as topology_plugins


def registry() -> Registry:
    r = Registry()
    r.add_all(behaviours.PLUGINS)
    r.add_all(topology_plugins.PLUGINS)
    r.add(sm.SPEC)
    return r


def scenario(miners: int = 2, *, behaviour: str = "standard_sync", seed: int = 3,
             duration: Any = 10_000, **params: Any) -> Scenario:
    return Scenario.model_validate({
        "general": {"seed": seed, "duration": duration},
        "network": {"topology": "mesh", "latency": {"name": "constant", "latency_s": 0.1},
                    "verification_s": 0.02},
        "nodes": [{"group": "m", "count": miners, "role": "miner", "hashrate": 1.0,
                   "behaviour": behaviour}],
        "attacks": [{"name": "selfish_mining", **params}],
    })


class Tiny:
    """Two honest miners that mine only when told, and the selfish miner, on a mesh."""

    def __init__(self, **params: Any) -> None:
        params.setdefault("alpha", 1 / 3)
        params.setdefault("gamma", 0.5)  # 2 equal miners: pi = 1, every miner gets our block first
        self.world: World = build_world(scenario(**params), registry(), snapshot_interval_s=None)
        for fn in self.world.hooks.setup:
            fn(self.world)
        self.world.engine.run(1.0)
        self.attack: SelfishMining = next(c for c in self.world.hooks.components
                                          if isinstance(c, SelfishMining))
        self.a: Node = self.world.nodes["selfish-miner"]
        self.m0: Node = self.world.nodes["m-0"]
        self.m1: Node = self.world.nodes["m-1"]
        self.a.mining = False  # blocks only on demand from here on
        self.world.mining.update(self.a)

    def find(self, node: Node) -> Block:
        block = self.world.mining.found(node)
        self.world.engine.run(self.world.engine.now + 3.0)
        return block

    @property
    def state(self) -> str:
        return self.attack.strategy.state

    def tips(self) -> tuple[Block, Block]:
        return self.m0.tip, self.m1.tip


def test_the_state_machine_step_by_step() -> None:
    t = Tiny()
    assert t.attack.pi == 1.0
    assert len(t.a.links) == 2 and t.a.relaying is False

    # state 0 → 1: the attacker withholds its block
    a1 = t.find(t.a)
    assert t.state == "1" and t.attack.strategy.withheld == [a1]
    assert a1 not in t.m0.chain and a1 not in t.m1.chain

    # lead 1 and an honest block: publish, race (0'); m-1 got ours first, m-0 keeps its own
    h1 = t.find(t.m0)
    assert t.state == "0'" and t.attack.races == 1
    assert t.tips() == (h1, a1)

    # the next honest block is on our block (a gamma miner): the race is ours
    b = t.find(t.m1)
    assert b.parent is a1
    assert t.attack.races_gamma == 1 and t.state == "0"
    assert t.tips() == (b, b) and t.a.tip is b

    # lead 2 and an honest block: publish everything, the longer branch wins
    a2, a3 = t.find(t.a), t.find(t.a)
    assert t.state == "2" and a3.parent is a2
    h2 = t.find(t.m0)
    assert t.state == "0"
    assert t.tips() == (a3, a3)
    assert not t.m0.chain.on_main_chain(h2)

    # lead 3: an honest block makes us publish only the first withheld block
    a4, a5, a6 = t.find(t.a), t.find(t.a), t.find(t.a)
    assert t.state == "3"
    h3 = t.find(t.m0)
    assert t.attack.strategy.withheld == [a5, a6] and t.state == "2"
    assert a4 in t.m0.chain and t.m0.tip is h3  # tie: m-0 keeps its own block
    # ... and the next one (lead 1 left) makes us publish the rest
    h4 = t.find(t.m0)
    assert h4.parent is h3 and t.state == "0"
    assert t.tips() == (a6, a6)

    # a race lost: the next honest block is on the rival
    a7 = t.find(t.a)
    h5 = t.find(t.m0)
    assert t.state == "0'"
    h6 = t.find(t.m0)
    assert h6.parent is h5 and t.state == "0"
    assert t.attack.races_rival == 1
    assert t.tips() == (h6, h6) and not t.m0.chain.on_main_chain(a7)

    # a race the attacker wins by finding the next block itself
    a8 = t.find(t.a)
    t.find(t.m0)
    a9 = t.find(t.a)
    assert a9.parent is a8 and t.state == "0"
    assert t.attack.races_attacker == 1 and t.attack.races == 3
    assert t.tips() == (a9, a9)
    assert t.attack.withheld_total == 8  # every find but a9 (published at once)


def test_gamma_zero_races_reach_nobody_first() -> None:
    t = Tiny(gamma=0.0)
    assert t.attack.pi == 0.0
    a1 = t.find(t.a)
    h1 = t.find(t.m0)
    assert t.state == "0'"
    assert t.tips() == (h1, h1)  # our block arrives over slow links, after theirs
    assert a1 in t.m1.chain  # it did arrive


def test_two_quick_honest_blocks_beat_a_lead_of_one() -> None:
    t = Tiny()
    a1 = t.find(t.a)
    world = t.world
    # m-0 finds twice before anybody hears of it: our race block loses at once
    h1 = world.mining.found(t.m0)
    world.mining.found(t.m0)
    world.engine.run(world.engine.now + 3.0)
    assert t.state == "0" and t.attack.strategy.withheld == []
    assert a1 not in t.m1.chain or not t.m1.chain.on_main_chain(a1)
    assert t.m0.chain.on_main_chain(h1)


def test_metrics_of_a_short_run() -> None:
    result = run_scenario(scenario(4, behaviour="hashrate_mining", duration="2d", alpha=0.3,
                                   gamma=0.5), registry(), snapshot_interval_s=None)
    m = result.attacks["selfish_mining"]
    assert m["params"] == {"alpha": 0.3, "gamma": 0.5, "node": "selfish-miner",
                           "fast_latency_s": 0.001, "slow_latency_s": 1.0}
    assert m["attackers"] == ["selfish-miner"]
    assert 0 < m["revenue_share"] < 1 and m["revenue_share_se"] > 0
    assert m["attacker_main_blocks"] == round(m["revenue_share"] * m["main_blocks"])
    assert m["races"] == m["races_won_by_attacker"] + m["races_won_gamma"] + m["races_won_rival"] \
        or m["races"] == m["races_won_by_attacker"] + m["races_won_gamma"] + m["races_won_rival"] + 1
    assert m["gamma_measured"] == pytest.approx(
        m["races_won_gamma"] / (m["races_won_gamma"] + m["races_won_rival"]))
    assert m["theory_revenue"] == pytest.approx(sm.selfish_mining_revenue(0.3, m["gamma_measured"]))
    assert m["orphaned_honest"] > 0 and m["blocks_withheld"] > m["attacker_main_blocks"] / 2
    assert 0.25 < m["alpha_measured"] < 0.35
    # the attacker's blocks are in the result, and it is not an honest node
    assert "selfish-miner" not in result.honest_nodes()
    assert sum(1 for b in result.main_chain() if b.miner == "selfish-miner") >= m["attacker_main_blocks"]


def test_same_seed_same_run_other_seed_other_run() -> None:
    def metrics(seed: int) -> dict[str, Any]:
        sc = scenario(3, behaviour="hashrate_mining", duration="12h", seed=seed, alpha=0.3)
        return run_scenario(sc, registry(), snapshot_interval_s=None).attacks["selfish_mining"]

    assert metrics(5) == metrics(5)
    assert metrics(5) != metrics(6)


@pytest.mark.parametrize(("params", "message"), [
    ({"alpha": 0.0}, "alpha=0.0: the attacker's share of the network hashrate must be in (0, 0.5]"),
    ({"alpha": 1.0}, "alpha=1.0"),
    ({"alpha": -0.2}, "alpha=-0.2"),
    ({"alpha": 0.6}, "(0, 0.5]"),
    ({"gamma": 1.5}, "gamma=1.5"),
    ({"gamma": 0.9}, "gamma=0.9 cannot be realised with 3 honest miner(s)"),
    ({"node": "m-1"}, "node='m-1' is already a node or group"),
    ({"fast_latency_s": 2.0}, "slow_latency_s=1.0 must exceed fast_latency_s=2.0"),
])
def test_bad_input_is_one_clear_error_before_the_run(params: dict[str, Any], message: str) -> None:
    sc = scenario(3, **params)
    with pytest.raises(ScenarioError) as err:
        prepare(sc, registry())
    assert message in str(err.value)
    assert "attacks[0]" in str(err.value)


def test_a_network_without_miners_is_refused() -> None:
    sc = Scenario.model_validate({"nodes": [{"group": "r", "count": 3}],
                                  "attacks": [{"name": "selfish_mining"}]})
    with pytest.raises(ScenarioError, match="no miners"):
        prepare(sc, registry())


def test_race_probability_realises_gamma_in_expectation() -> None:
    rates = [1.0, 1.0, 2.0]
    top = sm.max_gamma(rates)
    assert top == pytest.approx(1 - (0.25 ** 2 * 2 + 0.5 ** 2))
    pi = sm.race_probability(0.4, rates)
    # E[gamma] = sum_f p_f * sum_{g != f} pi * p_g
    shares = [0.25, 0.25, 0.5]
    expected = sum(pf * sum(pi * pg for j, pg in enumerate(shares) if j != i)
                   for i, pf in enumerate(shares))
    assert expected == pytest.approx(0.4)
    assert sm.race_probability(0.0, rates) == 0.0
    assert sm.batch_se([True] * 10) is None
    assert sm.batch_se([i % 2 == 0 for i in range(400)]) == pytest.approx(0.0)


def test_analyze_uses_the_runs_own_standard_error() -> None:
    from pytest_monerosim.analysis.aggregate import aggregate

    row = {"params": {"alpha": 0.35, "gamma": 0.5}, "revenue_share": 0.41,
           "revenue_share_se": 0.01}
    (group,) = aggregate([{"attacks": {"selfish_mining": row}}])
    stat = group.metrics["revenue_share"]
    assert stat.low == pytest.approx(0.41 - 1.959964 * 0.01, abs=1e-6)
    assert stat.theory == pytest.approx(sm.selfish_mining_revenue(0.35, 0.5)) and stat.agrees
