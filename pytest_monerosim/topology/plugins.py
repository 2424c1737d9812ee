"""The built-in topologies and latency models as registry plugins.

The factory of a ``topology`` plugin is its :class:`TopologySpec` (call
``spec.generate(n, params, rng)``); of a ``latency_model`` plugin, its
:class:`LatencySpec` (``spec.build(params, rng)``).
"""

from __future__ import annotations

from typing import Any

from ..registry import PluginSpec
from .generators import BUILTIN_TOPOLOGIES
from .latency import BUILTIN_LATENCY_MODELS

PLUGINS: list[PluginSpec[Any]] = [
    PluginSpec("topology", name, spec.params, spec, spec.description)
    for name, spec in BUILTIN_TOPOLOGIES.items()
] + [
    PluginSpec("latency_model", name, spec.params, spec, spec.description)
    for name, spec in BUILTIN_LATENCY_MODELS.items()
]
