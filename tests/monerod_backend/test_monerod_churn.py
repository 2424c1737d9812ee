"""Churn on real, namespaced daemons: the layout's downtimes replayed (``backends/monerod/churn.py``).

Five daemons (``monero`` topology), one of which churns (sessions of 2 min on average,
downtimes of at least 60 s) through 10 simulated minutes at time scale 10: it is
stopped and started again at the layout's times, on its data directory, and comes
back knowing its peers.
"""

from __future__ import annotations

import shutil
import time

import pytest

from pytest_monerosim.backends.monerod import netns
from pytest_monerosim.backends.monerod.network import LoopbackNetwork
from pytest_monerosim.backends.monerod.process import live_processes
from pytest_monerosim.config.model import Scenario
from pytest_monerosim.layout import build_layout
from pytest_monerosim.layout.conditions import churn_schedule
from pytest_monerosim.registry import Registry

pytestmark = [
    pytest.mark.monerod,
    pytest.mark.skipif(shutil.which("monerod") is None, reason="needs monerod (Debian package 'monero')"),
    pytest.mark.skipif(not netns.netns_support()[0], reason=netns.netns_support()[1]),
]

DURATION_S = 600.0
TIME_SCALE = 10.0


def churning() -> Scenario:
    return Scenario.model_validate({
        "general": {"name": "churn", "duration": DURATION_S, "seed": 3},
        "network": {"topology": "monero"},
        "p2p": {"out_peers": 3},
        "nodes": [
            {"group": "relay", "count": 4},
            {"group": "flaky", "churn": {"mean_session_s": 120, "mean_downtime_s": 90,
                                         "min_session_s": 60, "min_downtime_s": 60}},
        ],
    })


def test_a_churning_daemon_goes_down_and_comes_back_at_the_layouts_times(registry: Registry,
                                                                         tmp_path) -> None:
    sc = churning()
    planned = churn_schedule(build_layout(sc, registry))["flaky"]
    assert len(planned) >= 2, planned  # seed 3: the schedule this test is about
    net = LoopbackNetwork.from_scenario(sc, registry, workdir=tmp_path / "run", isolation="netns",
                                        agents="none", time_scale=TIME_SCALE)
    seen: list[tuple[float, bool]] = []  # (run time, answered)
    try:
        net.start()
        flaky = net.daemons["flaky"]
        assert flaky.spec.downtimes == tuple(planned)
        end = net.t0 + DURATION_S / TIME_SCALE  # type: ignore[operator]
        last_back = planned[-1][1]
        assert last_back < DURATION_S  # seed 3: the last return falls inside the run
        while net.now() < last_back - 2 * TIME_SCALE:  # poll until shortly before the last return
            net.run(duration=min(DURATION_S, net.now() + 5.0))
            try:
                flaky.rpc.get_info()  # (refused when down: retried for 0.7 wall seconds)
                seen.append((net.now(), True))
            except Exception:  # noqa: BLE001 - down: connection refused
                seen.append((net.now(), False))
            time.sleep(0.2)
        # the caller comes back after the run's end (as a slow poll did in CI): the return due
        # before the end still happens, on the late call
        time.sleep(max(0.0, end - time.time()) + 0.5)
        net.run(duration=DURATION_S)
        white = None
        if not flaky.stopped_on_purpose:  # back at the end (restarted just now: let it load)
            flaky.wait_ready()
            white = len(flaky.rpc.get_peer_list().get("white_list", []))
        result = net.collect()
    finally:
        net.close()
    assert not live_processes(), f"processes outlived the network: {live_processes()}"
    due = [d for d in planned if d[0] <= DURATION_S]
    churn = result.extra["churn"]
    assert churn["nodes"] == 1 and churn["stops"] == len(due), (churn, due)
    assert churn["restarts"] == sum(1 for _, back in due if back <= DURATION_S), churn
    # down inside each planned downtime, up between them (a margin for stop and start times)
    margin = 1.5 * TIME_SCALE  # 1.5 wall seconds in run time
    for at, back in due:
        inside = [ok for t, ok in seen if at + margin < t < back - margin]
        assert inside and not any(inside), (at, back, seen)
    for (_, back), (at, _) in zip(due, due[1:], strict=False):
        between = [ok for t, ok in seen if back + 3 * margin < t < at - margin]
        assert not between or between[-1], (back, at, seen)
    if white is not None:  # back at the end: its peer lists came back with it (p2pstate.bin)
        assert white > 0
