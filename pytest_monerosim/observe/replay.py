"""Telling a run's story again: a finished :class:`~pytest_monerosim.result.model.Result`, or a saved
``events.jsonl`` played back with a time cursor.

* :func:`feed_result` publishes a finished result on the bus (agents, blocks
  with their parents, reorgs, transactions with their status, wallets, the last
  peer graph, and a sampled series of heights and tx counts) for backends that
  publish little or nothing while they run;
* :class:`EventsFile` writes the events of one run to ``events.jsonl`` in the
  run's output folder: appended to a ``.partial`` file, flushed as the run goes,
  renamed into place when the run ends (a reader never sees half a file);
* :class:`Replay` loads a saved ``events.jsonl`` (``monerosim serve --replay DIR``)
  and rebuilds the registry and views as they were at any simulated time (the
  dashboard's time slider sends ``seek``).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from . import bus as ev

if TYPE_CHECKING:
    from ..result.model import Result
    from .observer import LiveSession

EVENTS_FILE = "events.jsonl"
SAMPLES_IN_REPLAY = 240
"""Samples a replayed result's series gets over its duration."""


def register_agents(observer: LiveSession, result: Result) -> None:
    bus, registry = observer.bus, observer.registry
    for name, info in result.nodes.items():
        if name not in registry:
            bus.publish(ev.AGENT_UP, time=0.0, agent=name, kind="node", role=info.role, group=info.group,
                        honest=info.honest, state="running")
    for name, wallet in result.wallets.items():
        wid = f"wallet:{name}"
        if wid not in registry:
            bus.publish(ev.AGENT_UP, time=0.0, agent=wid, kind="wallet", role=wallet.strategy,
                        group=wallet.node, state="running", address=wallet.address)


def feed_result(observer: LiveSession, result: Result, *, samples: bool = True) -> None:
    """Publish a finished result's story: agents, blocks, reorgs, txs, wallets, final tips and peers."""
    bus = observer.bus
    register_agents(observer, result)
    bus.publish(ev.RUN_REPLAY, time=0.0)
    timeline: list[tuple[float, int, str, str | None, dict[str, Any]]] = []
    for block in result.blocks.values():
        if block.parent is not None:
            timeline.append((block.found_at, 0, ev.BLOCK_FOUND, block.miner,
                             {"id": block.id, "height": block.height, "miner": block.miner,
                              "parent": block.parent}))
    for r in result.reorgs:
        timeline.append((r.time, 1, ev.REORG, r.node, {"depth": r.depth, "old_tip": r.old_tip,
                                                       "new_tip": r.new_tip, "fork_height": r.fork_height}))
    for tx in result.txs.values():
        timeline.append((tx.created_at, 2, ev.TX, tx.origin,
                         {"id": tx.id, "fee": tx.fee, "sender": tx.sender, "status": "pending"}))
        if tx.status != "pending":
            when = tx.confirmed_at if tx.confirmed_at is not None else result.sim_seconds
            timeline.append((when, 3, ev.TX_STATUS, tx.origin,
                             {"id": tx.id, "status": tx.status, "block": tx.block, "reached": tx.reached}))
    timeline.sort(key=lambda e: (e[0], e[1]))
    step = result.sim_seconds / SAMPLES_IN_REPLAY if samples and result.sim_seconds > 0 else None
    next_sample, height, txs = 0.0, 0, 0
    for t, _, kind, agent, data in timeline:
        while step is not None and t > next_sample:
            _replayed_sample(observer, next_sample, height, txs)
            next_sample += step
        bus.publish(kind, time=t, agent=agent, **data)
        if kind == ev.BLOCK_FOUND:
            height = max(height, int(data["height"]))
        elif kind == ev.TX:
            txs += 1
    while step is not None and next_sample <= result.sim_seconds:
        _replayed_sample(observer, next_sample, height, txs)
        next_sample += step
    if result.peer_snapshots:
        last = max(result.peer_snapshots, key=lambda s: s.time)
        bus.publish(ev.PEER_SNAPSHOT, time=result.sim_seconds, edges=[list(e) for e in last.edges])
    heights: dict[str, int] = {}
    for name, tip in result.tips.items():
        tip_block = result.blocks.get(tip)
        if tip_block is not None:
            heights[name] = tip_block.height
            bus.publish(ev.TIP_CHANGED, time=result.sim_seconds, agent=name, height=tip_block.height,
                        block=tip)
    if heights:  # kept in events.jsonl, unlike the tips: a replay shows each node's final height
        bus.publish(ev.RUN_SAMPLE, time=result.sim_seconds, heights=heights, replayed=True,
                    height_max=max(heights.values()), txs=len(result.txs))
    for name, w in result.wallets.items():
        bus.publish(ev.WALLET_STATE, time=result.sim_seconds, agent=f"wallet:{name}", balance=w.balance,
                    unlocked=w.unlocked, received=w.received, sent=w.sent, txs=w.tx_count, node=w.node)


