"""Connectivity of the peer graph that Monero's peer selection builds.

The connection graph is an outcome of the P2P model (white/gray lists,
handshakes, timed syncs, 12 outgoing connections), not an input.
"""

import networkx as nx
import pytest

from pytest_monerosim import checks

pytestmark = pytest.mark.monerosim("../fixtures/scenarios/small_network.yaml", duration="2h")


def test_peer_graph_is_connected(monero_network):
    checks.connected(monero_network)
    checks.no_isolated_nodes(monero_network)


@pytest.mark.monerosim_backends("sim")  # 12 outgoing peers need more than 5 daemons
def test_every_node_fills_its_outgoing_slots(monero_network):
    checks.degree_bounds(monero_network, min_out=12, max_out=12)


@pytest.mark.monerosim_backends("sim")
def test_small_world_diameter(monero_network):
    # 100 nodes with 12 outgoing peers each: a few hops connect everyone.
    assert checks.diameter_at_most(monero_network, hops=4) >= 2


@pytest.mark.monerosim_backends("sim")
def test_incoming_connections_are_limited_when_configured(monerosim_run):
    run = monerosim_run(in_peers=16)
    checks.degree_bounds(run, max_in=16)
    checks.connected(run)


@pytest.mark.monerosim_backends("sim")
@pytest.mark.monerosim("../fixtures/scenarios/regions.yaml", duration="1h")
def test_three_region_network_stays_connected_and_fast(monero_network):
    checks.connected(monero_network)
    checks.propagation_within(monero_network, p90_s=5.0)
    g = checks.peer_graph(monero_network)
    assert nx.number_connected_components(g) == 1


@pytest.mark.monerosim(
    {"general": {"name": "star", "duration": "1h"},
     "network": {"topology": {"name": "star"}},
     "nodes": [{"group": "hub", "role": "miner", "hashrate": 1},
               {"group": "leaves", "count": 19, "role": "relay"}]}
)
@pytest.mark.monerosim_backends("sim")
def test_static_star_topology_routes_everything_through_the_hub(monero_network):
    g = checks.peer_graph(monero_network)
    assert g.degree("hub") == 19
    assert all(g.degree(n) == 1 for n in monero_network.nodes(group="leaves"))
