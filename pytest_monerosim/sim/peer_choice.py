"""Which address a connection pass tries next: monerod's white and gray picks.

:func:`pick_white` and :func:`pick_gray` are the two draws of the connection
maker (:mod:`.p2p`, whose docstring describes monerod's passes), each on the
node's own stream (``node.rng``).
"""

from __future__ import annotations

from operator import itemgetter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .network import World
    from .node import Node
    from .p2p import P2PNetwork

WHITE_PICK_DEPTH = 20
"""A white pick considers the 20 most recently seen usable candidates."""
GRAY_DRAWS = 64
"""Random gray draws before falling back to a full scan of the list."""


def link_subnets(node: Node) -> set[str]:
    """The /16s of ``node``'s connections, cached until a link opens or closes.

    ``(links_added, len(links))`` names the link set: only opening a link bumps
    ``links_added`` and only closing one shrinks the dict without it.
    """
    key = (node.links_added, len(node.links))
    if node.subnets_key != key:
        node.subnets_cache = {p.subnet for p in node.links}
        node.subnets_key = key
    return node.subnets_cache


def pick_white(p2p: P2PNetwork, node: Node) -> str | None:
    """One white draw: the 20 most recently seen (one per /16 and host while others
    exist), the newest favoured (``get_random_index_with_fixed_probability``)."""
    white = node.book.white
    if not white:
        return None
    p2p.refresh_seen(node)
    cache = p2p.world.addr_cache
    parts = p2p.world.addr_parts
    subnets = link_subnets(node)
    entries = sorted(white.items(), key=itemgetter(1), reverse=True)
    filtered: list[str] = []
    for skip_same_subnet in (True, False):
        hosts: set[str] = set()
        skipped = 0
        for address, _seen in entries:
            if len(filtered) >= WHITE_PICK_DEPTH:
                break
            host, subnet = cache.get(address) or parts(address)
            if (skip_same_subnet and subnet in subnets) or host in hosts:
                skipped += 1
            else:
                filtered.append(address)
            hosts.add(host)
        if filtered or not skipped:
            break
    if not filtered:
        return None
    m = min(len(filtered) - 1, WHITE_PICK_DEPTH)
    if not m:
        return filtered[0]
    x = node.rng.randrange(16 * m + 1)
    return filtered[x * x * x // (m * m * 4096)]


def pick_gray(world: World, node: Node) -> str | None:
    """One gray draw: uniform over the list filtered to one per /16 (while others
    exist) and one per host."""
    gray = node.book.gray_list
    if not gray:
        return None
    parts = world.addr_parts
    host_count = world.host_count
    subnets = link_subnets(node)
    rng = node.rng
    # Uniform over the filtered list by rejection: same distribution as
    # monerod's filter-then-pick, without scanning 5000 entries. A host
    # with k known addresses is accepted with probability 1/k, which is
    # monerod's "each host once".
    for _ in range(GRAY_DRAWS):
        address = gray[int(rng.random() * len(gray))]
        host, subnet = parts(address)
        if subnet in subnets:
            continue
        k = host_count.get(host, 1)
        if k > 1 and rng.random() * k >= 1.0:
            continue
        return address
    for skip_same_subnet in (True, False):
        hosts: set[str] = set()
        candidates = []
        for address in gray:
            host, subnet = parts(address)
            if (skip_same_subnet and subnet in subnets) or host in hosts:
                continue
            hosts.add(host)
            candidates.append(address)
        if candidates:
            return candidates[rng.randrange(len(candidates))]
    return None
