"""Peer selection on real namespaced daemons and on the simulator, the same scenario on both.

Eight relays of the ``monero`` topology with ``out_peers: 3`` (so that every node
has more candidates than slots, and 3 × 70% = 2 of them are "white" slots),
each daemon its own namespace and /16. monerod's clock is not scaled: its
timed sync is 60 wall seconds and its connection maker runs every wall
second, so the simulator runs the same protocol seconds (``WAIT_S``), and the
node ``relay-3`` restarts at that point in both. What is compared (each with
the tolerance stated next to its assertion):

* outgoing connections per node (``get_connections`` / the simulator's links);
* the peer lists' sizes (``get_peer_list``: white, gray, and the addresses
  known at all);
* which peers the restarted node reconnects to: how many through its anchor
  list (monerod's ``net.p2p`` debug log names the list each outgoing pick came
  from: ``[peer_type=0]`` is an anchor, ``[peer_list=1]`` white, ``[peer_list=2]``
  gray), and how many of its outgoing peers after the restart were outgoing
  peers before it;
* what the crawler (:mod:`pytest_monerosim.p2p.crawler`) sees of the real
  network: every daemon, and edges between them (monerod hands out its white
  list, which holds 240.x addresses here, never loopback ones).

One test, one network (xdist never splits it): about 3 minutes of wall time.
"""

from __future__ import annotations

import dataclasses
import os
import re
import time
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from pytest_monerosim.backends.monerod.network import LoopbackNetwork
from pytest_monerosim.backends.monerod.restart import restart
from pytest_monerosim.backends.sim import build_world
from pytest_monerosim.config.loader import apply_run_overrides
from pytest_monerosim.config.model import Scenario
from pytest_monerosim.p2p import crawl_sync
from pytest_monerosim.registry import Registry

WAIT_S = 130.0
"""Protocol seconds before the restart: two of monerod's 60 s timed syncs (and two
gray-list housekeeping probes) on every connection."""
AFTER_RESTART_S = 25.0
VICTIM = "relay-3"
RELAYS = 8
DEBUG_P2P = "0,blockchain:INFO,net.p2p:DEBUG"
SELECTED = re.compile(r"Selected peer: \S+ (?P<addr>[\d.]+:\d+)[^\[\n]*\[(?P<kind>peer_type|peer_list)=(?P<n>\d)\]")


def eight_relays() -> Scenario:
    return Scenario.model_validate({
        "general": {"name": "agreement-peers", "duration": 3600, "seed": 13},
        "network": {"topology": {"name": "monero", "seeds": 2}},
        "p2p": {"out_peers": 3},
        "nodes": [{"group": "relay", "count": RELAYS}],
    })


# -- the simulator -------------------------------------------------------------------------


def sim_side(registry: Registry, seed: int, *, debian: bool = False) -> dict[str, Any]:
    """The scenario on the simulator. ``debian``: as the backend runs Debian's 0.18.0.0,
    whose back pings fail (``p2p.ping_back: false``), bootstrapped the way the backend
    bootstraps it (``p2p.add_peer``: ``--add-peer`` of the seeds and of the node
    started before, which monerod puts on the white list)."""
    sc = eight_relays().model_copy(deep=True)
    sc.general.seed = seed
    sc.p2p.ping_back = not debian
    sc.p2p.outgoing_host_limit = debian
    sc.p2p.add_peer = debian
    world = build_world(apply_run_overrides(sc, duration=WAIT_S + AFTER_RESTART_S), registry,
                        snapshot_interval_s=None)
    victim = world.node(VICTIM)
    out: dict[str, Any] = {}
    picks: list[str] = []

    def measure() -> None:
        out["out_per_node"] = {n.name: n.out_count for n in world.nodes.values()}
        out["white"] = {n.name: len(n.book.white) for n in world.nodes.values()}
        out["gray"] = {n.name: len(n.book.gray) for n in world.nodes.values()}
        out["own_in_gray"] = sum(n.address in n.book.gray for n in world.nodes.values())
        out["before"] = {p.name for p, link in victim.links.items() if link.outgoing}

    class Picks:
        """Which list each of the restarted victim's outgoing connections came from."""

        def on_connect(self, a: Any, b: Any, outgoing: bool) -> None:
            if a is victim and outgoing and world.engine.now >= WAIT_S:
                r = world.p2p.rounds.get(victim)
                picks.append(r.kind if r is not None and r.kind else "other")

    world.hooks.add(Picks())
    world.engine.at(WAIT_S - 0.001, measure)
    victim.restart(at=WAIT_S, downtime=5.0)
    world.run()
    out["picks"] = picks
    out["after"] = {p.name for p, link in victim.links.items() if link.outgoing}
    return out


