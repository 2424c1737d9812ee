"""Transaction relay on the simulator: Dandelion++ stems as events, fluff in the engine.

A tx submitted at its origin node goes out on a stem (or, with
``transactions.relay: diffusion``, straight into the fluff phase). Each stem
hop is one event on the world's engine, one link latency after the last; the
node records the tx, arms its embargo timer, and either forwards it on its
stem or, as a fluff node of the epoch, fluffs it. Fluffing hands the tx to
the :class:`~.fluff.FluffEngine`, which spreads every fluffed tx at once.

The engine runs lazily: it catches up with the world's clock only when
someone needs the pools (a block template, a fluffy block's missing txs, a
watcher, the end of the run), to within one step, so its cost follows the
number of flushes, not of calls.

Conflicts: whoever owns the money model (:class:`~.component.TxLayer`)
decides whether a node admits a tx (``admit``), for the nodes it tracks
(miners, spies) and for txs flagged as double spends; everyone else admits
every tx they have not seen.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from .bandwidth import TxBandwidth
from .dandelion import LOCAL, DandelionRouter
from .fluff import FluffEngine
from .poisson import PoissonTimer

if TYPE_CHECKING:
    from ..node import Node
    from .component import TxLayer

Watcher = Callable[[str, float, str | None, str], None]
"""``watcher(tx_id, time, sender_node_or_None, phase)``, phase ``stem`` | ``fluff`` | ``origin``."""


class TxRelay:
    def __init__(self, layer: TxLayer) -> None:
        world = layer.world
        cfg = world.scenario.transactions
        self.layer = layer
        self.world = world
        self.clock = world.engine
        self.mode = cfg.relay
        self.rng = world.rng("tx.relay")
        self.nodes: list[Node] = sorted(world.nodes.values(), key=lambda n: n.index)
        self.fluff = FluffEngine(len(self.nodes), seed=self.rng.getrandbits(63),
                                 flush_in_s=cfg.flush_mean_s, flush_out_s=cfg.flush_mean_s / 2)
        self.fluff.admit = self._admit
        self.router = DandelionRouter(
            world.rng("tx.dandelion"), self._out_peers, stems=cfg.stem_peers,
            fluff_probability=cfg.fluff_probability, epoch_s=cfg.epoch_s,
            start_time=lambda name: world.nodes[name].start_time, local_stem=cfg.local_stem)
        self.embargo = PoissonTimer(cfg.embargo_mean_s, 1.0)
        self.links: dict[tuple[int, int], tuple[float, bool]] = {}
        self.out: dict[str, list[str]] = {}
        """Node → its outgoing peers, in connection order (the stem candidates)."""
        self._touched: dict[tuple[int, int], bool] = {}
        """The (node, peer) index pairs connected or disconnected since the engine last took the
        connections, each with whether it was closed meanwhile."""
        self.stem_held: dict[int, set[int]] = {}
        self.watchers: dict[int, list[Watcher]] = {}
        self.stem_hops = 0
        self.stem_lengths: list[int] = []
        """Per tx that fluffed at the end of a stem: hops from the origin (0: fluffed there)."""
        self._hops: dict[int, int] = {}
        self.bandwidth: TxBandwidth | None = TxBandwidth(self.nodes) if cfg.tx_bandwidth else None
        if self.bandwidth is not None:
            # a message's bytes: its txs' weights (read when a tx takes a slot in the engine)
            by_serial = layer.ledger.by_serial
            self.fluff.set_bandwidth(self.bandwidth, lambda serial: by_serial[serial].weight)

    # -- nodes and links -------------------------------------------------------
    def _out_peers(self, name: str) -> list[str]:
        return self.out.get(name, [])

    def add_node(self, node: Node) -> None:
        """Make room for a node that joined after the start (an attacker's, a late joiner)."""
        if node.index >= len(self.nodes):
            self.nodes = sorted(self.world.nodes.values(), key=lambda n: n.index)
        if node.index >= self.fluff.n:
            self.fluff.grow(len(self.nodes))
        if self.bandwidth is not None and node.index >= self.bandwidth.up.size:
            self.bandwidth.refresh(self.nodes)

    def connect(self, node: Node, peer: Node, outgoing: bool) -> None:
        self.add_node(node)
        self.add_node(peer)
        key = (node.index, peer.index)
        self.links[key] = (node.links[peer].latency, outgoing)
        self._touched.setdefault(key, False)
        if outgoing:
            self.out.setdefault(node.name, []).append(peer.name)

    def disconnect(self, node: Node, peer: Node) -> None:
        key = (node.index, peer.index)
        link = self.links.pop(key, None)
        if link is not None:
            self._touched[key] = True
            if link[1]:
                self.out[node.name].remove(peer.name)

    def set_relaying(self, node: Node) -> None:
        self.fluff.set_relaying(node.index, node.relaying)

    def _refresh_links(self) -> None:
        touched = self._touched
        if not touched:
            return
        self._touched = {}
        relays = self.fluff.relays
        for node in self.nodes:  # (FluffEngine.set_relaying, inlined)
            relays[node.index] = node.relaying and node.online
        # Only the pairs that changed since the engine last took them (change_connections: the
        # connections of self.links without reading them all); one closed and opened again
        # meanwhile starts with an empty queue.
        links = self.links
        keys = list(touched)
        now_open = [links.get(key) for key in keys]
        ends = np.array(keys, dtype=np.int64)  # (src, dst) rows
        vals = np.array([v if v is not None else (0.0, False) for v in now_open], dtype=np.float64)
        present = np.array([v is not None for v in now_open])
        reopened = np.fromiter(touched.values(), bool, len(keys))
        self.fluff.change_connections(ends[:, 0], ends[:, 1], present, vals[:, 0], vals[:, 1] != 0.0,
                                      reopened)

    # -- time ------------------------------------------------------------------
    def sync(self) -> None:
        """Bring the fluff engine to (within one step of) the world's clock.

        The connections are handed over only when it moves: nothing reads them in between
        (a fluffy block's missing txs asks about every arrival, and the links change
        several hundred times a second in the mainnet twin)."""
        now = self.clock.now
        if self.fluff.behind(now):
            self._refresh_links()
            self.fluff.advance(now)

    def finish(self) -> None:
        self._refresh_links()
        self.fluff.advance(self.clock.now)

    # -- seen ------------------------------------------------------------------
    def seen_at(self, node: Node, serial: int) -> float:
        return self.fluff.seen.get(serial, node.index)

    def watch(self, node: Node, watcher: Watcher) -> None:
        self.add_node(node)
        self.watchers.setdefault(node.index, []).append(watcher)
        self.fluff.track(node.index)

    def _notify(self, node_index: int, serial: int, t: float, sender: int, phase: str) -> None:
        watchers = self.watchers.get(node_index)
        if watchers:
            tx_id = self.layer.ledger.by_serial[serial].id
            who = self.nodes[sender].name if sender >= 0 else None
            for w in watchers:
                w(tx_id, t, who, phase)

    def _admit(self, node: int, serial: int, t: float, sender: int) -> bool:
        """The fluff engine asks before a tracked node or a flagged tx accepts."""
        if not self.layer.admit(self.nodes[node], serial, t, fluffed=True):
            return False
        self._notify(node, serial, t, sender, "fluff")
        return True

    # -- submission and stems --------------------------------------------------
    def submit(self, origin: Node, serial: int) -> bool:
        """A wallet hands a tx to its node; False if the node rejects it (a double spend)."""
        now = self.clock.now
        if not self.layer.admit(origin, serial, now, fluffed=False):
            return False
        self._hold(origin, serial, now, -1, "origin")
        if self.mode == "diffusion":
            self.fluff.inject(origin.index, serial, now)
            return True
        self._hops[serial] = 0
        self.fluff.add_embargo(origin.index, serial, now + self.embargo.draw(self.rng))
        self._forward(origin, serial, LOCAL)
        return True

    def _hold(self, node: Node, serial: int, t: float, sender: int, phase: str) -> None:
        self.stem_held.setdefault(serial, set()).add(node.index)
        self.fluff.seen.mark(serial, node.index, t)
        self._notify(node.index, serial, t, sender, phase)

    def _forward(self, node: Node, serial: int, source: str | None) -> None:
        now = self.clock.now
        nxt = self.router.next_hop(node.name, source, now)
        if nxt is None:
            self._fluff_at(node, serial, now)
            return
        peer = self.world.nodes[nxt]
        self.stem_hops += 1
        delay = node.links[peer].latency
        if self.bandwidth is not None:
            size = self.layer.ledger.by_serial[serial].weight
            delay += self.bandwidth.seconds(node, peer, size)
            self.bandwidth.count(node, size)
        self.clock.schedule(delay, self._stem_arrive, peer, serial, node)

    def _fluff_at(self, node: Node, serial: int, t: float) -> None:
        hops = self._hops.pop(serial, None)
        if hops is not None:
            self.stem_lengths.append(hops)
        self.fluff.inject(node.index, serial, t)

    def _stem_arrive(self, node: Node, serial: int, sender: Node) -> None:
        if not node.online or sender not in node.links:
            return  # the connection closed while the tx was in flight
        if self.world.filters and not self.world.allowed(sender, node):
            return
        now = self.clock.now
        held = self.stem_held.get(serial)
        if held is not None and node.index in held:
            self._fluff_at(node, serial, now)  # a stem loop: monerod fluffs it
            return
        if self.fluff.knows(node.index, serial):
            return
        if not self.layer.admit(node, serial, now, fluffed=False):
            return
        self._hold(node, serial, now, sender.index, "stem")
        if not node.relaying:
            return  # a black hole: the embargo timers upstream will fire
        if serial in self._hops:
            self._hops[serial] += 1
        self.fluff.add_embargo(node.index, serial, now + self.embargo.draw(self.rng))
        self._forward(node, serial, sender.name)
