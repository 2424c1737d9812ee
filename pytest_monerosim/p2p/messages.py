"""The bodies of the P2P messages the Levin peer sends and reads, as portable storage.

Field names and wire types follow monerod 0.18 (``src/p2p/p2p_protocol_defs.h``,
``src/cryptonote_protocol/cryptonote_protocol_defs.h``,
``contrib/epee/include/net/net_utils_base.h``):

* ``basic_node_data``: ``network_id`` (16-byte blob), ``peer_id`` (u64),
  ``my_port`` (u32; the port to ping back, 0 for none), ``rpc_port`` (u16),
  ``rpc_credits_per_hash`` (u32), ``support_flags`` (u32; 1 = fluffy blocks);
* ``CORE_SYNC_DATA``: ``current_height``, ``cumulative_difficulty`` and
  ``cumulative_difficulty_top64`` (u64 each), ``top_id`` (32-byte blob),
  ``top_version`` (u8), ``pruning_seed`` (u32);
* ``peerlist_entry``: ``adr`` {``type`` (u8, 1 = IPv4), ``addr`` {``m_ip``
  (u32, the address's octets read little-endian), ``m_port`` (u16)}}, ``id``
  (u64), ``last_seen`` (i64), ``pruning_seed`` (u32), ``rpc_port`` (u16),
  ``rpc_credits_per_hash`` (u32).

A regtest monerod uses *mainnet's* network id: the P2P layer picks the id
from ``--testnet`` / ``--stagenet`` only (``node_server::init`` in
``src/p2p/net_node.inl``), and ``get_config(FAKECHAIN)`` is mainnet's.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from .storage import I64, OBJECT, STRING, U8, U16, U32, U64, Array

_BASE_ID = bytes([0x12, 0x30, 0xF1, 0x71, 0x61, 0x04, 0x41, 0x61, 0x17, 0x31, 0x00, 0x82, 0x16, 0xA1, 0xA1])
NETWORK_IDS = {
    "mainnet": _BASE_ID + b"\x10",
    "testnet": _BASE_ID + b"\x11",
    "stagenet": _BASE_ID + b"\x12",
}
NETWORK_IDS["regtest"] = NETWORK_IDS["mainnet"]

MAINNET_GENESIS = bytes.fromhex("418015bb9ae982a1975da7d79277c2705727a56894ba0fb246adaabb1f4632e3")
"""Hash of mainnet's genesis block, which a regtest (FAKECHAIN) daemon also starts from."""

SUPPORT_FLAG_FLUFFY_BLOCKS = 0x01
MAX_PEERS_IN_HANDSHAKE = 250
"""P2P_DEFAULT_PEERS_IN_HANDSHAKE: monerod drops a peer that sends more (P2P_MAX_PEERS_IN_HANDSHAKE)."""

IPV4 = 1


def ip_to_wire(host: str) -> int:
    """``m_ip`` of an IPv4 address: its four octets as a little-endian uint32."""
    return int.from_bytes(ipaddress.IPv4Address(host).packed, "little")


def wire_to_ip(value: int) -> str:
    return str(ipaddress.IPv4Address(int(value).to_bytes(4, "little")))


@dataclass(frozen=True)
class CoreSync:
    """What a peer says about its chain (``CORE_SYNC_DATA``)."""

    height: int
    top_id: bytes
    cumulative_difficulty: int = 1
    top_version: int = 1
    pruning_seed: int = 0

    def to_storage(self) -> dict[str, Any]:
        low, high = self.cumulative_difficulty & (2**64 - 1), self.cumulative_difficulty >> 64
        return {
            "current_height": U64(self.height),
            "cumulative_difficulty": U64(low),
            "cumulative_difficulty_top64": U64(high),
            "top_id": bytes(self.top_id),
            "top_version": U8(self.top_version),
            "pruning_seed": U32(self.pruning_seed),
        }

    @classmethod
    def from_storage(cls, s: dict[str, Any]) -> CoreSync:
        return cls(
            height=int(s.get("current_height", 0)),
            top_id=bytes(s.get("top_id", b"")),
            cumulative_difficulty=int(s.get("cumulative_difficulty", 0))
            + (int(s.get("cumulative_difficulty_top64", 0)) << 64),
            top_version=int(s.get("top_version", 0)),
            pruning_seed=int(s.get("pruning_seed", 0)),
        )


GENESIS_SYNC = CoreSync(height=1, top_id=MAINNET_GENESIS, cumulative_difficulty=1, top_version=1)
"""A peer at the genesis block: every regtest/mainnet daemon has it, so it never asks us for blocks."""


@dataclass(frozen=True)
class NodeData:
    """Who a peer says it is (``basic_node_data``)."""

    peer_id: int
    my_port: int = 0
    network_id: bytes = NETWORK_IDS["regtest"]
    rpc_port: int = 0
    rpc_credits_per_hash: int = 0
    support_flags: int = SUPPORT_FLAG_FLUFFY_BLOCKS

    def to_storage(self) -> dict[str, Any]:
        return {
            "network_id": bytes(self.network_id),
            "peer_id": U64(self.peer_id),
            "my_port": U32(self.my_port),
            "rpc_port": U16(self.rpc_port),
            "rpc_credits_per_hash": U32(self.rpc_credits_per_hash),
            "support_flags": U32(self.support_flags),
        }

    @classmethod
    def from_storage(cls, s: dict[str, Any]) -> NodeData:
        return cls(
            peer_id=int(s.get("peer_id", 0)), my_port=int(s.get("my_port", 0)),
            network_id=bytes(s.get("network_id", b"")), rpc_port=int(s.get("rpc_port", 0)),
            rpc_credits_per_hash=int(s.get("rpc_credits_per_hash", 0)),
            support_flags=int(s.get("support_flags", 0)),
        )


