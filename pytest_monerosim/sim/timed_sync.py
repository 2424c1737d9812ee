"""Timed syncs' peer-list merges (``peer_sync_idle_maker`` → ``merge_peerlist``), the hot loop.

Every node, every minute, merges what each connection's peer added to its
white list (the peer's *journal*) since the last sync. :func:`merge_journals`
does it, and skips the work that cannot change anything (see its doc);
:func:`sync_filtered` is the plain loop used while link filters are active.
Split from :mod:`.p2p`, which owns the rest of the timed sync.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import TYPE_CHECKING

from .peers import Gossip, own_address_known

if TYPE_CHECKING:
    from .node import Node
    from .p2p import P2PNetwork


def merge_journals(p2p: P2PNetwork, node: Node, now: float) -> None:
    """Merge what each connection's peer added to its white list since the last sync.

    The hot loop of large runs: every connection, every minute, usually one
    new entry that the node already knows. (Merging never schedules an event,
    so doing all merges before the chain checks orders nothing differently.)

    A node that knows every address any journal has held merges nothing from
    a journal. If, besides, no peer's journal grew by more than
    ``handshake_peers`` since then (which would merge a freshly drawn advertised
    list, drawing from the peer's rng) and no node overrides its advertised
    list, the sync skips the connections: it only stamps the tick, from which
    each link's position in its peer's journal is recovered when needed
    (:func:`materialize`). Connections opened since the last sync do not change
    that but for incoming ones (``Node.new_incoming``), whose first sync reads
    the peer's journal from its start: those are looked at one by one (an
    outgoing one's position is its peer's journal length when it opened, later
    than the last sync, so its peer's journal grew even less since).
    Otherwise, a node that knows everything only moves the positions (and
    still merges the lists that draw).
    """
    book = node.book
    gossip = book.shared
    prev = node.tick_clock
    fresh = node.links_added != node.links_ticked
    node.links_ticked = node.links_added
    own = node.address
    full = not book.knows_all(own) or (own_heard_since(gossip, own, prev, fresh)
                                       and not own_address_known(book, own, now))
    new_incoming = node.new_incoming
    if new_incoming:
        node.new_incoming = []
    if not full and prev and not gossip.advertisers and gossip.max_burst <= prev:
        node.tick_clock = node.skip_clock = gossip.tick()
        if fresh and new_incoming:
            # The loop below, for the only links it could merge from (in links' order: a
            # link's place in ``links`` is its opening), with the positions left lazy.
            depth = p2p.handshake_peers
            links = node.links
            for peer, link in new_incoming:
                if links.get(peer) is link and peer.journal.end() - link.seen_journal > depth:
                    merge_answer(p2p, node, peer, now)
        return
    stamp = node.skip_clock
    node.tick_clock = gossip.tick()
    depth = p2p.handshake_peers
    if not full:
        # materialize() inlined, one link at a time: a link whose position is still that of
        # the last skipped sync (born before it) needs it only to tell whether its peer's
        # journal grew by more than ``depth`` since, which the journal's clock tells at once.
        node.skip_clock = 0
        for peer, link in node.links.items():
            advertise = peer._advertise
            if advertise is not None:
                if link.born < stamp:
                    link.seen_journal = peer.journal.base + bisect_right(peer.book.journal_clock, stamp)
                book.merge(advertise(node), own, now)
                continue
            journal = peer.journal
            if link.born < stamp:  # (stamp 0: no skipped sync, never)
                clock = peer.book.journal_clock
                n = len(clock)  # (a cut journal keeps more than depth entries)
                end = journal.base + n
                grew = end > depth and clock[n - depth - 1] > stamp
            else:
                end = journal.base + len(journal)
                grew = end - link.seen_journal > depth
            if grew:
                merge_answer(p2p, node, peer, now)
            link.seen_journal = end
        return
    if stamp:
        materialize(node)
    if gossip.advertisers:
        _merge_each(p2p, node, now)
        return
    # No advertiser anywhere: the loop below is _merge_each without the override check, with
    # the usual case (one new entry, already known) first. The links' new entries are merged
    # in one call (``batch``, in the links' order; flushed before an answer is merged): the
    # same pushes as link by link, as nothing leaves the lists between them (the sync trims
    # after all its links), and one call the compiled merge can take.
    gray = book.gray
    batch: list[int] = []
    for peer, link in node.links.items():
        journal = peer.journal
        base = journal.base
        end = base + len(journal)
        begin = link.seen_journal
        if end == begin + 1:
            link.seen_journal = end
            i = journal[begin - base]
            pos = gray.pos  # (read here: an answer merged below may have grown or widened it)
            if i < len(pos) and pos[i]:  # (in the white or the gray list: see .gray)
                continue
            batch.append(i)
        elif end != begin:
            link.seen_journal = end
            if end - begin <= depth:
                batch += journal[begin - base:]
            else:
                if batch:
                    book.gray_unknown_ids(batch, now)
                    batch = []
                merge_answer(p2p, node, peer, now)
    if batch:
        book.gray_unknown_ids(batch, now)


def merge_answer(p2p: P2PNetwork, node: Node, peer: Node, now: float) -> None:
    """``node.book.merge(p2p.advertised(peer, node), ...)``: merge the list ``peer`` hands out.

    Its list is drawn from ``peer``'s white list, every address of which was journaled, so a
    node that knows every journaled address and its own (:meth:`~.peers.PeerBook.knows_all`,
    :func:`~.peers.own_address_known`) learns nothing from it: then only ``peer``'s random
    draws are taken, not the list. A peer whose list is overridden (``advertise``) is always
    asked. (Reading the list would also refresh the peer's outgoing peers' last-seen times,
    :meth:`~.p2p.P2PNetwork.refresh_seen`; that is left out too: every reader of those times
    refreshes them first, and a refresh writes the same values whenever it runs, so one done
    earlier is overwritten before anything reads it.)
    """
    book = node.book
    own = node.address
    if peer._advertise is None and book.knows_all(own) and own_address_known(book, own, now):
        depth = p2p.handshake_peers
        peer.book.head_draws(peer.rng, depth)
        if len(book.gray) > book.gray_limit:
            book.trim_gray()
        return
    if peer._advertise is not None:
        book.merge(p2p.advertised(peer, node), own, now)
    else:
        book.merge_ids(p2p.advertised_ids(peer), now)


def own_heard_since(gossip: Gossip, own: str, prev: int, fresh: bool) -> bool:
    """Could this sync's merges carry the node's own address (which monerod does not filter,
    see :func:`~.peers.own_address_known`)? Yes if some journal took it since the last sync,
    or, with a connection new since then (whose peer's journal is merged from its start),
    if any journal ever held it."""
    stamp = gossip.last_journaled.get(own, 0)
    return stamp > prev or (fresh and stamp > 0)


def _merge_each(p2p: P2PNetwork, node: Node, now: float) -> None:
    """The merge of :func:`merge_journals` when some node overrides its advertised list."""
    book = node.book
    own = node.address
    depth = p2p.handshake_peers
    for peer, link in node.links.items():
        advertise = peer._advertise
        if advertise is not None:
            book.merge(advertise(node), own, now)
            continue
        journal = peer.journal
        base = journal.base
        end = base + len(journal)
        begin = link.seen_journal
        if end == begin:
            continue
        link.seen_journal = end
        if end - begin <= depth:
            book.gray_unknown_ids(journal[begin - base:], now)
        else:
            merge_answer(p2p, node, peer, now)


def materialize(node: Node) -> None:
    """After skipped syncs: each link's journal position as of the last skipped one."""
    stamp = node.skip_clock
    if not stamp:
        return
    node.skip_clock = 0
    for peer, link in node.links.items():
        if link.born < stamp:
            link.seen_journal = peer.journal.base + bisect_right(peer.book.journal_clock, stamp)


def sync_filtered(p2p: P2PNetwork, node: Node, now: float, dynamic: bool) -> None:
    """The timed sync while link filters are active (a partition): one peer at a time."""
    world = p2p.world
    relay = world.relay
    book = node.book
    own = node.address
    i = node.index
    tip_cum = node.tip_cum
    for peer, link in node.links.items():
        if not world.allowed(peer, node):
            continue
        if dynamic:
            if peer.advertise is None:
                journal = peer.journal
                base = journal.base
                end = base + len(journal)
                begin = link.seen_journal
                if end != begin:
                    link.seen_journal = end
                    if end - begin <= p2p.handshake_peers:
                        book.gray_unknown_ids(journal[begin - base:], now)
                    else:
                        merge_answer(p2p, node, peer, now)
            else:
                book.merge(peer.advertise(node), own, now)
        if peer.tip_cum > tip_cum and not peer.chain.tip.seen_by[i]:
            relay.sync_from(node, peer)
