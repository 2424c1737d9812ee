"""Selfish mining (Eyal & Sirer 2014) as a mining strategy on the embedded simulator.

The attack adds one miner with a share ``alpha`` of the network's hashrate. It
keeps a private branch and publishes by the paper's state machine
(Algorithm 1), written here in terms of the attacker's *lead*: the height of
its branch minus the height of the public chain it sees.

* The attacker finds a block: it withholds it (lead + 1). In a race (state
  0', see below) it publishes it at once and wins the race.
* The public chain grows by an honest block; with the lead that is *left*:

  ======  ==========================================================
  < 0     the honest chain is ahead: adopt it (drop the branch)
  0       was 1: publish the withheld block; a race (state 0') begins
  1       was 2: publish the whole branch; it is longer and wins
  >= 2    publish the withheld blocks up to the public height (the
          paper's "publish the first unpublished block")
  ======  ==========================================================

* A race ends with the next block: the attacker's (it publishes, wins), or
  an honest miner's, on the attacker's block (a share γ of honest hashrate
  does this, Eyal & Sirer's γ) or on the honest rival.

**How γ is realised.** ``gamma`` is a *target* realised through connectivity.
The attacker is linked to every node; every honest node's link *to* it is
fast (``fast_latency_s``: it hears honest blocks first), and its own links
*out* are fast or slow (``slow_latency_s``). When a race begins the attacker
pushes its block over fast links to a random set S of honest miners (each
drawn with probability π) and over slow links to everybody else, so S
receives it before the honest rival and mines on it, the rest mine on the
rival. The honest finder always mines on its own block, so with honest
hashrate shares p_i the expected γ is π·(1 − Σ p_i²): π = γ / (1 − Σ p_i²),
and a γ above 1 − Σ p_i² cannot be realised (``check`` says so). This needs a
network where honest blocks reach honest miners in more than about twice
``fast_latency_s`` plus one block verification (direct honest links, e.g. a
mesh, with latency >= 0.05 s) and ``slow_latency_s`` above the honest
propagation delay. The γ that matters is *measured* (``gamma_measured``): the
fraction of races decided by an honest block in which that block was built
on the attacker's block. ``monerosim analyze`` puts R(alpha, gamma) beside
``revenue_share``; the suites compare with R(alpha, gamma_measured).

**Revenue.** ``revenue_share`` = attacker blocks / all blocks on the final
main chain, counted up to the last block that the attacker and the public
chain share (the blocks after it belong to an unfinished attack cycle).
Eyal & Sirer's revenue is this *relative* revenue; Monero's retarget
changes absolute block rates (the attacker's withheld and orphaned work
slows the main chain, the difficulty follows) but not the share.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from pydantic import Field

from ..analysis.theory import selfish_mining_revenue, selfish_mining_threshold
from ..registry import PluginSpec
from ..sim.chain import Block, TipChange, common_ancestor
from ..sim.mining import MiningStrategy
from ._mining import LinkEveryone, add_attacker, check_attacker, check_share
from .base import Attack, AttackParams

if TYPE_CHECKING:
    from pydantic import BaseModel

    from ..config.model import Scenario
    from ..result.model import Result
    from ..sim.network import World
    from ..sim.node import Node


class SelfishMiningParams(AttackParams):
    alpha: float = 0.3
    """The attacker's share of the network's hashrate (Eyal & Sirer's α), in (0, 0.5]."""
    gamma: float = 0.5
    """Target share of honest hashrate that mines on the attacker's block in a race (γ)."""
    node: str = "selfish-miner"
    """Name of the attacker's node (added to the network by the attack)."""
    fast_latency_s: float = Field(default=0.001, gt=0)
    """One-way latency of the attacker's fast links (every honest node → attacker, and
    attacker → the miners it races to)."""
    slow_latency_s: float = Field(default=1.0, gt=0)
    """One-way latency of the attacker's other outgoing links; above the honest network's
    propagation delay."""


def honest_shares(hashrates: list[float]) -> list[float]:
    total = sum(hashrates)
    return [h / total for h in hashrates] if total > 0 else []


def max_gamma(hashrates: list[float]) -> float:
    """Largest expected γ: every honest miner but the finder on the attacker's block."""
    return 1.0 - sum(p * p for p in honest_shares(hashrates))


def race_probability(gamma: float, hashrates: list[float]) -> float:
    """π: the chance that an honest miner gets the attacker's racing block first."""
    top = max_gamma(hashrates)
    return 0.0 if gamma <= 0 or top <= 0 else min(1.0, gamma / top)


def batch_se(flags: list[bool], batches: int = 20) -> float | None:
    """Standard error of the mean of ``flags`` by batch means (consecutive equal batches).

    Attack cycles last a few blocks, so batches of hundreds of blocks are
    close to independent; the batch means' spread then measures the
    uncertainty of the overall share, cycle correlation included.
    """
    size = len(flags) // batches
    if size < 1 or batches < 2:
        return None
    means = [sum(flags[i * size:(i + 1) * size]) / size for i in range(batches)]
    mu = sum(means) / batches
    var = sum((m - mu) ** 2 for m in means) / (batches - 1)
    return math.sqrt(var / batches)


def count_orphans(blocks: Iterable[Any], settled: int, on_main: set[Any],
                  attacker: str) -> tuple[int, int]:
    """(honest, attacker) blocks up to the settled height that are not on the main chain
    (genesis aside): the orphans both backends report."""
    honest = ours = 0
    for b in blocks:
        if b.parent is None or b.height > settled or b.id in on_main:
            continue
        if b.miner == attacker:
            ours += 1
        else:
            honest += 1
    return honest, ours


def selfish_metrics(*, attacker: str, alpha: float, main_miners: list[str], found: int,
                    honest_found: int, withheld: int, orphaned_honest: int, orphaned_attacker: int,
                    races: int, races_attacker: int, races_gamma: int, races_rival: int,
                    race_probability: float) -> dict[str, Any]:
    """The selfish-mining report, the same on every backend (the simulator's attack and the
    monerod attacker daemon): revenue from the settled main chain (``main_miners``: who
    mined each of its blocks), gamma from the races, Eyal-Sirer's R(alpha, gamma_measured)."""
    ours = sum(1 for m in main_miners if m == attacker)
    decided = races_gamma + races_rival
    gamma_measured = races_gamma / decided if decided else None
    share = ours / len(main_miners) if main_miners else 0.0
    metrics: dict[str, Any] = {
        "attackers": [attacker],
        "revenue_share": share,
        "revenue_share_se": batch_se([m == attacker for m in main_miners]),
        "pays": share > alpha,
        "gamma_measured": gamma_measured,
        "alpha_measured": found / (found + honest_found) if found else 0.0,
        "main_blocks": len(main_miners),
        "attacker_main_blocks": ours,
        "attacker_blocks_found": found,
        "blocks_withheld": withheld,
        "orphaned_honest": orphaned_honest,
        "orphaned_attacker": orphaned_attacker,
        "races": races,
        "races_won_by_attacker": races_attacker,
        "races_won_gamma": races_gamma,
        "races_won_rival": races_rival,
        "race_probability": race_probability,
    }
    if gamma_measured is not None:
        metrics["theory_revenue"] = selfish_mining_revenue(alpha, gamma_measured)
        metrics["threshold"] = selfish_mining_threshold(gamma_measured)
    return metrics


def _check_params(p: SelfishMiningParams) -> None:
    check_share("alpha", p.alpha, upper=0.5, closed=True)
    if not 0.0 <= p.gamma <= 1.0 or math.isnan(p.gamma):
        raise ValueError(f"gamma={p.gamma!r}: the share of honest hashrate on the attacker's block in "
                         "a race must be in [0, 1]")
    if p.slow_latency_s <= p.fast_latency_s:
        raise ValueError(f"slow_latency_s={p.slow_latency_s!r} must exceed fast_latency_s="
                         f"{p.fast_latency_s!r}")


class SelfishStrategy(MiningStrategy):
    """Eyal & Sirer's state machine. ``publish(blocks, race)`` is the attack's sender."""

    name = "selfish"

    def __init__(self, attack: SelfishMining) -> None:
        self.attack = attack
        self.withheld: list[Block] = []
        """Found and not yet published, oldest first (each extends the previous)."""
        self.race: Block | None = None
        """The attacker's published block while it ties with an honest one (state 0')."""

    # -- views -----------------------------------------------------------------
    def head(self, node: Node) -> Block:
        """Tip of the attacker's branch (what it mines on)."""
        if self.withheld:
            return self.withheld[-1]
        if self.race is not None:
            return self.race
        return node.chain.tip

    def lead(self, node: Node) -> int:
        """Private branch height minus the public height the attacker sees."""
        return self.head(node).height - node.chain.tip.height

    @property
    def state(self) -> str:
        """``"0"``, ``"0'"`` (race) or the lead as a string (``"1"``, ``"2"``, ...)."""
        if self.race is not None:
            return "0'"
        return str(len(self.withheld))

    # -- MiningStrategy ----------------------------------------------------------
    def mining_parent(self, node: Node) -> Block:
        return self.head(node)

    def on_block_found(self, node: Node, block: Block) -> None:
        attack = self.attack
        attack.found += 1
        if self.race is not None and block.parent is self.race:
            # State 0' and the attacker finds the next block: publish it, win the race.
            attack.race_over(node, block)
            self.race = None
            attack.publish(node, [block], race=False)
            return
        self.withheld.append(block)
        attack.withheld_total += 1
        node.mining_changed()

    def on_block_accepted(self, node: Node, block: Block, change: TipChange | None) -> None:
        if change is None:
            return  # the public chain the attacker sees did not move
        public = node.chain.tip
        if self.race is not None:
            # An honest block decided the race (on our block or on the rival): adopt it.
            self.race = None
            node.mining_changed()
            return
        if not self.withheld:
            return
        lead = self.withheld[-1].height - public.height
        if lead < 0:
            self.withheld.clear()  # overtaken: the private blocks are lost
            node.mining_changed()
        elif lead == 0:
            blocks = list(self.withheld)
            self.withheld.clear()
            head = blocks[-1]
            if head.cum == public.cum:
                self.race = head
                self.attack.race_started(node, head, public)
                self.attack.publish(node, blocks, race=True)
            elif head.cum > public.cum:
                self.attack.publish(node, blocks, race=False)
            else:
                node.mining_changed()  # lighter at the same height: lost
        elif lead == 1:
            blocks = list(self.withheld)
            self.withheld.clear()
            self.attack.publish(node, blocks, race=False)
        else:
            n = sum(1 for b in self.withheld if b.height <= public.height)
            blocks = self.withheld[:n]
            del self.withheld[:n]
            if blocks:
                self.attack.publish(node, blocks, race=False)


class SelfishMining(Attack):
    name = "selfish_mining"
    Params = SelfishMiningParams

    def __init__(self, params: BaseModel) -> None:
        assert isinstance(params, SelfishMiningParams)
        _check_params(params)
        super().__init__(params)
        self.p: SelfishMiningParams = params
        self.strategy = SelfishStrategy(self)
        self.node: Node | None = None
        self.honest_miners: list[Node] = []
        self.pi = 0.0
        self.rng: random.Random | None = None
        # measurements
        self.found = 0
        self.withheld_total = 0
        self.races = 0
        self.race_block: Block | None = None
        self.race_rival: Block | None = None
        self.races_attacker = 0
        self.races_gamma = 0
        self.races_rival = 0

    @classmethod
    def check(cls, params: BaseModel, scenario: Scenario) -> None:
        assert isinstance(params, SelfishMiningParams)
        _check_params(params)
        check_attacker(scenario, "node", params.node)
        rates = [g.hashrate for g in scenario.nodes if g.role == "miner" for _ in range(g.count)]
        top = max_gamma(rates)
        if params.gamma > top + 1e-12:
            raise ValueError(
                f"gamma={params.gamma!r} cannot be realised with {len(rates)} honest miner(s): the "
                f"finder of the honest block always mines on it, so at most 1 - sum(p_i^2) = "
                f"{top:.3g} of the honest hashrate can be on the attacker's block; add honest miners "
                "or lower gamma"
            )

    # -- component hooks -------------------------------------------------------------
    def setup(self, world: World) -> None:
        p = self.p
        self.rng = world.rng(f"attack:{self.name}")
        node = add_attacker(world, p.node, p.alpha)
        node.relaying = False  # it sends only what it publishes
        node.set_strategy(self.strategy)
        self.node = node
        self.honest_miners = [n for n in world.nodes.values()
                              if n is not node and n.role == "miner" and n.hashrate > 0]
        self.pi = race_probability(p.gamma, [n.hashrate for n in self.honest_miners])
        fast, slow = p.fast_latency_s, p.slow_latency_s
        world.add_component(LinkEveryone(node, lambda a, peer: (slow, fast)))

    def on_block_found(self, node: Node, block: Block) -> None:
        race = self.race_block
        if race is None or node is self.node or block.height != race.height + 1:
            return
        if block.parent is race:
            self.races_gamma += 1
        else:
            self.races_rival += 1
        self.race_block = self.race_rival = None

    # -- called by the strategy ----------------------------------------------------------
    def race_started(self, node: Node, block: Block, rival: Block) -> None:
        self.races += 1
        self.race_block, self.race_rival = block, rival

    def race_over(self, node: Node, block: Block) -> None:
        if self.race_block is not None:
            self.races_attacker += 1
        self.race_block = self.race_rival = None

    def publish(self, node: Node, blocks: list[Block], *, race: bool) -> None:
        """Send ``blocks``: in a race fast only to a fresh random set of honest miners."""
        fast, slow = self.p.fast_latency_s, self.p.slow_latency_s
        if race:
            assert self.rng is not None
            rng = self.rng
            chosen = {m for m in self.honest_miners if rng.random() < self.pi}
            for peer, link in node.links.items():
                link.latency = fast if peer in chosen else slow
        else:
            for link in node.links.values():
                link.latency = fast
        for b in blocks:
            node.publish(b)
        node.mining_changed()

    # -- results ----------------------------------------------------------------------------
    def finish(self, world: World, result: Result) -> None:
        node = self.node
        assert node is not None
        p = self.p
        head = self.strategy.head(node)
        settled = common_ancestor(head, node.chain.tip).height
        # The reference chain: the heaviest tip among honest nodes.
        ref = max((n.chain.tip for n in world.nodes.values() if n.honest),
                  key=lambda b: (b.cum, -b.seq), default=node.chain.tip)
        settled = min(settled, ref.height)
        main = ref.ancestor(settled).chain()[1:] if settled > 0 else []
        on_main = {b.id for b in main}
        blocks = world.tree.blocks.values()
        honest_found = sum(1 for b in blocks if b.parent is not None and b.miner != node.name)
        orphan_honest, orphan_ours = count_orphans(blocks, settled, on_main, node.name)
        metrics = selfish_metrics(
            attacker=node.name, alpha=p.alpha, main_miners=[b.miner for b in main],
            found=self.found, honest_found=honest_found, withheld=self.withheld_total,
            orphaned_honest=orphan_honest, orphaned_attacker=orphan_ours, races=self.races,
            races_attacker=self.races_attacker, races_gamma=self.races_gamma,
            races_rival=self.races_rival, race_probability=self.pi)
        self.report(result, **metrics)


SPEC: PluginSpec[SelfishMiningParams] = PluginSpec(
    "attack", "selfish_mining", SelfishMiningParams, SelfishMining,
    "Eyal-Sirer selfish mining by an added miner with hash share alpha; gamma realised through "
    "the attacker's fast links; reports revenue_share, gamma_measured, withheld and orphaned blocks",
    default_sweep=({"alpha": 0.15, "gamma": 0.5}, {"alpha": 0.35, "gamma": 0.5}),
)

PLUGINS = [SPEC]
