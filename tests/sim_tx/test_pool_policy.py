"""Pool expiry, re-broadcast (monerod's relay back-off) and tx bytes on links (#14)."""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

import pytest_monerosim.attacks as attack_plugins
from pytest_monerosim.backends.sim import run_scenario
from pytest_monerosim.config.model import MAINNET_INPUTS, Scenario
from pytest_monerosim.registry import Registry
from pytest_monerosim.result.model import Result
from pytest_monerosim.sim.tx.bandwidth import TxBandwidth
from pytest_monerosim.sim.tx.fluff import FluffEngine
from pytest_monerosim.sim.tx.mempool import AddResult, Mempool
from pytest_monerosim.sim.tx.pool_policy import relay_delay, relay_times
from pytest_monerosim.sim.tx.weights import estimate_weight

from .conftest import make_registry as _tx_registry
from .conftest import quickstart
from .test_mempool import tx


def make_registry() -> Registry:
    registry = _tx_registry()
    registry.add_all(attack_plugins.PLUGINS)
    return registry


# -- monerod's formulas ------------------------------------------------------------------
def test_relay_back_off_is_monerods() -> None:
    # get_relay_delay: (last - received + 300) // 300 * 300, at most 4 h
    assert relay_delay(0, 0) == 300
    assert relay_delay(300, 0) == 600
    assert relay_delay(899, 0) == 900
    assert relay_delay(100_000, 0) == 14_400
    assert relay_times(0, 3 * 3600) == [300, 900, 2100, 4500, 9300]
    gaps = np.diff([0.0, *relay_times(0, 36 * 3600)])
    assert gaps[-1] == 14_400 and (gaps[:5] == [300, 600, 1200, 2400, 4800]).all()


def test_expired_tx_is_dropped_and_refused_unless_it_comes_from_a_block() -> None:
    pool = Mempool("n")
    pool.add(tx("old", 100), 0.0)
    pool.add(tx("young", 100), 100.0)
    pool.add(tx("popped", 100), 0.0, kept_by_block=True)
    assert pool.expire(250.0, livetime=200.0, alt_livetime=400.0) == ["old"]
    assert "young" in pool and "popped" in pool and "old" not in pool
    assert pool.add(tx("old", 100), 260.0) is AddResult.TIMED_OUT
    assert pool.add(tx("old", 100), 260.0, kept_by_block=True) is AddResult.ADDED
    assert pool.expire(401.0, livetime=200.0, alt_livetime=400.0) == ["young", "popped"]


# -- re-broadcast and expiry in whole runs -----------------------------------------------
CUT, HEAL = 8100.0, 9300.0


def _cut(heal: float | None, **tx: Any) -> Scenario:
    """Quickstart, with the users and the relay (the distributor's node) cut off from the
    miners from 8100 s, once the users send (txs sent from then on fluff only on their side)."""
    sc = quickstart("4h", **tx).model_dump(mode="python", exclude_unset=True)
    sc["attacks"] = [{"name": "partition", "params": {
        "parts": [["users", "relay"]], "start": CUT, "heal": heal}}]
    return Scenario.model_validate(sc)


def _cut_txs(result: Result) -> list[Any]:
    """Txs sent on the users' side of the cut while it lasted."""
    return [t for t in result.txs.values()
            if CUT + 10 <= t.created_at < HEAL and t.origin.startswith("users")]


@pytest.fixture(scope="module")
def healed() -> dict[bool, Result]:
    return {on: run_scenario(_cut(HEAL, rebroadcast=on), make_registry()) for on in (True, False)}


def test_a_tx_fluffed_only_behind_a_partition_reaches_the_miners_by_rebroadcast(
        healed: dict[bool, Result]) -> None:
    on, off = healed[True], healed[False]
    miners = [n for n in on.nodes if n.startswith("miners")]
    cut_on, cut_off = _cut_txs(on), _cut_txs(off)
    assert cut_on and cut_off
    # without re-broadcast, a tx fluffed during the cut never reaches a miner ...
    assert all(all(t.first_seen.get(m) is None for m in miners) for t in cut_off)
    assert all(t.status != "confirmed" for t in cut_off)
    # ... with it, the miners hear it after the heal, at a re-relay, and mine it
    assert on.extra["transactions"]["rebroadcast_deliveries"] > 0
    reached = [t for t in cut_on if any(t.first_seen.get(m) is not None for m in miners)]
    assert len(reached) == len(cut_on)
    assert all(min(t.first_seen[m] for m in miners if m in t.first_seen) >= HEAL for t in reached)
    assert sum(t.status == "confirmed" for t in cut_on) >= len(cut_on) * 0.8


