"""Sybil attacks: attacker identities take connection slots and spy on transaction relay.

The sybil attack adds identities that join like ordinary nodes and advertise
only each other; honest nodes' new connections then land on them. Spies log
when, and from which peer, they first get every transaction; the first-spy
estimator guesses that peer is the transaction's origin. Dandelion++ (Monero's
relay since v0.13) sends a transaction along a random stem before anyone
broadcasts it, which is meant to defeat exactly this estimator (Fanti et al.,
SIGMETRICS 2018).

Run: ``pytest scenarios/test_sybil.py``; the tables show ``sybil.out_share``
(share of honest nodes' outgoing connections held by sybils) and
``sybil.precision`` of the first-spy estimator.
"""

import pytest

from pytest_monerosim.analysis.stats import wilson_interval

pytestmark = pytest.mark.monerosim("../fixtures/scenarios/sybil.yaml")

# Connection-share tests need no transactions: drop the wallets (no tx layer, fast runs).
NO_TXS = pytest.mark.monerosim(wallets=[])


@NO_TXS
@pytest.mark.monerosim_attack("sybil")
@pytest.mark.monerosim_sweep(identities=[2, 4, 8, 16, 32])
def test_sybil_share_of_connections_by_identities(monero_network, monerosim_params):
    m = monero_network.attack("sybil")
    n = monerosim_params["identities"]
    assert 0 < m["out_share"] < 1
    # Each honest node takes at most one peer per /16 while it has other candidates:
    # n identities in n /16s cannot hold more than n of anyone's 12 outgoing slots.
    assert m["out_share"] <= min(1.0, n / 12)


@NO_TXS
def test_sybil_share_grows_with_identities(monerosim_run):
    shares = [
        monerosim_run(attacks=[{"name": "sybil", "params": {"identities": n}}]).attack("sybil")["out_share"]
        for n in (2, 8, 32)
    ]
    assert shares == sorted(shares) and shares[-1] > 3 * shares[0], f"shares by identities: {shares}"


@NO_TXS
@pytest.mark.monerosim_attack("sybil", identities=16, subnets=1)
@pytest.mark.monerosim_attack("sybil", identities=16, subnets=16)
def test_identities_in_one_subnet_get_few_outgoing_slots(monero_network, monerosim_attack):
    """monerod avoids two outgoing peers in one /16: cheap sybils in one /16 gain little,
    at most about one slot of an honest node's 12; spread over 16 /16s they hold more than
    one /16 ever could. (Measured 2026-12-05: 0.019 and 0.217; before sync search, when
    honest nodes kept their first outgoing peers, 0.047 and 0.472.)"""
    m = monero_network.attack("sybil")
    if monerosim_attack.params["subnets"] == 1:
        assert m["out_share"] <= 2 / 12
    else:
        assert m["out_share"] > 1 / 12


@pytest.mark.monerosim_attack("sybil", identities=4)
def test_dandelion_sharply_cuts_first_spy_precision(monerosim_run, monerosim_attack):
    diffusion = monerosim_run(relay="diffusion").attack("sybil")
    dandelion = monerosim_run(relay="dandelion").attack("sybil")
    assert diffusion["txs"] > 300 and dandelion["txs"] > 300
    hi = wilson_interval(round(diffusion["precision"] * diffusion["guessed"]), diffusion["guessed"])
    lo = wilson_interval(round(dandelion["precision"] * dandelion["guessed"]), dandelion["guessed"])
    assert lo.high < hi.low, f"diffusion {hi}, dandelion {lo}"
    assert dandelion["precision"] < 0.6 * diffusion["precision"]
    # Under Dandelion++ the spies learn of a tx on a stem only when one of them is the stem
    # peer; their precision is then about the share of connections they hold.
    assert dandelion["precision"] < dandelion["out_share"] + 0.15


