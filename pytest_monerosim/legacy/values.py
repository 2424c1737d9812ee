"""Upstream's value types: durations ("30m", "1h30m"), XMR amounts, daemon options.

Each annotated type validates one upstream value and says what is accepted
when it cannot; :mod:`.model` builds the config sections from them.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, StrictBool, StrictInt, StrictStr
from pydantic_core import PydanticCustomError

_UNIT_S = {
    **dict.fromkeys(("ms", "msec", "millisecond", "milliseconds"), 0.001),
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), 1.0),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), 60.0),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 3600.0),
}
_SINGLE = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*([a-z]*)")
_COMPOUND = re.compile(r"(?:\d+(?:\.\d+)?[hms])+")
DURATION_ACCEPTED = (
    'seconds as a number, or a string like "3600", "3600s", "30m", "6h", "2.5h", "1h30m" '
    "(units s/sec/seconds, m/min/minutes, h/hr/hours; ms for Shadow-level fields)"
)


def parse_legacy_duration(value: object) -> float:
    """Seconds from an upstream duration: 3600, "3600", "3600s", "30m", "6h", "1h30m".

    Single-unit forms follow the Rust generator (long unit names, decimals);
    compound forms follow the scenario expander (h/m/s letters only).
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"{value!r} is not a duration")
    if isinstance(value, (int, float)):
        seconds = float(value)
    else:
        text = value.strip().lower()
        single = _SINGLE.fullmatch(text)
        if single and single.group(2) in ("", *_UNIT_S):
            seconds = float(single.group(1)) * _UNIT_S.get(single.group(2), 1.0)
        elif _COMPOUND.fullmatch(text):
            seconds = sum(float(n) * _UNIT_S[u] for n, u in re.findall(r"(\d+(?:\.\d+)?)([hms])", text))
        else:
            raise ValueError(f"{value!r} is not a duration")
    if not seconds >= 0 or seconds == float("inf"):
        raise ValueError(f"{value!r} is not a duration >= 0")
    return seconds


def _duration(value: Any) -> Any:
    try:
        return parse_legacy_duration(value)
    except ValueError as exc:
        raise PydanticCustomError(
            "legacy", "{problem}; accepted: {accepted}", {"problem": str(exc), "accepted": DURATION_ACCEPTED}
        ) from None


def _duration_or_auto(value: Any) -> Any:
    return value if value == "auto" else _duration(value)


Duration = Annotated[float, BeforeValidator(_duration)]
"""Seconds; written in YAML as a number or a duration string."""
AutoDuration = Annotated[float | Literal["auto"], BeforeValidator(_duration_or_auto)]
"""Seconds, or ``"auto"`` (a scenario-form value upstream computes from its timing rules)."""
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
Count = Annotated[StrictInt, Field(ge=0)]
OptionValue = StrictBool | StrictInt | StrictStr
"""A daemon/wallet CLI option: ``true`` -> ``--flag``, ``false`` -> omitted, else ``--flag=value``."""


def _xmr(value: Any) -> Any:
    try:
        amount = Decimal(str(value)) if not isinstance(value, bool) else Decimal("NaN")
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite() or amount < 0:
        raise PydanticCustomError(
            "legacy",
            "{problem}; accepted: {accepted}",
            {
                "problem": f"{value!r} is not an XMR amount",
                "accepted": 'a decimal amount of XMR such as "1.5"',
            },
        )
    return str(value)


XmrAmount = Annotated[str, BeforeValidator(_xmr)]
"""An amount of XMR, kept as the decimal text upstream passes on (e.g. "1.0")."""


__all__ = [
    "AutoDuration",
    "Count",
    "DURATION_ACCEPTED",
    "Duration",
    "Fraction",
    "OptionValue",
    "XmrAmount",
    "parse_legacy_duration",
]
