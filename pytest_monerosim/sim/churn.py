"""Node churn: nodes that go offline and come back on the same data directory.

Each churning node (``NodeGroup.churn``; ``fraction`` of the group, drawn by
the layout, :mod:`pytest_monerosim.layout.conditions`) alternates sessions and
downtimes, each exponential with the given mean, a session clipped to
``[min_session_s, max_session_s]`` and a downtime to at least
``min_downtime_s`` (the existing Monerosim's ``general.turnover``).
A node's first session starts at its start time. The draws are
:func:`~pytest_monerosim.layout.conditions.churn_schedule`'s, which the real
backends replay.

Going offline closes every connection (the node keeps its anchors, as a
shutdown does); coming back, the node reconnects anchors first. Chain, white
and gray lists and anchors survive, as monerod persists them in the database
and ``p2pstate.bin``; the pool survives too (monerod keeps it in the LMDB
database, ``tx_memory_pool::init`` reloads it).
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from ..layout.conditions import churn_streams, downtime_s, session_s

if TYPE_CHECKING:
    from ..config.model import Churn
    from ..result.model import Result
    from .network import World
    from .node import Node


class NodeChurn:
    """A component: schedules every churning node's sessions and downtimes."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.plan: list[tuple[Node, Churn, random.Random]] = []
        streams = churn_streams(world.layout)
        for spec in world.layout.nodes.values():
            if spec.churn is not None:
                self.plan.append((world.nodes[spec.name], spec.churn, streams[spec.group]))
        self.stops = 0

    def setup(self, world: World) -> None:
        for node, churn, rng in self.plan:
            world.engine.at(node.start_time + session_s(churn, rng), self._stop, node, churn, rng)

    def _stop(self, node: Node, churn: Churn, rng: random.Random) -> None:
        world = self.world
        if not node.online:
            return
        down = downtime_s(churn, rng)
        world.p2p.stop(node)
        self.stops += 1
        world.engine.schedule(down, self._start, node, churn, rng)

    def _start(self, node: Node, churn: Churn, rng: random.Random) -> None:
        world = self.world
        world.p2p.start(node)
        world.engine.schedule(session_s(churn, rng), self._stop, node, churn, rng)

    def finish(self, world: World, result: Result) -> None:
        info: dict[str, Any] = {"nodes": len(self.plan), "stops": self.stops,
                                "offline_at_end": sum(not n.online for n, _, _ in self.plan)}
        result.extra["churn"] = info
        result.extra["offline_at_end"] = sorted(n.name for n, _, _ in self.plan if not n.online)
