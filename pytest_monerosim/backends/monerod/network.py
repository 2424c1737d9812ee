"""A process plan stood up for real: :class:`LoopbackNetwork`.

Two ways to give hosts addresses, chosen by :func:`choose_isolation`:

* **namespaces** (root, ``ip netns`` works): every daemon host is a network
  namespace of its own (:mod:`.netns`) with one address from
  :func:`~.netns.address_plan` (a /16 per honest host, in the reserved block
  240.0.0.0/4 that monerod gossips), its monerod, wallet-rpcs and agent
  processes all inside it, on monerod's standard ports; bandwidth shaped by
  ``tbf``; no latency emulation (no ``netem`` in this kernel). Peer discovery
  is monerod's own.
* **loopback** (the fallback): each host gets its own loopback IP for P2P
  (``127.0.x.y``; Linux routes all of 127/8 to ``lo``), so ``set_bans`` can
  cut one node off from another (every connection still *comes from*
  127.0.0.1, hence monerod's per-IP connection limit is raised), while RPC
  servers listen on 127.0.0.1. Ports come from a
  :class:`~.ports.PortAllocator` of this run, so runs in parallel (xdist
  workers, other sessions) never collide. monerod drops 127/8 from gossip,
  so discovery is replaced by drawn peers (:func:`~..plan.loopback_discovery`).

 Everything a run starts lives under
``<workdir>/hosts/<host>/`` (monerod's data dir ``chain/``, ``monerod.log``,
wallets, agents' ``*.jsonl``), the layout Shadow gives its hosts, so the same
parser reads both.

Lifecycle (see :func:`pytest_monerosim.backends.monerod.backend.run`)::

    with LoopbackNetwork.from_scenario(scenario, registry, workdir=...) as net:
        net.start()      # daemons (in parallel), peering and sync, wallets
        net.run()        # agents for duration / time_scale wall seconds
        result = net.collect()

Leaving the ``with`` block (normally, on an error or on Ctrl-C) stops every
process; a worker killed outright takes them along through PDEATHSIG, and
:func:`~.process.reap_stale` (called by :meth:`start`) kills what an owner
that died some other way left behind.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ...agents.hosting import HostedAgent, parse_agent_args, script_of
from ...agents.runtime import AgentErrors, Clock, EventLog, WalletDirectory, write_wallet_state
from ...atomic import atomic_write
from ...config.model import Scenario
from ...layout import NetworkLayout
from ...registry import Registry
from ...result.model import Result
from .. import BackendUnavailable
from ..command_lines import AgentRuntimeArgs, agent_argv, agent_env
from ..parse import build_result, host_directories
from ..plan import (
    BURN_ADDRESS,
    DaemonSpec,
    PlanOptions,
    ProcessPlan,
    StandardPorts,
    build_plan,
    loopback_discovery,
)
from .churn import ChurnReplay
from .daemon import MonerodNode
from .errors import MonerodBackendError, ProcessDied
from .hosts import (
    PlannedDaemon,
    PlannedWallet,
    ban_lines_of,
    bootstrap_peers,
    choose_isolation,
    loopback_ip,
    run_parallel,
    settle_tips,
    wait_synchronized,
    without_public_seeds,
)
from .nat import refuse_inbound
from .netns import NEEDS_NAMESPACES, HostAddressing, NetnsNetwork, address_plan, reap_stale_networks
from .ports import LOOPBACK, PortAllocator
from .prehistory import history_tip, mine_warmup_block, premine, seed_warm_chain, warm_pow
from .process import ManagedProcess, reap_stale
from .shutdown import stop_together
from .timing import timing_record
from .wallet import WalletRpcNode

READY_TIMEOUT_S = 60.0
SYNC_TIMEOUT_S = 60.0
HEALTH_EVERY_S = 0.2
AGENT_EXIT_TIMEOUT_S = 60.0
SETTLE_TIPS_S = 15.0
"""At the end, how long (wall) the last blocks may take to reach every daemon before the
wallets report (a block took up to 5.7 s to reach 9 daemons on a loaded 2-core machine)."""


def default_root() -> Path:
    """Where runs without an explicit workdir go (one directory per user)."""
    import os

    return Path(tempfile.gettempdir()) / f"monerosim-runs-{os.getuid()}"


class LoopbackNetwork:
    """Runs a :class:`ProcessPlan` as real processes on this machine."""

    def __init__(
        self,
        plan: ProcessPlan,
        registry: Registry,
        *,
        workdir: Path,
        allocator: PortAllocator | None = None,
        time_scale: float = 120.0,
        monerod_bin: str | None = None,
        wallet_rpc_bin: str | None = None,
        agents: str = "thread",
        plugin_modules: Sequence[str] = (),
        progress: Callable[[float, float, int], None] | None = None,
        premine: dict[str, int] | None = None,
        warmup_block: bool = False,
        warm_chain: int = 0,
        observer: Any = None,
        netns: NetnsNetwork | None = None,
        isolation_reason: str = "",
    ) -> None:
        if agents not in ("thread", "process", "none"):
            raise ValueError(f"agents={agents!r}; accepted: thread, process, none")
        if not plan.agents("monitor"):
            raise ValueError("the plan has no monitor agent; build it with PlanOptions(monitor=True)")
        self.plan = plan
        self.registry = registry
        self.workdir = Path(workdir)
        self.hosts_dir = self.workdir / "hosts"
        self.shared_dir = self.workdir / "shared"
        self.allocator = allocator
        self.time_scale = time_scale
        self.monerod_bin = monerod_bin
        self.wallet_rpc_bin = wallet_rpc_bin
        self.agent_mode = agents
        self.plugin_modules = list(plugin_modules)
        self.progress = progress
        self.premine = dict(premine or {})
        self.warm_chain = int(warm_chain)
        """Height of the cached regtest chain every daemon starts from (0: none)."""
        self.warmup_block = warmup_block or self.warm_chain > 0  # nobody verified a warm chain
        self.history: tuple[str, int] | None = None
        """The warm chain's tip (with the warm-up block): heights count from it."""
        self.warm_record: dict[str, Any] | None = None
        unknown = sorted(set(self.premine) - {w.name for _, w in plan.wallets()})
        if unknown:
            raise ValueError(f"premine names wallets {unknown} that are not in the scenario")
        self.netns = netns
        self.isolation = "netns" if netns is not None else "loopback"
        self.isolation_reason = isolation_reason
        if netns is not None:
            self.ips = address_plan(
                [HostAddressing(h.name, h.region, h.group, h.honest) for h in plan.daemon_hosts()],
                netns.first_octet)
            for name in plan.hosts:  # agent-only hosts (the monitor) run in the root namespace
                self.ips.setdefault(name, netns.root_address)
        else:
            self.ips = {h: loopback_ip(i) for i, h in enumerate(plan.hosts)}
        self.daemon_specs = self._render_peers()
        self.daemons: dict[str, PlannedDaemon] = {}
        self.wallets: dict[str, PlannedWallet] = {}
        self.agent_threads: dict[str, HostedAgent] = {}
        self.agent_procs: dict[str, ManagedProcess] = {}
        self.errors = AgentErrors()
        self.end_of_run: dict[str, object] = {}
        self.churn: ChurnReplay | None = None
        """The layout's churn replayed (:mod:`.churn`), once the daemons exist."""
        self.directory = WalletDirectory(self.shared_dir)
        self.t0: float | None = None
        self.stopped_at: float | None = None
        """Wall time :meth:`close` began (the end of a partial result)."""
        self.started_wall = time.time()
        self.phases: dict[str, float] = {}
        self._closed = False
        # live API commands and events: the observer (observe/, a layer above) attaches itself
        attach = getattr(observer, "attach_monerod_network", None)
        self.control = attach(self) if attach is not None else None

    # -- construction ----------------------------------------------------------------
    @classmethod
    def from_scenario(
        cls,
        scenario: Scenario,
        registry: Registry,
        *,
        workdir: Path,
        plan_options: PlanOptions | None = None,
        isolation: str = "auto",
        layout: NetworkLayout | None = None,
        **kwargs: Any,
    ) -> LoopbackNetwork:
        """Plan ``scenario``: in namespaces (monerod's standard ports on every host) when
        :func:`choose_isolation` allows, else on loopback with ports from a fresh
        allocator. :meth:`close` releases either."""
        mode, reason = choose_isolation(isolation)
        if mode == "netns":
            plan = build_plan(scenario, registry, layout=layout, ports=StandardPorts(),
                              options=plan_options or PlanOptions())
            net = NetnsNetwork()
            try:
                return cls(plan, registry, workdir=workdir, netns=net, isolation_reason=reason,
                           **kwargs)
            except BaseException:
                net.close()
                raise
        allocator = PortAllocator()
        try:
            plan = build_plan(scenario, registry, layout=layout,
                              ports=lambda host, role: allocator.allocate(),
                              options=plan_options or PlanOptions())
        except BaseException:
            allocator.close()
            raise
        return cls(plan, registry, workdir=workdir, allocator=allocator,
                   isolation_reason=reason, **kwargs)

    def _render_peers(self) -> dict[str, DaemonSpec]:
        """The daemons as they run here: discovery replaced by drawn peers on loopback;
        in namespaces, discovery itself, bootstrapped by :func:`~.hosts.bootstrap_peers`."""
        specs = {h.name: h.daemon for h in self.plan.daemon_hosts() if h.daemon is not None}
        if self.netns is not None:
            return bootstrap_peers(specs, self.ips) if self.plan.dynamic else specs
        if not self.plan.dynamic:
            return without_public_seeds(specs)
        picks = loopback_discovery(self.plan)
        out: dict[str, DaemonSpec] = {}
        for name, spec in specs.items():
            chosen = picks.get(name, ())
            out[name] = dataclasses.replace(
                spec, exclusive_peers=chosen, seed_peers=(),
                out_peers=max(len(chosen), spec.out_peers or 0) if chosen else 0,
                offline=spec.offline or (not chosen and len(specs) == 1),
            )
        return without_public_seeds(out)

    @property
    def monitor_host(self) -> str:
        return next(h.name for h in self.plan.hosts.values() if h.role == "monitor")

    def host_dir(self, host: str) -> Path:
        return self.hosts_dir / host

    def node(self, name: str) -> PlannedDaemon:
        """The daemon of scenario node ``name``."""
        return self.daemons[self.plan.host_of_node(name).name]

    def now(self) -> float:
        """Simulated seconds since t0 (negative before the run starts)."""
        if self.t0 is None:
            return 0.0
        return (time.time() - self.t0) * self.time_scale

    # -- start -------------------------------------------------------------------------
    def start(self) -> None:
        """Daemons, peering and sync, wallets; sets ``t0`` and starts the agents."""
        reap_stale(self.workdir.parent)
        if self.netns is None:  # a NetnsNetwork reaped them when it was made
            reap_stale_networks()
        self.hosts_dir.mkdir(parents=True, exist_ok=True)
        self.shared_dir.mkdir(parents=True, exist_ok=True)
        atomic_write(self.workdir / "plan.json", json.dumps(self.plan.to_json(), indent=1))
        peer_addresses = self.plan.peer_addresses(self.ips.__getitem__)
        self._make_hosts()
        self._phase("hosts_ready")
        bans = ban_lines_of(self.daemon_specs, self.plan.daemon_hosts(), self.ips,
                            namespaced=self.netns is not None)
        for host in self.plan.daemon_hosts():
            self.daemons[host.name] = PlannedDaemon(
                host, self.daemon_specs[host.name], address=self.ips[host.name],
                host_dir=self.host_dir(host.name), peer_addresses=peer_addresses,
                binary=self.monerod_bin, exec_prefix=self.exec_prefix(host.name),
                ban_lines=bans.get(host.name, ()))
        for host, spec in self.plan.wallets():
            self.wallets[spec.name] = PlannedWallet(
                spec, host_dir=self.host_dir(host.name),
                daemon_address=self.daemons[host.name].rpc_address, binary=self.wallet_rpc_bin,
                address=self._rpc_ip(host.name),
                exec_prefix=self.exec_prefix(host.name),
            )
        self.churn = ChurnReplay(self)
        self.warm_record = seed_warm_chain(self)
        self._phase("warm_chain")
        first = [d for d in self.daemons.values() if d.spec.start_time <= 0]
        wallets = [w for w in self.wallets.values() if w.spec.start_time <= 0]
        procs: list[MonerodNode | WalletRpcNode] = [*first, *wallets]
        for proc in procs:  # from this thread: PDEATHSIG follows the starting thread
            proc.start()
        run_parallel(lambda d: d.wait_ready(READY_TIMEOUT_S), first)
        self._phase("daemons_ready")
        run_parallel(lambda w: w.wait_ready(READY_TIMEOUT_S), wallets)
        run_parallel(self._create_wallet, wallets)
        self._phase("wallets_ready")
        self.wait_synchronized(first)
        self._phase("connected")
        run_parallel(warm_pow, first)
        if self.warmup_block:
            mine_warmup_block(self, first)
        if self.warm_chain > 0:
            self.history = history_tip(first[0])
        self._phase("pow_warm")
        if self.premine:
            premine(self)
        self._phase("premined")
        self.t0 = time.time()
        manifest = {"t0": self.t0, "time_scale": self.time_scale, "ips": self.ips,
                    "history": self.history,
                    "network": self.network_record(),
                    "daemons": {n: d.command_line() for n, d in self.daemons.items()}}
        atomic_write(self.workdir / "run.json", json.dumps(manifest, indent=1))
        self._start_agents()

    def _make_hosts(self) -> None:
        """Namespaces: one per daemon host, with its address and bandwidth (none on loopback)."""
        if self.netns is None:
            return
        for host in self.plan.daemon_hosts():
            if host.name not in self.netns.hosts:
                made = self.netns.add_host(host.name, [self.ips[host.name]],
                                           bandwidth_up_bps=host.bandwidth_up_bps or None,
                                           bandwidth_down_bps=host.bandwidth_down_bps or None)
                if host.daemon is not None and not host.daemon.reachable:  # behind NAT
                    refuse_inbound(made, host.daemon.p2p_port)

    def attacker_addresses(self, count: int) -> list[str]:
        """Addresses this process binds for attacking peers (namespaced network only).

        Each is in a /16 no host uses, so monerod lists, pings back and dials it as
        a public peer; on loopback there are none (``BackendUnavailable``).
        """
        if self.netns is None:
            raise BackendUnavailable(f"{NEEDS_NAMESPACES} (this run: {self.isolation_reason})")
        return self.netns.hold_in_this_process(count)

    def exec_prefix(self, host: str) -> list[str]:
        """The argv prefix running a program in ``host`` (empty: this machine's namespace)."""
        if self.netns is None or host not in self.netns.hosts:
            return []
        return self.netns.exec_prefix(host)

    def network_record(self) -> dict[str, Any]:
        """How hosts were given addresses, and why (``result.extra["network"]``)."""
        record: dict[str, Any] = {
            "isolation": self.isolation, "reason": self.isolation_reason,
            "latency_emulated": False,
            "latency_note": "link latency is not emulated (no tc netem in this kernel): "
                            "relay delays are the machine's own, then multiplied by the time scale",
            "bandwidth_shaped": self.netns is not None,
            "behind_nat": sorted(h.name for h in self.plan.daemon_hosts()
                                 if h.daemon is not None and not h.daemon.reachable),
            "nat_emulated": self.netns is not None,  # on loopback anyone can dial anyone
        }
        if self.netns is not None:
            record.update(self.netns.describe())
        return record

    def _phase(self, name: str) -> None:
        """Record how long the setup took so far (``result.extra["phases_s"]``)."""
        self.phases[name] = round(time.time() - self.started_wall, 3)

    def _create_wallet(self, wallet: PlannedWallet) -> None:
        address = wallet.open_or_create(wallet.spec.filename)
        self.directory.publish(wallet.spec.name, address, wallet.spec.node)

    def wait_synchronized(self, daemons: Iterable[PlannedDaemon] | None = None,
                          timeout: float = SYNC_TIMEOUT_S) -> None:
        """Every daemon connected (if it has peers) and synchronized, so it can mine."""
        wait_synchronized(list(self.daemons.values() if daemons is None else daemons),
                          alone=len(self.daemons) <= 1, timeout=timeout, logs=self.hosts_dir)

    # -- agents ------------------------------------------------------------------------
    def agent_argvs(self) -> dict[str, list[str]]:
        """Each agent's command line (what the process mode executes)."""
        assert self.t0 is not None
        argvs = {}
        for host in self.plan.hosts.values():
            runtime = AgentRuntimeArgs(
                out_dir=str(self.host_dir(host.name)), shared_dir=str(self.shared_dir),
                t0=self.t0, time_scale=self.time_scale, duration=self.plan.duration,
                seed=self.plan.seed, plugin_modules=tuple(self.plugin_modules),
            )
            for agent in host.agents:
                argvs[agent.name] = agent_argv(agent, self.plan, runtime,
                                               address_of=self.ips.__getitem__,
                                               rpc_address_of=self._rpc_ip)
        return argvs

    def _rpc_ip(self, host: str) -> str:
        return self.ips[host] if self.netns is not None else LOOPBACK

    def _start_agents(self) -> None:
        if self.agent_mode == "none":
            self._start_monitor_only()
            return
        hosts = {a.name: a.host for a in self.plan.agents()}
        for name, argv in self.agent_argvs().items():
            host_dir = self.host_dir(hosts[name])
            host_dir.mkdir(parents=True, exist_ok=True)
            if self.agent_mode == "thread":
                setup = parse_agent_args(script_of(argv), argv[3:])
                agent = HostedAgent(setup, self.registry, self.errors)
                self.agent_threads[name] = agent
                agent.start_thread()
            else:
                env = agent_env(home=str(self.workdir), pythonpath=_pythonpath())
                proc = ManagedProcess([*self.exec_prefix(hosts[name]), *argv], name=name,
                                      run_dir=host_dir,
                                      log_path=host_dir / f"{name}.out", env=env)
                self.agent_procs[name] = proc
                proc.start()

    def _start_monitor_only(self) -> None:
        """``agents="none"``: no behaviours or strategies, only the monitor (tests drive)."""
        for name, argv in self.agent_argvs().items():
            if script_of(argv) == "monitor":
                setup = parse_agent_args("monitor", argv[3:])
                setup.options["agents"] = []  # the plan's other agents do not run
                agent = HostedAgent(setup, self.registry, self.errors)
                self.agent_threads[name] = agent
                agent.start_thread()

    # -- run ---------------------------------------------------------------------------
    def run(self, duration: float | None = None) -> None:
        """Let the network live ``duration`` simulated seconds (default the plan's) from t0."""
        assert self.t0 is not None, "start() first"
        duration = self.plan.duration if duration is None else duration
        end = self.t0 + duration / self.time_scale
        pending = sorted((d for d in self.daemons.values() if d.spec.start_time > 0 and d.process is None),
                         key=lambda d: d.spec.start_time)
        next_progress = 0.0
        while True:
            # what is due by now happens, also on the last pass: a call that comes late (the
            # caller was busy past ``end``) still starts, stops and restarts what was due by
            # ``duration``, and nothing due after it
            now = time.time()
            due = min(self.now(), duration)
            while pending and due >= pending[0].spec.start_time:
                self._start_late(pending.pop(0))
            if self.churn is not None:
                self.churn.step(due)
            self.check_health()
            if now >= end:
                break
            if self.progress is not None and now >= next_progress:
                self.progress(due, duration, self.blocks_mined())
                next_progress = now + 0.5
            time.sleep(max(0.0, min(HEALTH_EVERY_S, end - time.time())))
        self._phase("ran")

    def _start_late(self, daemon: PlannedDaemon) -> None:
        daemon.start()
        for wallet in self.wallets.values():
            if wallet.spec.node == daemon.name and wallet.process is None:
                wallet.start()  # its user agent opens or creates the wallet

    def check_health(self) -> None:
        """Raise :class:`ProcessDied` (with the log tail) for any process that died."""
        procs: list[MonerodNode | WalletRpcNode] = [*self.daemons.values(), *self.wallets.values()]
        for proc in procs:
            process = proc.process
            if process is None or process.alive() or proc.stopped_on_purpose:
                continue  # (a node the live API stopped is not dead)
            if proc.process is process:
                proc.ensure_alive()  # ProcessDied naming the node, with its log tail
        for name, agent_proc in self.agent_procs.items():
            code = agent_proc.returncode
            if code not in (None, 0):
                raise ProcessDied(name, code, agent_proc.log_tail(), agent_proc.log_path,
                                  "while the run was going on")
        if self.errors.fatal:
            raise MonerodBackendError("agent failed:\n" + "\n".join(self.errors.fatal))

    def settle_tips(self, timeout: float = SETTLE_TIPS_S) -> bool:
        """Every running daemon onto one tip (:func:`.hosts.settle_tips`), as extra end_of_run."""
        self.end_of_run = settle_tips([d for d in self.daemons.values()
                                       if d.alive() and not d.stopped_on_purpose], timeout,
                                      burn_address=BURN_ADDRESS)
        return bool(self.end_of_run["settled"])

    def blocks_mined(self) -> int:
        return sum(a.node_api.blocks_mined for a in self.agent_threads.values()
                   if a.node_api is not None)

    # -- end ---------------------------------------------------------------------------
    def stop_agents(self) -> None:
        """Stop behaviours and strategies, then the monitor's final sweep (daemons still up)."""
        monitors = {n: a for n, a in self.agent_threads.items() if a.setup.script == "monitor"}
        others = [a for n, a in self.agent_threads.items() if n not in monitors]
        for agent in others:
            agent.scheduler.stop()
        for agent in others:  # all idle before any reports: one client per wallet at a time
            agent.stop()
        deadline = time.monotonic() + AGENT_EXIT_TIMEOUT_S
        for proc in self.agent_procs.values():  # they exit by themselves at the end; a miner
            proc.wait(max(0.0, deadline - time.monotonic()))  # still mining would race settle_tips
        self.settle_tips()  # wallets report balances on the chain every node ends on
        for agent in others:
            agent.finish()
        for agent in monitors.values():
            agent.stop()
            agent.finish()
        for proc in self.agent_procs.values():
            proc.stop()
        failed = {n: p.returncode for n, p in self.agent_procs.items() if p.returncode not in (0, None)}
        if failed:
            name, code = next(iter(failed.items()))
            proc = self.agent_procs[name]
            raise ProcessDied(name, code, proc.log_tail(), proc.log_path, "at the end of the run")
        if self.errors.fatal:
            raise MonerodBackendError("agent failed:\n" + "\n".join(self.errors.fatal))

    def collect(self) -> Result:
        """Stop the agents, sweep, and build the :class:`Result` (processes keep running)."""
        assert self.t0 is not None
        self.stop_agents()
        if self.agent_mode == "none":  # no wallet agents: report the wallets from here
            log = EventLog(self.host_dir(self.monitor_host) / "wallets.jsonl", "runner",
                           Clock(self.t0, self.time_scale))
            for wallet in self.wallets.values():
                if wallet.alive():
                    write_wallet_state(log, wallet.spec.name, wallet.spec.node, wallet.rpc)
            log.close()
        self._phase("collected")
        result = self._build_result(time.time())
        result.extra["phases_s"] = dict(self.phases)
        result.extra["network"] = self.network_record()
        result.extra["end_of_run"] = self.end_of_run
        churn = self.churn.record() if self.churn is not None else None
        if churn and churn["nodes"]:
            result.extra["churn"] = churn
            result.extra["offline_at_end"] = churn.pop("offline_names")
        result.extra["timing"] = timing_record(result, time_scale=self.time_scale,
                                               target_s=self.plan.target_s)
        if self.plan.dynamic and self.netns is None:
            result.extra["loopback_peers"] = {h: list(d.exclusive_peers)
                                              for h, d in self.daemon_specs.items()}
        return result

    def partial_result(self) -> Result:
        """What the run's logs hold up to where it stopped (a run interrupted or failed midway).

        Read from the files the monitor and agents wrote, so it works after :meth:`close`."""
        if self.t0 is None:
            raise MonerodBackendError("the network stopped before its run began")
        return self._build_result(self.stopped_at or time.time())

    def _build_result(self, end: float) -> Result:
        """The result of the run from ``t0`` to wall time ``end``, read from the hosts' logs."""
        assert self.t0 is not None
        result = build_result(
            self.plan, host_directories(self.plan, self.hosts_dir), t0=self.t0,
            time_scale=self.time_scale, backend="monerod",
            sim_seconds=min(self.plan.duration, (end - self.t0) * self.time_scale),
            wall_seconds=end - self.started_wall, history=self.history,
        )
        result.extra["workdir"] = str(self.workdir)
        if self.warm_record is not None:
            result.extra["warm_chain"] = dict(self.warm_record, tip=self.history and self.history[0],
                                              tip_height=self.history and self.history[1])
        return result

    def close(self) -> None:
        """Stop every process this network started (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self.stopped_at = time.time()
        try:
            for agent in self.agent_threads.values():
                agent.scheduler.stop()
            with ThreadPoolExecutor(max_workers=1 + len(self.agent_procs)) as pool:
                # agents, wallets and daemons all at once, in bounded time (an interrupt included)
                for proc in self.agent_procs.values():
                    pool.submit(proc.stop, term_timeout=3.0)
                pool.submit(stop_together, [*self.wallets.values(), *self.daemons.values()])
            deadline = time.monotonic() + 1.0  # a thread stuck in an RPC to a dead node is left behind
            for agent in self.agent_threads.values():
                agent.stop(timeout=max(0.0, deadline - time.monotonic()))
                with contextlib.suppress(Exception):
                    agent.log.close()
        finally:
            if self.allocator is not None:
                self.allocator.close()
            if self.netns is not None:
                self.netns.close()

    def __enter__(self) -> LoopbackNetwork:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _pythonpath() -> list[str]:
    """The interpreter's import path, for agent processes (their environment is explicit)."""
    return [p for p in sys.path if p and Path(p).is_dir()]


__all__ = ["LoopbackNetwork", "PlannedDaemon", "PlannedWallet", "default_root", "loopback_ip"]
