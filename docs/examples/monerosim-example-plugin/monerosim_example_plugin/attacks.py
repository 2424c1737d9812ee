"""``isolation``: cut one node off the network for a while and measure how it recovers.

An attack is a :class:`~pytest_monerosim.attacks.base.Attack`: a pydantic
``Params`` model, a ``check`` run before the simulation starts, and — on the
``sim`` backend — a *component* of the simulated world that acts only through
the model's mechanisms (here: a link filter and dropped connections) and
reports what it MEASURED with ``self.report(result, **metrics)``.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from pytest_monerosim.attacks.base import Attack, AttackParams
from pytest_monerosim.config.model import Scenario, Seconds
from pytest_monerosim.registry import PluginSpec


class IsolationParams(AttackParams):
    victim: str | None = None
    """Node to isolate (default: the scenario's first relay or user node)."""
    start: Seconds = 900.0
    """When every connection of the victim is cut."""
    end: Seconds = 2700.0
    """When the victim may connect again."""
    sample_s: Seconds = Field(default=60.0, gt=0)
    """Interval of the ``lag`` series."""

    @model_validator(mode="after")
    def _ordered(self) -> IsolationParams:
        if self.end <= self.start:
            raise ValueError(f"end={self.end:g} must be after start={self.start:g}")
        return self


def default_victim(scenario: Scenario) -> str:
    for group in scenario.nodes:
        if group.role in ("relay", "user"):
            return group.node_names()[0]
    return scenario.node_names()[-1]


class Isolation(Attack):
    name = "isolation"
    Params = IsolationParams

    @classmethod
    def check(cls, params: Any, scenario: Scenario) -> None:
        victim = params.victim or default_victim(scenario)
        if victim not in scenario.node_names():
            raise ValueError(f"victim={victim!r} is not a node of the scenario")
        if params.end >= scenario.general.duration:
            raise ValueError(f"end={params.end:g} s is not before the end of the run "
                             f"(duration {scenario.general.duration:g} s); accepted: an end the run outlives")

    # -- the world calls these (see pytest_monerosim.sim.components) ---------------------
    def setup(self, world: Any) -> None:
        self.world = world
        self.victim = world.node(self.params.victim or default_victim(world.scenario))
        self.cut: Any = None
        self.lag_at_end: int | None = None
        self.caught_up_at: float | None = None
        self.series: list[list[float]] = []
        world.engine.at(self.params.start, self._cut)
        world.engine.at(self.params.end, self._heal)
        world.engine.at(0.0, self._sample)

    def _honest_height(self) -> int:
        return max(n.height() for n in self.world.nodes.values() if n.honest and n is not self.victim)

    def _cut(self) -> None:
        victim = self.victim
        self.cut = self.world.add_filter(lambda a, b: victim is not a and victim is not b)
        self.world.drop_links(lambda a, b: victim in (a, b))

    def _heal(self) -> None:
        self.world.remove_filter(self.cut)
        self.lag_at_end = self._honest_height() - self.victim.height()

    def _sample(self) -> None:
        now = self.world.engine.now
        self.series.append([now, self._honest_height() - self.victim.height()])
        if now + self.params.sample_s <= self.world.duration:
            self.world.engine.schedule(self.params.sample_s, self._sample)

    def on_tip_changed(self, node: Any, change: Any) -> None:
        if (node is self.victim and self.lag_at_end is not None and self.caught_up_at is None
                and node.height() >= self._honest_height()):
            self.caught_up_at = self.world.engine.now

    def finish(self, world: Any, result: Any) -> None:
        caught_up = self.caught_up_at is not None or (
            self.lag_at_end is not None and self._honest_height() <= self.victim.height())
        self.report(
            result,
            victim=self.victim.name,
            lag_blocks=self.lag_at_end,
            caught_up=caught_up,
            catch_up_s=None if self.caught_up_at is None else self.caught_up_at - self.params.end,
            peers_at_end=len(self.victim.peers()),
            series={"lag": self.series},
        )


ISOLATION = PluginSpec(
    "attack", "isolation", IsolationParams, Isolation,
    "cut one node off from `start` to `end`; measures how far it fell behind and how fast it caught up",
)
