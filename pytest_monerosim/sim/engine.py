"""The discrete-event loop: a heap of ``(time, sequence, callback, args)``.

Modelled on SimPy's ``Environment.step``, cut down to what a Monero network
needs and kept small because it runs tens of millions of times per run:

* Order is total and deterministic: events at the same time run in the order
  they were scheduled (the sequence number breaks ties, so callbacks are never
  compared).
* An event is one tuple; there is no event object, no per-event closure and no
  priority field. ``schedule(delay, fn, *args)`` passes arguments through, so
  callers schedule bound methods or plain functions without lambdas.
* Cancelling is the caller's business and costs the engine nothing: either
  keep a generation counter and ignore stale callbacks (what the simulator's
  own hot paths do), or use :meth:`Engine.timer`, whose handle has
  ``cancel()`` (a tombstone checked when the event fires).
* There is one engine per run and no module state, so runs can be nested,
  interleaved or run in threads without seeing each other.

Hot modules (relay) push ``(time, engine.seq(), fn, args)`` onto
``engine.heap`` directly to save a method call per message; that is the only
sanctioned use of the heap outside this module.

*Folded events* (:meth:`Engine.fold`): a caller that can tell an event would do
nothing when it ran (a block delivered a second time, see :mod:`.block_relay`)
may leave it out of the heap and hand its time to the engine instead. It is
counted in :attr:`Engine.events` as if it had run, once the clock passes its
time, so ``events`` means the same with or without folding.
"""

from __future__ import annotations

import math
import sys
import time as _wall
from collections.abc import Callable
from heapq import heappop, heappush
from itertools import count
from typing import Any

ProgressFn = Callable[[float, int, float], None]
"""``progress(sim_time, events, events_per_wall_second)``."""


class _Stop(Exception):
    """Raised by the stop event to leave :meth:`Engine.run` at once."""


def _raise_stop() -> None:
    raise _Stop


class Timer:
    """Handle of a cancellable event (see :meth:`Engine.timer`)."""

    __slots__ = ("time", "fn", "args", "cancelled")

    def __init__(self, time: float, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        self.time = time
        self.fn = fn
        self.args = args
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True

    def _fire(self) -> None:
        if not self.cancelled:
            self.fn(*self.args)


class Engine:
    """One simulation clock and its event queue."""

    __slots__ = ("now", "events", "heap", "_seq", "seq", "_running", "folded", "_fold_limit")

    def __init__(self, start: float = 0.0) -> None:
        self.now: float = start
        """Current simulated time (seconds)."""
        self.events: int = 0
        """Events executed so far, folded ones included (updated when :meth:`run` returns or
        reports progress; folded ones when :meth:`run` returns)."""
        self.heap: list[tuple[float, int, Callable[..., Any], tuple[Any, ...]]] = []
        self._seq = count()
        self.seq = self._seq.__next__
        """The tie-break counter's ``__next__`` (for code that pushes onto :attr:`heap`)."""
        self._running = False
        self.folded: list[float] = []
        """Times of folded events not counted yet (see :meth:`fold`)."""
        self._fold_limit = 65_536

    # -- scheduling ----------------------------------------------------------
    def schedule(self, delay: float, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` ``delay`` seconds from now (``delay >= 0``)."""
        if delay < 0:
            raise ValueError(f"cannot schedule {delay} s in the past")
        heappush(self.heap, (self.now + delay, next(self._seq), fn, args))

    def at(self, time: float, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` at absolute simulated time ``time`` (``>= now``)."""
        if time < self.now:
            raise ValueError(f"cannot schedule at {time} s; it is already {self.now} s")
        heappush(self.heap, (time, next(self._seq), fn, args))

    def timer(self, delay: float, fn: Callable[..., Any], *args: Any) -> Timer:
        """Like :meth:`schedule` but returns a handle whose ``cancel()`` drops the event."""
        if delay < 0:
            raise ValueError(f"cannot schedule {delay} s in the past")
        handle = Timer(self.now + delay, fn, args)
        heappush(self.heap, (handle.time, next(self._seq), handle._fire, ()))
        return handle

    def stop(self) -> None:
        """Leave :meth:`run` before any other event (callable from a callback)."""
        # Sequence -1 sorts before every event already queued for this instant.
        heappush(self.heap, (self.now, -1, _raise_stop, ()))

    def fold(self, times: list[float]) -> None:
        """Count events at ``times`` (each after the current event) as run when the clock
        passes them, without scheduling them: their callbacks would have done nothing."""
        folded = self.folded
        folded += times
        if len(folded) > self._fold_limit:  # keep the list short: what is already past is counted
            self._count_folded(self.now, strict=True)
            # What is still ahead (a flood through a large network) waits for twice as many.
            self._fold_limit = max(65_536, 2 * len(self.folded))

    def _count_folded(self, until: float, strict: bool) -> None:
        """Count the folded events before ``until`` (at it too unless ``strict``)."""
        if strict:
            later = [t for t in self.folded if t >= until]
        else:
            later = [t for t in self.folded if t > until]
        self.events += len(self.folded) - len(later)
        self.folded = later

    def peek(self) -> float:
        """Time of the next event, ``inf`` if none."""
        return self.heap[0][0] if self.heap else math.inf

    def __len__(self) -> int:
        return len(self.heap)

    # -- running -------------------------------------------------------------
    def run(
        self,
        until: float = math.inf,
        *,
        progress: ProgressFn | None = None,
        progress_every: int = 200_000,
    ) -> int:
        """Execute events with ``time <= until``; returns how many ran.

        The clock ends at ``until`` (if finite) even when the queue empties
        earlier, so ``now`` after ``run(3600)`` is 3600. ``progress`` is called
        every ``progress_every`` events with ``(now, events, events/s)``.
        """
        if self._running:
            raise RuntimeError("Engine.run is not re-entrant")
        self._running = True
        start_events = self.events
        stopped = False
        try:
            if progress is None:
                self._loop(until, -1)
            else:
                wall0 = _wall.perf_counter()
                while self._loop(until, progress_every):
                    elapsed = _wall.perf_counter() - wall0
                    rate = (self.events - start_events) / elapsed if elapsed > 0 else 0.0
                    progress(self.now, self.events, rate)
        except _Stop:
            stopped = True
        finally:
            self._running = False
            if self.folded:
                # Stopped (or raised) at ``now``: an event at that very instant had run only if
                # it was queued before the event that stopped; a folded one is taken as not run.
                done = stopped or sys.exc_info()[0] is not None
                self._count_folded(self.now if done else until, strict=done)
        if not stopped and until != math.inf:
            self.now = until
        return self.events - start_events

    def _loop(self, until: float, budget: int) -> bool:
        """Run up to ``budget`` events (all if negative); True if stopped by the budget."""
        heap = self.heap
        pop = heappop
        done = 0
        try:
            if budget < 0:
                # The hot path: nothing but pop, clock, call.
                while heap:
                    item = pop(heap)
                    if item[0] > until:
                        heappush(heap, item)
                        return False
                    self.now = item[0]
                    done += 1
                    item[2](*item[3])
                return False
            while heap and done < budget:
                item = pop(heap)
                if item[0] > until:
                    heappush(heap, item)
                    return False
                self.now = item[0]
                done += 1
                item[2](*item[3])
            return bool(heap) and heap[0][0] <= until
        finally:
            self.events += done
