"""The simulator's connection maker follows monerod 0.18's ``src/p2p/net_node.inl``.

Fast, simulator-only checks of the two behaviours the agreement suite made
the model change to (see ``test_peers_monerod.py`` for the real daemons):

* ``make_new_connection_from_peerlist`` gives up after three random draws
  (``rand_count < 3``), spent or failed, and ``connections_maker`` then moves
  on to the next list: failed gray picks fall back to the white list.
* ``make_expected_connections_count(anchor)`` empties the anchor list when it
  takes it (``get_and_empty_anchor_peerlist``), so a restarted node makes at
  most one connection through it, the oldest anchor that answers.
"""

from __future__ import annotations

import random
from typing import Any

from pytest_monerosim.backends.sim import build_world
from pytest_monerosim.registry import Registry
from pytest_monerosim.sim import maker as sim_maker
from pytest_monerosim.sim.peers import random_address
from tests.sim.conftest import scenario

DEAD = 200


def network(n: int = 40, duration: float = 2400.0, seed: int = 3, **p2p: Any) -> Any:
    return scenario([{"group": "m", "count": 3, "role": "miner", "hashrate": 1.0},
                     {"group": "r", "count": n - 3}],
                    general={"duration": duration, "seed": seed},
                    network={"latency": {"name": "uniform", "low": 0.02, "high": 0.2}},
                    p2p=p2p)


def test_failed_gray_draws_fall_back_to_the_white_list(registry: Registry) -> None:
    """A node above its 8 white slots whose gray list is dead "trash" (Heilman's fake
    addresses): each pass makes 3 gray attempts (5 s connect timeouts), then a white one."""
    world = build_world(network(), registry, snapshot_interval_s=None)
    node = world.node("r-5")
    rng = random.Random(1)
    log: list[tuple[float, str]] = []

    class Watch:
        def on_connect(self, a: Any, b: Any, outgoing: bool) -> None:
            if a is node and outgoing and world.engine.now > 1800:
                log.append((world.engine.now, "ok"))

    def poison() -> None:
        for _ in range(DEAD):
            node.book.add_gray(random_address(rng))
        node.book.gray_limit = max(node.book.gray_limit, DEAD + len(node.book.gray))
        for peer in node.out_peers()[:4]:  # 8 remain: the maker starts with the gray list
            world.p2p.disconnect(node, peer)

    world.add_component(Watch())
    world.engine.at(1800, poison)
    world.run()
    hosts = {n.host for n in world.nodes.values()}
    failed = sorted(t for h, t in node.book.failed.items() if h not in hosts and t > 1800)
    assert node.out_count == 12
    assert len(log) >= 4, f"the node refilled {len(log)} slots only"
    # monerod: 3 gray draws per pass, then white. The old model drew gray until no
    # usable gray address was left (200 dead addresses, 1,000 s of timeouts).
    first_refill = log[3][0] - 1800
    assert first_refill < 4 * (3 * sim_maker.CONNECTION_TIMEOUT_S + 5), (first_refill, len(failed))
    assert len([t for t in failed if t <= log[3][0]]) <= 4 * sim_maker.PASS_DRAWS


def test_a_restarted_node_reconnects_to_one_anchor_the_oldest(registry: Registry) -> None:
    world = build_world(network(n=60, duration=1900), registry, snapshot_interval_s=None)
    victim = world.node("r-10")
    seen: dict[str, Any] = {}

    def remember() -> None:
        seen["anchors"] = dict(victim.book.anchors)

    class Watch:
        def on_connect(self, a: Any, b: Any, outgoing: bool) -> None:
            if a is victim and outgoing and world.engine.now >= 1800:
                r = world.p2p.rounds.get(victim)
                seen.setdefault("picks", []).append((b.address, r.kind if r else None))

    world.add_component(Watch())
    world.engine.at(1799.9, remember)
    victim.restart(at=1800, downtime=30)
    world.run()
    picks = seen["picks"]
    anchors = seen["anchors"]
    assert len(anchors) == 12, "every outgoing peer is an anchor at shutdown"
    assert [kind for _, kind in picks].count(sim_maker.ANCHOR) == 1, picks
    assert picks[0] == (min(anchors, key=anchors.__getitem__), sim_maker.ANCHOR)
    assert victim.out_count == 12 and not victim.anchor_queue