# -- the real network ------------------------------------------------------------------------


def real_side(registry: Registry, workdir: Path) -> dict[str, Any]:
    net = LoopbackNetwork.from_scenario(eight_relays(), registry, workdir=workdir,
                                        isolation="netns", agents="none")
    out: dict[str, Any] = {"netns": net.netns.token if net.netns else None}
    try:
        assert net.isolation == "netns"
        victim_host = net.plan.host_of_node(VICTIM).name
        spec = net.daemon_specs[victim_host]
        net.daemon_specs[victim_host] = dataclasses.replace(spec, log_level=DEBUG_P2P)
        net.start()
        # the protocol clock starts when the daemons do (right after the warm-chain phase),
        # not when start() returns (it also waits for them to be ready and connected)
        daemons_started = net.started_wall + net.phases.get("warm_chain", 0.0)
        out["setup_s"] = round(time.time() - daemons_started, 1)
        names = {f"{net.ips[h]}:{d.ports.p2p}": h for h, d in net.daemons.items()}
        time.sleep(max(0.0, WAIT_S - (time.time() - daemons_started)))
        out["measured_at_s"] = round(time.time() - daemons_started, 1)
        conns = {h: d.rpc.get_connections() for h, d in net.daemons.items()}
        lists = {h: d.rpc.get_peer_list() for h, d in net.daemons.items()}
        out["out_per_node"] = {h: sum(not c.get("incoming") for c in cs) for h, cs in conns.items()}
        out["white"] = {h: len(pl["white_list"]) for h, pl in lists.items()}
        out["gray"] = {h: len(pl["gray_list"]) for h, pl in lists.items()}
        out["load"] = round(os.getloadavg()[0], 1)
        out["own_in_gray"] = sum(f"{net.ips[h]}:{net.daemons[h].ports.p2p}" in
                                 {f"{p['host']}:{p['port']}" for p in pl["gray_list"]}
                                 for h, pl in lists.items())
        out["known"] = {h: len({p["host"] for p in pl["white_list"] + pl["gray_list"]})
                        for h, pl in lists.items()}
        out["whitelisted"] = {f"{p['host']}:{p['port']}" for pl in lists.values() for p in pl["white_list"]}
        victim = net.daemons[victim_host]
        out["before"] = {names.get(f"{c['address']}", c["address"]) for c in conns[victim_host]
                         if not c.get("incoming")}
        # the crawler, from an address of the run's bridge, visiting only the run's hosts,
        # starting at the daemon with the longest white list (the crawl follows white lists:
        # from a seed daemon, whose white list may hold the other seed only, it reaches 2)
        source = net.attacker_addresses(1)[0]
        white_of = {f"{net.ips[h]}:{net.daemons[h].ports.p2p}":
                    {f"{p['host']}:{p['port']}" for p in pl["white_list"]} for h, pl in lists.items()}
        start = max(white_of, key=lambda a: (len(white_of[a]), a))
        seed = next(d for d in net.daemons.values() if f"{d.address}:{d.ports.p2p}" == start)
        crawl = crawl_sync([(seed.address, seed.ports.p2p)], source=source,
                           visit=lambda a: a[0] in set(net.ips.values()), timeout=5.0)
        out["crawl"] = crawl
        reach, todo = {start}, [start]  # what the white lists say the crawl must reach
        while todo:
            for nxt in white_of.get(todo.pop(), set()) - reach:
                reach.add(nxt)
                todo.append(nxt)
        out["white_closure"] = reach
        out["daemon_labels"] = set(names)
        # restart the victim: stop_daemon saves its lists and anchors
        offset = victim.log_path.stat().st_size if victim.log_path.exists() else 0
        victim.stop()
        time.sleep(5.0)
        restart(victim)
        victim.wait_ready(60.0)
        time.sleep(AFTER_RESTART_S)
        after = victim.rpc.get_connections()
        out["after"] = {names.get(c["address"], c["address"]) for c in after if not c.get("incoming")}
        text = victim.log_path.read_text(errors="replace")[offset:]
        kinds = {"peer_type": {"0": "anchor"}, "peer_list": {"1": "white", "2": "gray"}}
        out["picks"] = [kinds[m["kind"]].get(m["n"], m["n"]) for m in SELECTED.finditer(text)]
        out["victim_host"] = victim_host
    finally:
        net.close()
    return out


