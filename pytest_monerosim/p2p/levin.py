"""Levin framing: the 33-byte bucket header every Monero P2P message starts with.

Header fields (``contrib/epee/include/net/levin_base.h``, ``bucket_head2``;
little-endian, packed): signature ``0x0101010101012101`` (uint64), body size
(uint64), expects-response flag (uint8), command (uint32), return code
(int32), flags (uint32: 1 request, 2 response, 4/8 begin/end of a fragmented
message) and protocol version (uint32, 1). An *invoke* is a request with the
expects-response flag; its answer carries the same command, the response flag
and the handler's return code (monerod's handlers return 1 on success; zero or
below is an error). A *notify* is a request without the flag and gets no
answer.
"""

from __future__ import annotations

import asyncio
import struct
from dataclasses import dataclass

SIGNATURE = 0x0101010101012101
HEADER_FORMAT = "<QQBIiII"
HEADER_SIZE = struct.calcsize(HEADER_FORMAT)  # 33
PROTOCOL_VERSION = 1

FLAG_REQUEST = 0x1
FLAG_RESPONSE = 0x2
FLAG_BEGIN = 0x4
FLAG_END = 0x8

RETURN_OK = 1
"""What monerod's command handlers return on success (and put in the response header)."""
ERROR_FORMAT = -7
ERROR_HANDLER_NOT_DEFINED = -6

MAX_BODY_BEFORE_HANDSHAKE = 256 * 1024
"""monerod refuses bigger messages before the handshake (LEVIN_INITIAL_MAX_PACKET_SIZE)."""
MAX_BODY = 100_000_000
"""... and bigger than this after it (LEVIN_DEFAULT_MAX_PACKET_SIZE)."""

# P2P commands (src/p2p/p2p_protocol_defs.h, P2P_COMMANDS_POOL_BASE 1000)
HANDSHAKE = 1001
TIMED_SYNC = 1002
PING = 1003
SUPPORT_FLAGS = 1007
# cryptonote protocol (src/cryptonote_protocol/cryptonote_protocol_defs.h, BC_COMMANDS_POOL_BASE 2000)
NEW_BLOCK = 2001
NEW_TRANSACTIONS = 2002
REQUEST_GET_OBJECTS = 2003
RESPONSE_GET_OBJECTS = 2004
REQUEST_CHAIN = 2006
RESPONSE_CHAIN_ENTRY = 2007
NEW_FLUFFY_BLOCK = 2008
REQUEST_FLUFFY_MISSING_TX = 2009
GET_TXPOOL_COMPLEMENT = 2010

COMMAND_NAMES = {
    HANDSHAKE: "handshake", TIMED_SYNC: "timed_sync", PING: "ping", SUPPORT_FLAGS: "support_flags",
    NEW_BLOCK: "new_block", NEW_TRANSACTIONS: "new_transactions",
    REQUEST_GET_OBJECTS: "request_get_objects", RESPONSE_GET_OBJECTS: "response_get_objects",
    REQUEST_CHAIN: "request_chain", RESPONSE_CHAIN_ENTRY: "response_chain_entry",
    NEW_FLUFFY_BLOCK: "new_fluffy_block", REQUEST_FLUFFY_MISSING_TX: "request_fluffy_missing_tx",
    GET_TXPOOL_COMPLEMENT: "get_txpool_complement",
}


class LevinError(ValueError):
    """A malformed Levin message (bad signature, oversized body, truncated stream)."""


@dataclass(frozen=True)
class Header:
    size: int
    expect_response: bool
    command: int
    return_code: int
    flags: int
    version: int = PROTOCOL_VERSION

    @property
    def is_response(self) -> bool:
        return bool(self.flags & FLAG_RESPONSE)

    def pack(self) -> bytes:
        return struct.pack(HEADER_FORMAT, SIGNATURE, self.size, int(self.expect_response),
                           self.command, self.return_code, self.flags, self.version)


def unpack_header(data: bytes) -> Header:
    if len(data) != HEADER_SIZE:
        raise LevinError(f"a Levin header is {HEADER_SIZE} bytes, got {len(data)}")
    sig, size, expect, command, code, flags, version = struct.unpack(HEADER_FORMAT, data)
    if sig != SIGNATURE:
        raise LevinError(f"bad Levin signature {sig:#018x}")
    return Header(size, bool(expect), command, code, flags, version)


def frame(command: int, body: bytes, *, expect_response: bool = False, response: bool = False,
          return_code: int = 0) -> bytes:
    """One message: header + body (a request unless ``response``)."""
    flags = FLAG_RESPONSE if response else FLAG_REQUEST
    head = Header(len(body), expect_response and not response, command, return_code, flags)
    return head.pack() + body


def split(data: bytes) -> list[tuple[Header, bytes]]:
    """Every whole message in ``data`` (a helper for tests and captures)."""
    out = []
    pos = 0
    while pos < len(data):
        head = unpack_header(data[pos:pos + HEADER_SIZE])
        pos += HEADER_SIZE
        if pos + head.size > len(data):
            raise LevinError(f"truncated body: {head.size} bytes announced, {len(data) - pos} present")
        out.append((head, data[pos:pos + head.size]))
        pos += head.size
    return out


async def read_message(reader: asyncio.StreamReader, limit: int = MAX_BODY) -> tuple[Header, bytes]:
    """The next whole message; fragmented ones (begin ... end) are reassembled.

    Raises :class:`asyncio.IncompleteReadError` at end of stream and
    :class:`LevinError` on garbage.
    """
    head = unpack_header(await reader.readexactly(HEADER_SIZE))
    if head.size > limit:
        raise LevinError(f"message body of {head.size} bytes exceeds the limit {limit}")
    body = await reader.readexactly(head.size)
    if not head.flags & FLAG_BEGIN:
        return head, body
    # a fragmented message: the concatenated fragment bodies are a message of their own
    parts = [body]
    total = len(body)
    while not head.flags & FLAG_END:
        head = unpack_header(await reader.readexactly(HEADER_SIZE))
        total += head.size
        if total > limit:
            raise LevinError(f"fragmented message exceeds the limit {limit}")
        parts.append(await reader.readexactly(head.size))
    inner = b"".join(parts)
    messages = split(inner[:HEADER_SIZE + unpack_header(inner[:HEADER_SIZE]).size])
    return messages[0]


__all__ = ["COMMAND_NAMES", "FLAG_BEGIN", "FLAG_END", "FLAG_REQUEST", "FLAG_RESPONSE",
           "GET_TXPOOL_COMPLEMENT", "HANDSHAKE", "HEADER_SIZE", "Header", "LevinError", "NEW_BLOCK",
           "NEW_FLUFFY_BLOCK",
           "NEW_TRANSACTIONS", "PING", "REQUEST_CHAIN", "RETURN_OK", "SIGNATURE", "SUPPORT_FLAGS",
           "TIMED_SYNC", "frame", "read_message", "split", "unpack_header"]
