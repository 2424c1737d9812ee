"""Real daemons as a real network: each in its own namespace, finding each other by gossip.

Needs root and ``ip netns`` (skipped with the reason otherwise) and Debian's
``monero``. Four daemons of the ``monero`` topology: each is bootstrapped
with its seed and the daemon started before it
(:func:`~pytest_monerosim.backends.monerod.hosts.bootstrap_peers`); the last
one must learn of a daemon it was never told about from monerod's own peer
lists, over the run's 240.x addresses, and the network must leave nothing
behind when it closes.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from pytest_monerosim.backends.monerod import netns
from pytest_monerosim.backends.monerod.network import LoopbackNetwork
from pytest_monerosim.config.model import Scenario
from pytest_monerosim.registry import Registry

pytestmark = pytest.mark.skipif(not netns.netns_support()[0], reason=netns.netns_support()[1])


def four_relays() -> Scenario:
    return Scenario.model_validate({
        "general": {"name": "gossip", "duration": 600, "seed": 3},
        "network": {"topology": "monero"},
        "p2p": {"out_peers": 3},
        "nodes": [{"group": "relay", "count": 4}],
    })


def _known(net: LoopbackNetwork, host: str) -> set[str]:
    peers = net.daemons[host].rpc.get_peer_list()
    return {p["host"] for p in peers.get("white_list", []) + peers.get("gray_list", [])}


def test_namespaced_daemons_find_each_other_by_gossip(registry: Registry, tmp_path: Path) -> None:
    net = LoopbackNetwork.from_scenario(four_relays(), registry, workdir=tmp_path / "run",
                                        isolation="netns", agents="none")
    token = net.netns.token if net.netns else ""
    try:
        assert net.isolation == "netns"
        net.start()
        names = list(net.daemons)
        last = names[-1]
        told = {a.split(":")[0] for a in net.daemons[last].command_line()
                if a.count(".") == 3 and ":" in a}
        addresses = {n: net.ips[n] for n in names}
        assert len({netns.subnet16(a) for a in addresses.values()}) == 4, "one /16 per host"
        untold = {addresses[n] for n in names[:-1]} - told
        assert untold, f"{last} was told every peer ({told}): nothing left to discover"
        deadline = time.monotonic() + 90
        while not untold <= _known(net, last) and time.monotonic() < deadline:
            time.sleep(1)
        assert untold <= _known(net, last), (
            f"{last} never learned {untold - _known(net, last)} by gossip; it knows {_known(net, last)}")
        connections = {c["host"] for n in names for c in net.daemons[n].rpc.get_connections()}
        assert connections and connections <= set(addresses.values()), \
            f"peers must be seen from their namespace addresses: {connections}"
        record = net.network_record()
        assert record["isolation"] == "netns" and record["latency_emulated"] is False
    finally:
        net.close()
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    links = subprocess.run(["ip", "-br", "link"], capture_output=True, text=True).stdout
    assert token and token not in listed + links, "namespaces and links must go with the network"


def test_attacker_addresses_are_public_peers_of_namespaced_daemons(registry: Registry, tmp_path: Path) -> None:
    """The eclipse attacker's addresses: held by this process, each in a /16 no host uses,
    reached by the daemons over the bridge; what the attacker advertises lands in the victim's
    peer lists (what a loopback or private address never does). Debian's 0.18.0.0 never
    whitelists an incoming peer (its back ping is refused by its own per-host limit:
    ``p2p.outgoing_host_limit``), so the addresses arrive on the gray list, from which the victim dials after a restart."""
    from pytest_monerosim.backends.monerod.eclipse import EclipseRig, victim_shares

    net = LoopbackNetwork.from_scenario(four_relays(), registry, workdir=tmp_path / "run",
                                        isolation="netns", agents="none")
    rig = None
    try:
        net.start()
        hosts = net.attacker_addresses(3)
        used = {netns.subnet16(a) for a in net.ips.values()}
        assert len({netns.subnet16(a) for a in hosts}) == 3 and not used & {netns.subnet16(a) for a in hosts}
        victim = net.daemons[list(net.daemons)[-1]]
        rig = EclipseRig(hosts, seed=1)
        rig.listen()
        failures = rig.connect_in([(victim.address, victim.ports.p2p)])
        assert not failures, failures
        conns = victim.rpc.get_connections()
        assert {c["host"] for c in conns if c["incoming"]} >= set(hosts)
        assert victim_shares(conns, set(hosts))[1] > 0
        # an incoming peer's lists reach monerod in its answers to the daemon's timed syncs
        # (every 60 wall s: P2P_DEFAULT_HANDSHAKE_INTERVAL), not in its handshake request
        deadline = time.monotonic() + 100
        while time.monotonic() < deadline:
            lists = victim.rpc.get_peer_list()
            known = {p["host"] for p in lists.get("white_list", []) + lists.get("gray_list", [])}
            if set(hosts) & known:
                break
            time.sleep(1)
        assert set(hosts) & known, f"the victim never listed the attacker's addresses: {known}"
    finally:
        if rig is not None:
            rig.close()
        net.close()
