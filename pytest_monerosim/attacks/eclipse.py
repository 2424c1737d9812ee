"""Eclipse attack (Heilman et al., USENIX Security 2015), adapted to monerod's peer lists.

The attacker controls ``attackers`` reachable IPv4 addresses spread over
``subnets`` /16s. Everything it does goes through the simulator's P2P
mechanisms (:mod:`pytest_monerosim.sim.p2p`):

1. **Poison the peer lists.** From ``start`` each attacker address opens an
   incoming connection to the victim. The victim pings it back and puts it in
   its white list with a fresh last-seen time; every handshake and timed sync
   the victim then merges the attacker's advertised list, which holds attacker
   addresses only (plus ``fake_addresses`` unreachable ones, Heilman's
   "trash"). The victim's timed sync reaches every connection once a period,
   so the attacker sees when it happens; a few seconds after each one, every
   attacker address closes its connection and handshakes again. Attacker
   entries are thus always newer than the victim's outgoing peers, whose
   last-seen time is that of the last timed sync (monerod's white picks favour
   the newest).
2. **Take the incoming slots.** Connected attacker addresses occupy the
   victim's incoming slots (``victim_in_peers`` caps them).
3. **Wait for (or force) a restart.** At ``restart_at`` the victim restarts
   (``node.restart``): every connection drops, peer lists and anchors
   survive. Back online, with ``anchors`` > 0 monerod reconnects ONE anchor
   first (the oldest that answers: the anchor list is emptied when taken),
   then fills its outgoing slots from the white list (newest first) and the
   gray list, at most one peer per /16 while other candidates exist.
   The attacker holds back its incoming connections for ``hold_s`` so that its
   addresses stay free for the victim's outgoing picks.

What the attacker does with the victim's view of the chain: with
``relay_blocks`` the attacker runs one ordinary node on the honest network
(``<name>-feed``) and relays its blocks to the victim; otherwise attacker
nodes never relay (the victim is starved). With ``hashrate`` > 0 the first
attacker address starts mining its own chain once a victim is fully eclipsed;
only the eclipsed victim hears of it.

Nothing is declared: the metrics are read off the victim's connections and
chain as the run goes.

Metrics (``result.attacks["eclipse"]``, averaged over victims when a group is
attacked): ``out_fraction`` / ``all_fraction`` (share of the victim's outgoing /
all connections held by the attacker at the end), ``eclipsed`` (every outgoing
slot held by the attacker at some point after ``start``), ``time_to_eclipse_s``
(from the restart, or from ``start`` without one; ``None`` if never),
``peak_out_fraction`` (the highest sampled share of the victim's outgoing slots
since the restart, or ``start``: what the attacker took, where ``out_fraction``
is what it kept), ``eclipse_held_s`` (how long the full eclipse lasted, to
within ``sample_s``; ``None`` if never: monerod's sync search, see
:mod:`pytest_monerosim.sim.p2p`, makes the victim redraw an outgoing peer every
101 s, so an eclipse lasts only while those draws keep landing on the attacker),
``height_lag`` (honest height minus the victim's at the end), ``victim_chain``
(``"honest"``, ``"stalled"``: two or more blocks behind, or ``"attacker"``:
on a chain with attacker-mined blocks the honest network does not have),
``honest_out`` (honest outgoing connections at the end), ``isolated_at_end``
(the victim is online and every connection it has, in or out, is the
attacker's: Heilman et al.'s monopolised victim, even with slots still free);
series ``out_fraction``, ``all_fraction``, ``honest_out``, ``height_lag``;
per victim under ``victims``; node lists ``victim`` and ``attackers``.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from pydantic import Field, model_validator

from ..config.model import Seconds
from ..registry import PluginSpec
from .base import Attack, AttackParams, require_node

if TYPE_CHECKING:
    from ..config.model import Scenario
    from ..result.model import Result
    from ..sim.chain import Block
    from ..sim.network import World
    from ..sim.node import Node

STALLED_LAG = 2
"""A victim two or more blocks behind the honest network at the end has stalled
(one block may legitimately be in flight)."""
RESERVED_FIRST_OCTETS = frozenset({0, 10, 100, 127, 169, 172, 192, 198})


# -- helpers shared with the sybil attack ----------------------------------------------
def subnet_addresses(rng: random.Random, count: int, subnets: int, taken: Iterable[str],
                     port: int = 18080) -> list[str]:
    """``count`` distinct-host addresses spread round-robin over ``subnets`` fresh /16s.

    The /16s avoid every subnet in ``taken`` (addresses or ``"a.b"`` prefixes),
    so the attacker's diversity is exactly ``subnets``.
    """
    if not 1 <= subnets <= count:
        raise ValueError(f"subnets={subnets} must be between 1 and the address count {count}")
    used = {".".join(a.split(".")[:2]) for a in taken}
    prefixes: list[str] = []
    while len(prefixes) < subnets:
        first = rng.randint(1, 223)
        if first in RESERVED_FIRST_OCTETS:
            continue
        prefix = f"{first}.{rng.randint(0, 255)}"
        if prefix not in used:
            used.add(prefix)
            prefixes.append(prefix)
    hosts: dict[str, set[str]] = {p: set() for p in prefixes}
    out: list[str] = []
    for i in range(count):
        prefix = prefixes[i % subnets]
        while True:
            host = f"{prefix}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
            if host not in hosts[prefix]:
                hosts[prefix].add(host)
                break
        out.append(f"{host}:{port}")
    return out


def resolve_nodes(world: World, name: str) -> list[Node]:
    """The node called ``name``, or every node of group ``name``."""
    if name in world.nodes:
        return [world.nodes[name]]
    return [n for n in world.nodes.values() if n.group == name]


def default_victim(scenario: Scenario) -> str | None:
    """First honest non-seed relay/user node, else first honest non-miner, else None."""
    for roles in (("relay", "user"), ("relay", "user", "observer")):
        for group in scenario.nodes:
            if group.honest and not group.seed_node and group.role in roles:
                return group.node_names()[0]
    return None


def require_dynamic(scenario: Scenario, attack: str) -> None:
    topology = scenario.network.topology.name
    if topology != "monero":
        raise ValueError(
            f"attack {attack!r} works on peer lists, which only the dynamic topology keeps; "
            f"network.topology={topology!r}; accepted: 'monero'"
        )


def heights_lag(world: World, victims: Iterable[Node], exclude: set[Node]) -> tuple[int, int]:
    """(honest network height, lowest victim height)."""
    honest = [n.chain.tip.height for n in world.nodes.values() if n.honest and n not in exclude]
    top = max(honest) if honest else 0
    return top, min(v.chain.tip.height for v in victims)


# -- the attack ---------------------------------------------------------------------------
class EclipseParams(AttackParams):
    victim: str | None = None
    """Node or group attacked (a group: each of its nodes); default: the first honest relay."""
    attackers: int = Field(default=32, ge=1)
    """Reachable attacker IP addresses (each a node; one connection per IP at the victim)."""
    connectors: int | None = Field(default=None, ge=0)
    """How many attacker addresses connect in to the victim (the fresh white-list entries
    and the incoming slots); the others are only advertised and reach its gray list.
    None: all of them. On a small network, honest gray entries drain away (the victim's
    gray housekeeping promotes one a minute) and all-connect wins; on a large one
    handshakes keep bringing honest gray entries, and the attacker needs many
    advertised-only addresses to win the gray picks (``benchmarks/bench_attacks.py``)."""
    subnets: int | None = Field(default=None, ge=1)
    """/16 subnets the attacker addresses span (monerod takes one outgoing peer per /16
    while it has other candidates); default: one per address."""
    victim_anchors: int | None = Field(default=None, ge=0)
    """Anchor connections the victim restores after a restart (None: the scenario's)."""
    victim_out_peers: int | None = Field(default=None, ge=0)
    victim_in_peers: int | None = Field(default=None, ge=0)
    start: Seconds = 600.0
    """When the attacker addresses come online and start poisoning."""
    restart_at: Seconds | None = 3600.0
    """When the victim restarts (waited for or forced); None: no restart."""
    restart_downtime: Seconds = 60.0
    rehandshake_delay_s: Seconds = Field(default=5.0, gt=0)
    """Attacker addresses re-handshake at random within this delay after each timed sync of
    the victim (keeping their white-list entries newer than its outgoing peers')."""
    hold_s: Seconds = 30.0
    """After the victim comes back, attacker addresses wait this long before connecting in."""
    relay_blocks: bool = False
    """Feed the victim the honest chain (through an attacker node on the honest network)."""
    hashrate: float = Field(default=0.0, ge=0)
    """Relative hashrate of a private attacker chain shown only to the victim."""
    fake_addresses: int = Field(default=0, ge=0)
    """Unreachable addresses (in the attacker's /16s) advertised alongside the real ones."""
    sample_s: Seconds = Field(default=60.0, gt=0)
    """Interval of the metric series."""

    @model_validator(mode="after")
    def _consistent(self) -> EclipseParams:
        if self.subnets is not None and self.subnets > self.attackers:
            raise ValueError(f"subnets={self.subnets} exceeds attackers={self.attackers}; "
                             "each /16 needs at least one attacker address")
        if self.restart_at is not None and self.restart_at < self.start:
            raise ValueError(f"restart_at={self.restart_at:g} is before start={self.start:g}; "
                             "the attacker must be poisoning before the victim restarts")
        return self


class _VictimState:
    __slots__ = ("node", "back_at", "eclipsed_at", "series_out", "series_all", "series_honest",
                 "series_lag")

    def __init__(self, node: Node) -> None:
        self.node = node
        self.back_at = 0.0
        self.eclipsed_at: float | None = None
        self.series_out: list[list[float]] = []
        self.series_all: list[list[float]] = []
        self.series_honest: list[list[float]] = []
        self.series_lag: list[list[float]] = []


class Eclipse(Attack):
    name = "eclipse"
    Params = EclipseParams

    def __init__(self, params: EclipseParams) -> None:
        super().__init__(params)
        self.p = params
        self.world: World | None = None
        self.victims: dict[Node, _VictimState] = {}
        self.identities: list[Node] = []
        self.identity_set: set[Node] = set()
        self.attacker_nodes: set[Node] = set()
        self.feed: Node | None = None
        self.advertised: list[str] = []
        self.rng = random.Random(0)
        self.restarted_at: float | None = None

    # -- validation -------------------------------------------------------------------
    @classmethod
    def check(cls, params: Any, scenario: Scenario) -> None:
        p: EclipseParams = params
        require_dynamic(scenario, cls.name)
        duration = scenario.general.duration
        if p.victim is None:
            if default_victim(scenario) is None:
                raise ValueError("victim: the scenario has no honest relay/user node to attack; "
                                 "name a node or group with victim=...")
        else:
            require_node(scenario, "victim", p.victim)
            victims = set(_scenario_nodes(scenario, p.victim))
            honest = {n for g in scenario.nodes if g.honest for n in g.node_names()}
            if not honest - victims:
                raise ValueError(f"victim={p.victim!r} covers every honest node; an eclipse needs "
                                 "an honest network to cut the victim off from")
        if p.victim_anchors is not None:
            groups = scenario.group_of()
            for name in _scenario_nodes(scenario, p.victim or default_victim(scenario) or ""):
                group = groups[name]
                limit = p.victim_out_peers
                if limit is None:
                    limit = scenario.p2p.limits(group.out_peers).out_peers
                if p.victim_anchors > limit:
                    raise ValueError(
                        f"victim_anchors={p.victim_anchors} exceeds the out-peer limit of victim "
                        f"{name!r} ({limit}): anchors are outgoing connections; accepted: 0..{limit} "
                        "(or raise victim_out_peers)")
        if p.start >= duration:
            raise ValueError(f"start={p.start:g} s is not before the end of the run "
                             f"(duration {duration:g} s)")
        if p.restart_at is not None and p.restart_at + p.restart_downtime >= duration:
            raise ValueError(f"restart_at={p.restart_at:g} s + restart_downtime="
                             f"{p.restart_downtime:g} s is not before the end of the run "
                             f"(duration {duration:g} s); accepted: a restart the run outlives")

    # -- setup ----------------------------------------------------------------------
    def setup(self, world: World) -> None:
        p = self.p
        self.world = world
        self.rng = world.rng(f"attack:{self.name}")
        victim_name = p.victim or default_victim(world.scenario)
        assert victim_name is not None  # check() guarantees it
        for node in resolve_nodes(world, victim_name):
            if p.victim_anchors is not None:
                node.anchor_limit = p.victim_anchors
            if p.victim_out_peers is not None:
                node.out_limit = p.victim_out_peers
            if p.victim_in_peers is not None:
                node.in_limit = p.victim_in_peers
            self.victims[node] = _VictimState(node)

        taken = [n.address for n in world.nodes.values()]
        subnets = p.subnets or p.attackers
        addresses = subnet_addresses(self.rng, p.attackers + p.fake_addresses,
                                     min(subnets, p.attackers + p.fake_addresses), taken)
        real, fakes = addresses[:p.attackers], addresses[p.attackers:]
        for address in fakes:
            world.register_address(address)
        self.advertised = real + fakes
        group = f"{self.name}-attacker"
        for i, address in enumerate(real):
            node = world.add_node(f"{self.name}-{i}", group=group, role="attacker",
                                  address=address, out_peers=0, start_at=p.start)
            node.advertise = self._advertise
            node.relaying = p.relay_blocks
            self.identities.append(node)
        self.identity_set = set(self.identities)
        self.attacker_nodes = set(self.identities)
        if p.relay_blocks:
            self.feed = world.add_node(f"{self.name}-feed", group=group, role="attacker",
                                       start_at=0.0)
            self.attacker_nodes.add(self.feed)
        world.add_filter(self._allowed)
        world.engine.at(p.start, self._begin)
        if p.restart_at is not None:
            for victim in self.victims:
                victim.restart(at=p.restart_at, downtime=p.restart_downtime)
            self.restarted_at = p.restart_at
        world.engine.at(p.start, self._sample)

    def _allowed(self, a: Node, b: Node) -> bool:
        """Attacker addresses talk to the victims and the attacker's own nodes only; the
        feed (an ordinary node on the honest network) never talks to a victim."""
        feed = self.feed
        if feed is not None and (a is feed or b is feed):
            return (b if a is feed else a) not in self.victims
        ids = self.identity_set
        if a in ids:
            return b in self.victims or b in ids
        if b in ids:
            return a in self.victims
        return True

    def _advertise(self, requester: Node) -> list[str]:
        assert self.world is not None
        limit = self.world.p2p.handshake_peers
        if len(self.advertised) <= limit:
            return list(self.advertised)
        return self.rng.sample(self.advertised, limit)

    # -- the attacker's moves ------------------------------------------------------
    def _begin(self) -> None:
        world = self.world
        assert world is not None
        engine = world.engine
        connectors = self.p.connectors
        for i, identity in enumerate(self.identities):
            if self.feed is not None:
                engine.schedule(1.0, self._link_feed, identity)
            if connectors is not None and i >= connectors:
                continue  # advertised only: reaches the victim's gray list
            for victim in self.victims:
                offset = self.rng.uniform(0.2, self.p.rehandshake_delay_s)
                engine.schedule(offset, self._cycle, identity, victim, offset)

    def _link_feed(self, identity: Node) -> None:
        world = self.world
        assert world is not None and self.feed is not None
        if identity.online and self.feed.online and self.feed not in identity.links:
            world.p2p.connect(identity, self.feed)
        if self.feed not in identity.links:
            world.engine.schedule(world.p2p.period, self._link_feed, identity)

    def _cycle(self, identity: Node, victim: Node, offset: float) -> None:
        """One attacker move on one victim: (re)handshake unless holding back."""
        world = self.world
        assert world is not None
        engine = world.engine
        period = world.p2p.period
        now = engine.now
        nxt = now + period
        if victim.online and victim.last_tick > 0:
            # Just after the victim's next timed sync (its ticks are one period apart).
            nxt = victim.last_tick + offset
            while nxt <= now + 1e-9:
                nxt += period
        engine.at(nxt, self._cycle, identity, victim, offset)
        if not (identity.online and victim.online):
            return
        if engine.now < self.victims[victim].back_at + self.p.hold_s:
            return
        link = identity.links.get(victim)
        if link is not None:
            if not link.outgoing:
                return  # the victim connected out to us: keep it
            world.p2p.disconnect(identity, victim)
        latency = world.latency(identity, victim)
        engine.schedule(2 * latency, self._handshake, identity, victim, victim.gen, latency)

    def _handshake(self, identity: Node, victim: Node, gen: int, latency: float) -> None:
        world = self.world
        assert world is not None
        if victim.gen != gen or identity in victim.links:
            return
        # The victim's own admission rules (incoming slots, one connection per IP, filters).
        if world.p2p._accepts(identity, victim):
            world.p2p.connect(identity, victim, latency)

    # -- measuring ------------------------------------------------------------------
    def on_node_started(self, node: Node) -> None:
        state = self.victims.get(node)
        if state is not None and self.world is not None:
            state.back_at = self.world.engine.now

    def on_connect(self, node: Node, peer: Node, outgoing: bool) -> None:
        state = self.victims.get(node)
        if state is None or not outgoing or state.eclipsed_at is not None:
            return
        if node.out_count >= node.out_limit > 0 and self._attacker_out(node) == node.out_count:
            assert self.world is not None
            state.eclipsed_at = self.world.engine.now
            miner = self.identities[0] if self.identities else None
            if self.p.hashrate > 0 and miner is not None and not miner.mining:
                miner.set_hashrate(self.p.hashrate)  # feed the eclipsed victim a chain of our own

    def _attacker_out(self, node: Node) -> int:
        attackers = self.attacker_nodes
        return sum(1 for p, link in node.links.items() if link.outgoing and p in attackers)

    def _fractions(self, node: Node) -> tuple[float, float, int]:
        attackers = self.attacker_nodes
        out = held_out = held_all = 0
        for peer, link in node.links.items():
            mine = peer in attackers
            held_all += mine
            if link.outgoing:
                out += 1
                held_out += mine
        total = len(node.links)
        return (held_out / out if out else 0.0, held_all / total if total else 0.0,
                out - held_out)

    def _sample(self) -> None:
        world = self.world
        assert world is not None
        now = world.engine.now
        top, _ = heights_lag(world, self.victims, self.attacker_nodes | set(self.victims))
        for victim, state in self.victims.items():
            if victim.online:
                out_f, all_f, honest = self._fractions(victim)
                state.series_out.append([now, round(out_f, 4)])
                state.series_all.append([now, round(all_f, 4)])
                state.series_honest.append([now, honest])
            state.series_lag.append([now, top - victim.chain.tip.height])
        if now + self.p.sample_s <= world.duration:
            world.engine.schedule(self.p.sample_s, self._sample)

    def finish(self, world: World, result: Result) -> None:
        p = self.p
        exclude = self.attacker_nodes | set(self.victims)
        top, _ = heights_lag(world, self.victims, exclude)
        honest_chain = _honest_chain(world, exclude)
        origin = self.restarted_at if self.restarted_at is not None else p.start
        per: dict[str, dict[str, Any]] = {}
        now = world.engine.now
        for victim, state in self.victims.items():
            out_f, all_f, honest = self._fractions(victim)
            lag = top - victim.chain.tip.height
            series_out = state.series_out + [[now, round(out_f, 4)]]
            per[victim.name] = {
                "out_fraction": round(out_f, 4),
                "peak_out_fraction": peak_share(series_out, origin),
                "eclipse_held_s": eclipse_held_s(series_out, state.eclipsed_at, now),
                "all_fraction": round(all_f, 4),
                "eclipsed": state.eclipsed_at is not None,
                "eclipsed_at": state.eclipsed_at,
                "time_to_eclipse_s": (None if state.eclipsed_at is None
                                      else round(max(0.0, state.eclipsed_at - origin), 3)),
                "height_lag": lag,
                "victim_chain": self._chain_kind(victim, honest_chain, lag),
                "honest_out": honest,
                "isolated_at_end": (victim.online and bool(victim.links)
                                    and all(p in self.attacker_nodes for p in victim.links)),
                "series": {"out_fraction": state.series_out, "all_fraction": state.series_all,
                           "honest_out": state.series_honest, "height_lag": state.series_lag},
            }
        rows = list(per.values())
        n = len(rows)
        times = [r["time_to_eclipse_s"] for r in rows]
        chains = [r["victim_chain"] for r in rows]
        held = [r["eclipse_held_s"] for r in rows]
        self.report(
            result,
            out_fraction=round(sum(r["out_fraction"] for r in rows) / n, 4),
            peak_out_fraction=round(sum(r["peak_out_fraction"] for r in rows) / n, 4),
            eclipse_held_s=None if None in held else min(h for h in held if h is not None),
            eclipsed=all(r["eclipsed"] for r in rows),
            time_to_eclipse_s=None if None in times else max(t for t in times if t is not None),
            height_lag=max(r["height_lag"] for r in rows),
            victim_chain=_worst(chains),
            all_fraction=round(sum(r["all_fraction"] for r in rows) / n, 4),
            honest_out=min(r["honest_out"] for r in rows),
            isolated_at_end=all(r["isolated_at_end"] for r in rows),
            eclipsed_victims=sum(r["eclipsed"] for r in rows),
            restart_at=self.restarted_at,
            victim=[v.name for v in self.victims],
            attackers=[a.name for a in self.identities]
            + ([self.feed.name] if self.feed is not None else []),
            series=_mean_series(rows) if n > 1 else rows[0]["series"],
            victims={k: {kk: vv for kk, vv in v.items() if kk != "series"}
                     for k, v in per.items()} if n > 1 else {},
        )

    def _chain_kind(self, victim: Node, honest_chain: set[Block], lag: int) -> str:
        names = {a.name for a in self.attacker_nodes}
        b: Block | None = victim.chain.tip
        while b is not None and b not in honest_chain:
            if b.miner in names:
                return "attacker"
            b = b.parent
        return "stalled" if lag >= STALLED_LAG else "honest"


def peak_share(series: list[list[float]], origin: float) -> float:
    """The highest sampled attacker share at or after ``origin`` (the restart, or the start)."""
    return max((f for t, f in series if t >= origin), default=0.0)


def eclipse_held_s(series: list[list[float]], eclipsed_at: float | None, end: float) -> float | None:
    """How long the full eclipse held from ``eclipsed_at``: to the first later sample with a
    share below 1 (so to within one sample interval), or to ``end``; None if never eclipsed."""
    if eclipsed_at is None:
        return None
    for t, f in series:
        if t > eclipsed_at and f < 1.0:
            return round(t - eclipsed_at, 3)
    return round(end - eclipsed_at, 3)


def _scenario_nodes(scenario: Scenario, name: str) -> list[str]:
    if name in scenario.node_names():
        return [name]
    return [n for g in scenario.nodes if g.group == name for n in g.node_names()]


def _honest_chain(world: World, exclude: set[Node]) -> set[Block]:
    """Blocks of the heaviest chain among honest nodes outside ``exclude``."""
    tips = [n.chain.tip for n in world.nodes.values() if n.honest and n not in exclude]
    if not tips:
        return set()
    best = max(tips, key=lambda b: (b.cum, -b.seq))
    return set(best.chain())


def _worst(kinds: list[str]) -> str:
    for kind in ("attacker", "stalled"):
        if kind in kinds:
            return kind
    return "honest"


def _mean_series(rows: list[dict[str, Any]]) -> dict[str, list[list[float]]]:
    out: dict[str, list[list[float]]] = {}
    for key in ("out_fraction", "all_fraction", "honest_out", "height_lag"):
        acc: dict[float, list[float]] = {}
        for r in rows:
            for t, v in r["series"][key]:
                acc.setdefault(t, []).append(v)
        out[key] = [[t, round(sum(vs) / len(vs), 4)] for t, vs in sorted(acc.items())]
    return out


SPEC: PluginSpec[EclipseParams] = PluginSpec(
    "attack", "eclipse", EclipseParams, Eclipse,
    "Heilman et al. eclipse: poison the victim's peer lists, take its slots, wait for a restart",
    default_sweep=({"victim_anchors": 2}, {"victim_anchors": 0}),
)
