"""Network partition: cut the network into parts at ``start``, heal it at ``heal``.

The cut is a world link filter (no connection, handshake, block or sync
crosses it) plus :meth:`~pytest_monerosim.sim.network.World.drop_links` on every
connection that crosses it. Each part then lives on its own: its nodes refill
their outgoing slots inside the part and its miners extend the part's chain.
Healing removes the filter and nothing else: the parts find each other again
only through monerod's own connection making (free outgoing slots, gray-list
picks, connection turnover, restarts), exactly as after a real BGP hijack or
national firewall ends. Addresses a node failed to reach during the cut stay
skipped for an hour, as in monerod.

Parts are lists of node names, group names or ``region:NAME`` (the latency
model's regions); nodes in no part (including nodes that join later) form the
part ``rest``. A single part therefore cuts it off from everything else.

Metrics (``result.attacks["partition"]``): ``blocks`` (part → blocks its miners
found during the cut), ``heavier`` (the part whose chain had the most
cumulative difficulty at the heal), ``winner`` (the part whose chain the
network ends on), ``heavier_won``, ``reorg_depth`` (deepest reorg an honest
node underwent after the heal), ``reorged_nodes``, ``lighter_blocks`` (blocks
on the lighter parts' chains since the fork at the heal), ``lighter_mined``
(blocks the lighter parts' miners found from the cut until the reconvergence:
they keep mining on their own chain until they hear of the heavier one),
``reconverged`` / ``reconverge_s`` (first time after the heal that every online
honest node had the same tip), ``orphaned`` (blocks found between the cut and
the reconvergence that are not on the final main chain), ``txs_reversed``
(txs whose confirmation the heal undid: they were in orphaned blocks) and
``txs_not_reconfirmed`` (of those, the ones not on the final main chain at the
end), both ``None`` without the transaction layer; series ``distinct_tips``
(distinct tips among online honest nodes over time).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pydantic import Field, field_validator, model_validator

from ..config.model import Seconds
from ..registry import PluginSpec
from .base import Attack, AttackParams

if TYPE_CHECKING:
    from ..config.model import Scenario
    from ..result.model import ReorgRecord, Result
    from ..sim.chain import Block, TipChange
    from ..sim.network import World
    from ..sim.node import Node

REST = "rest"
REGION_PREFIX = "region:"


class PartitionParams(AttackParams):
    parts: dict[str, list[str]] | None = None
    """Part name → members (node, group or ``region:NAME``); a list of lists is named
    ``a``, ``b``, ... Default: every group split by ``split`` into parts ``a`` and ``b``."""
    split: float = Field(default=0.5, gt=0, lt=1)
    """With no ``parts``: the share of each group's nodes (its first ones) put in ``a``."""
    start: Seconds = 1800.0
    """t1: the cut."""
    heal: Seconds | None = 4800.0
    """t2: the heal (None: never)."""
    sample_s: Seconds = Field(default=60.0, gt=0)

    @field_validator("parts", mode="before")
    @classmethod
    def _name_parts(cls, value: Any) -> Any:
        if isinstance(value, (list, tuple)):
            return {chr(ord("a") + i) if i < 26 else f"p{i}": list(members)
                    for i, members in enumerate(value)}
        return value

    @model_validator(mode="after")
    def _times(self) -> PartitionParams:
        if self.heal is not None and self.heal <= self.start:
            raise ValueError(f"heal={self.heal:g} must be after start={self.start:g} "
                             "(t2 > t1)")
        if self.parts is not None:
            if not self.parts:
                raise ValueError("parts is empty; accepted: one or more lists of node, group "
                                 "or region:NAME names")
            if REST in self.parts:
                raise ValueError(f"part name {REST!r} is reserved for the nodes in no part")
            for name, members in self.parts.items():
                if not members:
                    raise ValueError(f"part {name!r} has no members")
        return self


def _regions_of(scenario: Scenario) -> set[str]:
    regions = {g.region for g in scenario.nodes if g.region}
    latency = scenario.network.latency
    for region in latency.params.get("regions", []) or []:
        if isinstance(region, dict) and "name" in region:
            regions.add(str(region["name"]))
    return regions


