"""Whole runs on the embedded simulator, held to the transaction checks."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_monerosim import checks
from pytest_monerosim.backends.sim import build_world, run_scenario
from pytest_monerosim.config.errors import ScenarioError
from pytest_monerosim.config.model import Scenario
from pytest_monerosim.registry import Registry
from pytest_monerosim.result.model import Result
from pytest_monerosim.result.summary import summarize, without_wall_clock

from .conftest import make_registry, quickstart


@pytest.fixture(scope="module")
def qs() -> Result:
    return run_scenario(quickstart(), make_registry())


def test_quickstart_meets_upstream_bar(qs: Result) -> None:
    """Upstream Monerosim's smoke bar for its quickstart run."""
    s = summarize(qs)
    assert s["blocks"]["main_chain_height"] >= 100
    assert s["consensus"]["max_height_spread"] <= 2
    assert s["transactions"]["created"] >= 150
    assert s["transactions"]["in_blocks_ratio"] >= 0.8
    users = [w for w in qs.wallets.values() if w.strategy == "transaction_bot"]
    assert len(users) == 3 and all(w.funded_at is not None for w in users)
    assert s["wallets"]["funded"] == s["wallets"]["count"] == 9


def test_quickstart_passes_the_tx_checks(qs: Result) -> None:
    checks.no_double_spend_on_chain(qs)
    checks.money_conserved(qs)
    assert checks.all_txs_relayed(qs, within_s=60) < 60
    checks.all_txs_confirmed(qs, within_blocks=10)
    got = checks.confirmation_latency(qs, p50_max_s=300)
    assert got["p50_s"] > 0


def test_quickstart_records(qs: Result) -> None:
    names = list(qs.nodes)
    tx = next(t for t in qs.txs.values() if t.status == "confirmed")
    assert tx.seen_times is not None and len(tx.seen_times) == len(names)
    assert tx.seen_by(names) == tx.first_seen and tx.reached == len(tx.first_seen)
    assert tx.first_seen[tx.origin] == tx.created_at
    assert all(len(r) == 16 for r in tx.rings) and len(tx.real) == len(tx.key_images)
    assert tx.fee > 0 and tx.weight >= 1536
    assert qs.blocks[tx.block].height > 0 and tx.confirmed_at >= tx.created_at
    extra = qs.extra["transactions"]
    assert extra["relay"] == "dandelion" and extra["stem_lengths"]
    users = [w for w in qs.wallets.values() if w.strategy == "transaction_bot"]
    assert all(w.tx_count > 0 and w.fees_paid > 0 for w in users)
    mining = [w for w in qs.wallets.values() if w.strategy == "mining_wallet"]
    assert sum(w.received for w in mining) > 0


def test_same_seed_same_summary() -> None:
    a = run_scenario(quickstart("3h"), make_registry())
    b = run_scenario(quickstart("3h"), make_registry())
    assert without_wall_clock(summarize(a)) == without_wall_clock(summarize(b))
    assert [t.first_seen for t in a.txs.values()] == [t.first_seen for t in b.txs.values()]


def test_plain_diffusion() -> None:
    result = run_scenario(quickstart("4h", relay="diffusion"), make_registry())
    assert result.extra["transactions"]["stem_lengths"] == {}
    checks.all_txs_relayed(result, within_s=60)
    checks.money_conserved(result)
    assert summarize(result)["transactions"]["created"] > 20


def test_unfundable_wallets_fail_before_the_run() -> None:
    sc = Scenario.model_validate({
        "nodes": [{"group": "users", "count": 2, "role": "user"}],
        "wallets": [{"name": "bot", "node_group": "users", "strategy": "transaction_bot"}],
    })
    with pytest.raises(ScenarioError, match="can never be funded"):
        build_world(sc, make_registry())


def _miners_and_sink(duration: str, seed: int) -> Scenario:
    return Scenario.model_validate({
        "general": {"duration": duration, "seed": seed},
        "network": {"topology": "mesh", "latency": {"name": "constant", "latency_s": 0.05}},
        "nodes": [{"group": "a", "count": 3, "role": "miner", "hashrate": 1.0},
                  {"group": "b", "count": 3, "role": "miner", "hashrate": 0.25},
                  {"group": "r", "count": 2, "role": "relay"}],
        "wallets": [{"name": "wa", "node_group": "a", "strategy": "mining_wallet"},
                    {"name": "wb", "node_group": "b", "strategy": "mining_wallet"},
                    {"name": "sink", "nodes": ["r-0"], "strategy": "hodler"}],
    })


