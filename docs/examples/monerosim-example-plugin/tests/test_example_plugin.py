"""The example plugin, used as any installed plugin is: by name, from markers and scenarios."""

import pytest

from pytest_monerosim import checks

NETWORK = {
    "general": {"name": "example-plugin", "seed": 4, "duration": "2h"},
    "network": {"topology": {"name": "random_regular", "degree": 4}},
    "nodes": [
        {"group": "miners", "count": 4, "role": "miner", "hashrate": 1.0},
        {"group": "relays", "count": 12, "role": "relay"},
    ],
}


@pytest.mark.monerosim(NETWORK)
@pytest.mark.monerosim_attack("isolation", victim="relays-3", start="20m", end="70m")
def test_isolated_node_falls_behind_then_catches_up(monero_network, monerosim_attack):
    m = monero_network.attack("isolation")
    assert m["victim"] == "relays-3"
    # 50 minutes cut off at one block per ~2 minutes: it missed blocks, measured not declared
    assert m["lag_blocks"] >= 5, m
    assert m["caught_up"] and m["catch_up_s"] < 1800, m
    checks.consensus_reached(monero_network, max_height_spread=1)


@pytest.mark.monerosim(NETWORK)
@pytest.mark.monerosim_behaviour("bursty_mining", group="miners", factor=8, burst="30m", period="1h")
def test_bursts_speed_up_blocks(monero_network, monerosim_run, monerosim_behaviour):
    steady = monerosim_run(**{"nodes.miners.behaviour": "hashrate_mining"})
    # bursts of 8x for half of every hour; difficulty barely retargets in 2 h (window 720 blocks)
    assert monero_network.summary["blocks"]["mined"] > 2 * steady.summary["blocks"]["mined"]


def test_bad_parameter_names_the_field(monerosim_registry):
    with pytest.raises(Exception, match="end"):
        monerosim_registry.validate("attack", "isolation", {"start": "1h", "end": "30m"})