def _members(scenario: Scenario, field: str, entry: str) -> set[str] | None:
    """Node names an entry covers, or None for a region (known only once the run starts)."""
    if entry.startswith(REGION_PREFIX):
        region = entry[len(REGION_PREFIX):]
        known = _regions_of(scenario)
        if region not in known:
            raise ValueError(f"{field}={entry!r}: no region {region!r}; regions are "
                             f"{sorted(known) or 'none (the latency model has no regions)'}")
        fixed = {n for g in scenario.nodes if g.region == region for n in g.node_names()}
        return fixed or None
    names = scenario.node_names()
    if entry in names:
        return {entry}
    group = [g for g in scenario.nodes if g.group == entry]
    if group:
        return set(group[0].node_names())
    raise ValueError(
        f"{field}={entry!r} is not a node, group or region:NAME of the scenario; nodes include "
        f"{sorted(names)[:8]}, groups are {sorted(g.group for g in scenario.nodes)}"
    )


class Partition(Attack):
    name = "partition"
    Params = PartitionParams

    def __init__(self, params: PartitionParams) -> None:
        super().__init__(params)
        self.p = params
        self.world: World | None = None
        self.part_of: dict[Node, str] = {}
        self.names: list[str] = []
        self.cut_active = False
        self.tip_count: dict[Block, int] = {}
        self.healed_at: float | None = None
        self.reconverged_at: float | None = None
        self.heal_tips: dict[str, Block] = {}
        self.series_tips: list[list[float]] = []

    # -- validation -------------------------------------------------------------------
    @classmethod
    def check(cls, params: Any, scenario: Scenario) -> None:
        p: PartitionParams = params
        duration = scenario.general.duration
        if p.start >= duration:
            raise ValueError(f"start={p.start:g} s is not before the end of the run "
                             f"(duration {duration:g} s)")
        if p.heal is not None and p.heal >= duration:
            raise ValueError(f"heal={p.heal:g} s is not before the end of the run "
                             f"(duration {duration:g} s); accepted: a heal the run outlives, "
                             "or heal: null for a cut that never heals")
        if p.parts is None:
            return
        owner: dict[str, str] = {}
        for part, entries in p.parts.items():
            for entry in entries:
                members = _members(scenario, f"parts.{part}", entry)
                for node in members or ():
                    if node in owner and owner[node] != part:
                        raise ValueError(
                            f"parts overlap: node {node!r} is in part {owner[node]!r} and in "
                            f"part {part!r} (via {entry!r}); each node belongs to one part")
                    owner[node] = part
        everyone = set(scenario.node_names())
        if len(p.parts) == 1 and everyone <= set(owner):
            raise ValueError(f"the only part {next(iter(p.parts))!r} holds every node; a cut "
                             "needs at least two sides")

    # -- setup ----------------------------------------------------------------------
    def setup(self, world: World) -> None:
        self.world = world
        self.part_of = self._assign(world)
        self.names = sorted(set(self.part_of.values()))
        world.engine.at(self.p.start, self._cut)
        if self.p.heal is not None:
            world.engine.at(self.p.heal, self._heal)
        world.engine.at(self.p.start, self._sample)

    def _assign(self, world: World) -> dict[Node, str]:
        out: dict[Node, str] = {}
        parts = self.p.parts
        if parts is None:
            by_group: dict[str, list[Node]] = {}
            for node in world.nodes.values():
                by_group.setdefault(node.group, []).append(node)
            for nodes in by_group.values():
                k = max(1, min(len(nodes) - 1, round(len(nodes) * self.p.split))) \
                    if len(nodes) > 1 else 1
                for i, node in enumerate(nodes):
                    out[node] = "a" if i < k else "b"
            return out
        for part, entries in parts.items():
            for entry in entries:
                if entry.startswith(REGION_PREFIX):
                    region = entry[len(REGION_PREFIX):]
                    chosen = [n for n in world.nodes.values() if n.region == region]
                elif entry in world.nodes:
                    chosen = [world.nodes[entry]]
                else:
                    chosen = [n for n in world.nodes.values() if n.group == entry]
                for node in chosen:
                    out.setdefault(node, part)
        return out

    def part(self, node: Node) -> str:
        return self.part_of.get(node, REST)

    def _allowed(self, a: Node, b: Node) -> bool:
        part_of = self.part_of
        return part_of.get(a, REST) == part_of.get(b, REST)

    def _cut(self) -> None:
        world = self.world
        assert world is not None
        self.cut_active = True
        world.add_filter(self._allowed)
        world.drop_links(lambda a, b: not self._allowed(a, b))
        world.log(self.name, "cut", parts=self.names)

    def _heal(self) -> None:
        world = self.world
        assert world is not None
        self.heal_tips = self._best_tips()
        world.remove_filter(self._allowed)
        self.cut_active = False
        self.healed_at = world.engine.now
        self.tip_count = {}
        for node in self._honest_online():
            self.tip_count[node.chain.tip] = self.tip_count.get(node.chain.tip, 0) + 1
        world.log(self.name, "heal")
        self._check_converged()

    # -- measuring ------------------------------------------------------------------
    def _honest_online(self) -> list[Node]:
        assert self.world is not None
        return [n for n in self.world.nodes.values() if n.honest and n.online]

    def _best_tips(self) -> dict[str, Block]:
        """Per part, the heaviest tip among its honest nodes."""
        best: dict[str, Block] = {}
        for node in self._honest_online():
            part = self.part(node)
            tip = node.chain.tip
            cur = best.get(part)
            if cur is None or (tip.cum, -tip.seq) > (cur.cum, -cur.seq):
                best[part] = tip
        return best

    def on_tip_changed(self, node: Node, change: TipChange) -> None:
        if self.healed_at is None or self.reconverged_at is not None or not node.honest:
            return
        counts = self.tip_count
        old = counts.get(change.old)
        if old is not None:
            if old <= 1:
                del counts[change.old]
            else:
                counts[change.old] = old - 1
        counts[change.new] = counts.get(change.new, 0) + 1
        self._check_converged()

    def on_node_started(self, node: Node) -> None:
        if self.healed_at is not None and self.reconverged_at is None:
            self._recount()

    def _recount(self) -> None:
        self.tip_count = {}
        for node in self._honest_online():
            self.tip_count[node.chain.tip] = self.tip_count.get(node.chain.tip, 0) + 1
        self._check_converged()

    def _check_converged(self) -> None:
        if len(self.tip_count) == 1 and self.reconverged_at is None:
            assert self.world is not None
            # A node stopping or starting changes the population; confirm with a full count.
            online = self._honest_online()
            tips = {n.chain.tip for n in online}
            if len(tips) == 1:
                self.reconverged_at = self.world.engine.now
            else:
                self.tip_count = {}
                for n in online:
                    self.tip_count[n.chain.tip] = self.tip_count.get(n.chain.tip, 0) + 1

    def _sample(self) -> None:
        world = self.world
        assert world is not None
        now = world.engine.now
        self.series_tips.append([now, len({n.chain.tip for n in self._honest_online()})])
        if now + self.p.sample_s <= world.duration:
            world.engine.schedule(self.p.sample_s, self._sample)

    def finish(self, world: World, result: Result) -> None:
        p = self.p
        if any(n not in self.part_of for n in world.nodes.values()):
            self.names = sorted(set(self.names) | {REST})
        end = p.heal if p.heal is not None else world.engine.now
        settled = self.reconverged_at if self.reconverged_at is not None else world.engine.now
        blocks = {name: 0 for name in self.names}
        mined_until_settled = {name: 0 for name in self.names}
        since_cut: list[Block] = []
        miner_part = {n.name: self.part(n) for n in world.nodes.values()}
        for block in world.tree.blocks.values():
            if block.parent is None or block.found_at < p.start:
                continue
            if block.found_at <= settled:
                since_cut.append(block)
                part = miner_part.get(block.miner, REST)
                mined_until_settled[part] = mined_until_settled.get(part, 0) + 1
            if block.found_at < end:
                part = miner_part.get(block.miner, REST)
                blocks[part] = blocks.get(part, 0) + 1
        final = _final_tip(world)
        main = set(final.chain())
        heal_tips = self.heal_tips or self._best_tips()
        heavier = max(heal_tips, key=lambda k: (heal_tips[k].cum, -heal_tips[k].seq)) \
            if heal_tips else None
        winner = None
        for part, tip in sorted(heal_tips.items(), key=lambda kv: -kv[1].cum):
            if tip in main:
                winner = part
                break
        lighter_blocks = 0
        if heavier is not None:
            heavy_chain = set(heal_tips[heavier].chain())
            for part, tip in heal_tips.items():
                if part == heavier:
                    continue
                b: Block | None = tip
                n = 0
                while b is not None and b not in heavy_chain:
                    n += 1
                    b = b.parent
                lighter_blocks = max(lighter_blocks, n)
        honest = {n.name for n in world.nodes.values() if n.honest}
        after = [r for r in world.reorgs
                 if self.healed_at is not None and r.time >= self.healed_at and r.node in honest]
        orphaned = [b for b in since_cut if b not in main]
        have_txs = bool(result.txs) or any(b.tx_ids for b in world.tree.blocks.values())
        main_txs = {t for b in main for t in b.tx_ids}
        self.report(
            result,
            **outcome_metrics(
                after=after, mined_until_settled=mined_until_settled, heavier=heavier, winner=winner,
                lighter_blocks=lighter_blocks, orphaned=orphaned, main_txs=main_txs,
                have_txs=have_txs, healed_at=self.healed_at, reconverged_at=self.reconverged_at,
            ),
            blocks=blocks,
            parts={name: sorted(n.name for n, part in self.part_of.items() if part == name)
                   for name in self.names},
            healed_at=self.healed_at,
            series={"distinct_tips": self.series_tips},
        )


