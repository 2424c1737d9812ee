"""What both sides of an agreement test share."""

from __future__ import annotations

from typing import Any


def debian_bootstrap(world: Any) -> None:
    """Give each simulated node the white-list entries the monerod backend gives its daemon.

    ``hosts.bootstrap_peers``: ``--add-peer`` of the node's seeds and of the node started
    before it (monerod puts command-line peers on the white list). Needed with
    ``p2p.ping_back: false`` (Debian's 0.18.0.0), where seeds hand out empty lists.
    """
    nodes = sorted(world.nodes.values(), key=lambda n: n.start_time)  # stable: plan order
    for i, node in enumerate(nodes):
        told = [s for s in world.p2p.seeds if s is not node] + ([nodes[i - 1]] if i else [])
        for peer in told:
            node.book.add_white(peer.address, 0.0)
