"""``bursty_mining``: a miner that switches extra hashrate on for a while every period.

A behaviour is written against the agent API (``NodeAPI``) only, so the same
code runs in the simulator and against real monerod: it reads the clock with
``node.now()``, waits with ``node.schedule(delay, callback)`` (never sleeps) and
acts through ``node.set_hashrate``.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from pytest_monerosim.agents.api import NodeAPI
from pytest_monerosim.config.model import Seconds
from pytest_monerosim.registry import PluginSpec


class BurstyMiningParams(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a typo in a scenario is an error naming the field

    factor: float = Field(default=4.0, ge=1)
    """Hashrate during a burst, as a multiple of the node's own hashrate."""
    burst: Seconds = Field(default=600.0, gt=0)
    """Length of each burst."""
    period: Seconds = Field(default=3600.0, gt=0)
    """Time from the start of one burst to the start of the next."""


class BurstyMining:
    def __init__(self, params: BurstyMiningParams) -> None:
        self.params = params

    def start(self, node: NodeAPI) -> None:
        base = node.hashrate()
        p = self.params

        def burst_on() -> None:
            node.set_hashrate(base * p.factor)
            node.log("burst", hashrate=base * p.factor)
            node.schedule(min(p.burst, p.period), burst_off)

        def burst_off() -> None:
            node.set_hashrate(base)
            node.schedule(max(p.period - p.burst, 0.0), burst_on)

        node.set_hashrate(base)
        node.schedule(0.0, burst_on)


BURSTY_MINING = PluginSpec(
    "behaviour", "bursty_mining", BurstyMiningParams, BurstyMining,
    "mine at `factor` times the node's hashrate for `burst` seconds every `period`",
)
