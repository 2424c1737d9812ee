"""The embedded simulator's observer component: live events, pause/step/resume, node commands.

Registered through the simulator's components hook (``setup(world)``,
``on_*`` callbacks, ``finish``; see :mod:`pytest_monerosim.sim.components`).
Every callback publishes one event and passes a checkpoint of the run's
:class:`~.control.RunGate`, which is where a paused run waits; commands
that change the simulation run there too, on the simulation's own thread.
Only used while someone watches (``--monerosim-serve``, ``monerosim serve``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import bus as ev
from .control import CommandError, UnknownAgent, float_arg, int_arg

if TYPE_CHECKING:
    from .observer import LiveSession

SIM_NODE_COMMANDS = ("mine", "restart", "disconnect")


class SimEventPublisher:
    """A simulator component that reports to an :class:`~.observer.LiveSession`."""

    def __init__(self, observer: LiveSession) -> None:
        self.observer = observer
        self.bus = observer.bus
        self.world: Any = None
        self._txs_seen = 0
        self._tx_state: dict[str, tuple[str, str]] = {}
        """tx id -> (status, phase) last published, for txs not yet final."""
        self._wallet_state: dict[str, tuple[int, ...]] = {}

    # -- components hook ---------------------------------------------------------
    def setup(self, world: Any) -> None:
        self.world = world
        obs = self.observer
        obs.live = True
        obs.controller = self
        obs.gauges = self._gauges
        gate = obs.gate
        if gate is not None:
            gate.wake_at = self._wake_at
        self.bus.publish(
            ev.AGENT_UP,
            time=0.0,
            agent="sim",
            kind="engine",
            role="engine",
            group="",
            state="running",
            seed=world.seed,
            duration=world.duration,
        )
        for name, node in world.nodes.items():
            self.bus.publish(
                ev.AGENT_UP,
                time=0.0,
                agent=name,
                kind="node",
                role=node.role,
                group=node.group,
                honest=node.honest,
                state="created",
                address=getattr(node, "address", None),
            )
        tx = getattr(world, "tx", None)
        for wallet in getattr(tx, "wallets", {}).values():
            self.bus.publish(ev.AGENT_UP, time=0.0, agent=f"wallet:{wallet.name}", kind="wallet",
                             role=wallet.strategy_name, group=wallet.node, state="created",
                             address=wallet.address, node=wallet.node)
        links = sum(len(n.links) for n in world.nodes.values()) // 2
        self.bus.publish(ev.RUN_BUILT, time=world.engine.now, nodes=len(world.nodes), links=links)
        if obs.current is not None:
            obs.current["state"] = "running"
        self._checkpoint()

    def on_node_started(self, node: Any) -> None:
        if node.name not in self.observer.registry:
            self.bus.publish(
                ev.AGENT_UP,
                time=self._now(),
                agent=node.name,
                kind="node",
                role=node.role,
                group=node.group,
                honest=node.honest,
                state="running",
            )
        self.bus.publish(ev.AGENT_STATE, time=self._now(), agent=node.name, state="running")
        self._checkpoint()

    def on_connect(self, node: Any, peer: Any, outgoing: bool) -> None:
        self.bus.publish(
            ev.PEER_CONNECT,
            time=self._now(),
            agent=node.name,
            peer=peer.name,
            outgoing=outgoing,
            peers=len(node.links),
        )
        self._checkpoint()

    def on_disconnect(self, node: Any, peer: Any) -> None:
        self.bus.publish(
            ev.PEER_DISCONNECT, time=self._now(), agent=node.name, peer=peer.name, peers=len(node.links)
        )
        self._checkpoint()

    def on_block_found(self, node: Any, block: Any) -> None:
        self.bus.publish(
            ev.BLOCK_FOUND,
            time=self._now(),
            agent=node.name,
            id=block.id,
            height=block.height,
            miner=node.name,
            parent=block.parent.id if block.parent is not None else None,
        )
        self._checkpoint()

    def on_tip_changed(self, node: Any, change: Any) -> None:
        now = self._now()
        self.bus.publish(
            ev.TIP_CHANGED, time=now, agent=node.name, height=change.new.height, block=change.new.id
        )
        reorg = change.reorg
        if reorg is not None:
            self.bus.publish(
                ev.REORG,
                time=now,
                agent=node.name,
                depth=reorg.depth,
                old_tip=reorg.old_tip,
                new_tip=reorg.new_tip,
                fork_height=reorg.fork_height,
            )
        self._checkpoint()

    def finish(self, world: Any, result: Any) -> None:
        self._publish_txs()
        for record in getattr(world, "log_records", ())[-1000:]:
            fields = {k: v for k, v in record.items() if k not in ("time", "node", "event")}
            self.bus.publish(
                "agent.log",
                time=record.get("time"),
                agent=record.get("node"),
                event=record.get("event"),
                **fields,
            )
        now = self._now()
        for tx in getattr(result, "txs", {}).values():  # the final word on every tx
            if tx.id not in self.observer.views.txs:
                self.bus.publish(ev.TX, time=tx.created_at, agent=tx.origin, id=tx.id, fee=tx.fee,
                                 sender=tx.sender, status="pending")
            self.bus.publish(ev.TX_STATUS, time=tx.confirmed_at if tx.confirmed_at is not None else now,
                             agent=tx.origin, id=tx.id, status=tx.status, block=tx.block, reached=tx.reached)
        for name, w in getattr(result, "wallets", {}).items():
            self.bus.publish(ev.WALLET_STATE, time=now, agent=f"wallet:{name}", balance=w.balance,
                             unlocked=w.unlocked, received=w.received, sent=w.sent, txs=w.tx_count)

    # -- samples: pools, txs and wallets as the run goes ---------------------------------
    def _gauges(self) -> dict[str, Any]:
        tx = getattr(self.world, "tx", None)
        if tx is None:
            return {}
        sizes = [len(pool) for pool in tx.pools.values()]
        self._publish_txs()
        return {"mempool": round(sum(sizes) / len(sizes), 2) if sizes else 0,
                "mempool_max": max(sizes, default=0), "txs": len(tx.ledger.txs),
                "confirmed": sum(1 for s, _ in self._tx_state.values() if s == "confirmed")}

    def _publish_txs(self) -> None:
        """New txs, status/phase changes of open ones, and wallet balances, as events."""
        tx = getattr(self.world, "tx", None)
        if tx is None:
            return
        now = self._now()
        ledger, relay = tx.ledger, tx.relay
        fresh = ledger.by_serial[self._txs_seen:]
        self._txs_seen = len(ledger.by_serial)
        for t in fresh:
            self.bus.publish(ev.TX, time=t.created_at, agent=t.origin, id=t.id, fee=t.fee, sender=t.sender,
                             weight=t.weight, status="pending", phase="stem")
            self._tx_state[t.id] = ("pending", "stem")
        done = []
        for tx_id, old in self._tx_state.items():
            record = ledger.txs.get(tx_id)
            if record is None:
                continue
            status = "confirmed" if ledger.tx_blocks.get(tx_id) else "pending"
            phase = "stem" if record.serial in relay._hops else "fluff"
            if (status, phase) != old:
                held = len(relay.stem_held.get(record.serial, ()))
                self.bus.publish(ev.TX_STATUS, time=now, agent=record.origin, id=tx_id, status=status,
                                 phase=phase, stem_hops=held)
                self._tx_state[tx_id] = (status, phase)
            if status == "confirmed":
                done.append(tx_id)
        for tx_id in done:
            self._tx_state[tx_id] = ("confirmed", "fluff")
        for name, wallet in tx.wallets.items():
            total, unlocked = wallet.balance()
            state = (total, unlocked, len(wallet.sent))
            if self._wallet_state.get(name) != state:
                self._wallet_state[name] = state
                self.bus.publish(ev.WALLET_STATE, time=now, agent=f"wallet:{name}", balance=total,
                                 unlocked=unlocked, sent_txs=len(wallet.sent), state="running")

    # -- internals ---------------------------------------------------------------------
    def _now(self) -> float:
        return float(self.world.engine.now)

    def _checkpoint(self) -> None:
        now = self.world.engine.now
        obs = self.observer
        obs.maybe_sample(now)
        gate = obs.gate
        if gate is not None:
            gate.checkpoint(now)

    def _wake_at(self, t: float) -> None:
        engine = self.world.engine
        engine.at(max(t, engine.now), self._checkpoint)

    # -- agent commands (AgentController) -------------------------------------------
    def commands(self, agent: str) -> tuple[str, ...]:
        if agent == "sim":
            return ()
        if self.world is None or agent not in self.world.nodes:
            raise UnknownAgent(agent)
        return SIM_NODE_COMMANDS

    def command(self, agent: str, name: str, args: dict[str, Any]) -> dict[str, Any]:
        if name not in self.commands(agent):
            raise CommandError(f"unknown command {name!r} for {agent}")
        node = self.world.nodes[agent]
        gate = self.observer.gate
        assert gate is not None
        if name == "mine":
            unknown = set(args) - {"blocks"}
            if unknown:
                raise CommandError(f"mine takes 'blocks', not {', '.join(sorted(unknown))}")
            count = int_arg(args, "blocks", 1, 1, 100)

            def mine() -> dict[str, Any]:
                if node.api is None or not node.online:
                    raise CommandError(f"{agent} is not online")
                before = node.height()
                for _ in range(count):
                    node.api.mine_block()
                return {"mined": count, "time": self._now(), "height": node.height(), "from_height": before}

            return gate.call(mine)
        if name == "restart":
            downtime = float_arg(args, "downtime") or 0.0

            def restart() -> dict[str, Any]:
                node.restart(None, downtime)
                return {"restarting": True, "downtime": downtime, "time": self._now()}

            return gate.call(restart)

        # disconnect: close every connection of this node (it reconnects like monerod would)
        def disconnect() -> dict[str, Any]:
            closed = self.world.drop_links(lambda a, b: agent in (a.name, b.name))
            return {"closed": closed, "time": self._now()}

        return gate.call(disconnect)


def add_sim_component(options: Any, component: Any) -> None:
    """Hand ``component`` to the embedded simulator through ``RunOptions.extra["components"]``."""
    components = options.extra.get("components")
    if not isinstance(components, list):
        components = list(components or ())
        options.extra["components"] = components
    components.append(component)
