"""Durations in scenarios: ``90``, ``"90s"``, ``"2h"``, ``"1d"``, ``"1h30m"``, ``"250ms"``."""

from __future__ import annotations

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


def parse_duration(value: object) -> float:
    """Seconds (float) from a number or a duration string; ``ValueError`` otherwise."""
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
    if seconds < 0:
        raise ValueError(f"{value!r} is negative; a duration must be >= 0")
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
