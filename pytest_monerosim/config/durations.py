"""Durations in scenarios: ``90``, ``"90s"``, ``"2h"``, ``"1d"``, ``"1h30m"``, ``"250ms"``."""

from __future__ import annotations

import math
import re

_UNITS = {
    "ms": 0.001,
    "s": 1.0,
    "sec": 1.0,
    "m": 60.0,
    "min": 60.0,
    "h": 3600.0,
    "d": 86400.0,
}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|sec|min|s|m|h|d)")
ACCEPTED = 'a number of seconds or a string like "90s", "250ms", "30m", "2h", "1d", "1h30m"'

MAX_RUN_S = 365 * 86400.0
"""The longest run accepted: one year of simulated time.

A bound, so that a typo (``10000000d``) or ``inf`` fails at once instead of running until
killed. Why a year: it is 262,800 blocks at Monero's 120 s target, and the simulator keeps
every block with its arrival time at every node -- about 370 bytes per node per block
(measured: a 100-node network, 0.5 d vs 3 d runs), so a year of 10 nodes is ~1 GB and of
100 nodes ~10 GB; the longest shipped scenario (double_spend.yaml, 120 d) fits well. On
the monerod backend a year at the default 120x time scale would take 3 days of wall time.
"""
RUN_ACCEPTED = "a duration > 0 and at most 365d (one year of simulated time)"


def parse_duration(value: object) -> float:
    """Seconds (float) from a number or a duration string; ``ValueError`` otherwise."""
    seconds = _seconds(value)
    if not math.isfinite(seconds):
        raise ValueError(f"{value!r} is not a finite duration; expected {ACCEPTED}")
    if seconds < 0:
        raise ValueError(f"{value!r} is negative; a duration must be >= 0")
    return seconds


def _seconds(value: object) -> float:
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration; expected {ACCEPTED}")
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().lower()
        try:
            seconds = float(text)
        except ValueError:
            pos, seconds = 0, 0.0
            for match in _PART.finditer(text):
                if match.start() != pos and text[pos : match.start()].strip():
                    break
                seconds += float(match.group(1)) * _UNITS[match.group(2)]
                pos = match.end()
            if pos == 0 or text[pos:].strip():
                raise ValueError(f"{value!r} is not a duration; expected {ACCEPTED}") from None
    else:
        raise ValueError(f"{value!r} is not a duration; expected {ACCEPTED}")
    return seconds


def parse_run_duration(value: object) -> float:
    """A run's length in seconds: like :func:`parse_duration`, and ``0 < seconds <= MAX_RUN_S``."""
    seconds = _seconds(value)
    if not math.isfinite(seconds):
        raise ValueError(f"{value!r} is not a finite duration (the run would never end); "
                         f"accepted: {RUN_ACCEPTED}")
    if seconds > MAX_RUN_S:
        raise ValueError(f"{value!r} is longer than a year; accepted: {RUN_ACCEPTED}")
    if seconds <= 0:
        raise ValueError(f"{value!r} is not > 0 (nothing would run); accepted: {RUN_ACCEPTED}")
    return seconds


def format_duration(seconds: float) -> str:
    """Short human form: 7200 -> "2h", 90 -> "1m30s", 0.25 -> "250ms"."""
    if seconds < 1 and seconds > 0:
        return f"{seconds * 1000:g}ms"
    out = []
    rest = seconds
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if rest >= size:
            n = int(rest // size)
            out.append(f"{n}{unit}")
            rest -= n * size
    if rest or not out:
        out.append(f"{rest:g}s")
    return "".join(out)