@pytest.mark.monerosim_attack("sybil", identities=8)
def test_first_spy_precision_on_real_dandelion(monerosim_run, request):
    """Spies speaking Monero's P2P protocol to real daemons, against monerod's own Dandelion++.

    ``pytest scenarios/test_sybil.py --monerosim-backend=monerod``: the spies connect to
    every daemon and, on the namespaced network, advertise each other so that daemons dial
    them (on loopback they can only be incoming peers, see ``backends/monerod/sybil.py``);
    the first-spy estimator runs on what they saw.
    The same scenario on the simulator, with Dandelion++ and with diffusion, gives the
    figures to compare with.
    """
    backend = request.config.getoption("monerosim_backend") or request.config.getini("monerosim_backend")
    if backend != "monerod":
        pytest.skip("compares real daemons with the simulator: run with --monerosim-backend=monerod")
    monero_network = monerosim_run()
    real = monero_network.attack("sybil")
    print(f"monerod spies: out_share {real['out_share']}, precision {real['precision']} "
          f"({real['guessed']}/{real['txs']}), stem_first {real['stem_first']}, {real['spy_model']}")
    scenario = monero_network.scenario  # as it ran: shrunk by its backends.monerod section
    # the same network on the simulator, run 2 h (not 1 h) to judge a few hundred transactions
    sim = monerosim_run(scenario, backend="sim", duration="2h").attack("sybil")
    diffusion = monerosim_run(scenario, backend="sim", relay="diffusion", duration="2h").attack("sybil")
    print(f"first-spy precision: monerod {real['precision']} ({real['guessed']}/{real['txs']} guessed), "
          f"simulator dandelion {sim['precision']} ({sim['guessed']}/{sim['txs']}), "
          f"simulator diffusion {diffusion['precision']} ({diffusion['guessed']}/{diffusion['txs']})")
    namespaced = monero_network.result.extra.get("network", {}).get("isolation") == "netns"
    from pytest_monerosim.backends.monerod.sybil import CONNECTORS
    from pytest_monerosim.backends.monerod.timing import wall_time_overrides

    connectors = CONNECTORS if namespaced else 8  # on namespaces the others wait to be dialled
    assert real["spy_connections"] == connectors * len(monero_network.nodes()), real["spy_connection_failures"]
    # At time scale 30 the wallets submit far fewer transactions than the scenario asks
    # (wallet-rpc transfers take seconds of wall time: 15 and 21 in two runs, of ~100), so
    # a run judges at least 10; nearly all must reach a spy.
    assert real["guessed"] >= 10 and real["guessed"] >= 0.8 * real["txs"], real
    hits = round(real["precision"] * real["guessed"])
    real_ci = wilson_interval(hits, real["guessed"])
    diffusion_ci = wilson_interval(round(diffusion["precision"] * diffusion["guessed"]), diffusion["guessed"])
    # The Dandelion++ of the daemons run, on the simulator: Debian's 0.18.0.0 fluffs a node's
    # own transactions in a fluff epoch (transactions.local_stem: false; fixed upstream in
    # a7bf3aff2), and its timers (10 min epochs, 39 s embargo, 5 s flushes) run in wall time,
    # i.e. time_scale times longer in the run's protocol time (so do its P2P timers and the
    # pool's re-relay back-off: backends.monerod.timing.WALL_TIMERS): one epoch covers the whole
    # real run, so every transaction of one wallet takes the same route, and a run's
    # transactions are a handful of independent trials, not dozens (a Wilson interval on
    # transactions is far too narrow). 20 whole simulated runs give the spread to compare with.
    scale = float(monero_network.result.extra["timing"]["time_scale"] or 1.0)
    like = {"transactions.local_stem": False, **wall_time_overrides(scale)}
    # The real spies are Levin peers that relay nothing: a stem sent to one ends there until
    # the sender's embargo fires (tx_pool.cpp, v0.18.0.0: get_relayable_transactions once the
    # embargo's last_relayed_time has passed, checked every idle second). The simulator's
    # sybils relay unless told not to: a run on 2026-12-05 with relaying sybils read 0.977 of
    # the txs in blocks against monerod's 0.448 (13/29; 97% of first sightings were stems).
    passive = scenario.model_dump()
    for attack in passive["attacks"]:
        if attack["name"] == "sybil":
            attack["params"]["relay"] = False
            if namespaced:  # the real spies' plan: CONNECTORS connect in, the rest are dialled
                attack["params"]["connectors"] = CONNECTORS
    if namespaced:
        # Debian's daemons apply the per-host limit to the connections they open too (failing
        # back pings: p2p.outgoing_host_limit), so the backend starts each with --add-peer of
        # its seeds and the daemon started before it (p2p.add_peer). Their seeds then hand out
        # nothing, so the simulated sybils join as the real spies do (connectors), not
        # through the seeds. (Before 2026-12-05 this ran without the limit: the scenario
        # runner could not bootstrap like the backend, and 20 runs with the limit but
        # sybils joining through the seeds made no sybil connection at all.)
        like.update({"p2p.outgoing_host_limit": True, "p2p.add_peer": True})
    runs = [monerosim_run(passive, backend="sim", **{"general.seed": seed}, **like) for seed in range(1, 21)]
    spied = [r.attack("sybil") for r in runs]
    per_run = sorted(m["precision"] for m in spied if m["guessed"])
    print(f"like for like (time scale {scale}, own txs fluffed in fluff epochs): simulated per-run "
          f"precision {per_run}; monerod {real['precision']} ({hits}/{real['guessed']})")
    # Transactions confirmed by the end, the same 1 h and the same wall-time timers on both.
    # A run's share swings with whether its few wallets' stem peers are spies (a stem sent
    # to a passive spy waits out the embargo, 39 s of wall time = 19.5 min of protocol time
    # at scale 30): monerod read 0.448 (13/29) in one run and 0.929 in another. So, as for
    # precision below, the real run is judged as one more draw: it must lie within the
    # simulated runs' range (for 20 exchangeable runs a new one falls inside with
    # probability 19/21), widened by 0.05 on each side. (Until 2026-12-05 this compared the
    # real run with the simulated mean, tolerance 0.2: a single run against a mean.)
    real_confirmed = monero_network.summary["transactions"]["in_blocks_ratio"]
    sim_confirmed = sorted(r.summary["transactions"]["in_blocks_ratio"] for r in runs)
    print(f"transactions in blocks at the end: monerod {real_confirmed}, simulator per run "
          f"{sim_confirmed} (mean {sum(sim_confirmed) / len(sim_confirmed):.3f})")
    assert sim_confirmed[0] - 0.05 <= real_confirmed <= sim_confirmed[-1] + 0.05, (real_confirmed,
                                                                                  sim_confirmed)
    if namespaced:
        # Daemons dial the spies from their gray lists, as the simulator's honest nodes dial
        # its sybils; both hold outgoing slots, both can be stem peers. Tolerance: the real
        # run's precision within the simulated runs' range, widened by 0.05 on each side.
        # (Measured 2026-12-05, load 6-12: monerod 0.897, 35/39 guessed right, all 39 seen by
        # a spy, 41% of first sightings stem arrivals; the simulator like for like 0.28 to
        # 0.99 per run, 0.747 pooled over 20 runs. Before the driver matched blobs through
        # every daemon, runs showed 1.0 on 13 of 21 and 13 of 15, 16 of 27 txs: the
        # transactions lost were counted as never seen. The simulator before: 0.48 to 0.60
        # pooled, with stems for own txs and Dandelion++ timers in protocol time.)
        # Against diffusion no single real run can show what Dandelion++ buys here (a run
        # is 3 wallets x 1 epoch): test_dandelion_sharply_cuts_first_spy_precision does.
        like_share = sorted(m["out_share"] for m in spied)
        print(f"outgoing share of the spies: monerod {real['out_share']}, simulator {sim['out_share']}, "
              f"like for like per run {like_share[0]}..{like_share[-1]}; "
              f"Wilson intervals (transactions as if independent): monerod {real_ci}, "
              f"simulated diffusion {diffusion_ci}")
        assert real["out_share"] > 0 and sim["out_share"] > 0, (real["out_share"], sim["out_share"])
        # Like for like (Debian's limit, the --add-peer bootstrap, the spies' plan), the same
        # range rule (2026-12-05: monerod 0.6667, every simulated run 0.6667).
        assert like_share[0] - 0.05 <= real["out_share"] <= like_share[-1] + 0.05, (real["out_share"],
                                                                                   like_share)
        assert per_run[0] - 0.05 <= real["precision"] <= per_run[-1] + 0.05, (real["precision"], per_run)
    else:
        # loopback: spies are incoming peers only and see fluffs only (monerod stems only
        # to outgoing peers); their precision stays below what diffusion gives them
        assert real_ci.high < diffusion_ci.low, f"monerod {real_ci}, simulated diffusion {diffusion_ci}"
        assert real["stem_first"] == 0 and real["out_share"] == 0


def test_sybil_on_the_mainnet_twin():
    """The sybil attack on the 1/40 mainnet twin, beside its 336 passive spies in 8 /16s.

    monerod's one-peer-per-/16 rule caps what addresses in few /16s can hold: the passive
    spies at 8 of an honest node's 12 outgoing slots however many addresses they have, the
    16 active identities (16 /16s) at 12. Within those caps sync search, an outgoing peer
    redrawn every 101 s, hands slots to whoever fills the lists: 336 spy addresses took
    0.52 of the slots, the 16 identities 0.08 (measured 2026-12-05; before sync search,
    when honest nodes kept their first peers, it was the other way round).
    """
    from test_mainnet_fidelity import scaled_twin

    run = scaled_twin(attacks=[{"name": "sybil", "params": {"identities": 16}}])
    sybil = run.attack("sybil")
    spies = run.summary["spies"]
    assert sybil["txs"] > 200
    assert 0 < spies["out_share"] <= 8 / 12, spies["out_share"]
    assert 0 < sybil["out_share"] and sybil["out_share"] + spies["out_share"] <= 1.0
    assert sybil["precision"] is not None and spies["precision"] is not None