def _final_tip(world: World) -> Block:
    tips = [n.chain.tip for n in world.nodes.values() if n.honest]
    return max(tips, key=lambda b: (b.cum, -b.seq)) if tips else world.tree.genesis


def outcome_metrics(
    *,
    after: Sequence[ReorgRecord],
    mined_until_settled: dict[str, int],
    heavier: str | None,
    winner: str | None,
    lighter_blocks: int,
    orphaned: Sequence[Any],
    main_txs: set[str],
    have_txs: bool,
    healed_at: float | None,
    reconverged_at: float | None,
) -> dict[str, Any]:
    """The partition's outcome metrics, shared by the simulator and the monerod driver.

    ``after``: honest nodes' reorgs since the heal; ``orphaned``: blocks (anything with
    ``tx_ids``) mined since the cut that are not on the final main chain.
    """
    rolled = {t for b in orphaned for t in b.tx_ids}
    return {
        "reorg_depth": max((r.depth for r in after), default=0),
        "lighter_mined": sum(n for part, n in mined_until_settled.items() if part != heavier),
        "lighter_blocks": lighter_blocks,
        "reconverge_s": (None if reconverged_at is None or healed_at is None
                         else round(reconverged_at - healed_at, 3)),
        "heavier_won": None if winner is None or heavier is None else winner == heavier,
        "reconverged": reconverged_at is not None,
        "heavier": heavier,
        "winner": winner,
        "orphaned": len(orphaned),
        "reorged_nodes": len({r.node for r in after}),
        "txs_reversed": len(rolled) if have_txs else None,
        "txs_not_reconfirmed": len(rolled - main_txs) if have_txs else None,
    }


SPEC: PluginSpec[PartitionParams] = PluginSpec(
    "attack", "partition", PartitionParams, Partition,
    "cut the network into parts at `start`, heal at `heal`; measures forks, reorgs, reconvergence",
    default_sweep=({"split": 0.7},),
)
