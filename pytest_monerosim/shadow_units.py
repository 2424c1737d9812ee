"""Shadow 3.x unit strings: time ("25 ms"), bandwidth ("100 Mbit") and byte sizes ("64 KiB").

Mirrors the rules of Shadow's ``src/main/utility/units.rs``:

* a value is a non-negative integer (u64) followed by an optional unit, with
  optional whitespace between them ("10ms", "10 ms" and "10   ms" are equal);
* fractions are rejected ("1.5 s" is an error: write "1500 ms");
* units are case-sensitive ("10 mbit" is an error);
* with no unit the base unit applies (seconds, bits per second, bytes);
* in YAML a bare integer is accepted too (``stop_time: 3600``), but not a float.

Simulated time in this project is seconds (float) and bandwidth bits per
second, so formatting converts those to the largest unit that represents the
value *exactly*, and refuses values that no integer count of nanoseconds (or
bits) can represent.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation

__all__ = [
    "BANDWIDTH_UNITS",
    "BYTE_UNITS",
    "TIME_UNITS",
    "UnitError",
    "format_bandwidth",
    "format_time",
    "format_time_ns",
    "parse_bandwidth",
    "parse_bytes",
    "parse_time",
    "parse_time_ns",
]

_U64_MAX = 2**64 - 1
_NS_PER_S = 10**9

# Shadow's TimePrefix::from_str. Note "m" is *minutes* here, not milli.
_TIME_FORMS: dict[int, tuple[str, ...]] = {
    1: ("ns", "nanosecond", "nanoseconds"),
    10**3: ("us", "μs", "microsecond", "microseconds"),
    10**6: ("ms", "millisecond", "milliseconds"),
    10**9: ("s", "sec", "secs", "second", "seconds"),
    60 * 10**9: ("m", "min", "mins", "minute", "minutes"),
    3600 * 10**9: ("h", "hr", "hrs", "hour", "hours"),
}
TIME_UNITS: dict[str, int] = {form: ns for ns, forms in _TIME_FORMS.items() for form in forms}
"""Every time unit Shadow accepts, mapped to its size in nanoseconds."""

# Shadow's SiPrefixUpper::from_str (bandwidth and byte sizes take no sub-unit prefixes).
_UPPER_PREFIXES: dict[str, int] = {
    "": 1,
    "K": 10**3,
    "kilo": 10**3,
    "Ki": 2**10,
    "kibi": 2**10,
    "M": 10**6,
    "mega": 10**6,
    "Mi": 2**20,
    "mebi": 2**20,
    "G": 10**9,
    "giga": 10**9,
    "Gi": 2**30,
    "gibi": 2**30,
    "T": 10**12,
    "tera": 10**12,
    "Ti": 2**40,
    "tebi": 2**40,
}
_BANDWIDTH_SUFFIXES = ("bit", "bits")
_BYTE_SUFFIXES = ("B", "byte", "bytes")

BANDWIDTH_UNITS: dict[str, int] = {
    prefix + suffix: size
    for prefix, size in _UPPER_PREFIXES.items()
    for suffix in _BANDWIDTH_SUFFIXES
}
"""Every bandwidth unit Shadow accepts (besides none at all), mapped to bits per second."""

BYTE_UNITS: dict[str, int] = {
    prefix + suffix: size for prefix, size in _UPPER_PREFIXES.items() for suffix in _BYTE_SUFFIXES
}
"""Every byte-size unit Shadow accepts (besides none at all), mapped to bytes."""

_TIME_ACCEPTED = (
    'an integer with a time unit, e.g. "25 ms", "10 s", "30 min", "6 h" '
    "(units: ns, us, ms, s, sec, m, min, h, hr and their long forms; no unit means seconds)"
)
_BANDWIDTH_ACCEPTED = (
    'an integer with a bandwidth unit, e.g. "100 Mbit", "1 Gbit", "512 Kibit" '
    "(units: bit, Kbit, Kibit, Mbit, Mibit, Gbit, Gibit, Tbit, Tibit or kilobit, mebibit, ...; "
    "case-sensitive; no unit means bits per second)"
)
_BYTES_ACCEPTED = (
    'an integer with a size unit, e.g. "65535 B", "128 KiB", "1 MB" '
    "(units: B, KB, KiB, MB, MiB, GB, GiB, TB, TiB or kilobyte, mebibytes, ...; "
    "case-sensitive; no unit means bytes)"
)

# Shadow splits with ^([+-]?[0-9\.]*)\s*(.*)$ and then parses the number as u64.
_SPLIT = re.compile(r"^([+-]?[0-9.]*)\s*(.*)$", re.DOTALL)


class UnitError(ValueError):
    """A unit string Shadow would refuse. ``accepted`` says what would be accepted."""

    def __init__(self, problem: str, accepted: str) -> None:
        self.problem = problem
        self.accepted = accepted
        super().__init__(f"{problem}; expected {accepted}")


def _split(value: object, kind: str, accepted: str) -> tuple[int, str]:
    """(integer value, unit text) following Shadow's lexical rules."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise UnitError(f"{value!r} is not a {kind} ({type(value).__name__})", accepted)
    if isinstance(value, int):
        if not 0 <= value <= _U64_MAX:
            raise UnitError(f"{value} is out of range for a {kind}", accepted)
        return value, ""
    match = _SPLIT.match(value.strip())
    assert match is not None  # the pattern matches any string
    number, unit = match.group(1).strip(), match.group(2).strip()
    if not number:
        raise UnitError(f"{value!r} does not start with a number", accepted)
    if number.startswith("-"):
        raise UnitError(f"{value!r} is negative", accepted)
    digits = number.removeprefix("+")
    if not digits.isdigit():
        raise UnitError(f"{value!r} has a fractional value; {_fraction_hint(value)}", accepted)
    amount = int(digits)
    if amount > _U64_MAX:
        raise UnitError(f"{value!r} is out of range for a {kind}", accepted)
    return amount, unit


