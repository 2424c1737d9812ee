"""Progress of a long run on the terminal: simulated time, events/s, ETA.

A :class:`ProgressLine` is the ``RunOptions.progress`` callback of one run.
It stays silent for the first :attr:`ProgressLine.delay` wall seconds (short
runs print nothing), then redraws one line in place on a terminal, or prints a
full line every :attr:`ProgressLine.plain_every` seconds to a log (CI). The
plugin only creates one where output is wanted (not under ``-q``, not on xdist
workers); the controller summarises every network's speed at the end.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any


def human_seconds(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds >= 3600:
        return f"{seconds / 3600:.1f}h"
    if seconds >= 60:
        return f"{seconds / 60:.1f}m"
    return f"{seconds:.0f}s" if seconds >= 10 else f"{seconds:.1f}s"


def human_rate(rate: float) -> str:
    if rate >= 1e6:
        return f"{rate / 1e6:.1f}M"
    if rate >= 1e3:
        return f"{rate / 1e3:.0f}k"
    return f"{rate:.0f}"


def progress_text(
    label: str, sim_time: float, duration: float, events: int, rate: float, elapsed: float
) -> str:
    parts = [f"monerosim {label}: t={human_seconds(sim_time)}"]
    if duration and duration > 0 and duration != float("inf"):
        frac = min(1.0, sim_time / duration)
        parts[0] += f"/{human_seconds(duration)} ({frac:.0%})"
        if 0 < frac < 1 and elapsed > 0:
            parts.append(f"ETA {human_seconds(elapsed * (1 - frac) / frac)}")
    parts.insert(1, f"{events:,} events, {human_rate(rate)} ev/s")
    return ", ".join(parts)


class ProgressLine:
    """A ``progress(sim_time, duration, events)`` callback drawing on a terminal reporter."""

    delay = 2.0
    redraw_every = 0.5
    plain_every = 30.0

    def __init__(
        self,
        terminal: Any,
        label: str,
        *,
        tty: bool | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.terminal = terminal
        self.label = label
        self.clock = clock
        self.started = clock()
        self.last_draw = -1e9
        self.last_events = 0
        self.last_time = self.started
        self.rate = 0.0
        self.drawn = False
        self.saved_fspath: object = None
        writer = getattr(terminal, "_tw", None)
        self.tty = bool(getattr(writer, "hasmarkup", False)) if tty is None else tty

    def __call__(self, sim_time: float, duration: float, events: int) -> None:
        now = self.clock()
        if now > self.last_time:
            window = now - self.last_time
            inst = (events - self.last_events) / window
            self.rate = inst if self.rate == 0 else 0.7 * self.rate + 0.3 * inst
            self.last_events, self.last_time = events, now
        elapsed = now - self.started
        if elapsed < self.delay:
            return
        every = self.redraw_every if self.tty else self.plain_every
        if now - self.last_draw < every:
            return
        self.last_draw = now
        text = progress_text(self.label, sim_time, duration, events, self.rate, elapsed)
        if not self.drawn:
            # ensure_newline() forgets the "file.py " prefix pytest wrote; remember it for close()
            self.saved_fspath = getattr(self.terminal, "currentfspath", None)
        if self.tty:
            if not self.drawn:
                self.terminal.ensure_newline()
            self.terminal.rewrite(text)
        else:
            self.terminal.ensure_newline()
            self.terminal.write_line(text)
        self.drawn = True

    def close(self) -> None:
        """Clear the live line and let pytest re-print its test prefix on the next result."""
        if not self.drawn:
            return
        if self.tty:
            self.terminal.rewrite("", erase=True)
            self.terminal.write("\r")
        self.terminal.ensure_newline()
        # pytest wrote "file.py " before the test and will append the result letter to it:
        # write the prefix again (-v: make it re-print "file.py::test" with the result).
        saved = self.saved_fspath
        if isinstance(saved, os.PathLike):
            start = getattr(self.terminal, "startpath", None)
            rel = os.path.relpath(saved, start) if start is not None else os.fspath(saved)
            self.terminal.write(rel + " ")
            self.terminal.currentfspath = saved
        elif saved is not None:
            self.terminal.currentfspath = -2
        self.drawn = False
