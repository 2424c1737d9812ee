"""The block tree shared by a run, and each node's view of it.

Blocks are immutable records created once (by the miner that finds them) and
shared by reference: a node "has" a block by holding a reference in its
:class:`ChainView`, never by copying it. The tree also caches, per block, the
difficulty of a block built on top of it, so the 735-block difficulty window
is walked once per block, not once per node or per event.

Difficulty at the start of a run: monerod's first blocks have difficulty 1
and the retarget ramps up from there. A simulation wants target-second blocks
from the first minute, so the chain is given an *equilibrium pre-history*:
virtual blocks at heights <= 0 spaced exactly ``target`` apart, each of
difficulty ``D0`` (the genesis is the virtual block at height 0). The window
then holds real blocks as they come and virtual ones for the rest, and the
retarget behaves as it would deep into a steady chain. This replaces
monerod's "skip the genesis block" rule, which only matters before the window
fills.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..result.model import ReorgRecord
from .arrivals import Arrivals, NodeNames
from .difficulty import DifficultyParams, next_difficulty
from .emission import (
    FULL_REWARD_ZONE_V5,
    GENESIS_REWARD,
    REWARD_BLOCKS_WINDOW,
    block_reward,
    emission_target_s,
    median,
)


class Block:
    """One block. Never mutated after creation except the lazy caches, ``arrivals`` and the
    per-node flags ``seen_by`` and ``known_by``.

    The flags are one byte per node of the world, by ``Node.index`` (``width`` bytes, grown by
    :meth:`BlockTree.add_node` as nodes join): ``seen_by`` — the node has received the block in any
    state (verifying, waiting for a parent, accepted); ``known_by`` — the node has accepted it
    (:class:`ChainView`). They are kept with the block rather than as a set of blocks per node:
    the mainnet twin's 33,047 nodes would hold two sets of 720 blocks each after a simulated
    day, about 2 GB, where the flags take 48 MB.
    """

    __slots__ = (
        "id", "seq", "height", "parent", "miner", "found_at", "timestamp", "difficulty",
        "cum", "reward", "fees", "size", "tx_ids", "generated", "arrivals", "_next_difficulty",
        "seen_by", "known_by",
    )

    def __init__(
        self,
        id: str,
        seq: int,
        height: int,
        parent: Block | None,
        miner: str,
        found_at: float,
        difficulty: int,
        cum: int,
        reward: int,
        fees: int,
        size: int,
        tx_ids: tuple[str, ...],
        generated: int,
        width: int = 1,
        nodes: NodeNames | None = None,
    ) -> None:
        self.id = id
        self.seq = seq
        self.height = height
        self.parent = parent
        self.miner = miner
        self.found_at = found_at
        self.timestamp = found_at
        self.difficulty = difficulty
        self.cum = cum
        """Cumulative difficulty up to and including this block."""
        self.reward = reward
        self.fees = fees
        self.size = size
        self.tx_ids = tx_ids
        self.generated = generated
        """Coins generated up to and including this block (Monero's already_generated_coins
        for its child)."""
        self.arrivals = Arrivals(nodes if nodes is not None else NodeNames())
        """When each node accepted it (by the world's node names, ``nodes``)."""
        self._next_difficulty: int | None = None
        self.seen_by = bytearray(width)
        self.known_by = bytearray(width)

    def __repr__(self) -> str:
        return f"Block({self.id!r}, h={self.height}, cum={self.cum})"

    def ancestor(self, height: int) -> Block:
        """The block at ``height`` on this block's chain."""
        if not 0 <= height <= self.height:
            raise ValueError(f"height {height} is not on the chain of {self!r}")
        b = self
        while b.height > height:
            b = b.parent  # type: ignore[assignment]
        return b

    def chain(self) -> list[Block]:
        """Genesis .. self."""
        out: list[Block] = []
        b: Block | None = self
        while b is not None:
            out.append(b)
            b = b.parent
        out.reverse()
        return out


def common_ancestor(a: Block, b: Block) -> Block:
    while a.height > b.height:
        a = a.parent  # type: ignore[assignment]
    while b.height > a.height:
        b = b.parent  # type: ignore[assignment]
    while a is not b:
        a = a.parent  # type: ignore[assignment]
        b = b.parent  # type: ignore[assignment]
    return a


class BlockTree:
    """Every block of a run, from the genesis, with difficulty and reward rules."""

    def __init__(
        self,
        initial_difficulty: int,
        params: DifficultyParams,
        *,
        empty_block_size: int = 4_000,
        full_reward_zone: int = FULL_REWARD_ZONE_V5,
    ) -> None:
        if initial_difficulty < 1:
            raise ValueError(f"initial difficulty {initial_difficulty} must be >= 1")
        self.params = params
        self.d0 = initial_difficulty
        self.empty_block_size = empty_block_size
        self.full_reward_zone = full_reward_zone
        self.emission_target = emission_target_s(params.target_s)
        self._virtual_step = params.target_s
        self.nodes = NodeNames()
        """The world's nodes by index (their bytes in the blocks' flags, their arrivals)."""
        self.genesis = Block("genesis", 0, 0, None, "genesis", 0.0, initial_difficulty,
                             initial_difficulty, GENESIS_REWARD, 0, empty_block_size, (),
                             GENESIS_REWARD, nodes=self.nodes)
        self.blocks: dict[str, Block] = {"genesis": self.genesis}
        self._count = 0
        self.width = 1
        """Bytes of every block's per-node flags (the world's nodes, at least 1)."""

    def add_node(self, name: str) -> int:
        """Number a node joining the world (its index) and widen every block's flags for it."""
        index = self.nodes.add(name)
        if index >= self.width:
            pad = bytes(index + 1 - self.width)
            for block in self.blocks.values():
                block.seen_by += pad
                block.known_by += pad
            self.width = index + 1
        return index

    def __len__(self) -> int:
        return len(self.blocks)

    def get(self, block_id: str) -> Block:
        return self.blocks[block_id]

    # -- difficulty ----------------------------------------------------------
    def next_difficulty(self, parent: Block) -> int:
        """Difficulty of a block mined on top of ``parent`` (cached per parent)."""
        cached = parent._next_difficulty
        if cached is not None:
            return cached
        p = self.params
        need = p.blocks_count
        ts: list[float] = []
        cum: list[int] = []
        b: Block | None = parent
        while b is not None and b.height > 0 and len(ts) < need:
            ts.append(b.timestamp)
            cum.append(b.cum)
            b = b.parent
        h = parent.height - len(ts)  # height of the next (older) entry, <= 0 when virtual
        while len(ts) < need:
            ts.append(h * self._virtual_step)
            cum.append(self.d0 * (h + 1))
            h -= 1
        ts.reverse()
        cum.reverse()
        value = next_difficulty(ts, cum, p.target_s, window=p.window, cut=p.cut)
        parent._next_difficulty = value
        return value

    # -- new blocks ----------------------------------------------------------
    def new_block(
        self,
        parent: Block,
        miner: str,
        found_at: float,
        *,
        tx_ids: tuple[str, ...] = (),
        tx_bytes: int = 0,
        fees: int = 0,
    ) -> Block:
        """Create (and register) the block ``miner`` found at ``found_at`` on ``parent``."""
        difficulty = self.next_difficulty(parent)
        size = self.empty_block_size + tx_bytes
        if size <= self.full_reward_zone:
            med = 0  # below the full-reward zone the median cannot matter
        else:
            weights: list[int] = []
            b: Block | None = parent
            while b is not None and len(weights) < REWARD_BLOCKS_WINDOW:
                weights.append(b.size)
                b = b.parent
            med = median(weights)
        reward = block_reward(med, size, parent.generated, target_s=self.emission_target,
                              full_reward_zone=self.full_reward_zone)
        self._count += 1
        height = parent.height + 1
        block = Block(f"{height}-{miner}-{self._count}", self._count, height, parent, miner,
                      found_at, difficulty, parent.cum + difficulty, reward, fees, size,
                      tx_ids, parent.generated + reward, self.width, self.nodes)
        self.blocks[block.id] = block
        return block


@dataclass(frozen=True)
class TipChange:
    old: Block
    new: Block
    reorg: ReorgRecord | None
    """Set when blocks left the main chain (the new tip does not extend the old)."""


class ChainView:
    """One node's knowledge of the tree: accepted blocks and its main chain.

    Fork choice is monerod's: the main chain is the one with the most
    cumulative difficulty; on a tie the chain seen first stays (a competing
    block of equal weight goes to an alternative chain). Alternative chains
    are simply accepted blocks off the main chain; any of them becomes main
    the moment it is heavier, whatever the depth of the reorg.
    """

    __slots__ = ("node", "index", "tip")

    def __init__(self, node: str, genesis: Block, index: int = 0) -> None:
        self.node = node
        self.index = index
        """The node's index: its byte in every block's ``known_by`` (the accepted blocks)."""
        self.tip = genesis
        genesis.known_by[index] = 1

    def __contains__(self, block: Block) -> bool:
        """Has the node accepted ``block``?"""
        return block.known_by[self.index] == 1

    def add(self, block: Block, now: float) -> TipChange | None:
        """Accept ``block`` (its parent must be accepted); returns the tip change, if any."""
        i = self.index
        if block.known_by[i]:
            return None
        parent = block.parent
        if parent is None or not parent.known_by[i]:
            raise ValueError(f"{self.node}: parent of {block!r} is not accepted yet")
        block.known_by[i] = 1
        old = self.tip
        if block.cum <= old.cum:
            return None
        self.tip = block
        if block.parent is old:
            return TipChange(old, block, None)
        fork = common_ancestor(old, block)
        if fork is old:  # the new chain extends the old tip (several blocks at once)
            return TipChange(old, block, None)
        reorg = ReorgRecord(node=self.node, time=now, depth=old.height - fork.height,
                            old_tip=old.id, new_tip=block.id, fork_height=fork.height)
        return TipChange(old, block, reorg)

    def height(self) -> int:
        return self.tip.height

    def on_main_chain(self, block: Block) -> bool:
        if block.height > self.tip.height:
            return False
        return self.tip.ancestor(block.height) is block

    def main_chain(self) -> list[Block]:
        return self.tip.chain()
