"""Scaled real time for agents: the clock, the one-thread scheduler and the JSON-lines event log.

Used by the agent runtime (:mod:`.runtime`) and by the ``monerod`` backend's
own actors; see :mod:`.runtime` for how they fit together.
"""

from __future__ import annotations

import heapq
import itertools
import json
import math
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["Clock", "EventLog", "Scheduler"]


class Clock:
    """Simulated seconds from the process clock: ``(time.time() - t0) * scale``."""

    def __init__(self, t0: float, scale: float) -> None:
        if scale <= 0:
            raise ValueError(f"time scale {scale} must be > 0 simulated seconds per second")
        self.t0 = t0
        self.scale = scale

    def now(self) -> float:
        return (time.time() - self.t0) * self.scale

    def to_sim(self, epoch: float) -> float:
        return (epoch - self.t0) * self.scale


class EventLog:
    """One agent's records as JSON lines; thread-safe, each line flushed when written.

    Every record has ``type``, ``t`` (simulated seconds), ``wall`` (epoch
    seconds) and ``agent``; the rest depends on the type (see
    :mod:`pytest_monerosim.backends.parse`).
    """

    def __init__(self, path: Path, agent: str, clock: Clock) -> None:
        self.path = Path(path)
        self.agent = agent
        self.clock = clock
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._handle = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()

    def write(self, type: str, **fields: Any) -> None:
        wall = time.time()
        record = {"type": type, "t": round(self.clock.to_sim(wall), 6), "wall": round(wall, 6),
                  "agent": self.agent, **fields}
        line = json.dumps(record, sort_keys=False, default=_jsonable) + "\n"
        with self._lock:
            if not self._handle.closed:
                self._handle.write(line)
                self._handle.flush()

    def close(self) -> None:
        with self._lock:
            self._handle.close()


def _jsonable(value: Any) -> Any:
    if isinstance(value, (set, tuple)):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    return repr(value)


class Scheduler:
    """Callbacks at scaled real times, run one at a time on one thread.

    ``schedule(delay, fn)`` takes simulated seconds. A callback that raises is
    reported to ``on_error`` and the scheduler goes on.
    """

    def __init__(self, clock: Clock, name: str,
                 on_error: Callable[[BaseException], None] | None = None) -> None:
        self.clock = clock
        self.name = name
        self.on_error = on_error
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._stopped = False
        self._thread: threading.Thread | None = None

    def schedule(self, delay: float, fn: Callable[[], None]) -> None:
        if delay < 0 or math.isnan(delay):
            raise ValueError(f"cannot schedule {delay} s in the past")
        due = time.time() + delay / self.clock.scale
        with self._cond:
            heapq.heappush(self._heap, (due, next(self._seq), fn))
            self._cond.notify()

    def at(self, sim_time: float, fn: Callable[[], None]) -> None:
        """Run ``fn`` at simulated time ``sim_time`` (at once if that has passed)."""
        self.schedule(max(0.0, sim_time - self.clock.now()), fn)

    def run(self, until_wall: float | None = None) -> None:
        """Run callbacks on this thread until :meth:`stop` or ``until_wall`` (epoch)."""
        while True:
            with self._cond:
                while True:
                    if self._stopped:
                        return
                    now = time.time()
                    if until_wall is not None and now >= until_wall:
                        return
                    if self._heap and self._heap[0][0] <= now:
                        _, _, fn = heapq.heappop(self._heap)
                        break
                    wait = self._heap[0][0] - now if self._heap else 1.0
                    if until_wall is not None:
                        wait = min(wait, until_wall - now)
                    self._cond.wait(max(0.0, min(wait, 1.0)))
            try:
                fn()
            except Exception as exc:  # noqa: BLE001 - reported, the agent goes on
                if self.on_error is None:
                    raise
                self.on_error(exc)

    def start_thread(self) -> threading.Thread:
        self._thread = threading.Thread(target=self.run, name=f"agent-{self.name}", daemon=True)
        self._thread.start()
        return self._thread

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def stopped(self) -> bool:
        return self._stopped
