"""The monerod eclipse driver's attacker side on loopback, and its refusal without namespaces."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from pytest_monerosim.backends import BackendUnavailable
from pytest_monerosim.backends.monerod import MonerodNode
from pytest_monerosim.backends.monerod.eclipse import NEEDS_NAMESPACES, EclipseRig, precheck, victim_shares
from pytest_monerosim.config import scenario_from_dict


def scenario(**params: object) -> object:
    return scenario_from_dict({
        "general": {"duration": "1h"},
        "network": {"topology": {"name": "monero", "seeds": 1}},
        "nodes": [{"group": "seeds", "count": 1, "seed_node": True}, {"group": "relays", "count": 2}],
        "attacks": [{"name": "eclipse", "params": params}],
    })


def test_refused_on_loopback_and_for_anchor_counts_monerod_lacks() -> None:
    class Unaddressed:  # a network that cannot give the attacker addresses
        pass

    with pytest.raises(BackendUnavailable, match="needs the namespaced network"):
        precheck(scenario(), Unaddressed)
    class Namespaced:  # the contract a namespaced network fulfils
        def attacker_addresses(self, count: int) -> list[str]:
            return []

    precheck(scenario(victim_anchors=2), Namespaced)
    with pytest.raises(BackendUnavailable, match="victim_anchors=0; monerod 0.18 always keeps 2 anchor peers"):
        precheck(scenario(victim_anchors=0), Namespaced)
    assert "not loopback, not 10/8" in NEEDS_NAMESPACES


def test_victim_shares_count_attacker_hosts() -> None:
    conns = [{"host": "1.2.3.4", "incoming": False}, {"host": "5.6.7.8", "incoming": False},
             {"host": "1.2.3.5", "incoming": True}, {"host": "9.9.9.9", "incoming": True}]
    assert victim_shares(conns, {"1.2.3.4", "1.2.3.5"}) == (0.5, 0.5, 1, 2)
    assert victim_shares([], {"x"}) == (0.0, 0.0, 0, 0)


def test_rig_takes_a_real_daemons_incoming_slots(make_node: Callable[..., MonerodNode],
                                                 free_port: Callable[[], int]) -> None:
    rig = EclipseRig([f"127.66.0.{30 + i}" for i in range(5)], seed=3)
    try:
        hub = rig.listen()[0]
        victim = make_node("victim", exclusive_peers=[f"127.66.0.30:{hub.port}"], in_peers=3)
        target = [("127.0.0.1", victim.ports.p2p)]
        # one by one: the connectors take its 3 free incoming slots, the other two are refused
        # (the hub's connection is the victim's outgoing one: it dials its exclusive peer)
        failures = rig.connect_in(target, one_by_one_s=1.2)
        assert len(failures) == 2, failures
        conns = victim.rpc.get_connections()
        assert sum(1 for c in conns if c["incoming"]) == 3
        out_f, all_f, honest_out, out = victim_shares(conns, set(rig.hosts))
        assert (all_f, honest_out) == (1.0, 0)  # everything it has is ours
        assert out in (0, 1) and out_f == float(out)  # its dial to the hub, if it came first
        # the re-handshake cycle: connectors drop and come back; the slots stay ours
        rig.connect_in(target, one_by_one_s=1.2)
        conns = victim.rpc.get_connections()
        assert sum(1 for c in conns if c["incoming"]) == 3
        assert victim_shares(conns, set(rig.hosts))[1] == 1.0
    finally:
        rig.close()
