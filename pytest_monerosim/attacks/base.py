"""What every attack plugin shares.

An attack is a :class:`~pytest_monerosim.registry.PluginSpec` of kind
``"attack"`` whose factory is an :class:`Attack` subclass:

* ``Params`` — its pydantic parameter model (``extra="forbid"``);
* ``check(params, scenario)`` — a classmethod run before any simulation starts;
  raises ``ValueError`` naming the field, the bad value and what is accepted
  (a victim that does not exist, t2 <= t1, hashrate share > 1, ...);
* on the ``sim`` backend the instance is a world *component*
  (:mod:`pytest_monerosim.sim.components`): it sets itself up in ``setup(world)``,
  acts only through the model's mechanisms (peer lists, connection slots,
  filters, relay, mining strategies, tx pools) and, in ``finish(world, result)``,
  writes what it MEASURED to ``result.attacks[name]`` via :meth:`Attack.report`.

Metrics convention (the summary JSON's ``attacks.<name>``, the sweep table and
``monerosim analyze`` rely on it): ``params`` holds the attack's parameters;
scalar metrics sit at the top level (booleans are outcomes whose rate
``analyze`` estimates); time series go under ``series`` as ``{name: [[t, v], ...]}``;
node lists (``victim``, ``attackers``) are lists of node names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict

from ..strict import StrictModel

if TYPE_CHECKING:
    from ..config.model import Scenario
    from ..result.model import Result


class AttackParams(StrictModel):
    model_config = ConfigDict(allow_inf_nan=False)


class Attack:
    name: ClassVar[str] = "attack"
    Params: ClassVar[type[BaseModel]] = AttackParams

    def __init__(self, params: BaseModel) -> None:
        self.params = params

    @classmethod
    def check(cls, params: BaseModel, scenario: Scenario) -> None:
        """Validate the params against the scenario; raise ValueError. Default: nothing."""

    def report(self, result: Result, **metrics: Any) -> dict[str, Any]:
        entry = {"params": self.params.model_dump(mode="json"), **metrics}
        result.attacks[self.name] = entry
        return entry


def require_node(scenario: Scenario, field: str, name: str) -> None:
    """``ValueError`` unless ``name`` is a node or group of the scenario."""
    nodes = set(scenario.node_names())
    groups = {g.group for g in scenario.nodes}
    if name not in nodes and name not in groups:
        sample = sorted(nodes)[:8]
        raise ValueError(
            f"{field}={name!r} is not a node or group of the scenario; nodes include {sample}, "
            f"groups are {sorted(groups)}"
        )
