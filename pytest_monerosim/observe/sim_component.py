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
from .control import CommandError, UnknownAgent, float_arg

if TYPE_CHECKING:
    from .observer import Observer

SIM_NODE_COMMANDS = ("mine", "restart", "disconnect")


class SimObserver:
    """A simulator component that reports to an :class:`~.observer.Observer`."""

    def __init__(self, observer: Observer) -> None:
        self.observer = observer
        self.bus = observer.bus
        self.world: Any = None

    # -- components hook ---------------------------------------------------------
    def setup(self, world: Any) -> None:
        self.world = world
        obs = self.observer
        obs.live = True
        obs.controller = self
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
        for record in getattr(world, "log_records", ())[-1000:]:
            fields = {k: v for k, v in record.items() if k not in ("time", "node", "event")}
            self.bus.publish(
                "agent.log",
                time=record.get("time"),
                agent=record.get("node"),
                event=record.get("event"),
                **fields,
            )
        for tx in getattr(result, "txs", {}).values():
            self.bus.publish(
                ev.TX, time=tx.created_at, agent=tx.origin, id=tx.id, fee=tx.fee, status=tx.status
            )

    # -- internals ---------------------------------------------------------------------
    def _now(self) -> float:
        return float(self.world.engine.now)

    def _checkpoint(self) -> None:
        gate = self.observer.gate
        if gate is not None:
            gate.checkpoint(self.world.engine.now)

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

            def mine() -> dict[str, Any]:
                if node.api is None or not node.online:
                    raise CommandError(f"{agent} is not online")
                node.api.mine_block()
                return {"mined": True, "time": self._now(), "height": node.height()}

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
