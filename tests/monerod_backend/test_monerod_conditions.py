"""The layout's per-node mainnet conditions on real, namespaced daemons.

One network of six daemons (``monero`` topology, each its own host) in which
one node is behind NAT (``reachable: 0`` -> its namespace drops TCP SYNs to its P2P
port: :mod:`~pytest_monerosim.backends.monerod.nat`), one is hidden
(``hidden: 1`` -> ``--hide-my-port``) and one bans another group
(``ban_list: [group:shady]`` -> a ``--ban-list`` file naming the /24 of each
of that group's hosts). Each test observes the condition on the wire or in
the daemon's own RPC, and would fail without the mapping: the node after the
NAT node, the hidden node and the banning node are each told (``--add-peer``)
the address of the node they must then fail to reach or refuse.

Churn on real daemons: ``test_monerod_churn.py``.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections.abc import Iterator

import pytest

from pytest_monerosim.backends.monerod import netns
from pytest_monerosim.backends.monerod.network import LoopbackNetwork
from pytest_monerosim.backends.monerod.process import live_processes
from pytest_monerosim.config.model import Scenario
from pytest_monerosim.p2p.peer import PeerError, Swarm
from pytest_monerosim.registry import Registry

pytestmark = [
    pytest.mark.monerod,
    pytest.mark.skipif(shutil.which("monerod") is None, reason="needs monerod (Debian package 'monero')"),
    pytest.mark.skipif(not netns.netns_support()[0], reason=netns.netns_support()[1]),
]

WATCH_S = 20.0
"""Wall seconds the daemons have to dial the addresses they were given (each dials within
a second or two of its start; monerod's connection loop runs every second)."""


def conditions() -> Scenario:
    return Scenario.model_validate({
        "general": {"name": "conditions", "duration": 600, "seed": 5},
        "network": {"topology": "monero"},
        "p2p": {"out_peers": 4},
        "nodes": [
            {"group": "relay", "count": 2},
            {"group": "nat", "reachable": 0.0},
            {"group": "hidden", "hidden": 1.0},
            {"group": "shady"},
            {"group": "strict", "ban_list": ["group:shady"]},
        ],
    })


@pytest.fixture(autouse=True)
def no_leftover_processes() -> Iterator[None]:
    """The module's one network outlives each test; :func:`net` checks after it closes."""
    yield


@pytest.fixture(scope="module")
def net(registry: Registry, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoopbackNetwork]:
    network = LoopbackNetwork.from_scenario(conditions(), registry,
                                            workdir=tmp_path_factory.mktemp("conditions") / "run",
                                            isolation="netns", agents="none")
    try:
        network.start()
        deadline = time.monotonic() + WATCH_S
        while time.monotonic() < deadline:  # until every daemon has an outgoing peer, then a bit more
            if all(d.rpc.get_info().get("outgoing_connections_count", 0) > 0
                   for d in network.daemons.values()):
                break
            time.sleep(0.5)
        time.sleep(5)
        yield network
    finally:
        network.close()
    assert not live_processes(), f"processes outlived the network: {live_processes()}"
    token = network.netns.token if network.netns else ""
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    links = subprocess.run(["ip", "-br", "link"], capture_output=True, text=True).stdout
    assert token and token not in listed + links, "namespaces and links must go with the network"


def host_of_group(net: LoopbackNetwork, group: str) -> str:
    return next(h.name for h in net.plan.daemon_hosts() if h.group == group)


def handshake(net: LoopbackNetwork, host: str) -> tuple[int | None, str]:
    """(the ``my_port`` the daemon announces in its handshake answer, or None; the error)."""
    source = net.attacker_addresses(1)[0]
    daemon = net.daemons[host]

    async def go() -> tuple[int | None, str]:
        swarm = Swarm("regtest")
        try:
            conn = await swarm.connect((daemon.address, daemon.ports.p2p), source=source,
                                       timeout=10.0, sync_after=False)
            port = conn.remote_node.my_port if conn.remote_node else None
            await conn.close()
            return port, ""
        except PeerError as exc:
            return None, str(exc)
        finally:
            await swarm.close()

    return asyncio.run(go())


def test_node_behind_nat_takes_no_incoming_connection(net: LoopbackNetwork) -> None:
    nat = host_of_group(net, "nat")
    spec = net.daemon_specs[nat]
    assert not spec.reachable and net.network_record()["behind_nat"] == [nat]
    told = [h for h, s in net.daemon_specs.items()
            if f"{net.ips[nat]}:{spec.p2p_port}" in s.extra_args]
    assert told, "some daemon must have been given the NAT node's address to dial"
    conns = net.daemons[nat].rpc.get_connections()
    assert conns and not any(c.get("incoming") for c in conns), \
        f"behind NAT: outgoing connections only ({conns})"
    port, error = handshake(net, nat)
    assert port is None and error, "a handshake with a node behind NAT must be refused"
    relay_port, relay_error = handshake(net, host_of_group(net, "relay"))
    assert relay_port is not None, f"a reachable node takes the same handshake: {relay_error}"


def test_hidden_node_announces_no_port(net: LoopbackNetwork) -> None:
    hidden = host_of_group(net, "hidden")
    assert "--hide-my-port" in net.daemons[hidden].command_line()
    port, error = handshake(net, hidden)
    assert port == 0, (port, error)
    relay = host_of_group(net, "relay")
    assert handshake(net, relay)[0] == net.daemon_specs[relay].p2p_port


def test_banned_group_never_connects(net: LoopbackNetwork) -> None:
    strict, shady = host_of_group(net, "strict"), host_of_group(net, "shady")
    shady_ip = net.ips[shady]
    assert f"{shady_ip}:{net.daemon_specs[shady].p2p_port}" in net.daemon_specs[strict].extra_args, \
        "the banning node must have been given the banned node's address to dial"
    subnet = shady_ip.rsplit(".", 1)[0] + ".0/24"
    assert net.daemons[strict].ban_list_path.read_text().split() == [subnet]
    bans = net.daemons[strict].rpc.get_bans()
    assert any(b.get("host") == subnet for b in bans), bans
    assert not any(c["host"] == shady_ip for c in net.daemons[strict].rpc.get_connections())
    assert not any(c["host"] == net.ips[strict] for c in net.daemons[shady].rpc.get_connections())
    assert net.daemons[strict].rpc.get_connections(), "the banning node still has its other peers"