def _richest(layer: Any, names: list[str]) -> Any:
    return max((layer.wallets[n] for n in names), key=lambda w: w.balance()[1])


def test_double_spend_race_one_wins() -> None:
    world = build_world(_miners_and_sink("4h", 3), make_registry(), snapshot_interval_s=None)
    layer = world.tx
    sent: dict[str, str] = {}

    def race() -> None:
        w = _richest(layer, ["wa-0", "wa-1", "wa-2"])
        first = w.transfer({layer.directory["sink"]: 10**12})
        sent["a"] = first
        sent["b"] = layer.double_spend(first, recipient="wb-0", node="b-2")

    world.engine.at(9000, race)
    result = world.run()
    statuses = sorted(result.txs[t].status for t in sent.values())
    assert statuses == ["confirmed", "rejected"]
    assert result.double_spends_rejected >= 1
    assert result.extra["transactions"]["double_spend_refusals"]
    checks.no_double_spend_on_chain(result)
    checks.money_conserved(result)


def test_double_spend_of_a_confirmed_tx_is_refused_at_once() -> None:
    world = build_world(_miners_and_sink("4h", 3), make_registry(), snapshot_interval_s=None)
    layer = world.tx
    seen: dict[str, Any] = {}

    def first() -> None:
        seen["tx"] = _richest(layer, ["wa-0", "wa-1", "wa-2"]).transfer({layer.directory["sink"]: 10**12})

    def second() -> None:
        try:
            layer.double_spend(seen["tx"], recipient="wb-0", node="r-1")
        except Exception as exc:  # noqa: BLE001 - the test looks at the type below
            seen["error"] = exc

    world.engine.at(9000, first)
    world.engine.at(11000, second)
    result = world.run()
    assert result.txs[seen["tx"]].status == "confirmed"
    assert type(seen["error"]).__name__ == "TransferRejected"
    assert [t.status for t in result.txs.values() if t.id != seen["tx"]] == ["rejected"]
    assert result.double_spends_rejected == 1
    checks.money_conserved(result)


def test_reorg_reverses_the_losing_spend_and_returns_other_txs_to_pools() -> None:
    world = build_world(_miners_and_sink("6h", 5), make_registry(), snapshot_interval_s=None)
    layer = world.tx
    ids: dict[str, str] = {}
    start = 14000

    def split(x: Any, y: Any) -> bool:
        return (x.group == "a") == (y.group == "a")

    def partition() -> None:
        world.add_filter(split)
        world.drop_links(lambda x, y: not split(x, y))

    def spend() -> None:
        b_side = sorted(["wb-0", "wb-1", "wb-2"], key=lambda n: -layer.wallets[n].balance()[1])
        ids["a"] = layer.wallets[b_side[0]].transfer({layer.directory["sink"]: 10**12})
        ids["c"] = layer.wallets[b_side[1]].transfer({layer.directory["sink"]: 2 * 10**12})
        ids["b"] = layer.double_spend(ids["a"], recipient="wa-0", node="a-0")

    world.engine.at(start, partition)
    world.engine.at(start + 60, spend)
    world.engine.at(start + 3600, world.remove_filter, split)
    result = world.run()
    assert any(r.depth >= 2 and r.node.startswith("b") for r in result.reorgs)
    status = {k: result.txs[v].status for k, v in ids.items()}
    assert status == {"a": "reversed", "b": "confirmed", "c": "confirmed"}
    checks.no_double_spend_on_chain(result)
    checks.money_conserved(result)
    # the sink (on the a side's chain now) holds c's 2 XMR, not a's 1 XMR
    assert result.wallets["sink"].balance == 2 * 10**12


def test_wallet_section_is_optional(registry: Registry) -> None:
    sc = Scenario.model_validate({"general": {"duration": "30m"},
                                  "nodes": [{"group": "m", "count": 2, "role": "miner", "hashrate": 1}]})
    result = run_scenario(sc, make_registry())
    assert result.txs == {} and result.wallets == {}


