"""Churn on real daemons: the layout's downtimes replayed by stopping and restarting monerod.

Each churning daemon's ``DaemonSpec.downtimes`` (the layout's
:func:`~pytest_monerosim.layout.conditions.churn_schedule`, the draws the
simulator's churn makes) are replayed in the run's time: at ``offline at`` the
daemon is stopped (the stop RPC, as a node operator's shutdown: monerod saves its
peer lists to ``p2pstate.bin`` and keeps chain and pool in its database), at
``back at`` it is started again on the same data directory and ports, and finds
its anchors and peer lists where it left them. Its wallet RPC stays up; what the
wallet asks meanwhile fails and is recorded as RPC trouble, not as a failure of
the run.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from .restart import restart

if TYPE_CHECKING:
    from .network import LoopbackNetwork


class ChurnReplay:
    """The stops and restarts still to do, done as the run's clock passes them."""

    def __init__(self, network: LoopbackNetwork) -> None:
        self.network = network
        todo = [(at, back, name) for name, d in network.daemons.items() for at, back in d.spec.downtimes]
        # (time, order, name, stopping): a stop and the return it schedules
        self.todo = sorted([(at, i, name, True) for i, (at, _, name) in enumerate(todo)]
                           + [(back, i, name, False) for i, (_, back, name) in enumerate(todo)])
        self.stops = 0
        self.starts = 0
        self.stop_wall_s: list[float] = []

    def step(self, until: float) -> None:
        """Do what is due by ``until`` (the run's clock now, capped at the end of the run asked for)."""
        net = self.network
        while self.todo and until >= self.todo[0][0]:
            _, _, name, stopping = self.todo.pop(0)
            daemon = net.daemons[name]
            if stopping:
                if daemon.process is None or not daemon.process.alive():
                    continue  # not started yet (a late starter) or stopped by something else
                daemon.stopped_on_purpose = True
                began = time.monotonic()
                daemon.stop()
                self.stop_wall_s.append(time.monotonic() - began)
                self.stops += 1
            elif daemon.stopped_on_purpose and (daemon.process is None or not daemon.process.alive()):
                restart(daemon)
                daemon.stopped_on_purpose = False
                self.starts += 1

    def record(self) -> dict[str, Any]:
        """``extra["churn"]`` (the simulator's keys, plus how long the stops took in wall time)."""
        net = self.network
        churning = [n for n, d in net.daemons.items() if d.spec.downtimes]
        down = sorted(n for n in churning if net.daemons[n].stopped_on_purpose)
        return {"nodes": len(churning), "stops": self.stops, "restarts": self.starts,
                "offline_at_end": len(down), "offline_names": down,
                "stop_wall_s_max": round(max(self.stop_wall_s), 2) if self.stop_wall_s else None}


__all__ = ["ChurnReplay"]