def _replayed_sample(observer: LiveSession, t: float, height: int, txs: int) -> None:
    fields = observer.views.sample_fields()
    observer.bus.publish(ev.RUN_SAMPLE, time=t, height_max=height, txs=txs, replayed=True,
                         **{k: v for k, v in fields.items() if k in ("stale", "reorgs", "blocks")})


class EventsFile:
    """One run's kept events as JSON lines, progressively flushed, renamed into place at the end."""

    FLUSH_EVERY = 200

    def __init__(self, folder: Path, context: Callable[[], dict[str, Any]]) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / EVENTS_FILE
        self.partial = folder / f".{EVENTS_FILE}.{os.getpid()}.partial"
        self._file: IO[str] | None = self.partial.open("w", encoding="utf-8")
        self._context = context
        self._lock = threading.Lock()
        self._unwritten = 0

    def __call__(self, event: ev.Event) -> None:
        if event.kind in ev.NOT_KEPT:
            return
        line = json.dumps({**self._context(), **event.as_dict()}, default=str)
        with self._lock:
            if self._file is None:
                return
            self._file.write(line + "\n")
            self._unwritten += 1
            if self._unwritten >= self.FLUSH_EVERY or event.kind in (ev.RUN_SAMPLE, ev.RUN_END, ev.RUN_ERROR):
                self._file.flush()
                self._unwritten = 0

    def close(self) -> Path | None:
        """Finish the file: flush, close and rename to ``events.jsonl``."""
        with self._lock:
            if self._file is None:
                return None
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            self._file = None
        self.partial.replace(self.path)
        return self.path


class ReplayError(ValueError):
    pass


def load_events(folder: Path) -> list[dict[str, Any]]:
    """The events of ``folder/events.jsonl`` (or of the file itself), oldest first."""
    path = folder / EVENTS_FILE if folder.is_dir() else folder
    if not path.is_file():
        raise ReplayError(f"--replay {folder}: no {EVENTS_FILE} there; accepted: a run's output folder "
                          f"(it holds {EVENTS_FILE}) or the file itself")
    events: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except ValueError:
                raise ReplayError(f"--replay {path}: line {number} is not JSON") from None
            if not isinstance(item, dict) or not isinstance(item.get("kind"), str):
                raise ReplayError(f"--replay {path}: line {number} is not a monerosim event "
                                  "(needs a 'kind' string)")
            events.append(item)
    if not events:
        raise ReplayError(f"--replay {path}: the file holds no events")
    return events


class Replay:
    """A saved run played back onto an observer, up to a chosen simulated time."""

    def __init__(self, observer: LiveSession, events: list[dict[str, Any]], source: str = "") -> None:
        self.observer = observer
        self.events = events
        self.source = source
        start = next((e for e in events if e["kind"] == ev.RUN_START), None)
        self.run = dict(start.get("data", {})) if start else {}
        times = [e["time"] for e in events if isinstance(e.get("time"), (int, float))]
        self.end = max(times, default=0.0)
        self.at = 0.0
        self._lock = threading.Lock()

    def seek(self, t: float) -> dict[str, Any]:
        """Rebuild the observer's state from the events up to simulated time ``t``."""
        t = min(max(0.0, float(t)), self.end)
        obs = self.observer
        with self._lock:
            obs.bus.publish(ev.RUN_START, time=0.0, **self.run)
            obs.current = {"id": 1, "test": self.run.get("test"), "scenario": self.run.get("scenario"),
                           "backend": self.run.get("backend"), "seed": self.run.get("seed"),
                           "duration": self.run.get("duration") or self.end, "state": "replay",
                           "sim_time": t, "events": 0, "rate": 0.0, "eta_s": None}
            for e in self.events:
                kind = e["kind"]
                if kind == ev.RUN_START:
                    continue
                when = e.get("time")
                if isinstance(when, (int, float)) and when > t:
                    continue  # (events are in publication order; times may step back a little)
                obs.bus.publish(kind, time=when, agent=e.get("agent"), **(e.get("data") or {}))
            self.at = t
            obs.invalidate()
        return {"time": t, "end": self.end}

    def info(self) -> dict[str, Any]:
        return {"source": self.source, "at": self.at, "end": self.end, "events": len(self.events)}
