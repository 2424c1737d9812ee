"""Network partitions: two regions cut apart for an hour, then healed.

The partition attack installs a link filter between the parts and drops
every connection that crosses it; healing removes the filter and lets
monerod's connection making bridge the parts again. Europe holds 70% of the
hashrate. What is asserted is what the run measured: blocks per side, the
reorg the lighter side undergoes, the time until every honest node is back on
one tip.

Run: ``pytest scenarios/test_partition.py``.
"""

import pytest

from pytest_monerosim import checks

pytestmark = pytest.mark.monerosim("../fixtures/scenarios/partition.yaml")

EUROPE = [["region:europe"]]
RECONVERGE_BOUND_S = 600.0


@pytest.mark.monerosim_attack("partition", parts=EUROPE, start="30m", heal="90m")
def test_every_honest_node_reconverges_after_the_heal(monero_network):
    m = monero_network.attack("partition")
    late = not m["reconverged"] or m["reconverge_s"] > RECONVERGE_BOUND_S
    if late and monero_network.result.backend == "monerod":
        # the bound is the simulator's: a daemon skips for an hour every address it failed
        # to reach (P2P_FAILED_ADDR_FORGET_SECONDS = 3600, is_addr_recently_failed in
        # src/p2p/net_node.inl, monero 0.18), so what it tried across the cut stays out of
        # reach after the heal. The simulator keeps the same cache for one simulated hour
        # (sim/peers.py FAILED_ADDR_FORGET_S); monerod's runs in wall time, so at 60x it lasts
        # 60 simulated hours, and the scale multiplies its other reconnect timers too.
        pytest.xfail(f"real monerod reconnected {m.get('reconverge_s')} simulated s "
                     f"({m.get('reconverge_wall_s')} wall s) after the heal: its failed-address "
                     "cache (1 h of wall time, many simulated hours at this time scale) keeps "
                     "cross-cut peers out; the 600 s bound is the simulator's")
    assert m["reconverged"], "honest nodes were still on several tips at the end of the run"
    assert m["reconverge_s"] <= RECONVERGE_BOUND_S, f"took {m['reconverge_s']:.0f} s after the heal"
    checks.consensus_reached(monero_network, max_height_spread=1)


@pytest.mark.monerosim_attack("partition", parts=EUROPE, start="30m", heal="90m")
def test_the_heavier_side_wins(monero_network):
    m = monero_network.attack("partition")
    assert m["heavier"] == "a", f"Europe (70% of the hashrate) should have the heavier chain: {m}"
    assert m["heavier_won"] and m["winner"] == "a"
    assert m["blocks"]["a"] > m["blocks"]["rest"]


@pytest.mark.monerosim_attack("partition", parts=EUROPE, start="30m")
@pytest.mark.monerosim_sweep(heal=["45m", "60m", "90m", "120m"])
def test_reorg_depth_at_heal_is_what_the_lighter_side_mined(monero_network, monerosim_params):
    """The lighter side's blocks since the fork are thrown away in one reorg at the heal."""
    m = monero_network.attack("partition")
    late = not m["reconverged"] or m["reconverge_s"] > RECONVERGE_BOUND_S
    if late and monero_network.result.backend == "monerod":
        # the depth bounds assume the parts meet again at the heal, as in the simulator; real
        # monerod reconnects late (the failed-address cache, see the test above) and the
        # lighter side mines on meanwhile. Measured at 60x, load 0.3-12: heal=45m reconverged
        # in 307 s and passed; 60m in 854 s (lighter mined 8, reorg 4); 90m, 120m never.
        # A second run: 45m in 2247 s (xfail), 60m in 159 s (passed).
        pytest.xfail(f"real monerod reconnected {m.get('reconverge_s')} simulated s after the "
                     f"heal (bound {RECONVERGE_BOUND_S:.0f} s): lighter side mined "
                     f"{m['lighter_mined']}, reorg depth {m['reorg_depth']}")
    # The lighter side keeps mining on its own chain until it hears of the heavier one,
    # so its branch is what it mined from the cut until then (less its own stale blocks).
    assert m["lighter_blocks"] <= m["reorg_depth"] <= m["lighter_mined"]
    assert m["lighter_mined"] - m["reorg_depth"] <= 2, m
    assert m["reorg_depth"] <= m["orphaned"]
