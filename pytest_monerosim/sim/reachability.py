"""Reachability: nodes behind NAT and nodes run with ``--hide-my-port``.

monerod behaviour modelled (``src/p2p/net_node.inl``):

* **NAT** (``NodeGroup.reachable`` < 1): the node accepts no inbound
  connection (``in_limit`` 0). It still connects out, takes peer lists and
  gossips. A peer it connects to cannot ping it back, so no one puts it in a
  white list and its address never spreads.
* **Hidden** (``NodeGroup.hidden`` > 0): the handshake announces port 0, so
  the responder does not whitelist it either; it still accepts inbound
  connections from anyone who knows its address.

Which nodes of a group are behind NAT and which are hidden is drawn from the
seed (stream ``reachability:<group>``); hidden ones come after the NAT ones in
the same shuffled order, as the existing Monerosim draws them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..rng import derive_rng

if TYPE_CHECKING:
    from .network import World
    from .node import Node


def apply(world: World) -> dict[str, list[str]]:
    """Set NAT and hidden nodes; returns ``{"unreachable": [...], "hidden": [...]}``."""
    unreachable: list[str] = []
    hidden: list[str] = []
    for group in world.scenario.nodes:
        if group.reachable >= 1 and group.hidden <= 0:
            continue
        nodes: list[Node] = [world.nodes[n] for n in group.node_names()]
        order = list(nodes)
        derive_rng(world.seed, f"reachability:{group.group}").shuffle(order)
        n_nat = group.count - round(group.reachable * group.count)
        n_hidden = round(group.hidden * group.count)
        for node in order[:n_nat]:
            node.in_limit = 0
            unreachable.append(node.name)
        for node in order[n_nat:n_nat + n_hidden]:
            node.hidden = True
            hidden.append(node.name)
    return {"unreachable": unreachable, "hidden": hidden}
