"""The agent registry: every agent of the current run and its latest state.

Kept up to date by subscribing to the :class:`~.bus.EventBus`, so whatever
publishes events (the simulator's observer component, a real backend, a
result replay) also keeps the registry right. Thread safe for readers.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field
from typing import Any

from . import bus as ev

STATES = ("created", "running", "paused", "stopped", "finished")


@dataclass
class AgentState:
    """One agent's latest state: the registry's mutable twin of the API's ``schemas.Agent``.

    A plain dataclass because it changes on every event; the API serves it through
    ``schemas.Agent``, whose fields and defaults a test holds equal to these.
    """

    id: str
    kind: str
    """node | wallet | engine"""
    role: str = ""
    group: str = ""
    honest: bool = True
    state: str = "created"
    height: int = 0
    tip: str | None = None
    peers: int = 0
    blocks_found: int = 0
    reorgs: int = 0
    last_event: str | None = None
    last_time: float | None = None
    info: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out = {name: getattr(self, name) for name in _FIELDS}
        out["info"] = dict(self.info)
        return out


_FIELDS = tuple(f for f in AgentState.__dataclass_fields__ if f != "info")


class AgentRegistry:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._agents: dict[str, AgentState] = {}

    def attach(self, bus: ev.EventBus) -> None:
        bus.subscribe(self.apply)

    # -- reading -------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._agents)

    def __contains__(self, agent_id: object) -> bool:
        return agent_id in self._agents

    def get(self, agent_id: str) -> AgentState | None:
        with self._lock:
            agent = self._agents.get(agent_id)
            return None if agent is None else AgentState(**asdict(agent))

    def all(self) -> list[AgentState]:
        with self._lock:
            return [AgentState(**asdict(a)) for a in self._agents.values()]

    def dicts(self) -> list[dict[str, Any]]:
        """Every agent as a plain dict (one pass under the lock; cheaper than :meth:`all`)."""
        with self._lock:
            return [a.as_dict() for a in self._agents.values()]

    def numbers(self) -> list[tuple[str, str, bool, str, int, int]]:
        """(id, kind, honest, role, height, peers) of every agent: what a sample needs, no copies."""
        with self._lock:
            return [(a.id, a.kind, a.honest, a.role, a.height, a.peers) for a in self._agents.values()]

    def heights(self) -> dict[str, int]:
        with self._lock:
            return {a.id: a.height for a in self._agents.values() if a.kind == "node"}

    # -- writing -------------------------------------------------------------
    def clear(self) -> None:
        with self._lock:
            self._agents.clear()

    def register(self, agent_id: str, kind: str, **fields: Any) -> None:
        with self._lock:
            known = {k: v for k, v in fields.items() if k in AgentState.__dataclass_fields__}
            extra = {k: v for k, v in fields.items() if k not in AgentState.__dataclass_fields__}
            agent = AgentState(agent_id, kind, **known)
            agent.info.update(extra)
            self._agents[agent_id] = agent

    def apply(self, event: ev.Event) -> None:
        kind = event.kind
        data = event.data
        if kind == ev.AGENT_UP and event.agent is not None:
            self.register(event.agent, **data)
            return
        if kind == ev.RUN_START:
            self.clear()
            return
        if kind in (ev.RUN_END, ev.RUN_ERROR):
            with self._lock:
                for agent in self._agents.values():
                    if agent.state in ("created", "running", "paused"):
                        agent.state = "finished"
            return
        if kind == ev.RUN_REPLAY:
            with self._lock:
                for agent in self._agents.values():
                    agent.blocks_found = agent.reorgs = 0
            return
        if kind == ev.RUN_SAMPLE and "heights" in data:
            with self._lock:
                for agent_id, height in data["heights"].items():
                    found = self._agents.get(agent_id)
                    if found is not None:
                        found.height = int(height)
            return
        if kind == ev.PEER_SNAPSHOT:
            degree: dict[str, int] = {}
            for a, b in data.get("edges", ()):
                degree[a] = degree.get(a, 0) + 1
                degree[b] = degree.get(b, 0) + 1
            with self._lock:
                for agent in self._agents.values():
                    if agent.kind == "node":
                        agent.peers = degree.get(agent.id, 0)
            return
        if kind in (ev.RUN_PAUSED, ev.RUN_RESUMED):
            new = "paused" if kind == ev.RUN_PAUSED else "running"
            with self._lock:
                for agent in self._agents.values():
                    if agent.state in ("running", "paused"):
                        agent.state = new
            return
        if event.agent is None:
            return
        with self._lock:
            found = self._agents.get(event.agent)
            if found is None:
                return
            agent = found
            agent.last_event = kind
            agent.last_time = event.time
            if kind == ev.TIP_CHANGED:
                agent.height = int(data.get("height", agent.height))
                agent.tip = data.get("block", agent.tip)
            elif kind == ev.BLOCK_FOUND:
                agent.blocks_found += 1
            elif kind == ev.REORG:
                agent.reorgs += 1
            elif kind == ev.PEER_CONNECT:
                agent.peers += 1
            elif kind == ev.PEER_DISCONNECT:
                agent.peers = max(0, agent.peers - 1)
            elif kind == ev.AGENT_STATE:
                agent.state = str(data.get("state", agent.state))
            elif kind == ev.NODE_STATS:
                if "blocks_found" in data:
                    agent.blocks_found = int(data["blocks_found"])
                agent.info.update({k: v for k, v in data.items() if k != "blocks_found"})
            elif kind == ev.WALLET_STATE:
                agent.info.update({k: v for k, v in data.items() if k != "state"})
                if "state" in data:
                    agent.state = str(data["state"])
            if "peers" in data and kind in (ev.PEER_CONNECT, ev.PEER_DISCONNECT):
                agent.peers = int(data["peers"])
