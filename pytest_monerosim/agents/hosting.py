"""Hosting one agent: its command line, its objects, its thread or process.

Every agent is described by the command line of its script (built by
:func:`pytest_monerosim.backends.command_lines.agent_argv`). :func:`parse_agent_args`
turns that command line into an :class:`AgentSetup`; :class:`HostedAgent`
builds the behaviour / wallet strategy / monitor from it and drives it with a
:class:`~.realtime.Scheduler`. The ``monerod`` backend's in-process mode parses
the very command lines it would otherwise execute, so threads and processes
run one configuration path.

Common options of every script::

    --name NAME --host HOST --out DIR --shared DIR --t0 EPOCH --time-scale S
    --duration SIM_S --seed N [--start SIM_S] [--plugin-module MODULE]...
    [--node NODE --daemon URL] [--wallet-name NAME --wallet URL]
    [--plugin NAME --params JSON] [--options JSON]
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..registry import Registry
from ..rpc import DaemonRpc
from ..rpc.errors import MonerodBackendError
from .realtime import Clock, EventLog, Scheduler
from .runtime import (
    BURN_ADDRESS,
    AgentErrors,
    PeerNames,
    RpcNode,
    RpcWallet,
    WalletDirectory,
    daemon_client,
    wait_rpc,
    wallet_address,
    wallet_client,
    write_wallet_state,
)

READY_TIMEOUT_S = 120.0
"""Wall seconds an agent waits for its daemon or wallet to come up."""


@dataclass
class AgentSetup:
    name: str
    script: str
    host: str
    out_dir: Path
    shared_dir: Path
    t0: float
    time_scale: float
    duration: float
    seed: int
    start: float = 0.0
    node: str | None = None
    daemon_url: str | None = None
    wallet: str | None = None
    wallet_url: str | None = None
    plugin: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    plugin_modules: list[str] = field(default_factory=list)

    @property
    def clock(self) -> Clock:
        return Clock(self.t0, self.time_scale)

    @property
    def end_wall(self) -> float:
        """When the agent stops: the run's end (the monitor: plus its ``grace_s``)."""
        grace = float(self.options.get("grace_s", 0.0)) if self.script == "monitor" else 0.0
        return self.t0 + (self.duration + grace) / self.time_scale


def _parser(script: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=f"python -m pytest_monerosim.agents.{script}",
                                description=f"monerosim {script} agent")
    p.add_argument("--name", required=True)
    p.add_argument("--host", required=True)
    p.add_argument("--out", required=True, type=Path, help="directory for <name>.jsonl")
    p.add_argument("--shared", required=True, type=Path, help="directory shared by all agents")
    p.add_argument("--t0", required=True, type=float, help="epoch seconds at simulated time 0")
    p.add_argument("--time-scale", type=float, default=120.0,
                   help="simulated seconds per second (1 under Shadow)")
    p.add_argument("--duration", required=True, type=float, help="simulated seconds to run")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--start", type=float, default=0.0, help="simulated start time")
    p.add_argument("--node")
    p.add_argument("--daemon", help="daemon RPC URL, http://ip:port")
    p.add_argument("--wallet-name")
    p.add_argument("--wallet", help="wallet RPC URL, http://ip:port")
    p.add_argument("--plugin", help="behaviour or wallet strategy name")
    p.add_argument("--params", default="{}", help="plugin parameters (JSON)")
    p.add_argument("--options", default="{}", help="script options (JSON)")
    p.add_argument("--plugin-module", action="append", default=[],
                   help="module whose PLUGINS list is added to the registry")
    return p


def parse_agent_args(script: str, argv: Sequence[str]) -> AgentSetup:
    ns = _parser(script).parse_args(list(argv))
    return AgentSetup(
        name=ns.name, script=script, host=ns.host, out_dir=ns.out, shared_dir=ns.shared,
        t0=ns.t0, time_scale=ns.time_scale, duration=ns.duration, seed=ns.seed, start=ns.start,
        node=ns.node, daemon_url=ns.daemon, wallet=ns.wallet_name, wallet_url=ns.wallet,
        plugin=ns.plugin, params=json.loads(ns.params), options=json.loads(ns.options),
        plugin_modules=list(ns.plugin_module),
    )