def test_a_tx_never_mined_expires_and_its_wallet_gets_the_inputs_back() -> None:
    result = run_scenario(_cut(None, pool_livetime_s=1200), make_registry())
    expired = result.extra["transactions"]["expired"]
    cut = [t for t in result.txs.values()
           if CUT + 10 <= t.created_at < 4 * 3600 - 1300 and t.origin.startswith("users")]
    assert cut and all(t.id in expired for t in cut)
    for t in cut:
        assert expired[t.id] == pytest.approx(t.created_at + 1200, abs=1e-3)
    assert all(t.status != "confirmed" for t in cut)
    # the senders' wallets got the inputs back: a later tx of theirs spends them again
    first = cut[0]
    again = [t for t in result.txs.values() if t.sender == first.sender
             and t.created_at > expired[first.id] and set(t.key_images) & set(first.key_images)]
    assert again
    no_expiry = run_scenario(_cut(None), make_registry())
    assert no_expiry.extra["transactions"]["expired"] == {}


# -- bandwidth ----------------------------------------------------------------------------
def _pair(transfer: bool, up_bps: float) -> FluffEngine:
    nodes = [SimpleNamespace(index=0, up_bps=up_bps, down_bps=1e9),
             SimpleNamespace(index=1, up_bps=1e9, down_bps=1e9)]
    eng = FluffEngine(2, seed=3)
    eng.set_connections(np.array([0, 1]), np.array([1, 0]), np.full(2, 0.05), np.array([True, False]))
    if transfer:
        bw = TxBandwidth(nodes)  # type: ignore[arg-type]
        weights = np.array([1536, 3000])
        eng.transfer = lambda s, r, t: bw.message_delays(s, r, weights[t])
        eng.bw = bw  # type: ignore[attr-defined]
    return eng


@pytest.mark.parametrize("up_bps", [8_000.0, 64_000.0])
def test_a_slow_link_delays_a_flush_by_its_bytes(up_bps: float) -> None:
    fast, slow = _pair(False, up_bps), _pair(True, up_bps)
    for eng in (fast, slow):
        eng.inject(0, 0, 0.0)
        eng.inject(0, 1, 0.1)  # queued before the flush: one message of 1536 + 3000 bytes
        eng.advance(120.0)
    expected = 8 * (1536 + 3000) / up_bps
    for t in (0, 1):
        assert slow.seen.get(t, 1) - fast.seen.get(t, 1) == pytest.approx(expected, rel=1e-5)
    assert slow.bw.sent[0] == 1536 + 3000 and slow.bw.sent[1] == 0  # type: ignore[attr-defined]


def test_stem_and_fluff_bytes_are_counted_per_node_and_cost_time() -> None:
    fast = run_scenario(quickstart("1h20m"), make_registry())
    assert "bytes_sent" in fast.extra["transactions"]
    sent = fast.extra["transactions"]["bytes_sent"]
    weights = sum(t.weight for t in fast.txs.values())
    # every tx crosses every node that relays it at least once
    assert sum(sent.values()) >= weights * (len(fast.nodes) - 1) * 0.5
    off = run_scenario(quickstart("1h20m", tx_bandwidth=False), make_registry())
    assert "bytes_sent" not in off.extra["transactions"]


# -- shapes -------------------------------------------------------------------------------
def test_mainnet_input_shares_are_the_published_table() -> None:
    # research-lab#100: 54.07% one input, 38.98% two, 93.05% at most two
    total = sum(MAINNET_INPUTS.values())
    assert math.isclose(total, 100.0, abs_tol=0.01)
    assert round(MAINNET_INPUTS[1] + MAINNET_INPUTS[2], 2) == 93.05


