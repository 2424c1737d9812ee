"""Pools: key-image rejection, ordering by fee per byte, template filling."""

from __future__ import annotations

from pytest_monerosim.sim.tx.mempool import AddResult, Mempool
from pytest_monerosim.sim.tx.outputs import Tx

_KEY_IMAGES: dict[str, int] = {}


def tx(tid: str, fee: int, weight: int = 1536, spends: tuple[int, ...] | None = None) -> Tx:
    """A tx with its own key image unless ``spends`` says otherwise."""
    ki = spends if spends is not None else (_KEY_IMAGES.setdefault(tid, 10**6 + len(_KEY_IMAGES)),)
    return Tx(tid, 0, "w", "n", ki, (ki,), (0,) * len(ki), (), fee, weight, 0.0, {})


def test_double_spend_in_pool_is_rejected() -> None:
    pool = Mempool("n")
    assert pool.add(tx("a", 100, spends=(7,)), 1.0) is AddResult.ADDED
    assert pool.add(tx("b", 500, spends=(7, 8)), 2.0) is AddResult.DOUBLE_SPEND
    assert pool.add(tx("a", 100, spends=(7,)), 3.0) is AddResult.DUPLICATE
    assert "b" not in pool and len(pool) == 1
    pool.remove("a")
    assert pool.add(tx("b", 500, spends=(7, 8)), 4.0) is AddResult.ADDED


def test_remove_conflicts_when_the_chain_spends_a_key_image() -> None:
    pool = Mempool("n")
    pool.add(tx("a", 100, spends=(1,)), 0.0)
    pool.add(tx("b", 100, spends=(2,)), 0.0)
    assert pool.remove_conflicts([2, 3]) == ["b"]
    assert list(pool.entries) == ["a"]


def test_order_is_fee_per_byte_then_arrival() -> None:
    pool = Mempool("n")
    pool.add(tx("cheap", 1000, 1000), 0.0)
    pool.add(tx("rich", 4000, 1000), 5.0)
    pool.add(tx("late", 2000, 1000), 9.0)
    pool.add(tx("early", 2000, 1000), 1.0)
    assert [e.tx.id for e in pool.ordered()] == ["rich", "early", "late", "cheap"]


def test_template_fills_by_fee_up_to_the_weight_limit() -> None:
    pool = Mempool("n")
    pool.add(tx("big", 60_000, 6_000), 0.0)  # 10/byte
    pool.add(tx("mid", 40_000, 5_000), 0.0)  # 8/byte
    pool.add(tx("small", 5_000, 1_000), 0.0)  # 5/byte
    # 10,000 bytes: big fits, mid does not (11,000), small still does
    chosen = pool.template(10_000)
    assert [t.id for t in chosen] == ["big", "small"]
    assert [t.id for t in pool.template(10_000, base_weight=4_000)] == ["big"]


def test_template_skips_stem_txs_and_unready_ones() -> None:
    pool = Mempool("n")
    pool.add(tx("stem", 9_000), 0.0, fluffed=False)
    pool.add(tx("ok", 5_000), 0.0)
    pool.add(tx("orphan", 7_000), 0.0)
    chosen = pool.template(100_000, ready=lambda t: t.id != "orphan")
    assert [t.id for t in chosen] == ["ok"]
    pool.add(tx("stem", 9_000), 1.0, fluffed=True)  # the fluff arrives: now minable
    assert [t.id for t in pool.template(100_000)][0] == "stem"


def test_template_stops_when_the_penalty_outweighs_the_fee() -> None:
    pool = Mempool("n")
    pool.add(tx("worth", 10_000, 1_000), 0.0)
    pool.add(tx("costly", 10, 1_000), 0.0)
    # reward drops by 100 once more than 1,000 bytes of txs are in
    chosen = pool.template(10_000, reward_for=lambda w: 1_000_000 - (100 if w > 1_000 else 0))
    assert [t.id for t in chosen] == ["worth"]