def script_of(argv: Sequence[str]) -> str:
    """The script name in ``[python, -m, pytest_monerosim.agents.<script>, ...]``."""
    return str(argv[2]).rsplit(".", 1)[-1]


BUILTIN_BY_KIND = {
    "behaviour": "pytest_monerosim.agents.behaviours",
    "wallet_strategy": "pytest_monerosim.agents.wallets",
}


def agent_registry(kind: str, modules: Sequence[str] = ()) -> Registry:
    """A registry of the one plugin kind an agent process hosts.

    The built-in module of that kind, the kind's entry-point group and the
    ``PLUGINS`` of ``modules`` (``--plugin-module``): an agent process imports
    nothing else (no simulator, no attacks), so it starts fast.
    """
    from importlib.metadata import entry_points

    from ..registry import ENTRY_POINT_GROUPS

    registry = Registry()
    for name in (BUILTIN_BY_KIND[kind], *modules):
        for spec in importlib.import_module(name).PLUGINS:
            if spec.kind == kind:
                registry.add(spec, replace=True)
    for ep in entry_points(group=ENTRY_POINT_GROUPS[kind]):  # type: ignore[index]
        obj = ep.load()
        for spec in obj if isinstance(obj, (list, tuple)) else [obj]:
            registry.add(spec, replace=True)
    return registry


class HostedAgent:
    """One agent's objects and scheduler; started with :meth:`begin`."""

    def __init__(self, setup: AgentSetup, registry: Registry | None,
                 errors: AgentErrors | None = None) -> None:
        self.setup = setup
        self.registry = registry
        self.errors = errors or AgentErrors()
        self.clock = setup.clock
        self.log = EventLog(setup.out_dir / f"{setup.name}.jsonl", setup.name, self.clock)
        self.scheduler = Scheduler(self.clock, setup.name, self.errors.handler(setup.name, self.log))
        self.directory = WalletDirectory(setup.shared_dir)
        self.node_api: RpcNode | None = None
        self.wallet_api: RpcWallet | None = None
        self.monitor: Any = None

    def begin(self) -> None:
        s = self.setup
        self.log.write("start", script=s.script, host=s.host, node=s.node, wallet=s.wallet,
                       plugin=s.plugin, params=s.params, start=s.start, pid=os.getpid())
        starter = {"miner": self._start_node, "user": self._start_wallet,
                   "distributor": self._start_wallet, "monitor": self._start_monitor}[s.script]
        self.scheduler.at(s.start, starter)

    # -- starters ----------------------------------------------------------------------
    def _start_node(self) -> None:
        s = self.setup
        assert s.daemon_url and s.node and s.plugin, "a miner agent needs --node, --daemon, --plugin"
        rpc = daemon_client(s.daemon_url)
        wait_rpc(rpc.get_info, f"daemon of {s.node}", READY_TIMEOUT_S)
        _wait_synchronized(rpc, s.node)
        address = self.directory.wait_for(s.wallet, READY_TIMEOUT_S) if s.wallet else BURN_ADDRESS
        opts = _plan_options(s.options, ("group", "role", "hashrate", "total_hashrate", "target_s",
                                         "p2p", "out_peers", "in_peers"))
        self.node_api = RpcNode(
            name=s.node, group=str(opts["group"]), role=str(opts["role"]),
            rpc=rpc, scheduler=self.scheduler, log=self.log, seed=s.seed,
            hashrate=float(opts["hashrate"]), total_hashrate=float(opts["total_hashrate"]),
            target_s=float(opts["target_s"]), mining_address=address,
            peer_names=PeerNames(opts["p2p"], s.shared_dir),
            out_peers=int(opts["out_peers"]), in_peers=opts["in_peers"],
        )
        behaviour = self._plugin("behaviour")
        behaviour.start(self.node_api)

    def _start_wallet(self) -> None:
        s = self.setup
        assert s.wallet and s.wallet_url and s.daemon_url and s.node, \
            "a wallet agent needs --wallet-name, --wallet, --node and --daemon"
        wallet = wallet_client(s.wallet_url)
        wait_rpc(wallet.get_version, f"wallet-rpc of {s.wallet}", READY_TIMEOUT_S)
        address = wallet_address(wallet, s.wallet)
        self.directory.publish(s.wallet, address, s.node)
        self.wallet_api = RpcWallet(
            name=s.wallet, node=s.node, address=address, wallet=wallet,
            daemon=daemon_client(s.daemon_url), scheduler=self.scheduler, log=self.log,
            seed=s.seed, directory=self.directory, roster=s.options.get("roster"),
        )
        strategy = self._plugin("wallet_strategy")
        strategy.start(self.wallet_api)

    def _start_monitor(self) -> None:
        from .monitor import Monitor

        s = self.setup
        opts = s.options
        self.monitor = Monitor(
            daemons={n: daemon_client(u) for n, u in opts.get("daemons", {}).items()},
            p2p=opts.get("p2p", {}),
            log=self.log, shared_dir=s.shared_dir, poll_s=float(opts.get("poll_s", 30.0)),
        )
        self.monitor.start(self.scheduler)

    def _plugin(self, kind: str) -> Any:
        s = self.setup
        if self.registry is None:
            self.registry = agent_registry(kind, s.plugin_modules)
        assert s.plugin is not None
        spec = self.registry.get(kind, s.plugin)  # type: ignore[arg-type]
        return spec.factory(spec.validate(s.params))

    # -- running ------------------------------------------------------------------------
    def run_here(self) -> None:
        """Run on this thread until the run's end (or :meth:`stop`)."""
        self.begin()
        self.scheduler.run(until_wall=self.setup.end_wall)

    def start_thread(self) -> None:
        self.begin()
        self.scheduler.start_thread()

    def stop(self, timeout: float = 10.0) -> None:
        self.scheduler.stop()
        self.scheduler.join(timeout)

    def finish(self) -> None:
        """Final records (daemons and wallets must still run), then the ``stop`` record.

        The monitor makes its sweep; a wallet agent reports its wallet's state.
        """
        if self.monitor is not None:
            wait_stopped(self.setup.shared_dir, self.setup.options.get("agents", []))
            self.monitor.sweep()
        if self.wallet_api is not None:
            write_wallet_state(self.log, self.wallet_api.name, self.wallet_api.node,
                               self.wallet_api.client)
        self.log.write("stop", blocks_mined=self.node_api.blocks_mined if self.node_api else 0)
        self.log.close()
        mark_stopped(self.setup.shared_dir, self.setup.name)


