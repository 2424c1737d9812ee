"""Mainnet conditions on a built world: spies, reachability, ban lists, churn.

:func:`apply` runs once, after the nodes exist and before the first event. Each node's
conditions come from its :class:`~pytest_monerosim.layout.NodeSpec` (the layout
draws NAT, hidden and churning nodes). A scenario that sets none of the
per-group options (``reachable``, ``hidden``, ``churn``, ``spy``, ``ban_list``)
is left exactly as built: no stream is
drawn, no filter or component added, so its results do not change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import banlist, reachability, spies
from .churn import NodeChurn

if TYPE_CHECKING:
    from ..result.model import Result
    from .network import World


def apply(world: World) -> None:
    layout = world.layout
    if not layout.conditions:
        return
    spies.place(world)  # first: ban lists name the spies' subnets
    chosen = reachability.apply(world)
    bans = banlist.install(world)
    world.add_component(_Report(chosen, bans))
    if layout.churn_streams:
        world.add_component(NodeChurn(world))
    if any(spec.spy is not None for spec in layout.nodes.values()):
        world.add_component(spies.SpyNetwork(world))


class _Report:
    """Writes how many nodes are unreachable / hidden and the ban lists into ``result.extra``."""

    def __init__(self, chosen: dict[str, list[str]], bans: banlist.BanLists | None) -> None:
        self.chosen = chosen
        self.bans = bans

    def finish(self, world: World, result: Result) -> None:
        info: dict[str, Any] = {k: len(v) for k, v in self.chosen.items()}
        if self.bans is not None:
            info["ban_lists"] = {g: [str(n) for n in nets] for g, nets in self.bans.lists.items()}
        result.extra["reachability"] = info
