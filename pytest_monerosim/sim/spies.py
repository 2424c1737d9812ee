"""Spy nodes: a node role for transaction-origin surveillance.

A group with ``spy`` set is run as the spy nodes measured on mainnet behave
(``monero-project/research-lab`` #126, ``meta`` #1119): they listen on many
addresses packed into few subnets (``spy.subnets`` /16s, consecutive /24s
inside each), accept every inbound connection (``in_peers`` unlimited unless
the group sets it), make the outgoing connections the group asks for (the
measured ones make none: ``out_peers: 0``), relay nothing (``relay: none``:
transactions and blocks stop at them, a black hole for Dandelion++ stems) or
everything (``relay: all``), and record when and from whom each transaction
first reached any of them.

From those records the **first-spy estimator** (Fanti et al., "Dandelion++",
SIGMETRICS 2018) guesses each honest transaction's origin: the honest peer
that handed it to the earliest spy. Reported in ``result.extra["spies"]``:
``precision`` (correct / guessed), ``recall`` (correct / honest txs),
``txs``, ``guessed``, ``stem_first``; and, sampled every ``snapshot``
interval, ``out_share`` — the share of online honest nodes' outgoing
connections that go to spies (mean over samples, and the last one) — and
``exposed``, the share of honest nodes with at least one spy among their
outgoing peers; ``crawl_addresses`` / ``crawl_spy_share``: the distinct addresses
in online honest nodes' white lists (what a peer-list crawler collects) and the
spies' share of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..rng import derive_rng
from .peers import DEFAULT_PORT, host_of, subnet_of

if TYPE_CHECKING:
    from ..layout.model import NodeSpec
    from ..result.model import Result
    from .network import World
    from .node import Node

_RESERVED_FIRST_OCTETS = frozenset({0, 10, 100, 127, 169, 172, 192, 198})
SAMPLE_S = 600.0
"""Spacing of the outgoing-share samples (the default peer snapshot interval)."""


def _readdress(world: World, node: Node, address: str) -> None:
    # Before the first event only: a node's per-/16 connection counts (``link_subnets``) and its
    # peers' lists name the old address.
    assert not node.links and not node.online, f"{node.name} is readdressed after it started"
    old = node.address
    del world.by_address[old]
    world._known_addresses.discard(old)
    host = host_of(old)
    world.host_count[host] -= 1
    if not world.host_count[host]:
        del world.host_count[host]
    node.address = address
    node.host = host_of(address)
    node.subnet = subnet_of(address)
    world.by_address[address] = node
    world.register_address(address)


def _spy_groups(world: World) -> dict[str, list[NodeSpec]]:
    """Group → its spies' specs (in node order), groups in the scenario's order."""
    groups: dict[str, list[NodeSpec]] = {}
    for spec in world.layout.nodes.values():
        if spec.spy is not None:
            groups.setdefault(spec.group, []).append(spec)
    return groups


def place(world: World) -> None:
    """Move every spy group with ``spy.subnets`` into that many fresh /16s.

    Drawn here, not in the layout: the fresh /16s avoid the subnets of the addresses the
    simulator drew for the nodes (stream ``spies:<group>``).
    """
    used = {n.subnet for n in world.nodes.values()}
    for group, specs in _spy_groups(world).items():
        spy = specs[0].spy
        assert spy is not None
        if spy.subnets is None:
            continue
        rng = derive_rng(world.seed, f"spies:{group}")
        prefixes: list[str] = []
        while len(prefixes) < spy.subnets:
            first = rng.randint(1, 223)
            prefix = f"{first}.{rng.randint(0, 255)}"
            if first in _RESERVED_FIRST_OCTETS or prefix in used:
                continue
            used.add(prefix)
            prefixes.append(prefix)
        k = len(prefixes)
        for i, spec in enumerate(specs):
            j, slot = i % k, i // k
            third, fourth = divmod(slot, 254)
            if third > 255:
                raise ValueError(f"group {group!r}: {len(specs)} spies do not fit in "
                                 f"{k} /16 subnets; raise spy.subnets")
            _readdress(world, world.nodes[spec.name], f"{prefixes[j]}.{third}.{fourth + 1}:{DEFAULT_PORT}")


class Sighting:
    """The first time a transaction reached any spy: when, which spy, from whom, in which phase."""

    __slots__ = ("time", "spy", "sender", "phase")

    def __init__(self, time: float, spy: str, sender: str | None, phase: str) -> None:
        self.time = time
        self.spy = spy
        self.sender = sender
        self.phase = phase


def first_seen_watcher(first: dict[str, Sighting], spy: str) -> Any:
    """A ``tx.watch`` callback that keeps, per transaction, the earliest sighting by any spy."""

    def seen(tx_id: str, time: float, sender: str | None, phase: str) -> None:
        cur = first.get(tx_id)
        if cur is None or time < cur.time:
            first[tx_id] = Sighting(time, spy, sender, phase)

    return seen


class SpyNetwork:
    """A component: the spies' relay policy, their first-seen log and the metrics."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.spies: list[Node] = []
        self.relays: dict[Node, bool] = {}
        self.announcing: list[tuple[Node, int, float]] = []
        for specs in _spy_groups(world).values():
            for spec in specs:
                spy = spec.spy
                assert spy is not None
                node = world.nodes[spec.name]
                self.relays[node] = node.relaying = spy.relay == "all"
                self.spies.append(node)
                if spy.announce:
                    self.announcing.append((node, spy.announce, spy.announce_every_s))
        self.rng = derive_rng(world.seed, "spies:announce")
        self.announced = 0
        self.spy_set = set(self.spies)
        self.first: dict[str, Sighting] = {}
        self.samples: list[tuple[float, float, float]] = []

    def setup(self, world: World) -> None:
        tx = getattr(world, "tx", None)
        if tx is not None:
            for node in self.spies:
                tx.watch(node.name, first_seen_watcher(self.first, node.name))
        world.engine.schedule(SAMPLE_S, self._sample)
        for node in self.spies:
            # after the node's behaviour started (a standard_sync behaviour turns relaying on)
            world.engine.at(node.start_time, self._policy, node)
        if self.announcing:
            self.targets = [n for n in world.nodes.values() if n.honest and n not in self.spy_set]
            for spy, k, every in self.announcing:
                world.engine.at(spy.start_time + self.rng.random() * 60.0, self._announce, spy, k, every)

    def _policy(self, node: Node) -> None:
        set_relaying(self.world, node, self.relays[node])

    def _announce(self, spy: Node, k: int, every: float) -> None:
        """Short handshakes: each reachable target pings the spy back and whitelists it."""
        world = self.world
        if spy.online and spy.listed:
            now = world.engine.now
            targets = self.targets
            for i in self.rng.sample(range(len(targets)), min(k, len(targets))):
                target = targets[i]
                if not target.online or not target.accepts_incoming or target.static_peers is not None:
                    continue
                if world.filters and not world.allowed(spy, target):
                    continue  # a ban list refuses it
                world.p2p.whitelist(target, spy.address, now)
                self.announced += 1
        world.engine.schedule(every, self._announce, spy, k, every)

    def shares(self) -> tuple[float, float]:
        """(spies' share of honest outgoing connections, share of honest nodes with a spy out-peer)."""
        spies = self.spy_set
        out = to_spy = exposed = honest = 0
        for node in self.world.nodes.values():
            if not node.honest or node in spies or not node.online:
                continue
            honest += 1
            mine = 0
            for peer in node.out_links:
                out += 1
                mine += peer in spies
            to_spy += mine
            exposed += mine > 0
        return (to_spy / out if out else 0.0, exposed / honest if honest else 0.0)

    def crawl(self) -> dict[str, Any]:
        """What a peer-list crawler sees: distinct addresses in online honest nodes' white lists
        (a crawler collects the lists nodes hand out, drawn from their white lists), and the
        spies' share of them."""
        seen: set[str] = set()
        for node in self.world.nodes.values():
            if node.honest and node not in self.spy_set and node.online:
                seen.update(node.book.white)
        by_address = self.world.by_address
        spies = sum(1 for a in seen if by_address.get(a) in self.spy_set)
        return {"crawl_addresses": len(seen),
                "crawl_spy_share": round(spies / len(seen), 4) if seen else None}

    def _sample(self) -> None:
        world = self.world
        share, exposed = self.shares()
        self.samples.append((world.engine.now, share, exposed))
        if world.engine.now + SAMPLE_S <= world.duration:
            world.engine.schedule(SAMPLE_S, self._sample)

    def finish(self, world: World, result: Result) -> None:
        share, exposed = self.shares()
        info: dict[str, Any] = {
            "spies": len(self.spies),
            "subnets": len({n.subnet for n in self.spies}),
            "out_share": round(share, 4),
            "out_share_mean": round(sum(s for _, s, _ in self.samples) / len(self.samples), 4)
            if self.samples else round(share, 4),
            "exposed": round(exposed, 4),
            "announced": self.announced,
            **self.crawl(),
            "series": [[t, round(s, 4)] for t, s, _ in self.samples],
        }
        tx_layer = getattr(world, "tx", None)
        if tx_layer is not None:
            honest = {n.name for n in world.nodes.values() if n.honest and n not in self.spy_set}
            txs = guessed = correct = stem = 0
            for tx in tx_layer.ledger.txs.values():
                if tx.origin not in honest:
                    continue
                txs += 1
                seen = self.first.get(tx.id)
                if seen is None or seen.sender is None or seen.sender not in honest:
                    continue
                guessed += 1
                correct += seen.sender == tx.origin
                stem += seen.phase == "stem"
            info.update(txs=txs, guessed=guessed,
                        precision=round(correct / guessed, 4) if guessed else None,
                        recall=round(correct / txs, 4) if txs else None,
                        stem_first=round(stem / guessed, 4) if guessed else None)
        result.extra["spies"] = info


def set_relaying(world: World, node: Node, relay: bool) -> None:
    """Turn ``node``'s relaying of blocks and transactions on or off (spies, passive sybils).

    Call it at or after the node's start: its behaviour turns relaying on when it starts.
    """
    node.relaying = relay
    tx = getattr(world, "tx", None)
    if tx is not None:
        tx.relay.set_relaying(node)
