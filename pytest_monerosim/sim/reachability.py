"""Reachability: nodes behind NAT and nodes run with ``--hide-my-port``.

monerod behaviour modelled (``src/p2p/net_node.inl``):

* **NAT** (``NodeGroup.reachable`` < 1): the node accepts no inbound
  connection (``in_limit`` 0). It still connects out, takes peer lists and
  gossips. A peer it connects to cannot ping it back, so no one puts it in a
  white list and its address never spreads.
* **Hidden** (``NodeGroup.hidden`` > 0): the handshake announces port 0, so
  the responder does not whitelist it either; it still accepts inbound
  connections from anyone who knows its address.

Which nodes of a group are behind NAT and which are hidden is drawn by the
layout (:mod:`pytest_monerosim.layout.conditions`); this module applies it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .network import World


def apply(world: World) -> dict[str, list[str]]:
    """Set NAT and hidden nodes; returns ``{"unreachable": [...], "hidden": [...]}``."""
    unreachable: list[str] = []
    hidden: list[str] = []
    for spec in world.layout.nodes.values():
        if not spec.reachable:
            world.nodes[spec.name].in_limit = 0
            unreachable.append(spec.name)
        if spec.hidden:
            world.nodes[spec.name].hidden = True
            hidden.append(spec.name)
    return {"unreachable": unreachable, "hidden": hidden}
