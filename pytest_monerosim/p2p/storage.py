"""epee "portable storage": the binary key-value format of Monero's P2P bodies.

Layout (read in ``contrib/epee/include/storages/portable_storage_*.h`` of
monero-project/monero, v0.18):

* a 9-byte header: signature A ``0x01011101`` and signature B ``0x01020101``
  (little-endian uint32 each) and the format version ``1`` (one byte);
* the root *section*: a varint entry count, then per entry a one-byte name
  length, the name, a one-byte type code and the value;
* values: little-endian integers of the type's width, a float64, a bool byte,
  a string (varint length + bytes; epee strings are byte blobs), a nested
  section, or an array (type code ORed with ``0x80``, a varint count, then the
  elements without their own type codes);
* varints: the two low bits of the first byte give the width (1, 2, 4 or 8
  bytes, little-endian) and the value is shifted left by two.

Python values: ``dict`` is a section, ``bytes`` a string, ``bool``, ``float``,
and integers carry their wire type as one of the :class:`Int` subclasses
(:class:`U8` ... :class:`I64`; a bare ``int`` is stored as int64 when negative,
uint64 otherwise). :class:`Array` carries the element type, so an empty array
round-trips. :func:`loads` returns the same typed values, hence
``loads(dumps(x)) == x`` and ``dumps(loads(b)) == b`` for any ``b`` monerod
sends (entry order is kept).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from typing import Any, ClassVar

SIGNATURE_A = 0x01011101
SIGNATURE_B = 0x01020101
FORMAT_VERSION = 1
HEADER = struct.pack("<IIB", SIGNATURE_A, SIGNATURE_B, FORMAT_VERSION)

INT64, INT32, INT16, INT8, UINT64, UINT32, UINT16, UINT8 = 1, 2, 3, 4, 5, 6, 7, 8
DOUBLE, STRING, BOOL, OBJECT, ARRAY = 9, 10, 11, 12, 13
FLAG_ARRAY = 0x80

MAX_VARINT = (1 << 62) - 1
MAX_DEPTH = 100
"""Nesting limit while decoding (monerod's own limit is of this order)."""


class StorageError(ValueError):
    """Bytes that are not valid portable storage, or a value it cannot hold."""


class Int(int):
    """An integer with its wire type; subclasses fix the code, width and range."""

    code: ClassVar[int] = INT64
    fmt: ClassVar[str] = "<q"

    def __new__(cls, value: int = 0) -> Int:
        lo, hi = _BOUNDS.get(cls) or cls.bounds()
        if not lo <= value <= hi:
            raise StorageError(f"{cls.__name__} holds {lo}..{hi}, got {value}")
        return super().__new__(cls, value)

    @classmethod
    def bounds(cls) -> tuple[int, int]:
        bits = struct.calcsize(cls.fmt) * 8
        if cls.fmt[-1].islower():
            return -(1 << (bits - 1)), (1 << (bits - 1)) - 1
        return 0, (1 << bits) - 1

    def __repr__(self) -> str:
        return f"{type(self).__name__}({int(self)})"


class I64(Int):
    code, fmt = INT64, "<q"


class I32(Int):
    code, fmt = INT32, "<i"


class I16(Int):
    code, fmt = INT16, "<h"


class I8(Int):
    code, fmt = INT8, "<b"


class U64(Int):
    code, fmt = UINT64, "<Q"


class U32(Int):
    code, fmt = UINT32, "<I"


class U16(Int):
    code, fmt = UINT16, "<H"


class U8(Int):
    code, fmt = UINT8, "<B"


INT_TYPES: dict[int, type[Int]] = {t.code: t for t in (I64, I32, I16, I8, U64, U32, U16, U8)}
_BOUNDS: dict[type[Int], tuple[int, int]] = {t: t.bounds() for t in INT_TYPES.values()}
_STRUCTS: dict[int, struct.Struct] = {code: struct.Struct(t.fmt) for code, t in INT_TYPES.items()}


class Array(list[Any]):
    """A list with the wire type of its elements (needed for empty arrays)."""

    def __init__(self, code: int, items: Iterable[Any] = ()) -> None:
        if code not in INT_TYPES and code not in (DOUBLE, STRING, BOOL, OBJECT):
            raise StorageError(f"array element type {code} is not supported")
        super().__init__(items)
        self.code = code

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Array) and other.code != self.code and (self or other):
            return False
        return list.__eq__(self, other)

    __hash__ = None

    def __repr__(self) -> str:
        return f"Array({self.code}, {list.__repr__(self)})"


