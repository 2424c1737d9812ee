"""Consensus on a Monero-like network: one chain, two-minute blocks, quick convergence.

Run: ``pytest scenarios/test_consensus.py`` (embedded simulator) or add
``--monerosim-backend=monerod`` for real daemons (the scenario's
``backends.monerod`` section shrinks the network to 5 nodes there; tests that
need the simulator's difficulty model or 100 nodes are marked sim-only, and so
is the stale-rate bound: the real backend's scaled time multiplies loopback relay
delays by its time scale, which inflates stale rates as 1 - exp(-d/T) predicts).
"""

import pytest

from pytest_monerosim import checks

pytestmark = pytest.mark.monerosim("../fixtures/scenarios/small_network.yaml")


def test_honest_nodes_end_on_one_chain(monero_network):
    # A block found in the last second may still be in flight: allow one block.
    checks.consensus_reached(monero_network, max_height_spread=1)
    assert monero_network.summary["consensus"]["distinct_tips"] <= 2


def test_blocks_arrive_every_two_minutes(monero_network):
    # Within four standard errors of 120 s (exponential intervals: 4/sqrt(n)).
    mean = checks.block_interval(monero_network, target=120)
    expected = monero_network.scenario.general.duration / 120
    assert monero_network.height() >= expected - 4 * expected**0.5
    assert mean > 0


def test_every_block_reaches_every_honest_node_quickly(monero_network):
    # Real daemons relay over loopback in ~0.1-0.3 s of wall time, which the real
    # backend's time scale (120 simulated s per wall s) stretches to tens of seconds.
    bound = 10 if monero_network.backend == "sim" else 90
    checks.converged_within(monero_network, seconds=bound)


@pytest.mark.monerosim_backends("sim")  # scaled time stretches real relay delays (see module doc)
def test_few_stale_blocks_and_no_deep_reorgs(monero_network):
    checks.stale_rate_at_most(monero_network, 0.03)
    checks.no_deep_reorgs(monero_network, max_depth=2)


@pytest.mark.monerosim_backends("sim")
@pytest.mark.monerosim_sweep(out_peers=[4, 8, 12])
def test_consensus_holds_with_fewer_outgoing_peers(monero_network, monerosim_params):
    checks.consensus_reached(monero_network, max_height_spread=1)
    checks.converged_within(monero_network, seconds=15)


@pytest.mark.monerosim_backends("sim")  # regtest runs at a fixed difficulty
@pytest.mark.monerosim(
    duration="30h",
    **{"nodes.miners.behaviour": {"name": "hashrate_mining", "steps": [{"at": "4h", "hashrate": 2.0}]}},
)
def test_difficulty_retargets_after_hashrate_doubles(monero_network):
    """Doubling every miner's hashrate first halves the interval; Monero's retarget
    (window 720, lag 15, cut 60) then brings it back to 120 s."""
    main = monero_network.result.main_chain()
    early = [b for b in main if 5 * 3600 < b.found_at < 9 * 3600]
    late = [b for b in main if b.found_at > 24 * 3600]
    fast = (early[-1].found_at - early[0].found_at) / (len(early) - 1)
    settled = (late[-1].found_at - late[0].found_at) / (len(late) - 1)
    assert fast < 90, f"right after the step blocks should come faster than 120 s, got {fast:.0f} s"
    assert 100 < settled < 140, f"after retargeting the interval should be ~120 s, got {settled:.0f} s"
    assert late[-1].difficulty > 1.6 * early[0].difficulty
