"""Portable storage and Levin framing: round trips (hypothesis), known bytes, bad input."""

from __future__ import annotations

import asyncio
import struct
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_monerosim.p2p import levin, messages, storage
from pytest_monerosim.p2p.storage import (
    BOOL,
    DOUBLE,
    INT_TYPES,
    OBJECT,
    STRING,
    U8,
    U16,
    U32,
    U64,
    Array,
    StorageError,
    dumps,
    loads,
)


def ints(kind: type[storage.Int]) -> st.SearchStrategy[storage.Int]:
    lo, hi = kind.bounds()
    return st.integers(lo, hi).map(kind)


SCALARS: dict[int, st.SearchStrategy[Any]] = {code: ints(kind) for code, kind in INT_TYPES.items()}
SCALARS[DOUBLE] = st.floats(allow_nan=False)
SCALARS[STRING] = st.binary(max_size=80)
SCALARS[BOOL] = st.booleans()

names = st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=20)


def sections(children: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(names, children, max_size=6)


def arrays(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Array]:
    scalar_arrays = st.sampled_from(sorted(SCALARS)).flatmap(
        lambda code: st.lists(SCALARS[code], max_size=5).map(lambda xs: Array(code, xs)))
    object_arrays = st.lists(sections(children), max_size=3).map(lambda xs: Array(OBJECT, xs))
    return st.one_of(scalar_arrays, object_arrays)


values = st.recursive(
    st.one_of(*SCALARS.values()),
    lambda children: st.one_of(sections(children), arrays(children)),
    max_leaves=25,
)
documents = sections(values)


def same(a: Any, b: Any) -> bool:
    """Equal, with the same wire types all the way down."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, Array):
        return a.code == b.code and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


@settings(max_examples=150, deadline=None)
@given(documents)
def test_storage_round_trip_keeps_values_and_types(doc: dict[str, Any]) -> None:
    data = dumps(doc)
    back = loads(data)
    assert same(back, doc)
    assert dumps(back) == data


@settings(max_examples=100, deadline=None)
@given(documents, st.data())
def test_truncated_storage_is_refused(doc: dict[str, Any], data: st.DataObject) -> None:
    raw = dumps(doc)
    cut = data.draw(st.integers(0, len(raw) - 1))
    with pytest.raises(StorageError):
        loads(raw[:cut])


@given(st.integers(0, storage.MAX_VARINT))
def test_varint_round_trip_and_width(n: int) -> None:
    packed = storage.pack_varint(n)
    assert storage.read_varint(packed, 0) == (n, len(packed))
    assert len(packed) == (1 if n <= 63 else 2 if n <= 16383 else 4 if n <= 1073741823 else 8)


def test_known_bytes() -> None:
    # header: signatures 0x01011101, 0x01020101 (LE) and version 1
    assert dumps({}) == bytes.fromhex("0111010101010201" "01" "00")
    # one entry "a": uint8 7 -> count 1 (varint 0x04), name length 1, "a", type 8, value
    assert dumps({"a": U8(7)})[9:] == b"\x04\x01a\x08\x07"
    # an array of two uint16: type 7|0x80, varint count 2 (0x08), then raw elements
    assert dumps({"p": Array(7, [U16(1), U16(0x0203)])})[9:] == b"\x04\x01p\x87\x08\x01\x00\x03\x02"
    # a string of 64 bytes needs a two-byte varint: (64 << 2) | 1
    assert dumps({"s": b"x" * 64})[13:15] == struct.pack("<H", (64 << 2) | 1)


def test_bad_input_is_named() -> None:
    with pytest.raises(StorageError, match="bad signature"):
        loads(b"\x00" * 10)
    with pytest.raises(StorageError, match="U8 holds 0..255"):
        U8(256)
    with pytest.raises(StorageError, match="empty list"):
        dumps({"x": []})
    with pytest.raises(StorageError, match="trailing"):
        loads(dumps({"a": U8(1)}) + b"\x00", strict=True)
    # monerod pads noise messages with zeros after the body, and its parser ignores them
    assert loads(dumps({"a": U8(1)}) + b"\x00" * 40) == {"a": 1}


def test_fragmented_message_is_reassembled() -> None:
    """Fragments as monerod's make_fragmented_notify writes them: begin, middle (flags 0), end."""
    inner = levin.frame(levin.NEW_TRANSACTIONS, dumps(messages.new_transactions([b"t" * 300])))
    space = 128
    chunks = [inner[i:i + space] for i in range(0, len(inner), space)]
    chunks[-1] = chunks[-1] + b"\x00" * (space - len(chunks[-1]))  # zero padding at the end
    flags = [levin.FLAG_BEGIN] + [0] * (len(chunks) - 2) + [levin.FLAG_END]
    wire = b"".join(levin.Header(space, False, 0, 0, f).pack() + c for f, c in zip(flags, chunks, strict=True))

    async def read() -> tuple[levin.Header, bytes]:
        reader = asyncio.StreamReader()
        reader.feed_data(wire)
        reader.feed_eof()
        return await levin.read_message(reader)

    head, body = asyncio.run(read())
    assert head.command == levin.NEW_TRANSACTIONS and loads(body)["txs"] == [b"t" * 300]


@given(st.integers(0, 2**32 - 1), st.binary(max_size=200), st.booleans(), st.booleans(),
       st.integers(-(2**31), 2**31 - 1))
def test_levin_frames_round_trip(command: int, body: bytes, expect: bool, response: bool, code: int) -> None:
    data = levin.frame(command, body, expect_response=expect, response=response, return_code=code)
    assert len(data) == levin.HEADER_SIZE + len(body) and levin.HEADER_SIZE == 33
    [(head, got)] = levin.split(data)
    assert got == body and head.command == command and head.return_code == code
    assert head.is_response == response and head.expect_response == (expect and not response)
    assert data[:8] == (0x0101010101012101).to_bytes(8, "little")

    async def read() -> tuple[levin.Header, bytes]:
        reader = asyncio.StreamReader()
        reader.feed_data(data)
        reader.feed_eof()
        return await levin.read_message(reader)

    assert asyncio.run(read()) == (head, body)


@given(st.ip_addresses(v=4).map(str), st.integers(0, 65535), st.integers(0, 2**64 - 1))
def test_peer_entries_round_trip(host: str, port: int, peer_id: int) -> None:
    entry = messages.PeerEntry(host, port, peer_id, last_seen=12)
    raw = loads(dumps({"local_peerlist_new": messages.peerlist([entry])}))
    assert messages.parse_peerlist(raw) == [entry]
    # m_ip holds the octets little-endian: 1.2.3.4 -> 0x04030201
    assert messages.ip_to_wire("1.2.3.4") == 0x04030201


def test_core_sync_carries_128_bit_difficulty() -> None:
    sync = messages.CoreSync(5, b"\x01" * 32, cumulative_difficulty=(3 << 64) + 9, top_version=16)
    raw = sync.to_storage()
    assert raw["cumulative_difficulty"] == 9 and raw["cumulative_difficulty_top64"] == 3
    assert type(raw["top_version"]) is U8 and type(raw["current_height"]) is U64
    assert messages.CoreSync.from_storage(loads(dumps(raw))) == sync
    node = messages.NodeData(peer_id=7, my_port=18080)
    assert type(node.to_storage()["my_port"]) is U32
    assert messages.NodeData.from_storage(loads(dumps(node.to_storage()))) == node
