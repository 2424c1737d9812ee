"""The money side of a simulated run: wallets, transactions, pools and relay.

:class:`TxLayer` is a world component (see :mod:`pytest_monerosim.sim.components`).
The world builds it through :func:`make_component` when the scenario has
wallets; it then

* validates the wallet section (:func:`~pytest_monerosim.config.wallets.validate_wallets`)
  before anything runs, so a bad recipient or an unfundable wallet is one
  ``ScenarioError`` naming the field;
* pays each block's coinbase (reward + fees) to the wallet on the miner
  (``on_block_found``), starts each wallet's strategy when its node first
  comes online, and keeps each wallet's view of its node's main chain
  (``on_tip_changed``);
* relays txs (Dandelion++ stems, fluff diffusion: :mod:`.relay`), keeps a
  pool per mining node and fills block templates by fee per byte
  (``select_txs``), charges a fluffy block's missing txs
  (``fluffy_missing_bytes``) and rejects blocks that spend a key image twice
  (``validate_block``);
* writes tx and wallet records at the end (:mod:`.records`).

Attacks reach it as ``world.tx`` (set in :func:`make_component`): ``send``,
``double_spend``, ``watch`` (a spy's view of tx arrivals), ``pool_for``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ...config.wallets import WalletInfo, coinbase_wallet, validate_wallets
from ..chain import Block, TipChange
from ..emission import BlockTooHeavy, base_reward, block_reward, median
from ..mining import TxSelection
from .builder import build
from .fees import FULL_REWARD_ZONE, fee_acceptable, max_block_weight, priority_index, wallet_fee_tiers
from .ledger import ChainIndex, Ledger
from .mempool import AddResult, Mempool
from .outputs import Tx
from .pool_policy import PoolPolicy
from .shape import ShapeDraw
from .tx_relay import TxRelay, Watcher
from .wallet import NodeUnavailable, SimWallet, TransferRejected

if TYPE_CHECKING:
    from ...result.model import Result
    from ..network import World
    from ..node import Node

REWARD_WINDOW = 100


def make_component(world: World) -> TxLayer | None:
    """``COMPONENT_FACTORIES`` entry: the tx layer when the scenario has wallets."""
    if not world.scenario.wallets:
        return None
    layer = TxLayer(world)
    world.tx = layer  # type: ignore[attr-defined]
    return layer


class TxLayer:
    def __init__(self, world: World) -> None:
        self.world = world
        scenario = world.scenario
        self.cfg = scenario.transactions
        self.params = validate_wallets(scenario, world.registry)
        group_of = scenario.group_of()
        self.roster = [WalletInfo(name, g.name, node, group_of[node].role, g.strategy.name)
                       for name, node, g in scenario.wallet_placements()]
        self.ledger = Ledger()
        self.rng = np.random.Generator(np.random.PCG64(world.rng("tx.decoys").getrandbits(63)))
        self.wallets: dict[str, SimWallet] = {}
        self.by_node: dict[str, list[SimWallet]] = {}
        for info, (_, _, group) in zip(self.roster, scenario.wallet_placements(), strict=True):
            spec = world.registry.get("wallet_strategy", info.strategy)
            strategy = spec.factory(self.params[group.name])
            wallet = SimWallet(self, info.name, info.node, info.group, info.strategy, strategy)
            self.wallets[info.name] = wallet
            self.by_node.setdefault(info.node, []).append(wallet)
        self.directory = {name: w.address for name, w in self.wallets.items()}
        self.by_address = {w.address: name for name, w in self.wallets.items()}
        self.coinbase_to = {node: coinbase_wallet(self.roster, node) for node in self.by_node}
        self.chains: dict[str, ChainIndex] = {}
        self.pools: dict[str, Mempool] = {}
        self.rejected: dict[int, set[int]] = {}
        """Tx serial → indices of nodes that refused it as a double spend."""
        self.refused: dict[int, str] = {}
        """Tx serial → why its origin refused it."""
        self.block_ok: dict[str, bool] = {}
        self._medians: dict[str, int] = {}
        self._fees: dict[tuple[str, int], int] = {}
        self._scratch: ChainIndex | None = None
        self._parts: dict[str, list[tuple[int, np.ndarray, np.ndarray]]] = {}
        genesis = world.tree.genesis
        out = self.ledger.new_output(genesis.reward, None, block=genesis.id)
        self.ledger.add_block(genesis.id, None, 0, [out.id], [])
        self.relay = TxRelay(self)
        self.policy = PoolPolicy(self)
        self.shape = ShapeDraw(self.cfg.shape, world.rng("tx.shape")) if self.cfg.shape else None

    # -- component hooks ---------------------------------------------------------
    def setup(self, world: World) -> None:
        for name in self.by_node:
            self._track_chain(world.nodes[name])
        for node in world.nodes.values():
            if node.role == "miner":
                self.pool_for(node)

    def on_node_started(self, node: Node) -> None:
        self.relay.add_node(node)
        for wallet in self.by_node.get(node.name, ()):
            if not wallet.started:
                wallet.started = True
                wallet.strategy.start(wallet)

    def on_connect(self, node: Node, peer: Node, outgoing: bool) -> None:
        self.relay.connect(node, peer, outgoing)

    def on_disconnect(self, node: Node, peer: Node) -> None:
        self.relay.disconnect(node, peer)

    def on_block_found(self, node: Node, block: Block) -> None:
        self._register(block)

    def on_tip_changed(self, node: Node, change: TipChange) -> None:
        chain = self.chains.get(node.name)
        if chain is None:
            return
        self._register(change.new)
        detached, attached = self._switch(chain, change.new)
        wallets = self.by_node.get(node.name)
        if wallets:
            self._move_wallets(wallets, detached, attached)
        pool = self.pools.get(node.name)
        if pool is not None:
            self._move_pool(pool, chain, detached, attached)

    def select_txs(self, node: Node, parent: Block) -> TxSelection:
        self.relay.sync()
        pool = self.pool_for(node)
        self._register(parent)
        chain = self.chain_at(node, parent)
        height = parent.height + 1
        med = self._median(parent)
        tree = self.world.tree
        empty = tree.empty_block_size

        def reward_for(tx_bytes: int) -> int:
            try:
                return block_reward(med, empty + tx_bytes, parent.generated,
                                    target_s=tree.emission_target,
                                    full_reward_zone=tree.full_reward_zone)
            except BlockTooHeavy:
                return -1

        self.policy.expire_pool(pool, self.world.engine.now)
        ledger = self.ledger
        txs = pool.template(max_block_weight(med), base_weight=empty, reward_for=reward_for,
                            ready=lambda tx: ledger.valid_on(tx, chain, height))
        return TxSelection(tuple(t.id for t in txs), sum(t.weight for t in txs),
                           sum(t.fee for t in txs))

    def validate_block(self, node: Node, block: Block) -> bool:
        ok = self.block_ok.get(block.id)
        if ok is None:
            ok = self._check_block(block)
            self.block_ok[block.id] = ok
        return ok

    def fluffy_missing_bytes(self, node: Node, block: Block, sender: Node | None) -> int:
        if not block.tx_ids:
            return 0
        self.relay.sync()
        seen = self.relay.fluff.seen
        parts = self._parts.get(block.id)
        if parts is None:
            parts = self._split(block, seen.chunk)
            self._parts[block.id] = parts
        if node.index >= seen.n:
            return sum(int(w.sum()) for _, _, w in parts)
        now = self.world.engine.now
        missing = 0
        for k, rows, weights in parts:
            missing += seen.unseen_weight(k, rows, node.index, now, weights)
        return missing

    def _split(self, block: Block, chunk: int) -> list[tuple[int, np.ndarray, np.ndarray]]:
        """A block's txs as (seen-table chunk, rows in it, weights)."""
        txs = [self.ledger.txs[t] for t in block.tx_ids if t in self.ledger.txs]
        serial = np.array([t.serial for t in txs], dtype=np.int64)
        weight = np.array([t.weight for t in txs], dtype=np.int64)
        out = []
        for k in sorted(set((serial // chunk).tolist())):
            sel = serial // chunk == k
            out.append((k, serial[sel] - k * chunk, weight[sel]))
        return out

    def finish(self, world: World, result: Result) -> None:
        from .records import write_records

        self.relay.finish()
        write_records(self, result)

    # -- chains ------------------------------------------------------------------
    def _register(self, block: Block) -> None:
        ledger = self.ledger
        if block.id in ledger.block_cum:
            return
        todo: list[Block] = []
        b: Block | None = block
        while b is not None and b.id not in ledger.block_cum:
            todo.append(b)
            b = b.parent
        for blk in reversed(todo):
            owner = self.coinbase_to.get(blk.miner)
            out = ledger.new_output(blk.reward + blk.fees, owner, block=blk.id)
            tx_ids = [t for t in blk.tx_ids if t in ledger.txs]
            assert blk.parent is not None
            ledger.add_block(blk.id, blk.parent.id, blk.height, [out.id], tx_ids)

    def _switch(self, chain: ChainIndex, tip: Block) -> tuple[list[str], list[str]]:
        path: list[Block] = []
        b: Block | None = tip
        while b is not None and chain.pos.get(b.id) != b.height:
            path.append(b)
            b = b.parent
        fork = b.height if b is not None else 0
        attached = [x.id for x in reversed(path)]
        detached = chain.switch(fork, attached, self.ledger)
        return detached, attached

    def _track_chain(self, node: Node) -> ChainIndex:
        chain = self.chains.get(node.name)
        if chain is None:
            genesis = self.world.tree.genesis.id
            chain = ChainIndex(genesis, self.ledger.block_cum[genesis])
            self._register(node.chain.tip)
            detached, attached = self._switch(chain, node.chain.tip)
            self.chains[node.name] = chain
            wallets = self.by_node.get(node.name)
            if wallets and attached:
                self._move_wallets(wallets, detached, attached)
        return chain

    def chain_of(self, node_name: str) -> ChainIndex:
        chain = self.chains.get(node_name)
        return chain if chain is not None else self._track_chain(self.world.nodes[node_name])

    def chain_at(self, node: Node | None, block: Block) -> ChainIndex:
        """A chain index whose tip is ``block`` (the node's own when it is; else a scratch copy)."""
        if node is not None:
            own = self.chains.get(node.name)
            if own is not None and own.tip == block.id:
                return own
        if self._scratch is not None and self._scratch.tip == block.id:
            return self._scratch
        base = self._scratch or (self.chains.get(node.name) if node is not None else None) \
            or next(iter(self.chains.values()))
        scratch = base.copy()
        self._register(block)
        self._switch(scratch, block)
        self._scratch = scratch
        return scratch

    def _move_wallets(self, wallets: list[SimWallet], detached: list[str], attached: list[str]) -> None:
        by_owner = self.ledger.block_by_owner
        heights = self.ledger.block_height
        for w in wallets:
            for bid in reversed(detached):
                eff = by_owner[bid].get(w.name)
                if eff is not None:
                    w.detach(eff[0], eff[1], eff[2])
            for bid in attached:
                eff = by_owner[bid].get(w.name)
                if eff is not None:
                    w.attach(eff[0], eff[1], heights[bid], eff[2])

    def _move_pool(self, pool: Mempool, chain: ChainIndex, detached: list[str],
                   attached: list[str]) -> None:
        ledger = self.ledger
        for bid in attached:
            for tid in ledger.block_txs[bid]:
                pool.remove(tid)
                pool.remove_conflicts(ledger.txs[tid].spends)
        now = self.world.engine.now
        for bid in detached:
            for tid in ledger.block_txs[bid]:
                tx = ledger.txs[tid]
                if ledger.tx_height(tid, chain) is None and not any(
                        ledger.spent_on(ki, chain) is not None for ki in tx.spends):
                    pool.add(tx, now, fluffed=True, kept_by_block=True)

    def _check_block(self, block: Block) -> bool:
        parent = block.parent
        if parent is None:
            return True
        ledger = self.ledger
        self._register(parent)
        chain = self.chain_at(None, parent)
        seen: set[int] = set()
        for tid in block.tx_ids:
            tx = ledger.txs.get(tid)
            if tx is None or seen.intersection(tx.spends):
                return False
            if not ledger.valid_on(tx, chain, block.height):
                return False
            seen.update(tx.spends)
        return True

    def _median(self, block: Block) -> int:
        """Median weight of the last 100 blocks up to ``block``, floored at the full-reward zone."""
        cached = self._medians.get(block.id)
        if cached is None:
            sizes: list[int] = []
            b: Block | None = block
            while b is not None and len(sizes) < REWARD_WINDOW:
                sizes.append(b.size)
                b = b.parent
            cached = max(median(sizes), FULL_REWARD_ZONE)
            self._medians[block.id] = cached
        return cached

    def fee_per_byte(self, tip: Block, priority: int) -> int:
        """What a wallet on a node at ``tip`` pays per byte at ``priority`` (2021 scaling)."""
        key = (tip.id, priority_index(priority))
        fee = self._fees.get(key)
        if fee is None:
            reward = base_reward(tip.generated, self.world.tree.emission_target)
            med = self._median(tip)
            fee = wallet_fee_tiers(reward, med, med)[key[1]]
            self._fees[key] = fee
        return fee

    # -- pools -------------------------------------------------------------------
    def pool_for(self, node: Node) -> Mempool:
        """The node's pool, tracked from now on (filled from what it has seen so far)."""
        pool = self.pools.get(node.name)
        if pool is not None:
            return pool
        pool = Mempool(node.name)
        self.pools[node.name] = pool
        chain = self._track_chain(node)
        self.relay.add_node(node)
        fluff = self.relay.fluff
        fluff.track(node.index)
        now = self.world.engine.now
        ledger = self.ledger
        for tx in ledger.by_serial:
            seen = fluff.seen.get(tx.serial, node.index)
            if seen > now or node.index in self.rejected.get(tx.serial, ()):
                continue
            if ledger.tx_height(tx.id, chain) is None:
                pool.add(tx, seen, fluffed=fluff.knows(node.index, tx.serial))
        return pool

    def admit(self, node: Node, serial: int, t: float, *, fluffed: bool) -> bool:
        """May ``node`` take tx ``serial`` at ``t``? False refuses it there (not relayed on)."""
        tx = self.ledger.by_serial[serial]
        if serial in self.relay.fluff.flagged and self._conflicts_at(node, tx, t):
            self.rejected.setdefault(serial, set()).add(node.index)
            return False
        pool = self.pools.get(node.name)
        if pool is not None and self.ledger.tx_height(tx.id, self.chains[node.name]) is None:
            # (a tx already mined on the node's chain is known, but stays out of its pool)
            added = pool.add(tx, t, fluffed=fluffed)
            if added is AddResult.DOUBLE_SPEND:
                self.rejected.setdefault(serial, set()).add(node.index)
                return False
            if added is AddResult.TIMED_OUT:
                return False
        return True

    def _conflicts_at(self, node: Node, tx: Tx, t: float) -> bool:
        ledger = self.ledger
        seen = self.relay.fluff.seen
        tree = self.world.tree
        livetime = self.policy.livetime
        for other_id in ledger.conflicts(tx):
            other = ledger.txs[other_id]
            # (a conflicting tx older than the pool lifetime has left the node's pool)
            if node.index not in self.rejected.get(other.serial, ()) and \
                    t - livetime <= seen.get(other.serial, node.index) <= t:
                return True
            for bid in ledger.tx_blocks.get(other_id, ()):
                if node.chain.on_main_chain(tree.get(bid)):
                    return True
        return False

    # -- sending -----------------------------------------------------------------
    def _named(self, outputs: list[tuple[str, int]]) -> list[tuple[str, int]]:
        named: list[tuple[str, int]] = []
        for address, amount in outputs:
            name = self.by_address.get(address)
            if name is None:
                if address in self.wallets:
                    name = address
                else:
                    raise ValueError(f"unknown address {address!r}; wallets are "
                                     f"{', '.join(sorted(self.wallets)[:8])}")
            named.append((name, int(amount)))
        return named

    def send(self, wallet: SimWallet, outputs: list[tuple[str, int]], priority: int = 1) -> str:
        """Build ``wallet``'s transfer to ``outputs`` ({address or name, amount}) and submit it."""
        node = self.world.nodes[wallet.node]
        if not node.online:
            raise NodeUnavailable(f"{wallet.name}: its node {node.name} is offline")
        named = self._named(outputs)
        chain = self.chain_of(wallet.node)
        serial = len(self.ledger.by_serial)
        min_inputs, n_outputs = self.shape.draw() if self.shape is not None else (1, 0)
        tx = build(self.ledger, chain, self.rng, tx_id=f"tx{serial:06d}", sender=wallet.name,
                   origin=node.name, spendable=wallet.spendable(), outputs=named,
                   per_byte=self.fee_per_byte(node.chain.tip, priority),
                   ring_size=self.cfg.ring_size, now=self.world.engine.now,
                   min_inputs=min_inputs, n_outputs=n_outputs, presorted=True)
        self._submit(tx, node)
        wallet.add_pending(tx.id, tx.spends)
        return tx.id

    def _submit(self, tx: Tx, node: Node) -> None:
        ledger = self.ledger
        ledger.add_tx(tx)
        others = ledger.conflicts(tx)
        if others:
            for tid in (tx.id, *others):
                self.relay.fluff.flag(ledger.txs[tid].serial)
        tip = node.chain.tip
        if not fee_acceptable(tx.fee, tx.weight, base_reward(tip.generated, self.world.tree.emission_target),
                              self._median(tip)):
            self.refused[tx.serial] = "fee below the node's minimum"
            raise TransferRejected(f"{tx.id}: fee {tx.fee} is below {node.name}'s minimum")
        if not self.relay.submit(node, tx.serial):
            self.refused[tx.serial] = "double spend"
            raise TransferRejected(f"{tx.id}: {node.name} refused it: a key image is already in "
                                   f"its pool or chain")
        self.policy.submitted(tx, node)

    def double_spend(self, original: str, *, recipient: str, node: str,
                     fee: int | None = None) -> str:
        """A tx spending exactly ``original``'s key images to ``recipient``, submitted at ``node``.

        For attacks: the conflicting half of a double spend. Its rings are
        drawn afresh; its output takes everything but the fee.
        """
        ledger = self.ledger
        first = ledger.txs[original]
        at = self.world.nodes[node]
        chain = self._track_chain(at)
        amount = sum(ledger.outputs[ki].amount for ki in first.spends)
        spendable = [(ki, ledger.outputs[ki].amount) for ki in first.spends]
        per_byte = self.fee_per_byte(at.chain.tip, 1)
        serial = len(ledger.by_serial)
        from .weights import estimate_weight

        weight = estimate_weight(len(first.spends), 2, self.cfg.ring_size)
        the_fee = fee if fee is not None else -(-weight * per_byte // 10**4) * 10**4
        tx = build(ledger, chain, self.rng, tx_id=f"tx{serial:06d}", sender=first.sender,
                   origin=node, spendable=spendable, outputs=[(recipient, amount - the_fee)],
                   per_byte=per_byte, ring_size=self.cfg.ring_size, now=self.world.engine.now)
        self._submit(tx, at)
        return tx.id

    def watch(self, node: str, watcher: Watcher) -> None:
        """Call ``watcher(tx_id, time, sender, phase)`` when ``node`` gets a tx: on a stem
        (``stem``, or ``origin`` for its own wallet's) and again when it arrives fluffed."""
        self.relay.watch(self.world.nodes[node], watcher)

    def info(self) -> dict[str, Any]:
        f = self.relay.fluff
        return {"windows": f.windows, "flushes": f.flushes, "messages": f.messages,
                "learns": f.learns, "embargo_fired": f.embargo_fired, "slots": f.slots,
                "stem_hops": self.relay.stem_hops, "epochs": self.relay.router.epochs_started,
                **self.policy_info()}

    def policy_info(self) -> dict[str, Any]:
        """Re-broadcast, expiry and tx bandwidth figures (mainnet, #14)."""
        p = self.policy
        out: dict[str, Any] = {"rebroadcast_checks": p.checks, "rebroadcast_deliveries": p.deliveries,
                               "expired": dict(p.expired)}
        bw = self.relay.bandwidth
        if bw is not None:
            out["bytes_sent"] = {n.name: int(bw.sent[n.index]) for n in self.relay.nodes
                                 if n.index < bw.sent.size and bw.sent[n.index]}
        return out
