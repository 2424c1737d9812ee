"""Attack plugins: eclipse, sybil, partition, double-spend, selfish mining.

Each module exports ``SPEC`` (a :class:`~pytest_monerosim.registry.PluginSpec`
of kind ``"attack"``); :data:`PLUGINS` lists them for the registry. Third-party
attacks register through the ``monerosim.attacks`` entry-point group or the
``pytest_monerosim_register`` hook. See :mod:`.base` for the shape and the
metrics convention.
"""

from __future__ import annotations

from typing import Any

from ..registry import PluginSpec
from .double_spend import SPEC as DOUBLE_SPEND
from .eclipse import SPEC as ECLIPSE
from .partition import SPEC as PARTITION
from .selfish_mining import SPEC as SELFISH_MINING
from .sybil import SPEC as SYBIL

PLUGINS: list[PluginSpec[Any]] = [ECLIPSE, SYBIL, PARTITION, DOUBLE_SPEND, SELFISH_MINING]
