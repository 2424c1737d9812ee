"""White and gray list sizes after an hour, on real namespaced daemons and on the simulator.

The scenario of ``test_peers_monerod.py`` (eight relays, ``out_peers: 3``, no mining),
left running for an hour of protocol time. monerod's P2P timers run in wall time
(timed sync and gray-list probe once a minute, connection maker once a second), so the
real half takes an hour of wall time: marker ``monerod_long``. The simulator half runs
the same hour with the same bootstrap (``hosts.bootstrap_peers``) and Debian's failing
back pings (``p2p.ping_back: false``), over four seeds.

What an hour changes against the 130 s of the peers test: a daemon with all its
outgoing slots has probed its gray list about 60 times, so its gray entries have turned
white; one with a free slot never probes (``needs_new_sync_connections``: no block, so
no target height), and keeps them. Gossip adds little: timed syncs carry white lists,
and here those hold outgoing peers only.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from pytest_monerosim.backends.monerod.network import LoopbackNetwork
from pytest_monerosim.backends.sim import build_world
from pytest_monerosim.config.loader import apply_run_overrides
from pytest_monerosim.registry import Registry

from .helpers import debian_bootstrap
from .test_peers_monerod import eight_relays

HOUR_S = 3600.0
SEEDS = (13, 14, 15, 16)


def sim_lists(registry: Registry, seed: int, at: float = HOUR_S) -> dict[str, Any]:
    sc = eight_relays().model_copy(deep=True)
    sc.general.seed = seed
    sc.p2p.ping_back = False
    world = build_world(apply_run_overrides(sc, duration=at), registry, snapshot_interval_s=None)
    debian_bootstrap(world)
    world.run()
    nodes = world.nodes.values()
    return {"white": {n.name: len(n.book.white) for n in nodes},
            "gray": {n.name: len(n.book.gray_list) for n in nodes},
            "out": {n.name: n.out_count for n in nodes}}


def real_lists(registry: Registry, workdir: Path, at: float = HOUR_S) -> dict[str, Any]:
    net = LoopbackNetwork.from_scenario(eight_relays(), registry, workdir=workdir,
                                        isolation="netns", agents="none")
    try:
        assert net.isolation == "netns"
        net.start()
        began = time.monotonic()
        loads = []
        while time.monotonic() - began < at:
            time.sleep(min(300.0, max(0.0, at - (time.monotonic() - began))))
            loads.append(os.getloadavg()[0])
        lists = {h: d.rpc.get_peer_list() for h, d in net.daemons.items()}
        conns = {h: d.rpc.get_connections() for h, d in net.daemons.items()}
        return {"white": {h: len(pl["white_list"]) for h, pl in lists.items()},
                "gray": {h: len(pl["gray_list"]) for h, pl in lists.items()},
                "out": {h: sum(not c.get("incoming") for c in cs) for h, cs in conns.items()},
                "load": [round(x, 1) for x in loads]}
    finally:
        net.close()


def mean(values: Any) -> float:
    values = list(values)
    return sum(values) / len(values)


def test_simulated_lists_after_an_hour(registry: Registry) -> None:
    """The simulator half alone (seconds, in CI): after an hour only nodes with a free
    outgoing slot keep gray entries (about 60 probes turned the others' white), and no
    node knows more than the 7 others and itself. (Not every node knows all 7: a node
    hears only its peers' white lists, which hold their outgoing peers.)"""
    for seed in SEEDS[:2]:
        s = sim_lists(registry, seed)
        for name in s["white"]:
            assert s["white"][name] + s["gray"][name] <= 8, (name, s)
            if s["out"][name] == 3:
                assert s["gray"][name] <= 1, (name, s)  # at most its own address, heard again
        assert any(s["gray"][n] > 1 for n in s["out"] if s["out"][n] < 3), s


@pytest.mark.monerod_long  # an hour of wall time: monerod's P2P timers do not scale
def test_real_and_simulated_lists_after_an_hour(registry: Registry, namespaced: None, tmp_path: Path,
                                               record_property: Any) -> None:
    real = real_lists(registry, tmp_path / "run")
    sims = [sim_lists(registry, seed) for seed in SEEDS]
    rows = {
        "white list per node": (sorted(real["white"].values()), sorted(sims[0]["white"].values())),
        "gray list per node": (sorted(real["gray"].values()), sorted(sims[0]["gray"].values())),
        "outgoing per node": (sorted(real["out"].values()), sorted(sims[0]["out"].values())),
        "load average during the hour": (real["load"], None),
    }
    for key in ("white", "gray"):
        rows[f"{key} list, mean"] = (round(mean(real[key].values()), 2),
                                    round(mean(v for s in sims for v in s[key].values()), 2))
    for name, (r, s) in rows.items():
        record_property(f"agreement.hour.{name}", f"real={r} sim={s}")
    print("\n".join(f"{name}: real={r} sim={s}" for name, (r, s) in rows.items()))
    # Tolerance: the white and gray means within 1.0 of the simulator's (four seeds), as
    # after 130 s in test_peers_monerod.py.
    apart = {key: rows[f"{key} list, mean"] for key in ("white", "gray")
             if abs(rows[f"{key} list, mean"][0] - rows[f"{key} list, mean"][1]) > 1.0}
    if apart:
        # Measured once (2026-12-05, load 23 falling to 2 over the hour): real white 5.25,
        # gray 0.0, outgoing [2, 3, 3, 3, 3, 3, 3, 3]; simulated white 3.62, gray 1.62,
        # outgoing [0, 1, 2, 3, 3, 3, 3, 3]. On the simulator no connection of this scenario
        # ever closes, so the first nodes up, which every other node dialled, never get an
        # outgoing peer (monerod does not dial a peer already connected to it) and, with a
        # free slot and no block, never probe their gray lists. On monerod the seeds had
        # outgoing peers after the hour: connections closed and reopened the other way
        # round. Why they closed is not established (candidates: timed-sync timeouts while
        # the machine was at load 23; monerod's idle-connection handling), so the model is
        # not changed and the gap is reported, not hidden.
        pytest.xfail("list means after an hour beyond 1.0 apart (monerod, simulator): " + ", ".join(
            f"{key} {r} vs {s}" for key, (r, s) in apart.items()))
