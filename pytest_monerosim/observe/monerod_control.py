"""Live control and events of a monerod backend's network for the observer.

:class:`MonerodController` is the monerod backend's
:class:`~pytest_monerosim.observe.control.AgentController`: ``POST
/api/agents/{node}/command`` with

* ``stop``: stop the node's daemon cleanly (stop RPC, then signals);
* ``start``: start it again with the same data dir, ports and command line
  (``--keep-fakechain`` keeps its chain) and wait until its RPC answers;
* ``disconnect``: ``out_peers 0`` / ``in_peers 0`` (as
  :meth:`~pytest_monerosim.backends.monerod.actions.NetworkActions.isolate`),
  ``reconnect`` restores the plan's limits;
* ``mine``: ``generateblocks`` (``{"blocks": n}``, default 1) to the burn address.

A poller thread (one ``get_info`` per running node every
:data:`POLL_EVERY_S` wall seconds) publishes agents as they come up, tip
changes, connection counts, each node's blocks mined (from its miner agent),
the new main-chain blocks (headers of the highest node), the peer graph
(``get_connections`` every :data:`GRAPH_EVERY` polls) and the dashboard's
samples (heights, peers, pool sizes) on the observer's bus while the run goes. The
backend does not pause, and the finished result is still replayed onto the bus
(blocks with their miners, reorgs, transactions), so ``observer.live`` stays false.
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import TYPE_CHECKING, Any

from ..backends.monerod.errors import MonerodBackendError
from ..backends.monerod.restart import restart
from ..backends.plan import BURN_ADDRESS
from ..rpc import DaemonRpc
from . import bus as ev
from .control import CommandError, NotRunning, UnknownAgent, int_arg

if TYPE_CHECKING:
    from ..backends.monerod.network import LoopbackNetwork, PlannedDaemon
    from .observer import LiveSession

MONEROD_NODE_COMMANDS = ("stop", "start", "disconnect", "reconnect", "mine")
POLL_EVERY_S = 0.5
GRAPH_EVERY = 4
HEADERS_PER_POLL = 30
START_TIMEOUT_S = 60.0


class MonerodController:
    """Commands to the nodes of a running loopback network, and its live events."""

    def __init__(self, network: LoopbackNetwork, observer: LiveSession) -> None:
        self.network = network
        self.observer = observer
        self.bus = observer.bus
        self._lock = threading.Lock()  # one command at a time
        self._tip_lock = threading.Lock()  # a poll's read and publish never straddle a mine
        self._seen: dict[str, tuple[int, str | None, int]] = {}
        self._rpcs: dict[str, DaemonRpc] = {}
        self._announced = False
        self.disconnected: set[str] = set()
        self._pools: dict[str, int] = {}
        self._mined: dict[str, int] = {}
        self._edges: list[list[str]] = []
        self._header_height = 0
        self._polls = 0
        observer.gauges = self._gauges
        self._thread = threading.Thread(target=self._poll_loop, name="monerosim-live", daemon=True)

    @classmethod
    def attach(cls, network: LoopbackNetwork, observer: Any) -> MonerodController | None:
        """Take commands for ``network`` and publish its events (``observer`` may be None)."""
        if observer is None or not hasattr(observer, "bus"):
            return None
        controller = cls(network, observer)
        observer.controller = controller
        controller._thread.start()
        return controller

    # -- nodes -------------------------------------------------------------------------
    def _daemons(self) -> dict[str, PlannedDaemon]:
        """Scenario node name -> its daemon (empty before the network started)."""
        net = self.network
        return {h.node: net.daemons[h.name] for h in net.plan.daemon_hosts()
                if h.node is not None and h.name in net.daemons}

    def _daemon(self, agent: str) -> PlannedDaemon:
        daemon = self._daemons().get(agent)
        if daemon is None:
            raise UnknownAgent(agent)
        return daemon

    # -- AgentController -------------------------------------------------------------
    def commands(self, agent: str) -> tuple[str, ...]:
        self._daemon(agent)
        return MONEROD_NODE_COMMANDS

    def command(self, agent: str, name: str, args: dict[str, Any]) -> dict[str, Any]:
        daemon = self._daemon(agent)
        if name not in MONEROD_NODE_COMMANDS:
            raise CommandError(f"unknown command {name!r} for {agent}; accepted: "
                               f"{', '.join(MONEROD_NODE_COMMANDS)}")
        allowed = {"mine": {"blocks"}}.get(name, set())
        unknown = set(args) - allowed
        if unknown:
            raise CommandError(f"{name} takes no argument {', '.join(sorted(unknown))}")
        if self.network._closed or self.network.t0 is None:
            raise NotRunning("the network is not running")
        with self._lock:
            try:
                return self._run(agent, daemon, name, args)
            except MonerodBackendError as exc:
                raise CommandError(f"{name} on {agent} failed: {exc}") from None

    def _run(self, agent: str, daemon: PlannedDaemon, name: str, args: dict[str, Any]) -> dict[str, Any]:
        net = self.network
        running = daemon.alive()
        if name == "start":
            if running:
                raise CommandError(f"{agent} is already running")
            restart(daemon)
            daemon.stopped_on_purpose = False
            took = daemon.wait_ready(START_TIMEOUT_S)
            if agent in self.disconnected:
                daemon.rpc.out_peers(0)
                daemon.rpc.in_peers(0)
            self._state(agent, "running")
            return {"started": True, "ready_s": round(took, 3), "time": net.now()}
        if not running:
            raise CommandError(f"{agent} is stopped; send start first")
        if name == "stop":
            # marked first: the run's health check, on another thread, must never see this
            # node's exit (it takes a second or two) as a crash that ends the run
            daemon.stopped_on_purpose = True
            code = daemon.stop()
            daemon.process = None
            self._state(agent, "stopped")
            return {"stopped": True, "exit_code": code, "time": net.now()}
        if name == "disconnect":
            daemon.rpc.out_peers(0)
            daemon.rpc.in_peers(0)
            self.disconnected.add(agent)
            return {"disconnected": True, "time": net.now()}
        if name == "reconnect":
            spec = daemon.spec
            daemon.rpc.out_peers(spec.out_peers)
            daemon.rpc.in_peers(spec.in_peers if spec.in_peers is not None else 2**31 - 1)
            self.disconnected.discard(agent)
            return {"reconnected": True, "time": net.now()}
        blocks = int_arg(args, "blocks", 1, 1, 100)
        with self._tip_lock:
            answer = daemon.rpc.generateblocks(blocks, BURN_ADDRESS)
            height = int(answer["height"])  # of the last block mined (genesis is 0)
            mined = [str(b) for b in answer.get("blocks", [])]
            if mined:
                self._tip(agent, height, mined[-1])
        return {"mined": len(mined), "blocks": mined, "height": height, "time": net.now()}

    # -- events ------------------------------------------------------------------------
    def _state(self, agent: str, state: str) -> None:
        self.bus.publish(ev.AGENT_STATE, time=self.network.now(), agent=agent, state=state)

    def _tip(self, agent: str, height: int, block: str | None) -> None:
        _, old_block, peers = self._seen.get(agent, (0, None, 0))
        if block != old_block:
            self._seen[agent] = (height, block, peers)
            self.bus.publish(ev.TIP_CHANGED, time=self.network.now(), agent=agent,
                             height=height, block=block)

    def _announce(self) -> None:
        net = self.network
        for host in net.plan.daemon_hosts():
            if host.node is None:
                continue
            self.bus.publish(ev.AGENT_UP, time=0.0, agent=host.node, kind="node", role=host.role,
                             group=host.group, honest=host.honest, state="running",
                             address=net.ips.get(host.name))
        for wallet in net.wallets.values():
            self.bus.publish(ev.AGENT_UP, time=0.0, agent=f"wallet:{wallet.spec.name}",
                             kind="wallet", role=str(getattr(wallet.spec, "strategy", "")),
                             group=wallet.spec.node, state="running")
        self.bus.publish(ev.RUN_BUILT, time=0.0, nodes=len(net.daemons), links=None)

    def _poll_loop(self) -> None:
        net = self.network
        while not net._closed:
            if net.t0 is None:
                time.sleep(0.1)
                continue
            if not self._announced:
                self._announce()
                self._announced = True
            for agent, daemon in self._daemons().items():
                if net._closed:
                    return
                if daemon.alive():
                    with contextlib.suppress(Exception):
                        self._poll(agent, daemon)
            self._polls += 1
            with contextlib.suppress(Exception):
                self._poll_mined()
                self._poll_headers()
                if self._polls % GRAPH_EVERY == 1:
                    self._poll_graph()
                self.observer.maybe_sample(net.now())
            time.sleep(POLL_EVERY_S)

    def _gauges(self) -> dict[str, Any]:
        pools = list(self._pools.values())
        return {"mempool": round(sum(pools) / len(pools), 2) if pools else 0,
                "mempool_max": max(pools, default=0)}

    def _poll_mined(self) -> None:
        """Each node's blocks mined so far, from the miner agents hosted in this process."""
        node_of = {h.name: h.node for h in self.network.plan.daemon_hosts() if h.node is not None}
        counts: dict[str, int] = {}
        for agent in list(self.network.agent_threads.values()):
            node = node_of.get(agent.setup.host)
            if node is not None and agent.node_api is not None:
                counts[node] = counts.get(node, 0) + int(agent.node_api.blocks_mined)
        for node, count in counts.items():
            if self._mined.get(node) != count:
                self._mined[node] = count
                self.bus.publish(ev.NODE_STATS, time=self.network.now(), agent=node, blocks_found=count)

    def _poll_headers(self) -> None:
        """New blocks of the highest node's main chain (hash, height, parent) for the block tree."""
        if not self._seen:
            return
        agent, (height, _, _) = max(self._seen.items(), key=lambda kv: kv[1][0])
        if height <= self._header_height:
            return
        rpc = self._rpcs.get(agent)
        if rpc is None:
            return
        start = max(self._header_height + 1, height - HEADERS_PER_POLL + 1)
        for h in range(start, height + 1):
            header = rpc.get_block_header_by_height(h)
            self.bus.publish(ev.BLOCK_FOUND, time=self.network.now(), agent=None, id=header.get("hash"),
                             height=h, parent=header.get("prev_hash"), miner=None)
            self._header_height = h

    def _poll_graph(self) -> None:
        """Who holds an outgoing connection to whom (addresses mapped back to scenario nodes)."""
        net = self.network
        daemons = self._daemons()
        ip = {name: str(getattr(d, "address", None) or d.host) for name, d in daemons.items()}
        by_address = {f"{ip[name]}:{d.ports.p2p}": name for name, d in daemons.items()}
        by_ip = {address: name for name, address in ip.items()}
        unique_ips = len(by_ip) == len(daemons)
        edges: set[tuple[str, str]] = set()
        for name, daemon in daemons.items():
            rpc = self._rpcs.get(name)
            if rpc is None or not daemon.alive():
                continue
            for conn in rpc.get_connections():
                if conn.get("incoming"):
                    continue
                address = str(conn.get("address", ""))
                peer = by_address.get(address)
                if peer is None and unique_ips:
                    peer = by_ip.get(address.rsplit(":", 1)[0])
                if peer is not None and peer != name:
                    edges.add((name, peer))
        listed = sorted([a, b] for a, b in edges)
        if listed != self._edges:
            self._edges = listed
            self.bus.publish(ev.PEER_SNAPSHOT, time=net.now(), edges=listed)

    def _poll(self, agent: str, daemon: PlannedDaemon) -> None:
        rpc = self._rpcs.get(agent)
        if rpc is None:
            rpc = self._rpcs[agent] = DaemonRpc(daemon.rpc.host, daemon.ports.rpc, timeout=2.0)
        with self._tip_lock:
            info = rpc.get_info()
            height = int(info.get("height", 1)) - 1  # get_info counts blocks; the tip's height
            self._pools[agent] = int(info.get("tx_pool_size", 0))
            block = info.get("top_block_hash")
            peers = int(info.get("outgoing_connections_count", 0)) + int(
                info.get("incoming_connections_count", 0))
            old_peers = self._seen.get(agent, (0, None, -1))[2]
            self._tip(agent, height, block)
            self._seen[agent] = (height, block, peers)
        if peers != old_peers:
            kind = ev.PEER_CONNECT if peers > old_peers else ev.PEER_DISCONNECT
            self.bus.publish(kind, time=self.network.now(), agent=agent, peer=None, peers=peers,
                             snapshot=True)


__all__ = ["MONEROD_NODE_COMMANDS", "MonerodController"]
