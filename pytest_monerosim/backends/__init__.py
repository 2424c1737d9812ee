"""Backends: each turns a validated scenario into the one :class:`~pytest_monerosim.result.Result`.

* ``sim`` — the embedded discrete-event simulator (default);
* ``monerod`` — real ``monerod``/``monero-wallet-rpc`` processes on loopback;
* ``shadow`` — a Shadow 3.x config running the same binaries, run by ``shadow``.

Backends never import pytest. A backend that cannot run here raises
:class:`BackendUnavailable` (the plugin turns it into a skip, the CLI into exit 2).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ..config.model import Scenario
    from ..layout import NetworkLayout
    from ..registry import Registry
    from ..result.model import Result

BACKENDS = ("sim", "monerod", "shadow")
_MODULES = {
    "sim": "pytest_monerosim.backends.sim",
    "monerod": "pytest_monerosim.backends.monerod.backend",
    "shadow": "pytest_monerosim.backends.shadow.backend",
}


class BackendUnavailable(RuntimeError):
    """This backend cannot run on this machine (a binary is missing); the message says why."""


@dataclass
class RunOptions:
    """How to run, never what: seed, duration and every other setting of the network are the
    scenario's (overrides are applied to it before it runs)."""

    workdir: Path | None = None
    """Where logs, data dirs and generated configs go (real backends)."""
    progress: Callable[[float, float, int], None] | None = None
    """Called with (sim_time, duration, events) now and then."""
    monerod_bin: str | None = None
    wallet_rpc_bin: str | None = None
    shadow_bin: str | None = None
    time_scale: float | None = None
    """Real backend: simulated seconds per wall-clock second (None: the scenario's
    ``backends.monerod.options.time_scale``, else 120)."""
    extra: dict[str, object] = field(default_factory=dict)
    partial: Callable[[], Result] | None = None
    """Set by the backend once it has something to measure: returns the result so far. The
    runner calls it when the run is interrupted or raises, so the report keeps what was seen."""


class Backend(Protocol):
    def run(self, scenario: Scenario, registry: Registry, options: RunOptions,
            layout: NetworkLayout | None = None) -> Result:
        """Run ``scenario``; ``layout`` is its expansion when the caller has built it already."""
        ...


def get_backend(name: str) -> Backend:
    if name not in _MODULES:
        raise ValueError(f"unknown backend {name!r}; accepted: {', '.join(BACKENDS)}")
    backend: Backend = importlib.import_module(_MODULES[name])  # a module with run()
    return backend
