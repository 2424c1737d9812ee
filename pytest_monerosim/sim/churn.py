"""Node churn: nodes that go offline and come back on the same data directory.

Each churning node (``NodeGroup.churn``; ``fraction`` of the group, drawn by
the layout, :mod:`pytest_monerosim.layout.conditions`) alternates sessions and
downtimes, each exponential with the given mean, a session clipped to
``[min_session_s, max_session_s]`` and a downtime to at least
``min_downtime_s`` (the existing Monerosim's ``general.turnover``).
A node's first session starts at its start time.

Going offline closes every connection (the node keeps its anchors, as a
shutdown does); coming back, the node reconnects anchors first. Chain, white
and gray lists and anchors survive, as monerod persists them in the database
and ``p2pstate.bin``; the pool survives too (monerod keeps it in the LMDB
database, ``tx_memory_pool::init`` reloads it).
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

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
        streams: dict[str, random.Random] = {}
        for group, state in world.layout.churn_streams.items():
            # each group's stream goes on from where the layout's draw of its churning nodes left it
            streams[group] = rng = random.Random()
            rng.setstate(state)
        for spec in world.layout.nodes.values():
            if spec.churn is not None:
                self.plan.append((world.nodes[spec.name], spec.churn, streams[spec.group]))
        self.stops = 0
        self.downtime_s = 0.0
        self.session_s = 0.0

    def setup(self, world: World) -> None:
        for node, churn, rng in self.plan:
            world.engine.at(node.start_time + self._session(churn, rng), self._stop, node, churn, rng)

    @staticmethod
    def _session(c: Churn, rng: random.Random) -> float:
        s = max(c.min_session_s, rng.expovariate(1.0 / c.mean_session_s))
        return min(s, c.max_session_s) if c.max_session_s is not None else s

    @staticmethod
    def _downtime(c: Churn, rng: random.Random) -> float:
        return max(c.min_downtime_s, rng.expovariate(1.0 / c.mean_downtime_s))

    def _stop(self, node: Node, churn: Churn, rng: random.Random) -> None:
        world = self.world
        if not node.online:
            return
        down = self._downtime(churn, rng)
        world.p2p.stop(node)
        self.stops += 1
        self.downtime_s += min(down, max(0.0, world.duration - world.engine.now))
        world.engine.schedule(down, self._start, node, churn, rng)

    def _start(self, node: Node, churn: Churn, rng: random.Random) -> None:
        world = self.world
        world.p2p.start(node)
        session = self._session(churn, rng)
        self.session_s += session
        world.engine.schedule(session, self._stop, node, churn, rng)

    def finish(self, world: World, result: Result) -> None:
        info: dict[str, Any] = {"nodes": len(self.plan), "stops": self.stops,
                                "offline_at_end": sum(not n.online for n, _, _ in self.plan)}
        result.extra["churn"] = info
        result.extra["offline_at_end"] = sorted(n.name for n, _, _ in self.plan if not n.online)
