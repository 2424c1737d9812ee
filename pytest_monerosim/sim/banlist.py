"""Ban lists: monerod's ``--ban-list`` (``src/p2p/net_node.inl``).

A node of a group with a ``ban_list`` blocks every listed host and subnet for
ever (``block_host`` / ``block_subnet`` with no expiry): it neither connects to
a banned address nor accepts a connection from one, and the gray-list
housekeeping drops banned addresses it probes, so they never reach its white
list or the peer lists it hands out. ``group:<name>`` entries stand for every
/24 that holds a node of that group (the published spy ban lists are /24s and
single hosts; see ``monero-project/meta`` issues #1124 and #1242).

Implemented as one link filter (:meth:`World.add_filter`), consulted before a
connection and before every delivery. A world with no ban list installs none,
so its runs stay byte-identical.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from ..layout.conditions import ban_networks

if TYPE_CHECKING:
    from .network import World
    from .node import Node

Net = ipaddress.IPv4Network


def networks(world: World, entries: list[str]) -> list[Net]:
    """The ban list's entries as networks (a host is a /32), ``group:`` over the world's hosts."""
    layout = world.layout

    def hosts(group: str) -> list[str]:
        return [world.nodes[s.name].host for s in layout.nodes.values() if s.group == group]

    return ban_networks(entries, hosts)


class BanLists:
    """Which node bans which host; the filter refuses a pair if either side bans the other."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.lists: dict[str, list[Net]] = {}
        self.banning: dict[Node, int] = {}
        """Node → index of its ban list in ``self.tables``."""
        self.tables: list[tuple[frozenset[str], tuple[Net, ...]]] = []
        for spec in world.layout.nodes.values():
            if not spec.ban_list:
                continue
            if spec.group not in self.lists:  # the group's one table (its nodes share the list)
                nets = networks(world, spec.ban_list)
                self.lists[spec.group] = nets
                hosts = frozenset(str(n.network_address) for n in nets if n.prefixlen == 32)
                self.tables.append((hosts, tuple(n for n in nets if n.prefixlen < 32)))
            self.banning[world.nodes[spec.name]] = len(self.tables) - 1
        self._cache: dict[tuple[int, str], bool] = {}
        self.refused = 0

    def bans(self, node: Node, host: str) -> bool:
        table = self.banning.get(node)
        if table is None:
            return False
        key = (table, host)
        hit = self._cache.get(key)
        if hit is None:
            hosts, nets = self.tables[table]
            hit = host in hosts
            if not hit and nets:
                ip = ipaddress.IPv4Address(host)
                hit = any(ip in n for n in nets)
            self._cache[key] = hit
        return hit

    def allowed(self, a: Node, b: Node) -> bool:
        if self.bans(a, b.host) or self.bans(b, a.host):
            self.refused += 1
            return False
        return True


def install(world: World) -> BanLists | None:
    if not any(spec.ban_list for spec in world.layout.nodes.values()):
        return None
    bans = BanLists(world)
    world.add_filter(bans.allowed)
    return bans
