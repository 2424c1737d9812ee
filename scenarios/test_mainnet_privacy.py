"""A research question on the mainnet twin: how well do the spies guess transaction origins?

The twin's spies (13,420 of ~16.4k reachable nodes in 2026, ProbeLab; they never dial out,
research-lab#126) log when and from whom each transaction first reaches any of them; the
first-spy estimator (Fanti et al., "Dandelion++", SIGMETRICS 2018) guesses that peer is the
origin. Questions answered here, on the 1/40 twin of ``test_mainnet_fidelity.py``:

* Does the MRL ban list (monero-project/meta#1124; ``--ban-list`` on every honest node,
  the best case of adoption) take the spies' precision away?
* How much does Dandelion++ hide compared with plain diffusion?

Each comparison is between Wilson 95% intervals of the precision (correct guesses over
guesses), so a difference is a statistical one, not a single draw. The figures the
default run measured are in docs/mainnet.md.
"""

from test_mainnet_fidelity import scaled_twin

from pytest_monerosim.analysis.stats import wilson_interval

HONEST_GROUPS = ("seeds", "pools", "qubic", "solo", "relays", "users", "senders")
BAN_EVERYWHERE = {f"nodes.{g}.ban_list": ["group:spies"] for g in HONEST_GROUPS}


def interval(spies: dict) -> tuple[float, float]:
    if not spies["guessed"]:
        return 0.0, 0.0  # no tx reached a spy straight from an honest node: nothing to guess
    ci = wilson_interval(round(spies["precision"] * spies["guessed"]), spies["guessed"])
    return ci.low, ci.high


def test_ban_list_takes_the_spies_precision_away():
    without = scaled_twin().summary["spies"]
    banned = scaled_twin(**BAN_EVERYWHERE).summary["spies"]
    assert without["txs"] > 200 and banned["txs"] > 200
    # banning nodes never connect to a spy, so no stem and no fluff reaches one directly
    assert banned["out_share"] == 0 and banned["exposed"] == 0, banned
    lo_without, _ = interval(without)
    _, hi_banned = interval(banned)
    assert hi_banned < lo_without, f"banned {banned['precision']}, without {without['precision']}"


def test_dandelion_hides_origins_that_diffusion_gives_away():
    dandelion = scaled_twin().summary["spies"]
    diffusion = scaled_twin(relay="diffusion").summary["spies"]
    assert dandelion["txs"] > 200 and diffusion["txs"] > 200
    _, hi_d = interval(dandelion)
    lo_f, _ = interval(diffusion)
    assert hi_d < lo_f, f"dandelion {dandelion['precision']}, diffusion {diffusion['precision']}"
    assert dandelion["precision"] < 0.6 * diffusion["precision"]
    # Under diffusion a spy hears a tx first from its origin whenever the origin has a spy
    # among its outgoing peers and flushes to it first; with Dandelion++ the stem goes to
    # one of 2 outgoing peers, so the spies learn it at the origin only as often as they
    # hold that stem slot: about their share of outgoing connections.
    assert dandelion["precision"] < dandelion["out_share"] + 0.15