# -- varints -------------------------------------------------------------------------
def pack_varint(value: int) -> bytes:
    if value < 0 or value > MAX_VARINT:
        raise StorageError(f"varint {value} out of range 0..{MAX_VARINT}")
    if value <= 63:
        return struct.pack("<B", value << 2)
    if value <= 16383:
        return struct.pack("<H", (value << 2) | 1)
    if value <= 1073741823:
        return struct.pack("<I", (value << 2) | 2)
    return struct.pack("<Q", (value << 2) | 3)


def read_varint(buf: bytes | memoryview, pos: int) -> tuple[int, int]:
    if pos >= len(buf):
        raise StorageError(f"truncated varint at byte {pos}")
    width = 1 << (buf[pos] & 3)
    if pos + width > len(buf):
        raise StorageError(f"truncated varint at byte {pos}")
    return int.from_bytes(buf[pos:pos + width], "little") >> 2, pos + width


# -- encoding ------------------------------------------------------------------------
def type_of(value: Any) -> int:
    """The wire type code ``value`` is stored with."""
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, Int):
        return value.code
    if isinstance(value, int):
        return INT64 if value < 0 else UINT64
    if isinstance(value, float):
        return DOUBLE
    if isinstance(value, (bytes, bytearray, memoryview, str)):
        return STRING
    if isinstance(value, dict):
        return OBJECT
    if isinstance(value, (list, tuple)):
        return ARRAY
    raise StorageError(f"cannot store a {type(value).__name__} in portable storage")


def _scalar(code: int, value: Any, out: bytearray, depth: int) -> None:
    if code in INT_TYPES:
        lo, hi = _BOUNDS[INT_TYPES[code]]
        if not isinstance(value, int) or not lo <= value <= hi:
            raise StorageError(f"{INT_TYPES[code].__name__} holds {lo}..{hi}, got {value}")
        out += _STRUCTS[code].pack(value)
    elif code == DOUBLE:
        out += struct.pack("<d", float(value))
    elif code == BOOL:
        out.append(1 if value else 0)
    elif code == STRING:
        data = value.encode() if isinstance(value, str) else bytes(value)
        out += pack_varint(len(data))
        out += data
    elif code == OBJECT:
        if not isinstance(value, dict):
            raise StorageError(f"expected a section (dict), got {type(value).__name__}")
        _section(value, out, depth + 1)
    else:
        raise StorageError(f"type code {code} cannot be an array element")


def _array_code(value: list[Any] | tuple[Any, ...]) -> int:
    if isinstance(value, Array):
        return value.code
    if not value:
        raise StorageError("an empty list has no element type: use Array(code)")
    codes = {type_of(v) for v in value}
    if len(codes) != 1 or ARRAY in codes:
        raise StorageError(f"array elements must share one scalar type, got codes {sorted(codes)}")
    return codes.pop()


def _value(value: Any, out: bytearray, depth: int) -> None:
    code = type_of(value)
    if code == ARRAY:
        elem = _array_code(value)
        out.append(elem | FLAG_ARRAY)
        out += pack_varint(len(value))
        for item in value:
            have = type_of(item)
            if have != elem and not (elem in INT_TYPES and have in INT_TYPES):
                raise StorageError(f"array of type {elem} holds a {type(item).__name__}")
            _scalar(elem, item, out, depth)
    else:
        out.append(code)
        _scalar(code, value, out, depth)