@dataclass(frozen=True)
class PeerEntry:
    """One entry of a peer list (``peerlist_entry``; IPv4 only)."""

    host: str
    port: int
    peer_id: int = 0
    last_seen: int = 0
    pruning_seed: int = 0
    rpc_port: int = 0
    rpc_credits_per_hash: int = 0
    address_type: int = IPV4

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    def to_storage(self) -> dict[str, Any]:
        return {
            "adr": {"type": U8(IPV4), "addr": {"m_ip": U32(ip_to_wire(self.host)),
                                               "m_port": U16(self.port)}},
            "id": U64(self.peer_id),
            "last_seen": I64(self.last_seen),
            "pruning_seed": U32(self.pruning_seed),
            "rpc_port": U16(self.rpc_port),
            "rpc_credits_per_hash": U32(self.rpc_credits_per_hash),
        }

    @classmethod
    def from_storage(cls, s: dict[str, Any]) -> PeerEntry | None:
        """The entry, or None for an address type other than IPv4 (IPv6, Tor, I2P)."""
        adr = s.get("adr") or {}
        kind = int(adr.get("type", 0))
        addr = adr.get("addr") or {}
        if kind != IPV4 or "m_ip" not in addr:
            return None
        return cls(
            host=wire_to_ip(int(addr["m_ip"])), port=int(addr.get("m_port", 0)),
            peer_id=int(s.get("id", 0)), last_seen=int(s.get("last_seen", 0)),
            pruning_seed=int(s.get("pruning_seed", 0)), rpc_port=int(s.get("rpc_port", 0)),
            rpc_credits_per_hash=int(s.get("rpc_credits_per_hash", 0)), address_type=kind,
        )


def peerlist(entries: list[PeerEntry]) -> Array:
    return Array(OBJECT, [e.to_storage() for e in entries[:MAX_PEERS_IN_HANDSHAKE]])


def parse_peerlist(s: dict[str, Any]) -> list[PeerEntry]:
    out = []
    for raw in s.get("local_peerlist_new") or []:
        entry = PeerEntry.from_storage(raw)
        if entry is not None:
            out.append(entry)
    return out


# -- bodies --------------------------------------------------------------------------
def handshake_request(node: NodeData, sync: CoreSync) -> dict[str, Any]:
    return {"node_data": node.to_storage(), "payload_data": sync.to_storage()}


def handshake_response(node: NodeData, sync: CoreSync, peers: list[PeerEntry]) -> dict[str, Any]:
    return {"node_data": node.to_storage(), "payload_data": sync.to_storage(),
            "local_peerlist_new": peerlist(peers)}


def timed_sync_request(sync: CoreSync) -> dict[str, Any]:
    return {"payload_data": sync.to_storage()}


def timed_sync_response(sync: CoreSync, peers: list[PeerEntry]) -> dict[str, Any]:
    return {"payload_data": sync.to_storage(), "local_peerlist_new": peerlist(peers)}


def ping_response(peer_id: int) -> dict[str, Any]:
    return {"status": b"OK", "peer_id": U64(peer_id)}


def support_flags_response(flags: int) -> dict[str, Any]:
    return {"support_flags": U32(flags)}


def new_transactions(txs: list[bytes], *, fluff: bool = True, padding: bytes = b"") -> dict[str, Any]:
    """NOTIFY_NEW_TRANSACTIONS: ``dandelionpp_fluff`` false puts them on a Dandelion++ stem."""
    return {"txs": Array(STRING, [bytes(t) for t in txs]), "_": bytes(padding),
            "dandelionpp_fluff": bool(fluff)}


def new_fluffy_block(block: bytes, txs: list[bytes], height: int) -> dict[str, Any]:
    """NOTIFY_NEW_FLUFFY_BLOCK: the block blob and those of its txs the receiver may lack."""
    return {"b": {"block": bytes(block), "txs": Array(STRING, [bytes(t) for t in txs])},
            "current_blockchain_height": U64(height)}


@dataclass
class BlockNote:
    """A block notification as received (NEW_BLOCK or NEW_FLUFFY_BLOCK)."""

    block: bytes
    txs: list[bytes] = field(default_factory=list)
    height: int = 0
    fluffy: bool = True


def parse_block_note(s: dict[str, Any], fluffy: bool) -> BlockNote:
    entry = s.get("b") or {}
    txs = []
    for t in entry.get("txs") or []:
        txs.append(bytes(t["blob"]) if isinstance(t, dict) else bytes(t))  # pruned entries are sections
    return BlockNote(bytes(entry.get("block", b"")), txs, int(s.get("current_blockchain_height", 0)), fluffy)


__all__ = ["GENESIS_SYNC", "MAINNET_GENESIS", "MAX_PEERS_IN_HANDSHAKE", "NETWORK_IDS", "BlockNote",
           "CoreSync", "NodeData", "PeerEntry", "SUPPORT_FLAG_FLUFFY_BLOCKS", "handshake_request",
           "handshake_response",
           "ip_to_wire", "new_fluffy_block", "new_transactions", "parse_block_note", "parse_peerlist",
           "ping_response", "support_flags_response", "timed_sync_request", "timed_sync_response",
           "wire_to_ip"]
