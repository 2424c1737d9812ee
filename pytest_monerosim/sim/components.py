"""Components: how the wallet/transaction layer and attacks plug into a run.

A component is any object; the world calls whichever of these methods it
defines (all optional), so a component implements only what it needs and the
event loop never changes when one is added:

``setup(world)``
    Once, before the first event (schedule your own events here).
``on_node_started(node)``
    A node came online (at its start time, and again after each restart).
``on_connect(node, peer, outgoing)`` / ``on_disconnect(node, peer)``
    A connection opened / closed (called once per end).
``on_block_found(node, block)``
    ``node`` found ``block`` (before its strategy publishes or withholds it).
``on_block_accepted(node, block)``
    ``block`` passed verification at ``node`` and joined its tree.
``on_tip_changed(node, change)``
    ``node``'s main-chain tip moved (``change.reorg`` is set for a reorg).
``select_txs(node, parent) -> TxSelection | None``
    Transactions for a block ``node`` mines on ``parent``; the first
    component returning a selection wins (see :class:`~.mining.TxSelection`).
``validate_block(node, block) -> bool``
    False rejects the block at ``node`` (say, a double spend); it is neither
    accepted nor relayed, and its descendants are rejected with it.
``fluffy_missing_bytes(node, block, sender) -> int``
    Bytes of ``block``'s transactions ``node`` lacks when the fluffy block
    arrives; non-zero costs one extra round trip to ``sender`` plus their
    transfer time before verification (monerod's
    ``NOTIFY_REQUEST_FLUFFY_MISSING_TX``).
``finish(world, result)``
    After the last event; write your records and metrics into ``result``.

Hooks that nobody implements cost one empty-tuple check.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .chain import Block, TipChange
    from .mining import TxSelection
    from .node import Node

HOOK_NAMES = (
    "setup", "on_node_started", "on_connect", "on_disconnect", "on_block_found",
    "on_block_accepted", "on_tip_changed", "select_txs", "validate_block",
    "fluffy_missing_bytes", "finish",
)


class Hooks:
    """Bound hook methods of the registered components, per hook name."""

    def __init__(self) -> None:
        self.components: list[Any] = []
        self.setup: tuple[Any, ...] = ()
        self.on_node_started: tuple[Any, ...] = ()
        self.on_connect: tuple[Any, ...] = ()
        self.on_disconnect: tuple[Any, ...] = ()
        self.on_block_found: tuple[Any, ...] = ()
        self.on_block_accepted: tuple[Any, ...] = ()
        self.on_tip_changed: tuple[Any, ...] = ()
        self.select_txs: tuple[Any, ...] = ()
        self.validate_block: tuple[Any, ...] = ()
        self.fluffy_missing_bytes: tuple[Any, ...] = ()
        self.finish: tuple[Any, ...] = ()

    def add(self, component: Any) -> None:
        self.components.append(component)
        for name in HOOK_NAMES:
            method = getattr(component, name, None)
            if callable(method):
                setattr(self, name, getattr(self, name) + (method,))

    def remove(self, component: Any) -> None:
        self.components.remove(component)
        for name in HOOK_NAMES:
            method = getattr(component, name, None)
            if callable(method):
                setattr(self, name, tuple(m for m in getattr(self, name) if m != method))

    # -- dispatch helpers (the hot ones are inlined by callers) ---------------
    def block_found(self, node: Node, block: Block) -> None:
        for fn in self.on_block_found:
            fn(node, block)

    def tip_changed(self, node: Node, change: TipChange) -> None:
        for fn in self.on_tip_changed:
            fn(node, change)

    def txs_for(self, node: Node, parent: Block) -> TxSelection | None:
        for fn in self.select_txs:
            selection = fn(node, parent)
            if selection is not None:
                return selection
        return None

    def block_is_valid(self, node: Node, block: Block) -> bool:
        return all(fn(node, block) for fn in self.validate_block)

    def missing_bytes(self, node: Node, block: Block, sender: Node | None) -> int:
        return sum(int(fn(node, block, sender)) for fn in self.fluffy_missing_bytes)