def _fraction_hint(value: str) -> str:
    """Suggest an equivalent integer form for a fractional time, when there is one."""
    match = _SPLIT.match(value.strip())
    if match:
        unit = match.group(2).strip() or "s"
        if unit in TIME_UNITS:
            try:
                ns = Decimal(match.group(1)) * TIME_UNITS[unit]
            except InvalidOperation:
                ns = Decimal("NaN")
            if ns.is_finite() and ns >= 0 and ns == ns.to_integral_value():
                return f'Shadow only takes integers, so write "{format_time_ns(int(ns))}"'
    return "Shadow only takes integers: use a smaller unit"


def parse_time_ns(value: object) -> int:
    """Nanoseconds from a Shadow time value ("25 ms", "6 h", 3600); ``UnitError`` otherwise."""
    amount, unit = _split(value, "time", _TIME_ACCEPTED)
    if unit == "":
        size = _NS_PER_S
    elif unit in TIME_UNITS:
        size = TIME_UNITS[unit]
    else:
        raise UnitError(f"{value!r} has an unknown time unit {unit!r}", _TIME_ACCEPTED)
    ns = amount * size
    if ns > _U64_MAX:
        raise UnitError(f"{value!r} is too long to count in nanoseconds", _TIME_ACCEPTED)
    return ns


def parse_time(value: object) -> float:
    """Seconds (float) from a Shadow time value; ``UnitError`` otherwise."""
    return parse_time_ns(value) / _NS_PER_S


def _strip_suffix(unit: str, suffixes: tuple[str, ...]) -> str:
    # Shadow strips the first suffix that matches, in declaration order, or none.
    for suffix in suffixes:
        if unit.endswith(suffix):
            return unit[: -len(suffix)]
    return unit


def _parse_upper(value: object, kind: str, suffixes: tuple[str, ...], accepted: str) -> int:
    amount, unit = _split(value, kind, accepted)
    prefix = _strip_suffix(unit, suffixes)
    if prefix not in _UPPER_PREFIXES:
        raise UnitError(f"{value!r} has an unknown {kind} unit {unit!r}", accepted)
    total = amount * _UPPER_PREFIXES[prefix]
    if total > _U64_MAX:
        raise UnitError(f"{value!r} is out of range for a {kind}", accepted)
    return total


