"""The head-of-white-list index (``PeerBook.index_white``) changes nothing observable.

A white pick on a long white list reads only the index's ``top`` (the entries seen since
some time) instead of sorting the whole list (:func:`~pytest_monerosim.sim.peer_choice.
pick_white`). These runs compare, list by list, a world whose picks use the index from 4
entries on with one that sorts every list whole; small white lists (so entries are evicted),
sync search and turnover (white picks every few minutes), churn and an eclipse attack.
"""

from __future__ import annotations

from typing import Any

import pytest

from pytest_monerosim.backends.sim import build_world
from pytest_monerosim.config.model import Scenario
from pytest_monerosim.registry import default_registry
from pytest_monerosim.result.summary import summarize, without_wall_clock
from pytest_monerosim.sim import peer_choice


def scenario(attack: dict[str, Any] | None) -> Scenario:
    data: dict[str, Any] = {
        "general": {"name": "white-index", "seed": 11, "duration": "4h"},
        "network": {"topology": {"name": "monero", "seeds": 2},
                    "latency": {"name": "uniform", "low": 0.02, "high": 0.1}},
        "p2p": {"out_peers": 5, "white_list_limit": 24, "turnover_mean_s": "15m"},
        "nodes": [
            {"group": "seeds", "count": 2, "role": "relay", "seed_node": True},
            {"group": "miners", "count": 3, "role": "miner", "hashrate": 1.0},
            {"group": "relays", "count": 35, "role": "relay", "churn": {"mean_session_s": "40m", "mean_downtime_s": "5m"}},
        ],
    }
    if attack:
        data["attacks"] = [attack]
    return Scenario.model_validate(data)


def state(sc: Scenario) -> tuple[Any, int]:
    world = build_world(sc, default_registry())
    result = world.run()
    for node in world.nodes.values():  # last-seen times are refreshed lazily: bring them up
        world.p2p.refresh_seen(node)
    books = {n.name: (list(n.book.white.items()), list(n.book.gray_list), n.rng.getstate())
             for n in world.nodes.values()}
    indexed = sum(1 for n in world.nodes.values() if n.book.seq is not None)
    return (without_wall_clock(summarize(result)), [s.edges for s in result.peer_snapshots],
            books), indexed


@pytest.mark.parametrize("attack", [None, {"name": "eclipse", "params": {}}], ids=["plain", "eclipse"])
def test_the_white_index_is_invisible(monkeypatch: pytest.MonkeyPatch,
                                      attack: dict[str, Any] | None) -> None:
    sc = scenario(attack)
    monkeypatch.setattr(peer_choice, "INDEX_MIN", 4)
    monkeypatch.setattr(peer_choice, "INDEX_MARGIN", 2)
    fast, indexed = state(sc)
    monkeypatch.setattr(peer_choice, "INDEX_MIN", 10**9)
    slow, none = state(sc)
    assert indexed > 0, "no white list was ever indexed: the case tests nothing"
    assert none == 0
    assert fast[0] == slow[0]
    assert fast[1] == slow[1]
    assert fast[2] == slow[2]
