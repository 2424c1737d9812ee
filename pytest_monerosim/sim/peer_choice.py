"""Which address a connection pass tries next: monerod's white and gray picks.

:func:`pick_white` and :func:`pick_gray` are the two draws of the connection
maker (:mod:`.p2p`, whose docstring describes monerod's passes), each on the
node's own stream (``node.rng``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .network import World
    from .node import Node
    from .p2p import P2PNetwork

WHITE_PICK_DEPTH = 20
"""A white pick considers the 20 most recently seen usable candidates."""
GRAY_DRAWS = 64
"""Random gray draws before falling back to a full scan of the list."""


def link_subnets(node: Node) -> dict[str, int]:
    """The /16s of ``node``'s connections (the keys; each with its number of connections)."""
    return node.link_subnets


def pick_white(p2p: P2PNetwork, node: Node) -> str | None:
    """One white draw: the 20 most recently seen (one per host, none in a connected /16),
    the newest favoured (``get_random_index_with_fixed_probability``)."""
    white = node.book.white
    if not white.live:
        return None
    p2p.refresh_seen(node)
    subnets = link_subnets(node)
    filtered = _white_candidates(p2p, white.newest_iter(FIRST_READ), subnets,
                                 partial=FIRST_READ < white.live)
    if filtered is None:
        filtered = _white_candidates(p2p, white.newest_iter(), subnets, partial=False)
        assert filtered is not None
    if not filtered:
        return None
    m = min(len(filtered) - 1, WHITE_PICK_DEPTH)
    if not m:
        return filtered[0]
    x = node.rng.randrange(16 * m + 1)
    return filtered[x * x * x // (m * m * 4096)]


FIRST_READ = 128
"""Entries of the white list a draw sorts first (numpy's partial sort, from the list's arrays);
it sorts the whole list only if these do not give its 20 candidates. A draw reads 38 entries
on average in the 1,000-node benchmark (at most 65 in 235,614 draws), and in the mainnet
twin's 1/40 copy 53 (the median; 126 at the 99th percentile): 64 would send 15% of the
twin's draws to the whole sort."""


def _white_candidates(p2p: P2PNetwork, entries: Iterable[str], subnets: dict[str, int],
                      partial: bool) -> list[str] | None:
    """monerod's filtered head of the white list: up to ``WHITE_PICK_DEPTH`` addresses, newest
    first, one per host, leaving out the connections' /16s.

    monerod 0.18 means to allow a connected /16 when nothing else is left (a second filtering
    step in ``make_new_connection_from_peerlist``, src/p2p/net_node.inl), but that step never
    yields: its ``hosts_added`` set is not cleared between the steps, and the first step,
    having found nothing, visited and added every host (read at v0.18.0.0, Debian's build, and
    v0.18.3.4). So there is one step here.

    ``entries`` is the white list's addresses sorted by last-seen, newest first (a stable
    sort: ties in the list's order), or, with ``partial``, the first of those. A prefix gives
    the whole list's answer unless the scan runs off its end (then None).
    """
    cache = p2p.world.addr_cache
    parts = p2p.world.addr_parts
    filtered: list[str] = []
    hosts: set[str] = set()
    for address in entries:
        if len(filtered) >= WHITE_PICK_DEPTH:
            return filtered
        host, subnet = cache.get(address) or parts(address)
        if subnet not in subnets and host not in hosts:
            filtered.append(address)
        hosts.add(host)
    if partial and len(filtered) < WHITE_PICK_DEPTH:
        return None  # ran off the prefix: the entries below could change the answer
    return filtered


def pick_gray(world: World, node: Node) -> str | None:
    """One gray draw: uniform over the list filtered to one per host, leaving out the
    connections' /16s (no fallback to them: see :func:`_white_candidates`)."""
    gray = node.book.gray
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
    # (one filtering step, as for the white list: monerod 0.18's second never yields)
    hosts: set[str] = set()
    candidates = []
    for address in gray:
        host, subnet = parts(address)
        if subnet in subnets or host in hosts:
            continue
        hosts.add(host)
        candidates.append(address)
    if candidates:
        return candidates[rng.randrange(len(candidates))]
    return None
