"""The sybil attack: identities, advertised addresses, spies and the first-spy estimator."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_monerosim.agents import wallets
from pytest_monerosim.attacks.sybil import SPEC, Sybil
from pytest_monerosim.backends.sim import build_world
from pytest_monerosim.config.errors import ScenarioError
from pytest_monerosim.config.model import Scenario
from pytest_monerosim.runner import prepare
from pytest_monerosim.sim.peers import subnet_of

from .conftest import component, make_registry, small_network, world_for


def sybil(**params: Any) -> list[dict[str, Any]]:
    return [{"name": "sybil", "params": params}]


def transacting(relay: str = "diffusion", **params: Any) -> Scenario:
    """20 users sending from 22 min on, blocks every 20 s (coinbase unlocks in ~20 min)."""
    return Scenario.model_validate({
        "general": {"seed": 4, "duration": "32m"},
        "network": {"topology": {"name": "monero", "seeds": 2}},
        "mining": {"target_s": 20},
        "transactions": {"relay": relay},
        "nodes": [
            {"group": "seeds", "count": 2, "seed_node": True},
            {"group": "miners", "count": 3, "role": "miner", "hashrate": 1.0},
            {"group": "users", "count": 20, "role": "user"},
        ],
        "wallets": [
            {"name": "pool", "node_group": "miners", "strategy": "mining_wallet"},
            {"name": "bank", "nodes": ["miners-0"],
             "strategy": {"name": "distributor", "initial_fund_amount": "2 XMR",
                          "interval_s": None}},
            {"name": "user", "node_group": "users",
             "strategy": {"name": "transaction_bot", "schedule": "poisson", "interval_s": 60,
                          "start_time": "22m",
                          "amount": {"dist": "uniform", "min": "0.01 XMR", "max": "0.02 XMR"}}},
        ],
        "attacks": sybil(**params),
    })


def tx_registry() -> Any:
    registry = make_registry(SPEC)
    registry.add_all(wallets.PLUGINS)
    return registry


def run_plain(**params: Any) -> tuple[Any, Sybil, dict[str, Any]]:
    world = world_for(small_network(sybil(**params), duration="40m"), SPEC)
    attack = component(world, Sybil)
    return world, attack, world.run().attacks["sybil"]


def test_identities_join_in_their_subnets_and_take_connections() -> None:
    world, attack, m = run_plain(identities=12, subnets=3)
    assert len(attack.identities) == 12
    assert len({subnet_of(n.address) for n in attack.identities}) == 3
    assert all(not n.honest for n in attack.identities)
    assert m["out_share"] > 0 and m["all_share"] > 0 and 0 < m["reach"] <= 1
    assert m["txs"] is None and m["precision"] is None, "no wallets: no inference"


def test_sybils_advertise_only_sybil_addresses() -> None:
    world, attack, _ = run_plain(identities=8)
    sybil_addresses = {n.address for n in attack.identities}
    some = attack.identities[0]
    assert set(some.advertise(world.nodes["victim"])) == sybil_addresses  # type: ignore[misc]
    # Heard of in handshakes (gray), then probed alive (white): most honest nodes know them all.
    known = [len(sybil_addresses & (set(n.book.gray) | set(n.book.white)))
             for n in world.nodes.values() if n.honest]
    assert sorted(known)[len(known) // 2] == len(sybil_addresses)


def test_connectors_join_as_the_real_spies_do_and_the_rest_are_dialled() -> None:
    """``connectors`` (the monerod backend's namespaced spies): the first identities connect
    to ``out_peers`` honest nodes each at ``start``, the others dial nobody; honest nodes
    hear of them through the connectors' answers and dial them, also under Debian's limit
    with the --add-peer bootstrap (where a lone seed hands out nothing: identities that join
    through the seeds found no one in the sybil suite's real-daemon comparison)."""
    world, attack, m = run_plain(identities=8, connectors=2, out_peers=4)
    honest = [n for n in world.nodes.values() if n.honest]
    first, rest = attack.identities[:2], attack.identities[2:]
    assert all(sum(link.outgoing for link in n.links.values()) == 4 for n in first)
    assert all(not any(link.outgoing for link in n.links.values()) for n in rest)
    assert sum(1 for n in honest for p, link in n.links.items() if link.outgoing and p in rest) > 0
    assert m["out_share"] > 0
    debian = {"p2p": {"outgoing_host_limit": True, "add_peer": True}}
    world = world_for(small_network(sybil(identities=8, connectors=2), duration="40m", **debian), SPEC)
    assert world.run().attacks["sybil"]["out_share"] > 0


def test_one_subnet_caps_the_outgoing_share() -> None:
    _, _, few = run_plain(identities=16, subnets=1)
    _, _, many = run_plain(identities=16, subnets=16)
    assert few["out_share"] < many["out_share"]


def test_spies_log_first_sightings_with_the_delivering_peer() -> None:
    world = build_world(transacting(identities=6), tx_registry())
    attack = component(world, Sybil)
    result = world.run()
    m = result.attacks["sybil"]
    assert m["txs"] and m["txs"] > 50
    assert m["guessed"] == len([s for s in attack.first.values() if s.sender is not None])
    for sighting in attack.first.values():
        assert sighting.spy in m["spies"]
        assert sighting.phase in ("stem", "fluff")
        assert sighting.sender in world.nodes
    # Under diffusion no spy ever sees a stem.
    assert m["stem_first"] == 0.0
    assert 0 < m["precision"] <= 1 and m["recall"] <= m["precision"]


def test_first_spy_precision_is_lower_under_dandelion() -> None:
    diffusion = build_world(transacting("diffusion", identities=6), tx_registry()).run()
    dandelion = build_world(transacting("dandelion", identities=6), tx_registry()).run()
    d, s = diffusion.attacks["sybil"], dandelion.attacks["sybil"]
    assert s["stem_first"] > 0
    assert s["precision"] < d["precision"]


def test_no_spies_no_guesses() -> None:
    m = build_world(transacting(identities=4, spies=0), tx_registry()).run().attacks["sybil"]
    assert m["spies"] == [] and m["guessed"] == 0 and m["precision"] is None


def test_same_seed_same_metrics() -> None:
    assert run_plain(identities=10)[2] == run_plain(identities=10)[2]


@pytest.mark.parametrize(
    ("params", "sections", "message"),
    [
        ({}, {"network": {"topology": "ring"}}, "topology='ring'"),
        ({"start": 5000}, {}, "start=5000"),
    ],
)
def test_bad_input_is_one_clear_error_before_the_run(params: dict[str, Any],
                                                     sections: dict[str, Any],
                                                     message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        prepare(small_network(sybil(**params), **sections), make_registry(SPEC))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"identities": 4, "subnets": 5}, "subnets=5 exceeds identities=4"),
        ({"identities": 4, "spies": 5}, "spies=5 exceeds identities=4"),
        ({"identities": 4, "connectors": 5}, "connectors=5 exceeds identities=4"),
        ({"identities": 0}, "identities"),
    ],
)
def test_bad_params_fail_validation(params: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SPEC.validate(params)


def test_passive_identities_relay_nothing_and_swallowed_stems_wait_for_the_embargo() -> None:
    """relay=false (the monerod backend's Levin spies): the identities relay nothing, so a
    stem that reaches one ends there until its sender's embargo fires."""
    from pytest_monerosim.result.summary import summarize

    runs = {}
    for relay in (True, False):
        data = transacting("dandelion", identities=12).model_dump()
        data["attacks"][0]["params"]["relay"] = relay
        world = build_world(Scenario.model_validate(data), tx_registry())
        attack = component(world, Sybil)
        result = world.run()
        relays = world.tx.relay.fluff.relays
        assert all(bool(relays[n.index]) is relay for n in attack.identities)
        assert all(relays[n.index] for n in world.nodes.values() if n.honest and n.online)
        runs[relay] = summarize(result)
    active, passive = runs[True], runs[False]
    assert passive["attacks"]["sybil"]["stem_first"] > 0
    assert passive["transactions"]["confirmation_p50_s"] > active["transactions"]["confirmation_p50_s"]
