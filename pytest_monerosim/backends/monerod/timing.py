"""Honest timing: what scaled time does to relay delays on real daemons.

The real backend runs ``time_scale`` simulated seconds per wall second, but a
block still takes its real (wall) time to travel between daemons: monerod's
own processing, plus whatever the links add (nothing here: no latency
emulation). In the summary that wall delay is multiplied by the time scale:
50 ms of wall relay at 120x is 6 simulated seconds, far more than mainnet's.
A block found while a competing one is still "in flight" becomes stale, so
a run's stale rate can be an artefact of the scale rather than of Monero.

:func:`timing_record` measures, from the run's own block arrivals (monerod
logs, 1 ms resolution), how long each main-chain block took to reach every
node — in wall seconds and in the simulated seconds it became — and compares
the stale rate that delay implies at this time scale with the one it would
imply in real time (a block found within the delay of another competes with
it: ``1 - exp(-delay / target)`` for Poisson mining with mean interval
``target``). When the scale alone would make more than :data:`ARTEFACT_RATE`
of blocks stale, the run is flagged and the largest time scale that keeps
the implied stale rate below it is suggested.
"""

from __future__ import annotations

import math
from typing import Any

from ...result.model import Result
from ...result.summary import blocks_section
from ...result.summary import percentile as _pct

ARTEFACT_RATE = 0.01
"""Implied stale rate from scaled relay delay above which a run is flagged."""


def implied_stale_rate(delay_s: float, target_s: float) -> float:
    """Share of blocks found within ``delay_s`` of another, Poisson mining at ``target_s``."""
    if target_s <= 0:
        return 0.0
    return 1.0 - math.exp(-max(0.0, delay_s) / target_s)


def relay_delays_sim(result: Result) -> list[float]:
    """Per main-chain block: simulated seconds from found until every node had it."""
    nodes = set(result.nodes)
    out = []
    for block in result.main_chain()[1:]:
        if block.arrivals and nodes <= set(block.arrivals):
            out.append(max(block.arrivals[n] for n in nodes) - block.found_at)
    return out


def timing_record(result: Result, *, time_scale: float, target_s: float) -> dict[str, Any]:
    """The ``timing`` section: relay delay (wall and simulated), and the scaling verdict."""
    sim = relay_delays_sim(result)
    wall = [d / time_scale for d in sim]
    p50, p90 = _pct(wall, 50), _pct(wall, 90)
    record: dict[str, Any] = {
        "time_scale": time_scale,
        "latency_emulated": False,
        "blocks_measured": len(sim),
        "relay_to_all_wall_s": {"p50": _round(p50), "p90": _round(p90),
                                "max": _round(max(wall, default=None))},
        "relay_to_all_sim_s": {"p50": _round(_pct(sim, 50)), "p90": _round(_pct(sim, 90)),
                               "max": _round(max(sim, default=None))},
        "observed_stale_rate": blocks_section(result)["stale_rate"],
    }
    if p90 is None:
        record.update(scaling_artefact=None, note="no block reached every node: nothing to measure")
        return record
    scaled = implied_stale_rate(p90 * time_scale, target_s)
    real = implied_stale_rate(p90, target_s)
    record["implied_stale_rate_at_scale"] = round(scaled, 6)
    record["implied_stale_rate_real_time"] = round(real, 6)
    record["max_time_scale_for_1pct"] = (
        round(target_s * -math.log(1 - ARTEFACT_RATE) / p90, 1) if p90 > 0 else None)
    artefact = scaled > ARTEFACT_RATE and scaled > 2 * real
    record["scaling_artefact"] = artefact
    if artefact:
        record["note"] = (
            f"relay to every daemon took {p90 * 1000:.0f} ms wall (p90), which at {time_scale:g}x is "
            f"{p90 * time_scale:.1f} simulated s: about {scaled:.1%} of blocks would go stale from "
            f"scaling alone ({real:.2%} in real time); stale blocks here are an artefact of the time "
            f"scale; at most {record['max_time_scale_for_1pct']:g}x keeps that under 1%")
    else:
        record["note"] = (f"relay delay p90 {p90 * 1000:.0f} ms wall = {p90 * time_scale:.2f} simulated s "
                          f"at {time_scale:g}x: implied stale rate {scaled:.2%}")
    return record


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


__all__ = ["ARTEFACT_RATE", "implied_stale_rate", "relay_delays_sim", "timing_record"]


WALL_TIMERS: dict[str, float] = {
    # scenario field -> monerod's period in wall seconds (v0.18.0.0)
    "p2p.timed_sync_s": 60.0,  # P2P_DEFAULT_HANDSHAKE_INTERVAL (peer_sync_idle_maker)
    "p2p.sync_search_s": 101.0,  # m_sync_search_checker (update_sync_search)
    "p2p.connect_retry_s": 1.0,  # idle_worker runs connections_maker every second
    "transactions.epoch_s": 600.0,  # Dandelion++ epoch (levin_notify.cpp)
    "transactions.embargo_mean_s": 39.0,  # mean embargo before a stem tx is fluffed anyway
    "transactions.flush_mean_s": 5.0,  # mean fluff flush delay
    "transactions.relay_backoff_min_s": 300.0,  # tx_pool.cpp MIN_RELAY_TIME: first re-relay
    "transactions.relay_backoff_max_s": 14_400.0,  # MAX_RELAY_TIME
    "transactions.pool_livetime_s": 259_200.0,  # CRYPTONOTE_MEMPOOL_TX_LIVETIME
}
"""monerod's P2P and Dandelion++ timers, which run in wall time whatever the time scale."""


def wall_time_overrides(time_scale: float) -> dict[str, float]:
    """Scenario overrides that make a simulator run time monerod's timers as a real run at
    ``time_scale`` does: in the real run's protocol time each wall-time timer lasts
    ``time_scale`` times its period. For like-for-like comparisons of the two backends."""
    scale = float(time_scale or 1.0)
    return {field: period * scale for field, period in WALL_TIMERS.items()}