@pytest.mark.monerod_long  # 3 min of 8 real daemons whose timing moves with the machine's load: in
# two full `-n 2` runs on 2026-12-05 its crawler missed a whitelisted daemon once; CI keeps the
# simulator side (test_sim_peer_selection.py) and runs this with -m monerod_long.
def test_real_and_simulated_peer_selection_agree(registry: Registry, namespaced: None, tmp_path: Path,
                                                 record_property: Any) -> None:
    real = real_side(registry, tmp_path / "run")
    seeds = (13, 14, 15, 16)
    debian = [sim_side(registry, seed, debian=True) for seed in seeds]
    sims = debian + [sim_side(registry, seed) for seed in seeds]
    rows: dict[str, tuple[Any, Any]] = {}

    try:
        def mean(values: Any) -> float:
            values = list(values)
            return sum(values) / len(values)

        # outgoing per node. 8 nodes x 3 slots = 24 of 28 possible links, and monerod never
        # dials a peer already connected to it (is_peer_used, by peer id): the first nodes
        # up (the seeds) may find every candidate already an incoming peer. Tolerance: on
        # both, at least half the nodes fill all 3 slots, and the mean differs from the
        # simulator's (same bootstrap, four seeds) by at most 0.5. (Three real runs gave
        # [1,1,3,3,3,3,3,3], [2,3,3,3,3,3,3,3], [1,1,2,3,3,3,3,3]; the simulator [0,1,3,...].)
        real_out = sorted(real["out_per_node"].values())
        sim_out = [sorted(s["out_per_node"].values()) for s in sims]
        rows["outgoing per node"] = (real_out, sim_out[0])
        for label, outs in [("real", real_out)] + [(f"sim run {i}", o) for i, o in enumerate(sim_out)]:
            assert outs.count(3) >= RELAYS // 2, f"{label}: outgoing per node {outs}"
        debian_mean = mean(v for s in debian for v in s["out_per_node"].values())
        assert abs(mean(real_out) - debian_mean) <= 0.5, (real_out, sim_out)

        # peer lists after WAIT_S. Debian's monerod 0.18.0.0 never whitelists an incoming
        # peer (its back ping is refused by its own per-host limit, p2p.outgoing_host_limit;
        # upstream 0.18 checks that limit on incoming connections only), so its white lists hold only peers it dialled (connections, one gray probe a minute)
        # and gossip (timed syncs carry white lists) is slower. Like for like, the simulator
        # runs with p2p.ping_back: false and the backend's --add-peer bootstrap (p2p.add_peer). Tolerance:
        # the means over nodes (white, gray, known) within 1.0 of the simulator's (four seeds),
        # the fewest known no fewer than on the simulator (below). With working back pings
        # (the default) simulated white lists are longer by more than one entry on average.
        lists_apart: dict[str, tuple[float, float]] = {}
        for key in ("white", "gray"):
            rows[f"{key} list per node"] = (sorted(real[key].values()), sorted(debian[0][key].values()))
            real_mean = mean(real[key].values())
            sim_mean = mean(v for s in debian for v in s[key].values())
            rows[f"{key} list, mean"] = (round(real_mean, 2), round(sim_mean, 2))
            if abs(real_mean - sim_mean) > 1.0:
                lists_apart[key] = (round(real_mean, 2), round(sim_mean, 2))  # judged last: see below
        # monerod never filters its own address out of a peer list it merges (handle_remote_peerlist):
        # daemons that were dialled hear it back and hold it on the gray list until a gray probe
        # of it fails; probes wait while a daemon has a free outgoing slot and no target height
        # (needs_new_sync_connections; no block is mined here). Measured: 4 and 1 of 8 daemons
        # (2026-12-05, load 2.5 and 5); the simulator since it follows: 3 to 5 of 8 (seeds 13-28),
        # before: 0 always. Judged last (below): at least one real daemon.
        sim_own = mean(s["own_in_gray"] for s in debian)
        rows["daemons with their own address on the gray list"] = (real["own_in_gray"], sim_own)
        sim_known = [s["white"][n] + s["gray"][n] for s in debian for n in s["white"]]
        rows["addresses known, mean"] = (round(mean(real["known"].values()), 2), round(mean(sim_known), 2))
        assert abs(mean(real["known"].values()) - mean(sim_known)) <= 1.0, (real["known"], sim_known)
        # The fewest addresses a node knows: 3 of 7 on the simulator (a node hears only its
        # peers' white lists, which hold their outgoing peers), and 3 on monerod too in one of
        # four runs (2026-12-05, load 10: [7, 7, 3, 3, 5, 5, 7, 7]); was ">= 7 / 2" before the
        # gray-list model change showed that monerod's rules allow 3.
        sim_min_known = min(s["white"][n] + s["gray"][n] for s in debian for n in s["white"])
        assert min(real["known"].values()) >= sim_min_known, (real["known"], sim_min_known)
        working = [v for s in sims[len(debian):] for v in s["white"].values()]
        rows["white list, mean, back pings working (sim)"] = (None, round(mean(working), 2))
        assert mean(working) > mean(v for s in debian for v in s["white"].values()) + 1.0, working

        # the restart: exactly ONE connection through the anchor list on both
        # (get_and_empty_anchor_peerlist hands the whole list to one call; the next call
        # sees only the anchor just made), then white picks. Exact.
        real_anchor = real["picks"].count("anchor")
        sim_anchor = [s["picks"].count("anchor") for s in sims]
        rows["anchor reconnections after restart"] = (real_anchor, sim_anchor)
        rows["victim's picks after restart"] = (real["picks"], sims[0]["picks"])
        assert real_anchor == 1, f"real victim's picks after the restart: {real['picks']}"
        assert real["picks"][0] == "anchor", real["picks"]
        assert all(a == 1 and s["picks"][0] == "anchor" for a, s in zip(sim_anchor, sims, strict=True)), \
            [s["picks"] for s in sims]
        assert len(real["after"]) == 3 and all(len(s["after"]) == 3 for s in sims)
        kept_real = len(real["after"] & real["before"])
        kept_sim = [len(s["after"] & s["before"]) for s in sims]
        rows["outgoing peers kept across the restart (of 3)"] = (kept_real, kept_sim)
        assert kept_real >= 1 and all(k >= 1 for k in kept_sim), "the anchor is a peer from before"

        # the crawler on the namespaced network: it walks white lists (what monerod hands
        # out), so it reaches every daemon some daemon has whitelisted, and sees edges
        crawl = real["crawl"]
        labels = real["daemon_labels"]
        edges = [(a, b) for a, b in crawl.graph.edges if a in labels and b in labels]
        rows["crawler: daemons reached, edges"] = ((len(crawl.reachable), len(edges)), None)
        assert crawl.reachable <= labels and not crawl.failed, (crawl.reachable, crawl.failed)
        # every daemon the white lists (read a moment before) lead to from the start; was
        # "every whitelisted daemon, from the first daemon", which a seed's short white list
        # broke (2 reached, 2026-12-05)
        assert real["white_closure"] & labels <= crawl.reachable, (real["white_closure"], crawl.reachable)
        assert len(edges) >= len(crawl.reachable) - 1, f"edges between daemons: {edges}"
        assert nx.is_connected(crawl.undirected()), "the crawled graph is split"

        # The list means, judged last (every other comparison above held first). Before the
        # model followed monerod's gray list (own address kept, probes waiting while a slot is
        # free and no target height is known, failed probes recorded) the simulator's means were
        # white 4.56, gray 1.09 against real white 4.12, 3.5, 3.75 and gray 1.75, 2.5, 1.88
        # (2026-12-05); since: white 3.22, gray 2.2 (seeds 13-20), against real white 3.38,
        # 4.0, 3.75 and gray 1.88, 2.38, 2.12 (three more runs, load 6-9).
        assert real["own_in_gray"] >= 1, (real["own_in_gray"], sim_own)
        assert not lists_apart, "list means beyond 1.0 apart (monerod, simulator): " + ", ".join(
            f"{key} {real_m} vs {sim_m}" for key, (real_m, sim_m) in lists_apart.items())
    finally:
        rows["load average (1 min) at the measurement"] = (real["load"], None)
        rows["real: daemons' age when start() returned, when measured (s)"] = (
            (real["setup_s"], real["measured_at_s"]), WAIT_S)
        for name, (r, s) in rows.items():
            record_property(f"agreement.{name}", f"real={r} sim={s}")
        print("\n".join(f"{name}: real={r} sim={s}" for name, (r, s) in rows.items()))
