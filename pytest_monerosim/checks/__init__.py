"""Checks: plain functions that raise ``AssertionError`` with a diagnosis a person can act on.

Each takes a ``Result`` or a ``NetworkRun`` (what ``monero_network`` returns)::

    from pytest_monerosim import checks
    checks.consensus_reached(monero_network)

Each public check is decorated with ``checks.observed.observed`` where it is
defined, so the plugin's listeners (Allure steps, bus events) see every call,
however the check was imported.
"""

from .connectivity import connected, degree_bounds, diameter_at_most, no_isolated_nodes, peer_graph
from .consensus import block_interval, consensus_reached, converged_within, no_deep_reorgs
from .performance import propagation_within, stale_rate_at_most
from .transactions import (
    all_txs_confirmed,
    all_txs_relayed,
    confirmation_latency,
    money_conserved,
    no_double_spend_on_chain,
)

__all__ = [
    "all_txs_confirmed",
    "all_txs_relayed",
    "block_interval",
    "confirmation_latency",
    "connected",
    "consensus_reached",
    "converged_within",
    "degree_bounds",
    "diameter_at_most",
    "money_conserved",
    "no_double_spend_on_chain",
    "no_deep_reorgs",
    "no_isolated_nodes",
    "peer_graph",
    "propagation_within",
    "stale_rate_at_most",
]