STOPPED_DIR = "stopped"
STOP_WAIT_WALL_S = 30.0


def _plan_options(options: dict[str, Any], keys: Sequence[str]) -> dict[str, Any]:
    """``options`` if it holds every key the process plan writes for this agent (the scenario's
    values, defaults applied once in the layout); a missing one is a plan/agent mismatch."""
    missing = [k for k in keys if k not in options]
    if missing:
        raise ValueError(f"agent options lack {', '.join(missing)}: they come from the process plan "
                         "(backends/plan.py, backends/command_lines.py); rebuild the plan")
    return options


def mark_stopped(shared_dir: Path, agent: str) -> None:
    """Say ``agent`` is done (``<shared>/stopped/<agent>``): it no longer calls any RPC."""
    path = shared_dir / STOPPED_DIR
    path.mkdir(parents=True, exist_ok=True)
    (path / agent).touch()


def wait_stopped(shared_dir: Path, agents: Sequence[str], timeout: float = STOP_WAIT_WALL_S) -> None:
    """Wait (wall seconds) until ``agents`` have all stopped: the monitor sweeps after them."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all((shared_dir / STOPPED_DIR / a).exists() for a in agents):
            return
        time.sleep(0.05)


def _wait_synchronized(rpc: DaemonRpc, node: str, timeout: float = READY_TIMEOUT_S) -> None:
    """monerod refuses to mine (BUSY) until it has synced with a peer (or runs offline)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if rpc.get_info().get("synchronized"):
                return
        except MonerodBackendError:
            pass
        if time.monotonic() >= deadline:
            raise MonerodBackendError(f"daemon of {node} not synchronized after {timeout:g} s; "
                                      "it needs a peer to sync with")
        time.sleep(0.1)
