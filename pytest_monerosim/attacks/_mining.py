"""Helpers shared by the mining attacks (selfish mining, double spend).

Both attacks add one attacker node to the world: a miner whose hashrate is a
given *share* of the whole network's, linked directly to every other node (a
well-connected mining pool). The helpers here size its hashrate, check the
shared parameters before a run and keep its links open.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..config.model import Scenario
    from ..sim.network import World
    from ..sim.node import Node

LatencyFn = Callable[["Node", "Node"], "tuple[float, float] | None"]
"""``f(attacker, peer) -> (attacker→peer, peer→attacker)`` one-way latencies, or None for
the world's own latency model."""


def scenario_hashrate(scenario: Scenario) -> float:
    """Total relative hashrate of the scenario's miners (everyone but the attacker)."""
    return sum(g.hashrate * g.count for g in scenario.nodes if g.role == "miner")


def attacker_hashrate(share: float, others: float) -> float:
    """Hashrate that makes up ``share`` of the network when the others mine ``others``.

    ``h / (h + others) = share``  ⇔  ``h = share / (1 − share) · others``.
    """
    return share / (1.0 - share) * others


def check_share(field: str, value: float, *, upper: float = 1.0, closed: bool = False) -> None:
    """``ValueError`` unless ``0 < value < upper`` (``<= upper`` when ``closed``)."""
    ok = 0.0 < value <= upper if closed else 0.0 < value < upper
    if not ok or math.isnan(value):
        bound = f"{upper:g}]" if closed else f"{upper:g})"
        raise ValueError(
            f"{field}={value!r}: the attacker's share of the network hashrate must be in "
            f"(0, {bound}; it is the fraction of all blocks the attacker finds"
        )


def check_attacker(scenario: Scenario, field: str, name: str) -> None:
    """The attacker's node name must be new; the network must have miners to compete with."""
    if name in set(scenario.node_names()) or name in {g.group for g in scenario.nodes}:
        raise ValueError(f"{field}={name!r} is already a node or group of the scenario; the attack "
                         "adds its own node: choose another name")
    if scenario_hashrate(scenario) <= 0:
        raise ValueError("the scenario has no miners (role: miner); a mining attack needs an honest "
                         "network to compete with")


def add_attacker(world: World, name: str, share: float) -> Node:
    """Add the attacker's node (dishonest, no outgoing slots of its own) and start it mining.

    Its hashrate makes up ``share`` of the network's, the scenario's miners being the rest.
    """
    hashrate = attacker_hashrate(share, scenario_hashrate(world.scenario))
    node = world.add_node(name, group=name, role="attacker", honest=False, hashrate=hashrate,
                          out_peers=0, anchors=0)
    node.set_hashrate(hashrate)
    return node


class LinkEveryone:
    """Keeps ``attacker`` linked to every other online node (a component).

    ``latency(attacker, peer)`` may give the two one-way latencies of a link
    (each end of a link carries the latency of what it sends); None keeps the
    world's latency model.
    """

    def __init__(self, attacker: Node, latency: LatencyFn | None = None) -> None:
        self.attacker = attacker
        self.latency = latency

    def on_node_started(self, node: Node) -> None:
        a = self.attacker
        if node is a:
            for peer in list(a.world.nodes.values()):
                if peer is not a and peer.online:
                    self.link(peer)
        elif a.online:
            self.link(node)

    def link(self, peer: Node) -> None:
        a = self.attacker
        lat = self.latency(a, peer) if self.latency is not None else None
        if not a.world.p2p.connect(a, peer, None if lat is None else lat[0]):
            return
        if lat is not None:
            a.links[peer].latency = lat[0]
            peer.links[a].latency = lat[1]
