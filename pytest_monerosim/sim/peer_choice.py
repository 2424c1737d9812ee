"""Which address a connection pass tries next: monerod's white and gray picks.

:func:`pick_white` and :func:`pick_gray` are the two draws of the connection
maker (:mod:`.p2p`, whose docstring describes monerod's passes), each on the
node's own stream (``node.rng``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .network import World
    from .node import Node
    from .p2p import P2PNetwork
    from .peers import PeerBook

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
    book = node.book
    white = book.white
    if not white.live:
        return None
    p2p.refresh_seen(node)
    subnets = link_subnets(node)
    filtered = None
    if book.indexed:
        filtered = _white_from_top(p2p, book, subnets)
    if filtered is None:
        entries = white.newest_first()  # (ties in the list's order)
        filtered, read = _white_candidates(p2p, entries, subnets, partial=False)
        assert filtered is not None
        if white.live > INDEX_MIN:
            book.index_white(white[entries[min(read + INDEX_MARGIN, len(entries)) - 1]])
    if not filtered:
        return None
    m = min(len(filtered) - 1, WHITE_PICK_DEPTH)
    if not m:
        return filtered[0]
    x = node.rng.randrange(16 * m + 1)
    return filtered[x * x * x // (m * m * 4096)]


INDEX_MIN = 256
"""A white list longer than this is read through its book's head-of-list index (``top``:
:meth:`~.peers.PeerBook.index_white`) rather than sorted whole for every draw: a draw
reads about 76 entries of the sorted list, and sorting a thousand for it costs more than
keeping the index as the list is written."""
INDEX_MARGIN = 16
"""Entries kept in the index's ``top`` beyond the ones the last draw read."""


def _white_from_top(p2p: P2PNetwork, book: PeerBook, subnets: dict[str, int]) -> list[str] | None:
    """The filtered head read from the index's ``top`` only (None if it is too short)."""
    if not book.indexed:
        return None
    top = book.top
    entries = top.prefix()
    filtered, read = _white_candidates(p2p, entries, subnets, partial=len(entries) < book.white.live)
    if filtered is not None and len(entries) > read + 2 * INDEX_MARGIN:  # raise the floor
        floor = top.members[entries[read + INDEX_MARGIN - 1]]
        book.index_white(floor, top.at_or_after(floor))
    return filtered


def _white_candidates(p2p: P2PNetwork, entries: list[str], subnets: dict[str, int],
                      partial: bool) -> tuple[list[str] | None, int]:
    """monerod's filtered head of the white list: up to ``WHITE_PICK_DEPTH`` addresses, newest
    first, one per host, leaving out the connections' /16s; and how many entries that read.

    monerod 0.18 means to allow a connected /16 when nothing else is left (a second filtering
    step in ``make_new_connection_from_peerlist``, src/p2p/net_node.inl), but that step never
    yields: its ``hosts_added`` set is not cleared between the steps, and the first step,
    having found nothing, visited and added every host (read at v0.18.0.0, Debian's build, and
    v0.18.3.4). So there is one step here.

    ``entries`` is the white list's addresses sorted by last-seen, newest first (a stable
    sort: ties in the list's order), or, with ``partial``, a prefix of that: every entry seen
    at or after some time. A prefix gives the whole list's answer unless the scan runs off
    its end (then None).
    """
    cache = p2p.world.addr_cache
    parts = p2p.world.addr_parts
    filtered: list[str] = []
    hosts: set[str] = set()
    i = 0
    for i, address in enumerate(entries):  # noqa: B007 (read after the loop)
        if len(filtered) >= WHITE_PICK_DEPTH:
            break
        host, subnet = cache.get(address) or parts(address)
        if subnet not in subnets and host not in hosts:
            filtered.append(address)
        hosts.add(host)
    else:
        i = len(entries)
        if partial and len(filtered) < WHITE_PICK_DEPTH:
            return None, i  # ran off the prefix: the entries below could change the answer
    return filtered, i


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
