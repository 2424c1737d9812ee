"""Double spend: the trial step by step, the theory with a cut-off, check() errors,
real transactions in the tx layer, determinism."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_monerosim.agents import behaviours, wallets
from pytest_monerosim.analysis.theory import double_spend_exact
from pytest_monerosim.attacks import double_spend as ds
from pytest_monerosim.attacks.double_spend import DoubleSpend, LedgerTxs
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
    r.add_all(wallets.PLUGINS)
    r.add(ds.SPEC)
    return r


def scenario(miners: int = 2, *, behaviour: str = "standard_sync", seed: int = 3,
             duration: Any = 10_000, shop: bool = False, **params: Any) -> Scenario:
    data: dict[str, Any] = {
        "general": {"seed": seed, "duration": duration},
        "network": {"topology": "mesh", "latency": {"name": "constant", "latency_s": 0.05},
                    "verification_s": 0.02},
        "nodes": [{"group": "m", "count": miners, "role": "miner", "hashrate": 1.0,
                   "behaviour": behaviour},
                  {"group": "shop", "role": "relay"}],
        "attacks": [{"name": "double_spend", **params}],
    }
    if shop:
        data["wallets"] = [{"name": "till", "nodes": ["shop"]}]
    return Scenario.model_validate(data)


class Tiny:
    """Two honest miners and the attacker, each mining only when told; a merchant node."""

    def __init__(self, **params: Any) -> None:
        params.setdefault("q", 1 / 3)
        params.setdefault("z", 2)
        params.setdefault("pay_at", 10)
        params.setdefault("settle_s", 30)
        self.world: World = build_world(scenario(**params), registry(), snapshot_interval_s=None)
        for fn in self.world.hooks.setup:
            fn(self.world)
        self.world.engine.run(1.0)
        self.attack: DoubleSpend = next(c for c in self.world.hooks.components
                                        if isinstance(c, DoubleSpend))
        self.a: Node = self.world.nodes["ds-attacker"]
        self.m0: Node = self.world.nodes["m-0"]
        self.shop: Node = self.world.nodes["shop"]
        self.a.mining = False
        self.world.mining.update(self.a)
        self.world.engine.run(11.0)

    def find(self, node: Node, settle: float = 2.0) -> Block:
        block = self.world.mining.found(node)
        self.world.engine.run(self.world.engine.now + settle)
        return block


def test_a_successful_double_spend_step_by_step() -> None:
    t = Tiny()
    trial = t.attack.trial
    assert trial is not None and trial.phase == "premining" and t.attack.merchant is t.shop
    genesis = t.world.tree.genesis
    assert t.attack.strategy.base is genesis

    # an honest block while pre-mining: start again on it (no payment yet)
    h0 = t.find(t.m0)
    assert h0.tx_ids == () and t.attack.strategy.base is h0 and trial.phase == "premining"

    # the private block with the conflicting spend: now pay
    a1 = t.find(t.a)
    assert a1.parent is h0 and a1.tx_ids == (trial.conflict_id,)
    assert trial.phase == "waiting" and trial.payment_id == "ds0-payment"
    assert a1 not in t.shop.chain

    # the honest network includes the payment in its next block, on the same parent
    p1 = t.find(t.m0)
    assert p1.parent is h0 and p1.tx_ids == (trial.payment_id,)
    assert trial.phase == "waiting"  # one confirmation of two

    a2 = t.find(t.a)
    h2 = t.find(t.m0)
    assert h2.tx_ids == ()  # a pool does not take the payment twice
    assert trial.phase == "accepted" and trial.deficit_at_accept == 0
    assert t.shop.chain.on_main_chain(p1)
    assert t.attack.strategy.private == [a1, a2]  # equal weight: not yet

    a3 = t.find(t.a)  # heavier: release
    assert trial.phase == "released"
    assert t.shop.tip is a3 and not t.shop.chain.on_main_chain(p1)
    assert trial.reorg_depth == 2
    t.world.engine.run(t.world.engine.now + 30)
    assert trial.success is True and trial.phase == "done"
    assert t.attack.done == [trial] and not trial.payment_delayed

    # the payment is not mined again (its output is spent on the chain)
    assert t.find(t.m0).tx_ids == ()
    # and the next trial has begun
    assert t.attack.trial is not None and t.attack.trial.index == 1


def test_the_attacker_gives_up_past_the_cutoff() -> None:
    t = Tiny(z=1, give_up_deficit=2)
    trial = t.attack.trial
    assert trial is not None
    a1 = t.find(t.a)
    p1 = t.find(t.m0)
    assert trial.phase == "accepted" and trial.deficit_at_accept == 0
    t.find(t.m0)
    assert trial.phase == "accepted"  # 1 behind
    t.find(t.m0)  # 2 behind: give up
    assert trial.phase == "done" and trial.success is False
    assert t.attack.strategy.base is None and t.attack.strategy.private == []
    assert t.shop.chain.on_main_chain(p1) and a1 not in t.shop.chain
    # the attacker mines honestly until the next trial
    b = t.find(t.a)
    assert t.shop.tip is b


def test_without_premining_the_attacker_pays_at_once() -> None:
    t = Tiny(premine=False)
    trial = t.attack.trial
    assert trial is not None and trial.phase == "waiting" and trial.paid_at == 10
    p1 = t.find(t.m0)
    assert p1.tx_ids == (trial.payment_id,)
    # no private block yet: the fork point follows to the payment's parent
    assert t.attack.strategy.base is p1.parent
    a1 = t.find(t.a)
    assert a1.parent is p1.parent and a1.tx_ids == (trial.conflict_id,)


def test_trials_param_ends_the_run() -> None:
    sc = scenario(3, behaviour="hashrate_mining", duration="20d", q=0.3, z=1, trials=5)
    result = run_scenario(sc, registry(), snapshot_interval_s=None)
    m = result.attacks["double_spend"]
    assert m["trials"] == 5 and isinstance(m["success"], float)
    assert result.sim_seconds < 2 * 86400
    assert len(m["series"]["outcomes"]) == 5
    assert m["successes"] == sum(v for _, v in m["series"]["outcomes"])


def test_one_trial_reports_a_boolean_success() -> None:
    sc = scenario(3, behaviour="hashrate_mining", duration="2d", q=0.3, z=1, trials=1)
    m = run_scenario(sc, registry(), snapshot_interval_s=None).attacks["double_spend"]
    assert m["trials"] == 1 and isinstance(m["success"], bool)
    assert m["params"]["q"] == 0.3 and m["params"]["z"] == 1
    assert m["theory_exact"] == pytest.approx(double_spend_exact(0.3, 1))
    assert m["tx_model"] == "chain" and m["merchant"] == "shop"


def test_real_transactions_in_the_tx_layer() -> None:
    sc = scenario(3, behaviour="hashrate_mining", duration="2d", shop=True, q=0.35, z=1,
                  trials=12)
    result = run_scenario(sc, registry(), snapshot_interval_s=None)
    m = result.attacks["double_spend"]
    assert m["tx_model"] == "ledger" and m["trials"] == 12
    wins = [t for t, v in m["series"]["outcomes"] if v]
    assert 0 < len(wins) < 12
    statuses = [r.status for r in result.txs.values()]
    # every judged trial leaves one tx confirmed and its twin reversed
    assert statuses.count("reversed") >= 12 and statuses.count("confirmed") >= 12
    payments = [r for r in result.txs.values() if "till" in r.recipients]
    assert sum(1 for r in payments if r.status == "reversed") == m["successes"]
    for r in payments:
        assert r.sender is None and r.origin == "ds-attacker"
    # the conflicting spends were never relayed: only the attacker saw them before a release
    conflicts = [r for r in result.txs.values() if "ds-attacker" in r.recipients]
    assert len(conflicts) >= 12


def test_tx_layer_waits_for_an_unlocked_output() -> None:
    sc = scenario(3, behaviour="hashrate_mining", duration="6h", shop=True, q=0.3, z=1,
                  pay_at=60)
    world = build_world(sc, registry(), snapshot_interval_s=None)
    attack = next(c for c in world.hooks.components if isinstance(c, DoubleSpend))
    result = world.run()
    assert isinstance(attack.txs, LedgerTxs)
    m = result.attacks["double_spend"]
    # a coinbase needs 60 confirmations: nothing to pay with for the first hour or so
    # (the attacker's hashrate makes blocks come every 120 * 0.7 = 84 s at first)
    assert attack.funds_waits > 0
    assert m["trials"] > 0
    first = m["series"]["outcomes"][0][0]
    assert first > 3600


def test_same_seed_same_run_other_seed_other_run() -> None:
    def metrics(seed: int) -> dict[str, Any]:
        sc = scenario(3, behaviour="hashrate_mining", duration="1d", seed=seed, q=0.3, z=1)
        return run_scenario(sc, registry(), snapshot_interval_s=None).attacks["double_spend"]

    assert metrics(5) == metrics(5)
    assert metrics(5) != metrics(6)


@pytest.mark.parametrize(("params", "message"), [
    ({"q": 0.0}, "q=0.0: the attacker's share of the network hashrate must be in (0, 1)"),
    ({"q": 1.0}, "q=1.0"),
    ({"q": 1.5}, "q=1.5"),
    ({"q": -0.1}, "q=-0.1"),
    ({"z": 0}, "z=0: the merchant must wait for at least 1 confirmation"),
    ({"merchant": "nowhere"}, "merchant='nowhere' is not a node of the scenario"),
    ({"node": "shop"}, "node='shop' is already a node or group"),
    ({"give_up_deficit": 0}, "give_up_deficit=0"),
])
def test_bad_input_is_one_clear_error_before_the_run(params: dict[str, Any], message: str) -> None:
    with pytest.raises(ScenarioError) as err:
        prepare(scenario(**params), registry())
    assert message in str(err.value) and "attacks[0]" in str(err.value)


def test_with_wallets_the_merchant_needs_one() -> None:
    sc = Scenario.model_validate({
        "nodes": [{"group": "m", "count": 2, "role": "miner", "hashrate": 1.0},
                  {"group": "shop", "role": "relay"}, {"group": "other", "role": "relay"}],
        "wallets": [{"name": "w", "nodes": ["other"]}],
        "attacks": [{"name": "double_spend", "merchant": "shop"}]})
    with pytest.raises(ScenarioError, match="merchant='shop' has no wallet"):
        prepare(sc, registry())
    ok = sc.model_copy(update={"attacks": [sc.attacks[0].model_copy(
        update={"params": {"merchant": "shop", "merchant_wallet": "w"}})]})
    prepare(ok, registry())
    bad = sc.model_copy(update={"attacks": [sc.attacks[0].model_copy(
        update={"params": {"merchant_wallet": "nope"}})]})
    with pytest.raises(ScenarioError, match="merchant_wallet='nope' is not a wallet"):
        prepare(bad, registry())


# -- theory ----------------------------------------------------------------------------------


@pytest.mark.parametrize("q", [0.05, 0.1, 0.25, 0.3, 0.4, 0.45])
@pytest.mark.parametrize("z", [1, 2, 3, 6, 10])
def test_with_one_premined_block_the_race_is_rosenfelds(q: float, z: int) -> None:
    exact = double_spend_exact(q, z)
    assert ds.success_with_cutoff(q, z, 10_000) == pytest.approx(exact, rel=1e-9, abs=1e-15)
    cutoff = ds.auto_deficit(q)
    bound = (q / (1 - q)) ** (cutoff + 1)
    assert bound <= ds.CUTOFF_BIAS
    biased = ds.success_with_cutoff(q, z, cutoff)
    assert exact - bound <= biased <= exact
    # paying first needs one more block of luck
    assert ds.success_with_cutoff(q, z, 10_000, premined=0) < exact


def test_catch_up_probabilities() -> None:
    assert ds.catch_up_with_cutoff(0.3, -1, 5) == 1.0
    assert ds.catch_up_with_cutoff(0.3, 5, 5) == 0.0
    assert ds.catch_up_with_cutoff(0.3, 0, 1000) == pytest.approx(0.3 / 0.7)
    assert ds.catch_up_with_cutoff(0.5, 0, 9) == pytest.approx(0.9)
    assert ds.catch_up_with_cutoff(0.6, 2, 1000) == pytest.approx(1.0)
    assert ds.auto_deficit(0.1) == 4 and ds.auto_deficit(0.5) == ds.MAX_AUTO_DEFICIT


def test_analyze_pools_the_trials_of_each_run() -> None:
    from pytest_monerosim.analysis.aggregate import aggregate

    def summary(successes: int, trials: int) -> dict[str, Any]:
        return {"attacks": {"double_spend": {"params": {"q": 0.3, "z": 2},
                                             "success": successes / trials,
                                             "successes": successes, "trials": trials}}}

    (group,) = aggregate([summary(40, 100), summary(47, 100)])
    stat = group.metrics["success"]
    assert stat.kind == "rate" and stat.n == 200 and stat.value == pytest.approx(0.435)
    assert stat.theory == pytest.approx(double_spend_exact(0.3, 2)) and stat.agrees
    (one,) = aggregate([summary(43, 100)])
    assert one.metrics["success"].n == 100 and one.metrics["success"].low < 0.432 < one.metrics["success"].high


def test_a_custom_tx_model_and_a_refused_payment() -> None:
    from pytest_monerosim.agents.api import InsufficientFunds

    class Flaky(ds.ChainLevelTxs):
        """Chain-level txs whose first payment the attacker's node refuses."""

        def __init__(self) -> None:
            super().__init__(1_000)
            self.calls = 0

        def broadcast(self, trial: ds.Trial) -> None:
            self.calls += 1
            if self.calls == 1:
                raise InsufficientFunds("refused for the test")
            super().broadcast(trial)

    sc = scenario(3, behaviour="hashrate_mining", duration="1d", q=0.3, z=1)
    plain = sc.model_copy(update={"attacks": []})
    params = ds.DoubleSpendParams(q=0.3, z=1, trials=3)
    txs = Flaky()
    attack = DoubleSpend(params, txs)
    world = build_world(plain, registry(), snapshot_interval_s=None, components=[attack])
    result = world.run()
    m = result.attacks["double_spend"]
    assert attack.txs is txs and txs.calls == 4
    assert m["payments_refused"] == 1 and m["trials"] == 3
    assert [t.index for t in attack.done] == [0, 1, 2]
    assert any(r["event"] == "double_spend_payment_refused" for r in result.extra["log"])
