"""The eclipse share of a victim's outgoing slots at three attacker counts, real vs simulated.

``fixtures/scenarios/eclipse.yaml`` as its ``backends.monerod`` section shrinks it
(7 daemons: a seed, 2 miners, the victim, 3 relays; 20x time, so the 50 simulated
minutes of list poisoning before the restart are 2.5 of monerod's 60 s timed
syncs), attacked by the Levin attacker (:mod:`pytest_monerosim.backends.monerod.eclipse`)
from 2, 6 and 12 addresses, each in a /16 of its own. The simulator runs the same
shrunk scenario and attack, like for like with Debian's monerod 0.18.0.0
(``p2p.ping_back: false``, the backend's ``--add-peer`` bootstrap), over 16 seeds.

What monerod does that the numbers show: after the restart it reconnects one
anchor, refills its white slots from its white list (honest peers: an incoming
attacker is never whitelisted by this build) and takes the rest from the gray
list, where the attacker's advertised addresses are. With 6 honest peers for 12
slots the attacker can hold at most 6.

Before the restart the victim never probes its gray list: it has free outgoing
slots and its target height stays 0, since it takes every block as a relayed
block on a parent it has (``needs_new_sync_connections`` is true, and
``gray_peerlist_housekeeping`` skips; cryptonote_protocol_handler.inl). So its
gray list keeps all 12 attacker addresses and the honest relays that reached it
(2026-12-05, net.p2p:DEBUG log and ``get_peer_list`` of the victim: 12 attackers,
relays-0 and relays-1, its own address). The simulator probed there until the
same day (it took any block from a peer for a known target): each probe of an
attacker or relay connected in failed and dropped it, and the victim's gray picks
after the restart found fewer attackers (0.604 of the slots at 12 addresses
against 0.646 since).

About 6 minutes of wall time per attacker count: ``monerod_long``.
"""

from __future__ import annotations

from typing import Any

import pytest

from pytest_monerosim.backends.monerod.timing import wall_time_overrides
from pytest_monerosim.backends.sim import build_world
from pytest_monerosim.config.loader import apply_overrides, load_scenario
from pytest_monerosim.config.model import Scenario
from pytest_monerosim.registry import default_registry
from pytest_monerosim.runner import RunOptions, for_backend, run_scenario

COUNTS = (2, 6, 12)
HOLD_S = 600.0
"""The attacker stays off the victim after its restart for 10 simulated minutes, on both
sides. With the attack's default 30 s, the real attacker (at 20x: 1.5 wall seconds)
connects back in before the restarted daemon has dialled it, and monerod never dials a
peer already connected to it (``is_peer_used``): measured 0 of 5 and 1 of 6 outgoing
slots at 2 and 12 addresses against the simulator's 2 of 7 and 8-9 of 12."""
SIM_SEEDS = tuple(range(1, 17))
"""16 seeds (about a second of simulation per count): at 12 addresses one seed reads 0.583
or 0.667, and four seeds left the mean 0.02 to 0.04 off the 24-seed one (2026-12-05)."""
SLOT_TOLERANCE = 3
"""Real and simulated attacker slots (of the victim's 12) may differ by up to 3: one
victim per real run, and the real attacker's timing is wall-clock (connects,
re-handshakes each 60 s) where the simulator's is exact."""

pytestmark = pytest.mark.monerod_long


def attacked(base: Scenario, attackers: int) -> Scenario:
    data = base.model_dump(mode="json")
    data["attacks"] = [{"name": "eclipse", "params": {"attackers": attackers, "hold_s": HOLD_S}}]
    return Scenario.model_validate(data)


def sim_out_fraction(shrunk: Scenario, attackers: int, seed: int, time_scale: float) -> float:
    data = attacked(shrunk, attackers).model_dump(mode="json")
    data.pop("backends", None)
    data["general"]["seed"] = seed
    data["p2p"]["ping_back"] = False
    data["p2p"]["outgoing_host_limit"] = True
    data["p2p"]["add_peer"] = True  # the backend's --add-peer bootstrap
    # monerod's timers run in wall time: at 20x each lasts 20 times longer in protocol time
    # (2026-12-05, simulated means over the four seeds at 2/6/12 addresses: unscaled, once a
    # closed connection cut the simulator's maker back-off short as monerod's maker runs every
    # second, 0.113/0.042/0.376 of the slots; scaled 0.286/0.520/0.604; monerod's runs
    # 0.286/0.545/0.667 in session 3 and 0.286/0.545/0.75 on 2026-12-05).
    # 2026-12-05, later: the simulator's gray probes wait while the target height is 0
    # (relayed blocks do not set it: see the module docstring) and the real attacker's
    # re-handshake no longer leaves its addresses off the victim for up to 0.25 wall seconds
    # (backends/monerod/eclipse.py, EclipseRig.connect_in; in one run that gap let the victim
    # dial 9 of 12 before the restart: 0.75). Simulated over seeds 1-4 0.286/0.523/0.646,
    # over 1-16 0.286/0.528/0.630, over 1-24 0.281/0.525/0.625 (before the change, 1-24:
    # 0.173/0.487/0.642); monerod 0.286/0.545/0.667 (this file), and at 12 alone 0.583 in five
    # more runs (mean of the six 0.597). At 12 the victim's 9 gray picks after the anchor and
    # its 2 white peers come from 12 attackers and 2 honest relays, so one run reads 0.583
    # (both relays picked), 0.667 or 0.75: the simulator's seeds split 12/12 between the
    # first two; the real runs' 5 of 6 at 0.583 is not explained beyond chance.
    # Then (same day) the picks lost their fallback to connected /16s and a node whose target
    # is unknown fills white slots up to all 12 (both monerod 0.18, see docs/backends.md):
    # simulated over seeds 1-16 0.271/0.520/0.625 (the real side is unchanged by either).
    data = apply_overrides(data, wall_time_overrides(time_scale))
    world = build_world(Scenario.model_validate(data), default_registry(), snapshot_interval_s=None)
    return float(world.run().attacks["eclipse"]["out_fraction"])


def test_eclipse_share_of_outgoing_slots_at_three_attacker_counts(namespaced: None, fixtures_dir: Any,
                                                                  record_property: Any) -> None:
    base = load_scenario(fixtures_dir / "scenarios" / "eclipse.yaml")
    shrunk = for_backend(base, "monerod", RunOptions())
    rows = []
    for count in COUNTS:
        run = run_scenario(attacked(base, count), backend="monerod")
        real = run.attack("eclipse")
        scale = float(run.result.extra["timing"]["time_scale"] or 1.0)
        sims = [sim_out_fraction(shrunk, count, seed, scale) for seed in SIM_SEEDS]
        rows.append((count, real["out_fraction"], real["honest_out"], sims, real))
        record_property(f"eclipse.out_fraction[{count}]", f"real={real['out_fraction']} sim={sims}")
    print("\n".join(f"attackers={c}: real out_fraction {r} (honest_out {h}), simulated {s}"
                    for c, r, h, s, _ in rows))
    for count, real_f, honest, sims, real in rows:
        sim_mean = sum(sims) / len(sims)
        assert abs(real_f - sim_mean) * 12 <= SLOT_TOLERANCE, (count, real_f, sims, real)
        assert honest >= 1, f"the anchor stays honest: {real}"
        held = round(real_f * honest / (1 - real_f)) if real_f < 1 else None
        assert held is None or held <= count, f"an address holds one slot: {held} of {count}"
    real_by_count = [r for _, r, _, _, _ in rows]
    assert real_by_count[-1] >= real_by_count[0], real_by_count
