"""Built-in node behaviours (registry kind ``behaviour``).

Each factory takes its validated params and returns an object with
``start(node)``, written against :class:`~pytest_monerosim.agents.api.NodeAPI`
only, so the same behaviour runs in the simulator and against real monerod.

* ``hashrate_mining`` — default for miners: mine as a Poisson process at the
  node's hashrate, optionally changing it at given times (``steps``).
* ``constant_mining`` — find one block every ``interval`` seconds, whatever
  the difficulty (regtest's ``generateblocks`` on a timer).
* ``standard_sync`` — a plain node: receives, verifies and relays.
* ``observer`` — a monitoring node: receives, never relays, never mines.
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field, field_validator

from ..config.model import Seconds
from ..registry import NoParams, PluginSpec
from ..strict import StrictModel
from .api import NodeAPI


class _Params(StrictModel):
    model_config = ConfigDict(allow_inf_nan=False)


class HashrateStep(_Params):
    at: Seconds
    """Simulated time of the change."""
    hashrate: float = Field(ge=0)
    """The node's new hashrate, in the scenario's relative units (0 stops mining)."""


class HashrateMiningParams(_Params):
    hashrate: float | None = Field(default=None, ge=0)
    """Override the group's hashrate (relative units)."""
    steps: list[HashrateStep] = Field(default_factory=list)

    @field_validator("steps")
    @classmethod
    def _ordered(cls, steps: list[HashrateStep]) -> list[HashrateStep]:
        times = [s.at for s in steps]
        if times != sorted(times):
            raise ValueError(f"steps must be in time order; got at={times}")
        return steps


class HashrateMining:
    """Poisson mining at the node's hashrate, with optional hashrate steps."""

    def __init__(self, params: HashrateMiningParams) -> None:
        self.params = params

    def start(self, node: NodeAPI) -> None:
        rate = node.hashrate() if self.params.hashrate is None else self.params.hashrate
        node.set_hashrate(rate)
        now = node.now()
        for step in self.params.steps:
            delay = step.at - now
            if delay < 0:
                continue
            node.schedule(delay, _setter(node, step.hashrate))


def _setter(node: NodeAPI, hashrate: float) -> Any:
    def apply() -> None:
        node.set_hashrate(hashrate)
        node.log("hashrate", hashrate=hashrate)
    return apply


class ConstantMiningParams(_Params):
    interval: Seconds = Field(default=120.0, gt=0)
    """Seconds between blocks."""
    offset: Seconds = 0.0
    """Delay before the first block (after the interval's first tick)."""


class ConstantMining:
    """One block every ``interval`` seconds on the node's tip, regardless of difficulty."""

    def __init__(self, params: ConstantMiningParams) -> None:
        self.params = params

    def start(self, node: NodeAPI) -> None:
        interval = self.params.interval

        def tick() -> None:
            node.mine_block()
            node.schedule(interval, tick)

        node.schedule(self.params.offset + interval, tick)


class StandardSync:
    """Relays blocks (and transactions), nothing else: monerod's default."""

    def __init__(self, params: NoParams) -> None:
        self.params = params

    def start(self, node: NodeAPI) -> None:
        node.set_relaying(True)


class ObserverBehaviour:
    """Receives everything its peers send, relays nothing, mines nothing."""

    def __init__(self, params: NoParams) -> None:
        self.params = params

    def start(self, node: NodeAPI) -> None:
        node.set_relaying(False)


PLUGINS: list[PluginSpec[Any]] = [
    PluginSpec("behaviour", "hashrate_mining", HashrateMiningParams, HashrateMining,
               "Poisson mining at the node's hashrate; optional hashrate steps over time"),
    PluginSpec("behaviour", "constant_mining", ConstantMiningParams, ConstantMining,
               "one block every `interval` seconds, whatever the difficulty"),
    PluginSpec("behaviour", "standard_sync", NoParams, StandardSync,
               "receives, verifies and relays blocks; does not mine"),
    PluginSpec("behaviour", "observer", NoParams, ObserverBehaviour,
               "monitoring node: receives, never relays, never mines"),
]
