"""Sybil attack with spies: many attacker identities join and log every transaction.

``identities`` attacker nodes, at addresses spread over ``subnets`` /16s, join
the network at ``start`` as ordinary monerod nodes: they contact the seed
nodes, fill ``out_peers`` outgoing slots, accept every incoming connection,
relay blocks and transactions like anyone else (honest-but-curious), and
advertise only each other's addresses in handshakes and timed syncs, so that
honest nodes' gray lists fill with sybil addresses and their new outgoing
connections land on sybils.

The ``spies`` among them (default: all) log, for every transaction, when they
first got it and from which peer (the transaction layer's ``watch`` hook:
stem and fluff arrivals alike). The **first-spy estimator** (Fanti et al.,
"Dandelion++", SIGMETRICS 2018) then guesses, for each honest transaction,
that its origin is the honest peer from which the earliest spy received it.

Metrics (``result.attacks["sybil"]``): ``out_share`` / ``all_share`` (share of
honest nodes' outgoing / all connections held by sybils, at the end),
``reach`` (share of honest nodes with a sybil peer), ``precision`` (correct
guesses / guesses) and ``recall`` (correct guesses / honest transactions) of
the first-spy estimator, ``txs``, ``guessed``, ``stem_first`` (share of
guesses made from a stem-phase arrival), ``relay`` (the scenario's
``transactions.relay``); series ``out_share``, ``all_share``; node lists
``attackers`` and ``spies``. Without a transaction layer (no wallets) the
inference metrics are ``None``.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from pydantic import Field, model_validator

from ..config.model import Seconds
from ..registry import PluginSpec
from ..sim.spies import Sighting, first_seen_watcher, set_relaying
from .base import Attack, AttackParams
from .eclipse import require_dynamic, subnet_addresses

if TYPE_CHECKING:
    from ..config.model import Scenario
    from ..result.model import Result
    from ..sim.network import World
    from ..sim.node import Node


class SybilParams(AttackParams):
    identities: int = Field(default=16, ge=1)
    """Attacker nodes (each its own IP address)."""
    subnets: int | None = Field(default=None, ge=1)
    """/16 subnets their addresses span; default: one per identity."""
    spies: int | None = Field(default=None, ge=0)
    """How many identities log transactions (the first ones); default: all."""
    out_peers: int | None = Field(default=None, ge=0)
    """Outgoing connections each identity makes (None: the scenario's)."""
    advertise_sybils: bool = True
    """Hand out only sybil addresses in handshakes and timed syncs."""
    relay: bool = True
    """``false``: the identities relay neither blocks nor transactions (passive spies: a stem
    sent to one ends there until the sender's embargo fires), as the monerod backend's Levin
    spies do; ``true``: honest-but-curious."""
    connectors: int | None = Field(default=None, ge=0)
    """``None``: every identity joins as an ordinary node (contacts the seeds, fills its
    outgoing slots from what it learns). A number: at ``start`` the first ``connectors``
    identities each connect to ``out_peers`` honest nodes drawn from all of them (a
    crawler's list), and the others open no connection and wait to be dialled: how the
    monerod backend's spies join a namespaced network (default 2 there, since monerod never
    dials a peer already connected to it). For comparisons with real daemons, with whose
    ``p2p.add_peer`` bootstrap seeds hand out nothing."""
    start: Seconds = 0.0
    sample_s: Seconds = Field(default=300.0, gt=0)

    @model_validator(mode="after")
    def _consistent(self) -> SybilParams:
        if self.subnets is not None and self.subnets > self.identities:
            raise ValueError(f"subnets={self.subnets} exceeds identities={self.identities}; "
                             "each /16 needs at least one identity")
        if self.spies is not None and self.spies > self.identities:
            raise ValueError(f"spies={self.spies} exceeds identities={self.identities}")
        if self.connectors is not None and self.connectors > self.identities:
            raise ValueError(f"connectors={self.connectors} exceeds identities={self.identities}")
        return self


class Sybil(Attack):
    name = "sybil"
    Params = SybilParams

    def __init__(self, params: SybilParams) -> None:
        super().__init__(params)
        self.p = params
        self.world: World | None = None
        self.identities: list[Node] = []
        self.sybils: set[Node] = set()
        self.spy_names: list[str] = []
        self.addresses: list[str] = []
        self.first: dict[str, Sighting] = {}
        self.rng = random.Random(0)
        self.series_out: list[list[float]] = []
        self.series_all: list[list[float]] = []

    @classmethod
    def check(cls, params: Any, scenario: Scenario) -> None:
        p: SybilParams = params
        require_dynamic(scenario, cls.name)
        duration = scenario.general.duration
        if p.start >= duration:
            raise ValueError(f"start={p.start:g} s is not before the end of the run "
                             f"(duration {duration:g} s)")

    # -- setup ----------------------------------------------------------------------
    def setup(self, world: World) -> None:
        p = self.p
        self.world = world
        self.rng = world.rng(f"attack:{self.name}")
        taken = [n.address for n in world.nodes.values()]
        self.addresses = subnet_addresses(self.rng, p.identities, p.subnets or p.identities, taken)
        out_peers = p.out_peers if p.connectors is None else 0  # connectors: see _connect_in
        for i, address in enumerate(self.addresses):
            node = world.add_node(f"{self.name}-{i}", group=f"{self.name}-attacker",
                                  role="attacker", address=address, out_peers=out_peers,
                                  start_at=p.start)
            if p.advertise_sybils:
                node.advertise = self._advertise
            self.identities.append(node)
        self.sybils = set(self.identities)
        if not p.relay:
            for node in self.identities:  # after the node's behaviour started (it turns relaying on)
                world.engine.at(node.start_time, set_relaying, world, node, False)
        spies = self.identities[:p.identities if p.spies is None else p.spies]
        self.spy_names = [n.name for n in spies]
        tx = getattr(world, "tx", None)
        if tx is not None:
            for name in self.spy_names:
                tx.watch(name, first_seen_watcher(self.first, name))
        if p.connectors:
            world.engine.at(p.start, self._connect_in)  # after the identities started
        world.engine.at(p.start, self._sample)

    def _connect_in(self) -> None:
        """``connectors``: the first identities each connect to ``out_peers`` honest nodes."""
        world = self.world
        assert world is not None
        honest = [n for n in world.nodes.values() if n.honest and n.online]
        k = min(world.scenario.p2p.limits(self.p.out_peers).out_peers, len(honest))
        for node in self.identities[:self.p.connectors]:
            for target in self.rng.sample(honest, k):
                world.p2p.connect(node, target)

    def _advertise(self, requester: Node) -> list[str]:
        assert self.world is not None
        limit = self.world.p2p.handshake_peers
        if len(self.addresses) <= limit:
            return list(self.addresses)
        return self.rng.sample(self.addresses, limit)

    # -- measuring ------------------------------------------------------------------
    def _shares(self) -> tuple[float, float, float]:
        assert self.world is not None
        sybils = self.sybils
        out = held_out = total = held = reached = honest = 0
        for node in self.world.nodes.values():
            if not node.honest or not node.online:
                continue
            honest += 1
            mine = 0
            for peer, link in node.links.items():
                is_sybil = peer in sybils
                mine += is_sybil
                if link.outgoing:
                    out += 1
                    held_out += is_sybil
            total += len(node.links)
            held += mine
            reached += mine > 0
        return (held_out / out if out else 0.0, held / total if total else 0.0,
                reached / honest if honest else 0.0)

    def _sample(self) -> None:
        world = self.world
        assert world is not None
        now = world.engine.now
        out_s, all_s, _ = self._shares()
        self.series_out.append([now, round(out_s, 4)])
        self.series_all.append([now, round(all_s, 4)])
        if now + self.p.sample_s <= world.duration:
            world.engine.schedule(self.p.sample_s, self._sample)

    def finish(self, world: World, result: Result) -> None:
        out_s, all_s, reach = self._shares()
        precision = recall = stem_first = None
        txs: int | None = None
        guessed: int | None = None
        tx_layer = getattr(world, "tx", None)
        if tx_layer is not None:
            honest = {n.name for n in world.nodes.values() if n.honest}
            txs = guessed = correct = stem = 0
            for tx in tx_layer.ledger.txs.values():
                if tx.origin not in honest or tx.created_at < self.p.start:
                    continue
                txs += 1
                seen = self.first.get(tx.id)
                if seen is None or seen.sender is None or seen.sender not in honest:
                    continue
                guessed += 1
                correct += seen.sender == tx.origin
                stem += seen.phase == "stem"
            precision = round(correct / guessed, 4) if guessed else None
            recall = round(correct / txs, 4) if txs else None
            stem_first = round(stem / guessed, 4) if guessed else None
        self.report(
            result,
            out_share=round(out_s, 4),
            precision=precision,
            recall=recall,
            relay=world.scenario.transactions.relay,
            all_share=round(all_s, 4),
            reach=round(reach, 4),
            txs=txs,
            guessed=guessed,
            stem_first=stem_first,
            attackers=[n.name for n in self.identities],
            spies=list(self.spy_names),
            series={"out_share": self.series_out, "all_share": self.series_all},
        )


SPEC: PluginSpec[SybilParams] = PluginSpec(
    "attack", "sybil", SybilParams, Sybil,
    "sybil identities join, take connection slots and spy on tx relay (first-spy estimator)",
    default_sweep=({"identities": 16},),
)
