"""Honest timing: relay delays measured from arrivals, and the scaling verdict."""

from __future__ import annotations

import math

import pytest

from pytest_monerosim.backends.monerod.timing import implied_stale_rate, timing_record
from pytest_monerosim.result.model import BlockRecord, NodeInfo, Result
from pytest_monerosim.result.summary import summarize


def chain_result(delays_sim: list[float], stale: int = 0) -> Result:
    """Genesis and one main-chain block per delay (arrival at the last node), plus stale blocks."""
    nodes = {n: NodeInfo(n, "g", "relay") for n in ("a", "b", "c")}
    blocks = {"g": BlockRecord("g", 0, None, "", 0.0, 1, 1, 0, arrivals={n: 0.0 for n in nodes})}
    parent = "g"
    for i, delay in enumerate(delays_sim, start=1):
        found = 120.0 * i
        blocks[f"b{i}"] = BlockRecord(f"b{i}", i, parent, "a", found, 1, i + 1, 1,
                                      arrivals={"a": found, "b": found + delay / 2, "c": found + delay})
        parent = f"b{i}"
    for k in range(stale):
        blocks[f"s{k}"] = BlockRecord(f"s{k}", 1, "g", "b", 100.0, 1, 2, 1, arrivals={"b": 100.0})
    return Result("t", "monerod", 1, 120.0 * len(delays_sim), nodes=nodes, blocks=blocks,
                  genesis="g", tips={n: parent for n in nodes})


def test_wall_delay_is_the_simulated_one_divided_by_the_scale() -> None:
    record = timing_record(chain_result([6.0, 6.0, 12.0]), time_scale=120.0, target_s=120.0)
    assert record["blocks_measured"] == 3
    assert record["relay_to_all_sim_s"]["p50"] == 6.0
    assert record["relay_to_all_wall_s"]["p50"] == pytest.approx(0.05)
    assert record["relay_to_all_wall_s"]["max"] == pytest.approx(0.1)
    assert record["latency_emulated"] is False


def test_a_scale_that_turns_milliseconds_into_seconds_is_flagged() -> None:
    # 50 ms of wall relay at 120x: 6 simulated s, ~4.9% implied stale vs 0.04% in real time
    record = timing_record(chain_result([6.0] * 5, stale=2), time_scale=120.0, target_s=120.0)
    assert record["scaling_artefact"] is True
    assert record["implied_stale_rate_at_scale"] == pytest.approx(1 - math.exp(-6 / 120), rel=1e-4)
    assert record["max_time_scale_for_1pct"] == pytest.approx(120 * -math.log(0.99) / 0.05, rel=1e-3)
    assert "artefact of the time scale" in record["note"]
    assert record["observed_stale_rate"] == pytest.approx(2 / 7)


def test_a_gentle_scale_is_not_flagged() -> None:
    record = timing_record(chain_result([0.06] * 5), time_scale=1.2, target_s=120.0)
    assert record["scaling_artefact"] is False


def test_no_complete_arrival_means_no_verdict() -> None:
    result = chain_result([1.0])
    del result.blocks["b1"].arrivals["c"]
    record = timing_record(result, time_scale=60.0, target_s=120.0)
    assert record["scaling_artefact"] is None and record["blocks_measured"] == 0


def test_the_summary_carries_timing_and_network_when_a_backend_recorded_them() -> None:
    result = chain_result([6.0])
    assert "timing" not in summarize(result)
    result.extra["timing"] = timing_record(result, time_scale=120.0, target_s=120.0)
    result.extra["network"] = {"isolation": "netns", "latency_emulated": False}
    result.extra["end_of_run"] = {"settled": True, "waited_s": 2.5, "tie_break_blocks": ["ab12"]}
    summary = summarize(result)
    assert summary["timing"]["relay_to_all_sim_s"]["p50"] == 6.0
    assert summary["network"]["isolation"] == "netns"
    assert summary["end_of_run"]["tie_break_blocks"] == ["ab12"]


def test_implied_stale_rate() -> None:
    assert implied_stale_rate(0.0, 120.0) == 0.0
    assert implied_stale_rate(120.0, 120.0) == pytest.approx(1 - math.exp(-1))
