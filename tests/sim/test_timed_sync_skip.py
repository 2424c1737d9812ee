"""Timed syncs that skip their connections (nothing to merge) change nothing observable.

A node that knows every journaled address skips or thins its timed syncs
(``P2PNetwork._merge_journals``). These runs compare, list by list, a world
that does so with one forced through the full per-connection merge.
"""

from __future__ import annotations

from typing import Any

import pytest

from pytest_monerosim.backends.sim import build_world
from pytest_monerosim.config.model import Scenario
from pytest_monerosim.registry import default_registry
from pytest_monerosim.result.summary import summarize, without_wall_clock
from pytest_monerosim.sim import peers
from pytest_monerosim.sim.peers import PeerBook


def scenario(turnover: str | None, attack: dict[str, Any] | None = None) -> Scenario:
    data: dict[str, Any] = {
        "general": {"name": "skip", "seed": 5, "duration": "5h"},
        "network": {"topology": {"name": "monero", "seeds": 2},
                    "latency": {"name": "uniform", "low": 0.02, "high": 0.1}},
        "p2p": {"out_peers": 6, **({"turnover_mean_s": turnover} if turnover else {})},
        "nodes": [
            {"group": "seeds", "count": 2, "role": "relay", "seed_node": True},
            {"group": "miners", "count": 3, "role": "miner", "hashrate": 1.0},
            {"group": "relays", "count": 25, "role": "relay"},
        ],
    }
    if attack:
        data["attacks"] = [attack]
    return Scenario.model_validate(data)


def state(sc: Scenario) -> tuple[Any, ...]:
    world = build_world(sc, default_registry())
    result = world.run()
    books = {n.name: (list(n.book.white.items()), list(n.book.gray), list(n.book.gray.oldest_first()),
                      n.rng.getstate(), n.book.journal.base + len(n.book.journal))
             for n in world.nodes.values()}
    skipped = sum(1 for n in world.nodes.values() if n.skip_clock)
    return (without_wall_clock(summarize(result)), [s.edges for s in result.peer_snapshots],
            books), skipped


@pytest.mark.parametrize("turnover, attack", [
    (None, None),
    ("20m", None),
    (None, {"name": "eclipse", "params": {}}),
], ids=["static", "turnover", "eclipse"])
def test_skipping_syncs_is_invisible(monkeypatch: pytest.MonkeyPatch, turnover: str | None,
                                     attack: dict[str, Any] | None) -> None:
    sc = scenario(turnover, attack)
    fast, skipped = state(sc)
    monkeypatch.setattr(PeerBook, "knows_all", lambda self, own: False)
    slow, none = state(sc)
    assert none == 0
    assert fast[0] == slow[0]
    assert fast[1] == slow[1]
    assert fast[2] == slow[2]
    if turnover is None and attack is None:
        assert skipped > 0, "no node ever skipped a sync: the case tests nothing"


@pytest.mark.parametrize("attack", [None, {"name": "eclipse", "params": {}}], ids=["plain", "eclipse"])
def test_cutting_journals_is_invisible(monkeypatch: pytest.MonkeyPatch,
                                       attack: dict[str, Any] | None) -> None:
    """Journals cut back to their newest ``depth + 1`` entries at every addition past them
    run as journals that keep every entry (short advertised lists, so a sync often finds a
    link more than ``depth`` entries behind; turnover and short white lists, so journals grow)."""
    data = scenario("15m", attack).model_dump(mode="json")
    data["p2p"].update(handshake_peers=4, white_list_limit=12)
    sc = Scenario.model_validate(data)
    monkeypatch.setattr(peers, "JOURNAL_CUT", 1)
    cut, _ = state(sc)
    bases = [0]
    build = PeerBook.journal_append

    def counting(self: PeerBook, address: str) -> None:
        build(self, address)
        bases[0] = max(bases[0], self.journal.base)

    monkeypatch.setattr(PeerBook, "journal_append", counting)
    monkeypatch.setattr(peers, "JOURNAL_CUT", 10**9)
    whole, _ = state(sc)
    assert bases[0] == 0, "the uncut run cut"
    monkeypatch.setattr(peers, "JOURNAL_CUT", 1)
    again, _ = state(sc)
    assert bases[0] > 20, "no journal was cut: the case tests nothing"
    assert cut == again
    assert cut[0] == whole[0]
    assert cut[1] == whole[1]
    assert cut[2] == whole[2]