def _section(section: dict[str, Any], out: bytearray, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise StorageError(f"sections nested deeper than {MAX_DEPTH}")
    out += pack_varint(len(section))
    for name, value in section.items():
        key = name.encode()
        if not 0 < len(key) < 256:
            raise StorageError(f"entry name {name!r} must be 1..255 bytes")
        out.append(len(key))
        out += key
        _value(value, out, depth)


def dumps(section: dict[str, Any]) -> bytes:
    """The portable-storage bytes of ``section`` (header included)."""
    out = bytearray(HEADER)
    _section(section, out, 0)
    return bytes(out)


# -- decoding ------------------------------------------------------------------------
class _Reader:
    def __init__(self, buf: bytes) -> None:
        self.buf = memoryview(buf)
        self.pos = 0

    def take(self, n: int) -> memoryview:
        if n < 0 or self.pos + n > len(self.buf):
            raise StorageError(f"truncated: need {n} bytes at byte {self.pos} of {len(self.buf)}")
        chunk = self.buf[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def varint(self) -> int:
        value, self.pos = read_varint(self.buf, self.pos)
        return value

    def scalar(self, code: int, depth: int) -> Any:
        if code in INT_TYPES:
            packer = _STRUCTS[code]
            return INT_TYPES[code](packer.unpack(self.take(packer.size))[0])
        if code == DOUBLE:
            return struct.unpack("<d", self.take(8))[0]
        if code == BOOL:
            return self.take(1)[0] != 0
        if code == STRING:
            return bytes(self.take(self.varint()))
        if code == OBJECT:
            return self.section(depth + 1)
        raise StorageError(f"unknown type code {code} at byte {self.pos - 1}")

    def value(self, depth: int) -> Any:
        code = self.take(1)[0]
        if code & FLAG_ARRAY:
            elem = code & ~FLAG_ARRAY
            if elem == ARRAY or (elem not in INT_TYPES and elem not in (DOUBLE, STRING, BOOL, OBJECT)):
                raise StorageError(f"unsupported array element type {elem}")
            count = self.varint()
            if count > len(self.buf) - self.pos:  # every element takes at least one byte
                raise StorageError(f"array of {count} elements cannot fit in the message")
            return Array(elem, (self.scalar(elem, depth) for _ in range(count)))
        if code == ARRAY:
            raise StorageError("untyped array entries are not supported")
        return self.scalar(code, depth)

    def section(self, depth: int) -> dict[str, Any]:
        if depth > MAX_DEPTH:
            raise StorageError(f"sections nested deeper than {MAX_DEPTH}")
        out: dict[str, Any] = {}
        for _ in range(self.varint()):
            name = bytes(self.take(self.take(1)[0])).decode("utf-8", "replace")
            out[name] = self.value(depth)
        return out


def loads(data: bytes, *, strict: bool = False) -> dict[str, Any]:
    """Decode portable-storage bytes into typed Python values; :class:`StorageError` if invalid.

    Bytes after the root section are ignored, as monerod's parser does (its
    noise-padded messages end in zeros), unless ``strict``.
    """
    if len(data) < len(HEADER):
        raise StorageError(f"{len(data)} bytes is shorter than the 9-byte header")
    sig_a, sig_b, version = struct.unpack("<IIB", data[:9])
    if (sig_a, sig_b) != (SIGNATURE_A, SIGNATURE_B):
        raise StorageError(f"bad signature {sig_a:#010x} {sig_b:#010x}")
    if version != FORMAT_VERSION:
        raise StorageError(f"format version {version}, expected {FORMAT_VERSION}")
    reader = _Reader(bytes(data))
    reader.pos = 9
    root = reader.section(0)
    if strict and reader.pos != len(reader.buf):
        raise StorageError(f"{len(reader.buf) - reader.pos} trailing bytes after the root section")
    return root


def plain(value: Any) -> Any:
    """``value`` with typed ints and arrays turned into plain ``int`` and ``list`` (for JSON)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, Int):
        return int(value)
    return value


__all__ = ["ARRAY", "BOOL", "DOUBLE", "FLAG_ARRAY", "INT_TYPES", "OBJECT", "STRING", "Array", "I8",
           "I16", "I32", "I64", "Int", "StorageError", "U8", "U16", "U32", "U64", "dumps", "loads",
           "pack_varint", "plain", "read_varint", "type_of"]
