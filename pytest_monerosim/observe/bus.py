"""The event bus of a run.

Publishers (the simulator's observer component, backends, the plugin) call
:meth:`EventBus.publish`; subscribers (the agent registry, the JSON-lines log,
Allure) are called synchronously on the publisher's thread. A bounded history
with a monotonically increasing sequence number serves ``GET /api/events?since=``
(the cursor is the last ``seq`` a client saw). Thread safe: the run publishes
on its thread while the API reads on the server's.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

# Event kinds (``kind`` strings). Fields are listed for each.
RUN_START = "run.start"  # scenario, backend, seed, duration, test
RUN_BUILT = "run.built"  # nodes, links
RUN_PROGRESS = "run.progress"  # events, rate (not kept in history)
RUN_PAUSED = "run.paused"
RUN_RESUMED = "run.resumed"
RUN_END = "run.end"  # height, blocks, reorgs, consensus, wall_seconds
RUN_ERROR = "run.error"  # error
AGENT_UP = "agent.registered"  # kind, role, group, honest
AGENT_STATE = "agent.state"  # state
BLOCK_FOUND = "block.found"  # id, height, miner
TIP_CHANGED = "chain.tip"  # height, block (not kept in history: one per node per block)
REORG = "chain.reorg"  # depth, old_tip, new_tip, fork_height
TX = "tx.created"  # id, origin, fee
PEER_CONNECT = "peer.connect"  # peer, outgoing
PEER_DISCONNECT = "peer.disconnect"  # peer
CHECK = "check"  # name, passed, message, args
COMMAND = "command"  # name, args, ok, result
RUN_SAMPLE = "run.sample"  # heights {min, median, max, attacker}, peers_mean, mempool, txs, stale, ...
RUN_REPLAY = "run.replay"  # a finished result is replayed next: blocks and counters start over
NODE_STATS = "node.stats"  # blocks_found (absolute), mempool
PEER_SNAPSHOT = "peer.snapshot"  # edges [[from, to], ...]: the whole peer graph at this time
TX_STATUS = "tx.status"  # id, status (pending|confirmed|rejected|reversed), phase (stem|fluff), block
WALLET_STATE = "wallet.state"  # balance, unlocked, sent, received, txs

NOT_KEPT = frozenset({RUN_PROGRESS, TIP_CHANGED})
"""Kinds delivered to subscribers but too frequent for the history."""


@dataclass(frozen=True)
class Event:
    seq: int
    kind: str
    time: float | None
    """Simulated seconds since the start of the run (None outside a run)."""
    wall: float
    """Unix time of publication."""
    agent: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "seq": self.seq,
            "kind": self.kind,
            "time": self.time,
            "wall": round(self.wall, 3),
        }
        if self.agent is not None:
            out["agent"] = self.agent
        if self.data:
            out["data"] = self.data
        return out


Subscriber = Callable[[Event], None]


class EventBus:
    def __init__(self, history: int = 10_000, clock: Callable[[], float] = time.time) -> None:
        self._lock = threading.Lock()
        self._history: deque[Event] = deque(maxlen=history)
        self._seq = 0
        self._subscribers: tuple[Subscriber, ...] = ()
        self._counts: Counter[str] = Counter()
        self.clock = clock

    def publish(
        self, kind: str, /, *, time: float | None = None, agent: str | None = None, **data: Any
    ) -> Event:
        with self._lock:
            self._seq += 1
            event = Event(self._seq, kind, time, self.clock(), agent, data)
            self._counts[kind] += 1
            if kind not in NOT_KEPT:
                self._history.append(event)
            subscribers = self._subscribers
        for fn in subscribers:
            fn(event)
        return event

    def subscribe(self, fn: Subscriber) -> Callable[[], None]:
        """Call ``fn(event)`` for every event from now on; returns the unsubscribe function."""
        with self._lock:
            self._subscribers = self._subscribers + (fn,)

        def unsubscribe() -> None:
            with self._lock:
                self._subscribers = tuple(s for s in self._subscribers if s is not fn)

        return unsubscribe

    @property
    def last_seq(self) -> int:
        return self._seq

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def since(
        self,
        cursor: int = 0,
        *,
        limit: int = 500,
        kinds: Iterable[str] | None = None,
        agent: str | None = None,
    ) -> tuple[list[Event], int]:
        """Kept events with ``seq > cursor`` (oldest first, at most ``limit``) and the next cursor.

        ``kinds`` match exactly or by prefix ending in a dot (``"peer."``).
        """
        wanted = tuple(kinds or ())
        with self._lock:
            events = [e for e in self._history if e.seq > cursor]
        if wanted:
            events = [
                e
                for e in events
                if any(e.kind == k or (k.endswith(".") and e.kind.startswith(k)) for k in wanted)
            ]
        if agent is not None:
            events = [e for e in events if e.agent == agent]
        events = events[:limit]
        next_cursor = events[-1].seq if len(events) == limit else max(cursor, self._seq)
        return events, next_cursor

    def recent(self, n: int = 50) -> list[Event]:
        with self._lock:
            return list(self._history)[-n:]
