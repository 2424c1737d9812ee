"""Commands to agents, and the gate that pauses, steps and resumes a simulated run.

``POST /api/agents/{id}/command`` with ``{"command": NAME, "args": {...}}`` goes
to the :class:`AgentController` of the running backend:

* every backend answers ``commands(agent)`` (the names it accepts for that
  agent) and ``command(agent, name, args)``; it raises :class:`CommandError`
  for a bad name or bad arguments (HTTP 400) and :class:`UnknownAgent` (404);
* the embedded simulator implements ``pause``, ``step`` and ``resume`` (they
  act on the whole run: a discrete-event simulation has one clock) plus
  ``mine`` for nodes; real backends are expected to implement ``stop``,
  ``start``, ``disconnect`` and ``mine`` for their nodes.

:class:`RunGate` is how the simulator honours pause/step/resume: its loop
calls :meth:`RunGate.checkpoint` at observed events (blocks, tips,
connections, progress); while paused the checkpoint blocks the run thread, and
commands that touch the simulation (``mine``) are queued and executed there,
on the run's own thread, never from the HTTP server's.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Protocol

RUN_COMMANDS = ("pause", "step", "resume")
NODE_COMMANDS = ("stop", "start", "disconnect", "mine")


class CommandError(ValueError):
    """Unknown command or bad arguments (HTTP 400)."""


class UnknownAgent(LookupError):
    """No agent with this id (HTTP 404)."""


class NotRunning(RuntimeError):
    """The command needs a running network and none is (HTTP 409)."""


class AgentController(Protocol):
    """What a backend implements for ``POST /api/agents/{id}/command``."""

    def commands(self, agent: str) -> tuple[str, ...]:
        """Command names ``agent`` accepts now (raise :class:`UnknownAgent` if there is none)."""

    def command(self, agent: str, name: str, args: dict[str, Any]) -> dict[str, Any]:
        """Carry out one command; returns a JSON-able result."""


def int_arg(args: dict[str, Any], key: str, default: int, lo: int = 1, hi: int = 10**9) -> int:
    value = args.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise CommandError(f"argument {key!r} must be an integer in {lo}..{hi}, got {value!r}")
    return value


def float_arg(args: dict[str, Any], key: str, lo: float = 0.0) -> float | None:
    if key not in args:
        return None
    value = args[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > lo:
        raise CommandError(f"argument {key!r} must be a number > {lo}, got {value!r}")
    return float(value)


class RunGate:
    """Pause/step/resume for a run loop that calls :meth:`checkpoint` now and then. Thread safe."""

    def __init__(
        self, *, max_pause: float = 3600.0, on_change: Callable[[str, float], None] | None = None
    ) -> None:
        self._cond = threading.Condition()
        self._paused = False
        self._steps = 0
        self._until: float | None = None
        self._calls: deque[tuple[Callable[[], Any], Future[Any]]] = deque()
        self._open = True
        self._inside = False
        self.now = 0.0
        self.max_pause = max_pause
        """A pause longer than this (wall seconds) resumes by itself: nothing hangs a session forever."""
        self.on_change = on_change
        """Called with ("paused" | "resumed", sim time) on the run thread."""
        self.wake_at: Callable[[float], None] | None = None
        """Set by the simulator: make the run call :meth:`checkpoint` at simulated time ``t``."""

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def is_open(self) -> bool:
        return self._open

    # -- called from the API thread ------------------------------------------
    def pause(self) -> dict[str, Any]:
        self._require_open()
        with self._cond:
            self._paused = True
            self._steps, self._until = 0, None
        return {"paused": True, "time": self.now}

    def resume(self) -> dict[str, Any]:
        self._require_open()
        with self._cond:
            self._paused = False
            self._steps, self._until = 0, None
            self._cond.notify_all()
        return {"paused": False, "time": self.now}

    def step(self, args: dict[str, Any]) -> dict[str, Any]:
        """Run on a little while paused: ``{"seconds": s}`` of simulated time, or
        ``{"events": n}`` observed events (default 1); then pause again."""
        self._require_open()
        seconds = float_arg(args, "seconds")
        events = int_arg(args, "events", 1) if seconds is None else 0
        unknown = set(args) - {"seconds", "events"}
        if unknown:
            raise CommandError(f"step takes 'seconds' or 'events', not {', '.join(sorted(unknown))}")
        with self._cond:
            if not self._paused:
                raise CommandError("step needs a paused run; send pause first")
            if seconds is not None:
                until = self.now + seconds
                self._until = until
                wake_at = self.wake_at
                if wake_at is not None:
                    future: Future[Any] = Future()
                    self._calls.append((lambda: wake_at(until), future))
            else:
                self._steps = events
            self._cond.notify_all()
        return {
            "paused": True,
            "time": self.now,
            "stepping": {"seconds": seconds} if seconds else {"events": events},
        }

    def call(self, fn: Callable[[], Any], timeout: float = 30.0) -> Any:
        """Run ``fn`` on the run thread at its next checkpoint and return its result."""
        self._require_open()
        future: Future[Any] = Future()
        with self._cond:
            self._calls.append((fn, future))
            self._cond.notify_all()
        try:
            return future.result(timeout)
        except TimeoutError:
            raise NotRunning(f"the run did not reach a checkpoint within {timeout:.0f}s") from None

    def close(self) -> None:
        """The run is over: release a paused loop and fail queued calls."""
        with self._cond:
            self._open = False
            self._paused = False
            calls = list(self._calls)
            self._calls.clear()
            self._cond.notify_all()
        for _, future in calls:
            if not future.done():
                future.set_exception(NotRunning("the run has finished"))

    def _require_open(self) -> None:
        if not self._open:
            raise NotRunning("no network is running")

    # -- called from the run thread ------------------------------------------
    def checkpoint(self, now: float) -> None:
        self.now = now
        if (not self._paused and not self._calls) or self._inside:
            return  # the common case: one attribute test and out; never nested (a command mining)
        self._inside = True
        try:
            self._drain()
            if self._paused:
                self._wait_while_paused(now)
        finally:
            self._inside = False

    def _drain(self) -> None:
        while True:
            with self._cond:
                if not self._calls:
                    return
                fn, future = self._calls.popleft()
            try:
                future.set_result(fn())
            except BaseException as exc:  # handed to the caller's thread
                future.set_exception(exc)

    def _wait_while_paused(self, now: float) -> None:
        announced = False
        started = time.monotonic()
        while True:
            self._drain()
            with self._cond:
                if not self._paused or not self._open:
                    break
                if self._until is not None:
                    if now < self._until:
                        return  # stepping through simulated time
                    self._until = None
                elif self._steps > 0:
                    self._steps -= 1
                    return
                if announced:
                    self._cond.wait(0.25)
                    if time.monotonic() - started > self.max_pause:
                        self._paused = False
                    continue
            announced = True
            if self.on_change is not None:
                self.on_change("paused", now)
        if announced and self.on_change is not None:
            self.on_change("resumed", now)