def test_black_holes_on_the_stem_are_beaten_by_the_embargo() -> None:
    sc = Scenario.model_validate({
        "general": {"duration": "5h", "seed": 8},
        "network": {"topology": {"name": "monero"}},
        "nodes": [
            {"group": "miners", "count": 4, "role": "miner", "hashrate": 1, "seed_node": True},
            {"group": "users", "count": 4, "role": "user"},
            {"group": "relays", "count": 20, "role": "relay"},
            {"group": "holes", "count": 10, "role": "observer"},
        ],
        "wallets": [
            {"name": "mw", "node_group": "miners", "strategy": "mining_wallet"},
            {"name": "u", "node_group": "users",
             "strategy": {"name": "transaction_bot", "interval_s": 60, "recipients": ["u"]}},
            {"name": "d", "nodes": ["relays-0"], "strategy": {"name": "distributor", "recipients": ["u"]}},
        ],
    })
    result = run_scenario(sc, make_registry())
    extra = result.extra["transactions"]
    assert extra["embargo_fired"] > 0
    relaying = [n for n, info in result.nodes.items() if info.role != "observer"]
    checks.all_txs_relayed(result, within_s=120, nodes=relaying)
    checks.money_conserved(result)


def test_a_spy_sees_every_tx_with_its_sender() -> None:
    world = build_world(quickstart("4h"), make_registry(), snapshot_interval_s=None)
    log: list[tuple[str, float, str | None, str]] = []
    world.tx.watch("relay", lambda tx, t, sender, phase: log.append((tx, t, sender, phase)))
    result = world.run()
    seen = {tx for tx, *_ in log}
    assert seen and seen <= set(result.txs)
    assert {phase for *_, phase in log} <= {"stem", "fluff", "origin"}
    first: dict[str, float] = {}
    for tx, t, _sender, _phase in log:
        first.setdefault(tx, t)
    for tx, t in first.items():
        assert result.txs[tx].first_seen["relay"] == pytest.approx(t, abs=1e-3)
    # a stem hop is seen again when the fluff comes back
    stems = {tx for tx, _t, _s, phase in log if phase == "stem"}
    assert any((tx, "fluff") in {(x, p) for x, _t, _s, p in log} for tx in stems)


def test_fluffy_block_charges_the_txs_a_node_lacks() -> None:
    world = build_world(quickstart("3h"), make_registry(), snapshot_interval_s=None)
    world.run()
    layer = world.tx
    wallet = max((w for w in layer.wallets.values() if w.strategy_name == "mining_wallet"),
                 key=lambda w: w.balance()[1])
    tid = wallet.transfer({layer.directory["user-0"]: 10**12})  # at the very end: not relayed yet
    tx = layer.ledger.txs[tid]
    origin, far = world.nodes[tx.origin], world.nodes["relay"]
    block = world.tree.new_block(origin.chain.tip, origin.name, world.engine.now, tx_ids=(tid,),
                                 tx_bytes=tx.weight, fees=tx.fee)
    assert layer.fluffy_missing_bytes(origin, block, None) == 0
    assert layer.fluffy_missing_bytes(far, block, origin) == tx.weight
    old = world.tree.get(world.nodes["relay"].chain.tip.id)
    assert all(layer.fluffy_missing_bytes(far, b, None) == 0 for b in old.chain()[-5:])


def test_wallet_balances_follow_monero_wallet_rules() -> None:
    world = build_world(_miners_and_sink("4h", 3), make_registry(), snapshot_interval_s=None)
    layer = world.tx
    seen: dict[str, Any] = {}

    def pay() -> None:
        w = _richest(layer, ["wa-0", "wa-1", "wa-2"])
        before = w.balance()
        tid = w.transfer({layer.directory["sink"]: 10**12})
        tx = layer.ledger.txs[tid]
        spent = sum(layer.ledger.outputs[ki].amount for ki in tx.spends)
        seen.update(wallet=w.name, before=before, after=w.balance(), tx=tx, spent=spent,
                    sink=layer.wallets["sink"].balance())

    def later() -> None:
        seen["sink_later"] = layer.wallets["sink"].balance()

    world.engine.at(9000, pay)
    world.engine.at(9000 + 20 * 120, later)
    result = world.run()
    tx = seen["tx"]
    # the total drops by amount + fee at once (pending change still counts), the unlocked
    # balance by everything the inputs held
    assert seen["after"][0] == seen["before"][0] - 10**12 - tx.fee
    assert seen["after"][1] == seen["before"][1] - seen["spent"]
    assert seen["sink"] == (0, 0)  # nothing until a block carries it
    assert seen["sink_later"] == (10**12, 10**12)  # 20 blocks later: confirmed and unlocked
    rec = result.wallets["sink"]
    assert rec.balance == rec.received == 10**12 and rec.funded_at is not None
    payer = result.wallets[seen["wallet"]]
    assert payer.fees_paid == tx.fee and payer.sent == 10**12 and payer.tx_count == 1
