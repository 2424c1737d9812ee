"""Eclipse attacks on a Monero node (Heilman et al. 2015, adapted to monerod).

The attacker's addresses connect in to the victim, keep their white-list
entries the newest, advertise only each other, and wait for the victim to
restart (at 60 min). Everything below is measured from the victim's
connections and chain; nothing is declared by the attack.

Run: ``pytest scenarios/test_eclipse.py`` — the terminal summary ends with one
table per test: attacker share of the victim's outgoing slots
(``eclipse.out_fraction``), whether every slot fell (``eclipse.eclipsed``), how
far behind the honest chain the victim ended (``eclipse.height_lag``).
"""

import pytest

from pytest_monerosim.analysis.stats import mean

pytestmark = pytest.mark.monerosim("../fixtures/scenarios/eclipse.yaml")

OUT_PEERS = 12


@pytest.mark.monerosim_attack("eclipse", victim_anchors=2)
@pytest.mark.monerosim_attack("eclipse", victim_anchors=0)
def test_anchor_connections_decide_the_restart(monero_network, monerosim_attack):
    """Monero's defence after Heilman et al.: anchor connections survive a restart.

    monerod 0.18 keeps 2 anchor slots but, as it empties its anchor list when it takes it
    (``get_and_empty_anchor_peerlist``, ``src/p2p/net_node.inl``), a restarted node
    reconnects ONE anchor, the oldest that answers; real daemons do the same
    (``tests/agreement/test_peers_monerod.py``). One honest outgoing peer is what survives.
    """
    m = monero_network.attack("eclipse")
    if monerosim_attack.params["victim_anchors"] == 2:
        assert not m["eclipsed"], "with 2 anchors every outgoing slot fell to the attacker"
        assert m["honest_out"] >= 1, f"the victim kept {m['honest_out']} honest outgoing peers"
        assert m["victim_chain"] == "honest" and m["height_lag"] <= 1
        # ... although the attack acted: its addresses hold most of the victim's connections
        assert m["all_fraction"] > 0.5, f"the attacker held {m['all_fraction']:.0%} of them only"
    else:
        assert m["eclipsed"], f"without anchors the attacker held {m['out_fraction']:.0%} only"
        # Full eclipse as soon as the victim is back (60 s down) and refills its slots.
        assert m["time_to_eclipse_s"] <= 120


@pytest.mark.monerosim_attack("eclipse", victim_anchors=0)
def test_sync_search_wears_the_eclipse_down(monerosim_run, monerosim_attack):
    """monerod's sync search (``update_sync_search``, every 101 s) makes the victim, all of
    whose outgoing slots are taken, drop one outgoing peer and draw another. The honest
    entries of its lists win some of those draws: the full eclipse lasts minutes, the victim
    gets honest peers and the honest chain back. Without sync search it would last to the end."""
    attack = [{"name": "eclipse", "params": monerosim_attack.params}]
    rotating = monerosim_run(attacks=attack).attack("eclipse")
    frozen = monerosim_run(attacks=attack, **{"p2p.sync_search_s": None}).attack("eclipse")
    for m in (rotating, frozen):
        assert m["eclipsed"] and m["peak_out_fraction"] == 1.0 and m["time_to_eclipse_s"] <= 120
    remaining = 90 * 60 - rotating["restart_at"] - rotating["time_to_eclipse_s"]
    assert rotating["eclipse_held_s"] < remaining / 2, rotating["eclipse_held_s"]
    assert rotating["honest_out"] >= 1 and rotating["victim_chain"] == "honest", rotating
    assert frozen["out_fraction"] == 1.0 and frozen["victim_chain"] == "stalled", frozen


# What an eclipsed victim sees, while the eclipse lasts: sync search off (an ablation; with
# it the eclipse ends within minutes, test_sync_search_wears_the_eclipse_down).
@pytest.mark.monerosim("../fixtures/scenarios/eclipse.yaml", **{"p2p.sync_search_s": None})
@pytest.mark.monerosim_attack("eclipse", victim_anchors=0, relay_blocks=False, hashrate=0)
@pytest.mark.monerosim_attack("eclipse", victim_anchors=0, relay_blocks=True, hashrate=0)
@pytest.mark.monerosim_attack("eclipse", victim_anchors=0, relay_blocks=False, hashrate=1.0)
def test_eclipsed_victim_sees_only_what_the_attacker_shows(monero_network, monerosim_attack):
    """Starved, it stalls; fed, it keeps up; shown a private chain, it follows it."""
    m = monero_network.attack("eclipse")
    assert m["eclipsed"]
    after_restart = monero_network.result.height() - _height_at(monero_network, m["restart_at"])
    params = monerosim_attack.params
    if params.get("relay_blocks"):
        assert m["victim_chain"] == "honest" and m["height_lag"] <= 1
    elif params.get("hashrate"):
        assert m["victim_chain"] == "attacker"
    else:
        assert m["victim_chain"] == "stalled"
        # It has not moved since the eclipse: the lag is every block since the restart.
        assert m["height_lag"] >= after_restart - 1 >= 5


@pytest.mark.monerosim_attack("eclipse", victim_anchors=0)
@pytest.mark.monerosim_sweep(attackers=[4, 8, 16, 24, 32, 48])
def test_attacker_share_of_outgoing_slots_by_attacker_count(monero_network, monerosim_params):
    m = monero_network.attack("eclipse")
    n = monerosim_params["attackers"]
    held = round(m["out_fraction"] * OUT_PEERS)
    assert held <= n, f"{held} slots held with only {n} attacker addresses"
    if n >= 32:
        assert m["eclipsed"]


@pytest.mark.monerosim_attack("eclipse", victim_anchors=0, attackers=48)
@pytest.mark.monerosim_sweep(subnets=[1, 2, 4, 8, 16, 48])
def test_address_diversity_makes_the_attack_easier(monero_network, monerosim_params):
    """monerod takes one outgoing peer per /16 while it has other candidates. (The share the
    attacker takes when the victim refills its slots after the restart: its peak.)"""
    m = monero_network.attack("eclipse")
    subnets = monerosim_params["subnets"]
    held = round(m["peak_out_fraction"] * OUT_PEERS)
    if subnets < OUT_PEERS:
        assert held <= subnets and not m["eclipsed"], f"{held} slots held from {subnets} /16s"
    else:
        assert held >= OUT_PEERS - 1
    if subnets == 48:
        assert m["eclipsed"]


def test_eclipse_share_rises_with_attacker_count(monerosim_run):
    """Mean peak share of the victim's outgoing slots over three seeds, for growing attackers."""
    shares = {}
    for n in (4, 12, 32):
        runs = [
            monerosim_run(seed=seed, attacks=[{"name": "eclipse", "params": {"victim_anchors": 0,
                                                                             "attackers": n}}])
            for seed in (1, 2, 3)
        ]
        shares[n] = mean(r.attack("eclipse")["peak_out_fraction"] for r in runs)
    assert shares[4] < shares[12] < shares[32], f"share by attackers: {shares}"
    assert shares[32] == 1.0


def _height_at(run, t):
    """Height of the honest reference chain at time ``t``."""
    return max((b.height for b in run.result.main_chain() if b.found_at <= t), default=0)
