"""The one result model every backend returns.

Plain dataclasses (cheap to build in the simulator's hot path, easy to pickle
across xdist). The summary JSON is derived from them by
:mod:`pytest_monerosim.result.summary`; nothing here knows how a run was produced.

Times are simulated seconds from the start of the run (float); money is in
atomic units (int).
"""

from __future__ import annotations

from array import array
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class NodeInfo:
    name: str
    group: str
    role: str  # miner | relay | user | observer | attacker
    honest: bool = True
    hashrate: float = 0.0
    region: str | None = None


@dataclass
class BlockRecord:
    """One block as the network saw it.

    ``arrivals`` maps node name → time the node accepted the block (the miner's
    entry equals ``found_at``). ``id`` is a backend-chosen unique string (the
    block hash on real backends).
    """

    id: str
    height: int
    parent: str | None
    miner: str
    found_at: float
    difficulty: int
    cumulative_difficulty: int
    reward: int
    size_bytes: int = 0
    tx_ids: list[str] = field(default_factory=list)
    fees: int = 0
    arrivals: Mapping[str, float] = field(default_factory=dict)
    timestamp: float | None = None
    """The block header's timestamp (sim: equals found_at)."""

    def timestamp_or_found(self) -> float:
        return self.found_at if self.timestamp is None else self.timestamp


@dataclass
class ReorgRecord:
    node: str
    time: float
    depth: int
    """Blocks removed from the node's main chain."""
    old_tip: str
    new_tip: str
    fork_height: int
    """Height of the common ancestor."""


@dataclass
class PeerSnapshot:
    time: float
    edges: list[tuple[str, str]]
    """Directed (from, to): ``from`` holds an outgoing connection to ``to``."""


@dataclass
class TxRecord:
    id: str
    origin: str
    """Node the transaction was first submitted to."""
    sender: str | None
    """Wallet name (None for attacker-crafted txs)."""
    recipients: dict[str, int]
    fee: int
    weight: int
    created_at: float
    key_images: list[str] = field(default_factory=list)
    first_seen: dict[str, float] = field(default_factory=dict)
    """Node → time the node first had it in its pool (may be sparse on huge runs)."""
    reached: int = 0
    """How many nodes saw it (kept even when ``first_seen`` is sampled)."""
    block: str | None = None
    """Block that includes it on the final reference main chain."""
    confirmed_at: float | None = None
    status: str = "pending"  # pending | confirmed | rejected | reversed
    seen_times: array | None = None
    """Compact first-seen times: ``array('f')`` (float32 seconds) in the order of
    ``Result.nodes``, NaN for never. Filled by the sim backend on every run, while
    ``first_seen`` is left empty on huge runs; read either through :meth:`seen_by`."""
    rings: list[list[int]] = field(default_factory=list)
    """Per input, the ring members (output ids, as serialized: sorted)."""
    real: list[int] = field(default_factory=list)
    """Per input, the position of the spent output in its ring (the ground truth
    ring signatures hide, kept for traceability analysis)."""

    seen_sparse: bool = False
    """True when the simulator kept only the watched nodes' times (nodes with a pool or a
    watcher: wallets' nodes, miners, spies): a huge run's settled txs. Then ``seen_times``
    follows ``seen_nodes``, ``seen_last`` is when the last node saw it and ``unseen`` lists
    the nodes that never did; every other node saw it by ``seen_last``."""
    seen_nodes: list[str] | None = None
    """The nodes ``seen_times`` covers when not every node (a sparse record); shared."""
    seen_last: float | None = None
    unseen: list[str] | None = None

    def seen_by(self, nodes: list[str]) -> dict[str, float]:
        """Node → first-seen time, from ``first_seen`` or, when empty, ``seen_times``
        (``nodes`` is ``list(result.nodes)``; a sparse record gives its watched nodes)."""
        if self.first_seen or self.seen_times is None:
            return self.first_seen
        names = self.seen_nodes if self.seen_nodes is not None else nodes
        return {n: t for n, t in zip(names, self.seen_times, strict=False) if t == t}


@dataclass
class WalletRecord:
    name: str
    node: str
    strategy: str
    address: str
    balance: int = 0
    unlocked: int = 0
    received: int = 0
    sent: int = 0
    fees_paid: int = 0
    funded_at: float | None = None
    tx_count: int = 0


@dataclass
class TipSeries:
    """A node's tip over time, as parallel arrays (compact for 10k nodes)."""

    times: array = field(default_factory=lambda: array("d"))
    heights: array = field(default_factory=lambda: array("l"))

    def append(self, time: float, height: int) -> None:
        self.times.append(time)
        self.heights.append(height)

    def height_at(self, time: float) -> int:
        from bisect import bisect_right

        i = bisect_right(self.times, time) - 1
        return self.heights[i] if i >= 0 else 0


@dataclass
class Result:
    scenario: str
    backend: str
    seed: int
    sim_seconds: float
    wall_seconds: float = 0.0
    events: int = 0
    nodes: dict[str, NodeInfo] = field(default_factory=dict)
    blocks: dict[str, BlockRecord] = field(default_factory=dict)
    genesis: str = ""
    tips: dict[str, str] = field(default_factory=dict)
    """Final tip block id of every node."""
    tip_history: dict[str, TipSeries] = field(default_factory=dict)
    reorgs: list[ReorgRecord] = field(default_factory=list)
    peer_snapshots: list[PeerSnapshot] = field(default_factory=list)
    txs: dict[str, TxRecord] = field(default_factory=dict)
    wallets: dict[str, WalletRecord] = field(default_factory=dict)
    attacks: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per attack name: its metrics (JSON-able), including time series."""
    target_s: float = 120.0
    double_spends_rejected: int = 0
    coinbase_issued: int = 0
    """Sum of coinbase rewards on the reference main chain (excluding genesis)."""
    logs: dict[str, str] = field(default_factory=dict)
    """Node/agent name → log file path (real backends)."""
    extra: dict[str, Any] = field(default_factory=dict)

    # -- chain views ---------------------------------------------------------
    def chain(self, tip: str) -> list[BlockRecord]:
        """Blocks from genesis to ``tip`` (inclusive), in height order."""
        out: list[BlockRecord] = []
        cur: str | None = tip
        while cur is not None:
            block = self.blocks[cur]
            out.append(block)
            cur = block.parent
        out.reverse()
        return out

    def honest_nodes(self) -> list[str]:
        return [n for n, info in self.nodes.items() if info.honest]

    def reference_tip(self) -> str:
        """The tip with the most cumulative difficulty among honest nodes' tips."""
        names = self.honest_nodes() or list(self.tips)
        tips = {self.tips[n] for n in names if n in self.tips}
        if not tips:
            return self.genesis
        return max(tips, key=lambda b: (self.blocks[b].cumulative_difficulty, -self.blocks[b].height, b))

    def main_chain(self, node: str | None = None) -> list[BlockRecord]:
        """A node's main chain, or the reference (heaviest honest) chain."""
        return self.chain(self.tips[node] if node else self.reference_tip())

    def height(self, node: str | None = None) -> int:
        tip = self.tips[node] if node else self.reference_tip()
        return self.blocks[tip].height

    def stale_blocks(self) -> list[BlockRecord]:
        main = {b.id for b in self.main_chain()}
        return [b for b in self.blocks.values() if b.id not in main and b.parent is not None]

    def node_names(self, role: str | None = None, group: str | None = None) -> list[str]:
        return [
            n
            for n, info in self.nodes.items()
            if (role is None or info.role == role) and (group is None or info.group == group)
        ]