def test_drawn_shapes_follow_the_distribution_and_set_weight_and_fee() -> None:
    shaped = run_scenario(quickstart("3h", shape={"inputs": {1: 1, 2: 1}, "outputs": {2: 1, 4: 1}}),
                          make_registry())
    plain = run_scenario(quickstart("3h"), make_registry())
    users = [t for t in shaped.txs.values() if t.sender and t.sender.startswith("user")]
    assert users and all(t.fee > 0 for t in users)
    assert {1, 2} <= {len(t.key_images) for t in users}  # both drawn (more when the amount needs)
    weights = {t.weight for t in users}
    # the weights are wallet2's estimates for the drawn counts; 4 outputs pay the BP+ clawback
    assert {estimate_weight(1, 2), estimate_weight(1, 4), estimate_weight(2, 4)} <= weights
    plain_users = [t for t in plain.txs.values() if t.sender and t.sender.startswith("user")]
    assert {t.weight for t in plain_users} <= {estimate_weight(k, 2) for k in range(1, 17)}
    # fee per byte is the tier's either way: the fee follows the weight
    per_byte = {round(t.fee / t.weight, -4) for t in users + plain_users}
    assert len(per_byte) <= 2


def test_an_extra_input_must_pay_for_its_own_bytes() -> None:
    from pytest_monerosim.sim.tx.builder import select_inputs
    from pytest_monerosim.sim.tx.fees import fee_for_weight

    per_byte = 20_000
    one = fee_for_weight(estimate_weight(1, 2), per_byte)
    spendable = [(1, 10**12), (2, 5), (3, 10**9)]
    chosen, fee = select_inputs(spendable, 10**12 - one, per_byte, 2, 16, min_inputs=2)
    assert [oid for oid, _ in chosen] == [1, 3]  # output 2 (5 units) cannot pay its bytes
    assert fee == fee_for_weight(estimate_weight(2, 2), per_byte)
    assert sum(v for _, v in chosen) >= 10**12 - one + fee


@pytest.mark.parametrize(("tx", "field"), [
    ({"shape": {"inputs": {0: 1}}}, "transactions.shape.inputs"),
    ({"shape": {"outputs": "bogus"}}, "transactions.shape.outputs"),
    ({"shape": {"outputs": {17: 1}}}, "transactions.shape.outputs"),
    ({"relay_backoff_min_s": 600, "relay_backoff_max_s": 300}, "relay_backoff_max_s"),
    ({"pool_livetime_s": 0}, "transactions.pool_livetime_s"),
])
def test_bad_pool_and_shape_settings_are_one_line_naming_the_field(tmp_path: Any, tx: dict[str, Any],
                                                                   field: str) -> None:
    import yaml

    from pytest_monerosim.config.errors import ScenarioError
    from pytest_monerosim.config.loader import load_scenario

    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"nodes": [{"group": "a", "count": 2}], "transactions": tx}))
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert field in str(err.value) and "\n" not in str(err.value).strip()


def test_a_slow_uplink_delays_every_tx_leaving_its_node_by_its_bytes() -> None:
    """Users on 20 kbit/s uplinks: the first other node to see a user's tx (its stem peer,
    or a fluff peer) sees it at least ``8 * weight / 20,000`` s after it was made."""
    def run(bandwidth: bool) -> Result:
        sc = quickstart("3h", tx_bandwidth=bandwidth).model_dump(mode="python", exclude_unset=True)
        sc["nodes"][1]["bandwidth_bps"] = 20_000
        return run_scenario(Scenario.model_validate(sc), make_registry())

    def first_hop(result: Result) -> list[tuple[float, float]]:
        out = []
        for t in result.txs.values():
            if not t.origin.startswith("users"):
                continue
            others = [s for n, s in t.first_seen.items() if n != t.origin and s is not None]
            if others:
                out.append((min(others) - t.created_at, 8 * t.weight / 20_000))
        return out

    slow, plain = first_hop(run(True)), first_hop(run(False))
    assert slow and plain
    assert all(delay >= transfer for delay, transfer in slow)
    assert any(delay < transfer for delay, transfer in plain)  # latency alone is shorter
