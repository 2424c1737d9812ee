"""The one expansion of a scenario: ``scenario + registry → NetworkLayout``.

Every backend starts from the same layout: the simulator's
:class:`~pytest_monerosim.sim.network.World` and the process plan of the real
backends (:func:`pytest_monerosim.backends.plan.build_plan`, used by
``monerod`` and ``shadow``). Building it validates the scenario's plugins, its
topology and latency model, its regions and its attacks' view of it, once;
every error is a :class:`~pytest_monerosim.config.errors.ScenarioError`
naming the field. This package imports neither backends nor pytest.
"""

from __future__ import annotations

from .build import build_layout, make_latency_model, make_topology
from .model import NetworkLayout, NodeSpec, WalletPlacement

__all__ = ["NetworkLayout", "NodeSpec", "WalletPlacement", "build_layout", "make_latency_model",
           "make_topology"]