def parse_bandwidth(value: object) -> int:
    """Bits per second from a Shadow bandwidth value ("100 Mbit"); ``UnitError`` otherwise."""
    return _parse_upper(value, "bandwidth", _BANDWIDTH_SUFFIXES, _BANDWIDTH_ACCEPTED)


def parse_bytes(value: object) -> int:
    """Bytes from a Shadow size value ("128 KiB"); ``UnitError`` otherwise."""
    return _parse_upper(value, "size", _BYTE_SUFFIXES, _BYTES_ACCEPTED)


def _exact_integer(value: float | int, scale: int, what: str, smallest: str) -> int:
    """``value * scale`` as an integer, or ``ValueError`` when it is not one.

    Ints are exact. A float is taken at its shortest decimal form
    (``Decimal(repr(x))``: 0.1 is 100000000 ns, not 100000000.0000000055) and
    snapped to the nearest integer when it is within a few ulps of it, since a
    float such as 0.1 + 0.2 cannot hold 0.3 exactly; anything further off (0.1 ns)
    has no exact Shadow form and is refused.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{value!r} is not a number of {what}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{value!r} {what} cannot be written for Shadow (must be finite)")
    if value < 0:
        raise ValueError(f"{value!r} {what} cannot be written for Shadow (must be >= 0)")
    if isinstance(value, int):
        result = value * scale
    else:
        scaled = Decimal(repr(value)) * scale
        result = int(scaled.to_integral_value())
        if scaled != result and abs(value - result / scale) > 4 * math.ulp(value):
            raise ValueError(f"{value!r} {what} is not a whole number of {smallest}")
    if result > _U64_MAX:
        raise ValueError(f"{value!r} {what} is out of range for Shadow")
    return result


_TIME_OUT = (
    ("h", 3600 * _NS_PER_S),
    ("min", 60 * _NS_PER_S),
    ("s", _NS_PER_S),
    ("ms", 10**6),
    ("us", 10**3),
    ("ns", 1),
)


def format_time_ns(ns: int) -> str:
    """The Shadow time string with the largest unit that divides ``ns`` exactly."""
    if ns < 0:
        raise ValueError(f"{ns} ns is negative")
    if ns == 0:
        return "0 s"
    for unit, size in _TIME_OUT:
        if ns % size == 0:
            return f"{ns // size} {unit}"
    raise AssertionError("unreachable: 1 ns divides everything")


def format_time(seconds: float | int) -> str:
    """Seconds as the best exact Shadow time: 1.5 -> "1500 ms", 7200 -> "2 h", 0.025 -> "25 ms".

    Raises ``ValueError`` when no whole number of nanoseconds equals ``seconds``.
    """
    try:
        ns = _exact_integer(seconds, _NS_PER_S, "seconds", "nanoseconds")
    except ValueError as exc:
        raise ValueError(f"{exc} (Shadow times are whole nanoseconds)") from None
    return format_time_ns(ns)


_BANDWIDTH_OUT = (("Tbit", 10**12), ("Gbit", 10**9), ("Mbit", 10**6), ("Kbit", 10**3), ("bit", 1))


def format_bandwidth(bits_per_second: float | int) -> str:
    """Bits per second as the best exact Shadow bandwidth: 100e6 -> "100 Mbit".

    Only decimal (SI) units are produced. Raises ``ValueError`` for fractional bits.
    """
    try:
        bits = _exact_integer(bits_per_second, 1, "bits per second", "bits per second")
    except ValueError as exc:
        raise ValueError(f"{exc} (Shadow bandwidths are whole bits per second)") from None
    if bits == 0:
        return "0 bit"
    for unit, size in _BANDWIDTH_OUT:
        if bits % size == 0:
            return f"{bits // size} {unit}"
    raise AssertionError("unreachable: 1 bit divides everything")
