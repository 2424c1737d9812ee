"""One real ``monerod`` in regtest mode on loopback.

The command line is built from flags checked against ``monerod --help`` of
Debian's monero 0.18.0.0. Things learned from that binary that shape the
defaults here:

* Every node on loopback connects from 127.0.0.1 (outgoing sockets are not
  bound to ``--p2p-bind-ip``), and ``--max-connections-per-ip`` defaults to 1,
  so a node would accept a single incoming peer. Nodes get a high limit.
* A node is "synchronized" (and ``generateblocks`` answers ``BUSY`` until it
  is) only after syncing with one peer; an isolated node must run ``--offline``.
* ``--rpc-ssl disabled`` skips generating a TLS certificate at each start.
* In regtest the chain is deleted at start unless ``--keep-fakechain``; it is
  kept so that a restarted node comes back with its chain, like a real one.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ...rpc import DaemonRpc
from ..command_lines import monerod_command
from .errors import (
    BinaryNotFound,
    BinaryVersionError,
    MonerodBackendError,
    PortInUse,
    RpcConnectionError,
    RpcTimeout,
)
from .node_base import RpcProcessNode
from .ports import LOOPBACK, NodePorts, allocate_node_ports, port_is_free
from .process import ManagedProcess

MONEROD = "monerod"
SUPPORTED_SERIES = "0.18."
#: every peer on loopback shares one IP; see the module docstring
DEFAULT_MAX_CONNECTIONS_PER_IP = 256


def find_binary(name: str, configured: str | os.PathLike[str] | None = None) -> Path:
    """Locate ``name`` (or the ``configured`` path or command); raise BinaryNotFound."""
    if configured:
        text = os.fspath(configured)
        if os.sep in text:
            path = Path(text).expanduser()
            if path.is_file() and os.access(path, os.X_OK):
                return path.resolve()
            raise BinaryNotFound(name, text)
        found = shutil.which(text)
        if found is None:
            raise BinaryNotFound(name, text)
        return Path(found)
    found = shutil.which(name)
    if found is None:
        raise BinaryNotFound(name)
    return Path(found)


@functools.lru_cache(maxsize=16)
def check_version(binary: str | os.PathLike[str], expected: str = SUPPORTED_SERIES) -> str:
    """Return the binary's version (``0.18.0.0``); raise BinaryVersionError otherwise."""
    try:
        done = subprocess.run(
            [os.fspath(binary), "--version"], capture_output=True, text=True, timeout=30
        )
    except OSError as exc:
        raise BinaryNotFound(Path(binary).name, os.fspath(binary)) from exc
    except subprocess.TimeoutExpired as exc:
        raise BinaryVersionError(os.fspath(binary), "no answer to --version in 30 s") from exc
    match = re.search(r"v(\d+\.\d+\.\d+(?:\.\d+)?)", done.stdout + done.stderr)
    if match is None:
        found = (done.stdout + done.stderr).strip()[:100] or f"exit code {done.returncode}"
        raise BinaryVersionError(os.fspath(binary), found, expected + "x")
    version = match.group(1)
    if not version.startswith(expected):
        raise BinaryVersionError(os.fspath(binary), version, expected + "x")
    return version


@dataclass(frozen=True)
class NodeHealth:
    """A snapshot of a node's state; built without ever raising."""

    name: str
    alive: bool
    rpc_ok: bool
    returncode: int | None = None
    height: int | None = None
    synchronized: bool | None = None
    outgoing: int | None = None
    incoming: int | None = None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.alive and self.rpc_ok


class MonerodNode(RpcProcessNode):
    """A regtest ``monerod`` bound to loopback, with its RPC client."""

    KIND = "node"
    NOT_ANSWERING = (
        "{name}: RPC {url} not answering after {timeout:g} s although the process runs"
    )
    rpc: DaemonRpc

    def __init__(
        self,
        name: str,
        data_dir: Path,
        ports: NodePorts | None = None,
        *,
        exclusive_peers: Sequence[str] = (),
        priority_peers: Sequence[str] = (),
        add_peers: Sequence[str] = (),
        out_peers: int | None = None,
        in_peers: int | None = None,
        max_connections_per_ip: int | None = DEFAULT_MAX_CONNECTIONS_PER_IP,
        fixed_difficulty: int = 1,
        offline: bool = False,
        hide_my_port: bool = False,
        keep_chain: bool = True,
        zmq: bool = False,
        log_level: int | str = 0,
        extra_args: Sequence[str] = (),
        binary: str | os.PathLike[str] | None = None,
        run_dir: Path | None = None,
        rpc_timeout: float = 30.0,
    ) -> None:
        self.name = name
        self.data_dir = Path(data_dir)
        self.run_dir = Path(run_dir) if run_dir else self.data_dir
        self.ports = ports or allocate_node_ports()
        self.exclusive_peers = list(exclusive_peers)
        self.priority_peers = list(priority_peers)
        self.add_peers = list(add_peers)
        self.out_peers = out_peers
        self.in_peers = in_peers
        self.max_connections_per_ip = max_connections_per_ip
        self.fixed_difficulty = fixed_difficulty
        self.offline = offline
        self.hide_my_port = hide_my_port
        self.keep_chain = keep_chain
        self.zmq = zmq
        self.log_level = log_level
        self.extra_args = list(extra_args)
        self.binary = find_binary(MONEROD, binary)
        self.version = check_version(str(self.binary))
        self.host = LOOPBACK
        self.rpc = DaemonRpc(self.host, self.ports.rpc, timeout=rpc_timeout)
        self.process: ManagedProcess | None = None

    # -- addresses and files ---------------------------------------------------

    @property
    def p2p_address(self) -> str:
        """``127.0.0.1:port``: what other nodes pass as an exclusive/priority peer."""
        return f"{self.host}:{self.ports.p2p}"

    @property
    def rpc_address(self) -> str:
        """``127.0.0.1:port``: what a wallet passes as ``--daemon-address``."""
        return f"{self.host}:{self.ports.rpc}"

    # -- command line -------------------------------------------------------------

    def command_line(self) -> list[str]:
        return monerod_command(
            binary=self.binary, data_dir=self.data_dir, log_file=self.log_path,
            address=self.host, p2p_port=self.ports.p2p, rpc_port=self.ports.rpc,
            log_level=self.log_level, fixed_difficulty=self.fixed_difficulty,
            keep_chain=self.keep_chain, zmq_port=self.ports.zmq if self.zmq else None,
            offline=self.offline, hide_my_port=self.hide_my_port,
            max_connections_per_ip=self.max_connections_per_ip, out_peers=self.out_peers,
            in_peers=self.in_peers, exclusive=self.exclusive_peers, priority=self.priority_peers,
            add_peers=self.add_peers, extra_args=self.extra_args,
        )

    def _bound_ports(self) -> list[tuple[str, int]]:
        bound = [("p2p", self.ports.p2p), ("rpc", self.ports.rpc)]
        if self.zmq:
            bound.append(("zmq", self.ports.zmq))
        return bound

    # -- lifecycle (start, wait_ready, stop: see RpcProcessNode) --------------------

    def _state_dir(self) -> Path:
        return self.data_dir

    def _probe_rpc(self) -> bool:
        info = self.rpc.request("get_info", timeout=2.0, retry=False)
        return bool(info.get("status") == "OK")

    def _stop_rpc(self) -> None:
        self.rpc.stop_daemon()

    def wait_synchronized(self, timeout: float = 60.0) -> None:
        """Wait until the daemon reports ``synchronized`` (it can then mine)."""
        deadline = time.monotonic() + timeout
        while True:
            self.ensure_alive()
            with self.diagnose():
                info = self.rpc.get_info()
            if info.get("synchronized"):
                return
            if time.monotonic() >= deadline:
                raise MonerodBackendError(
                    f"{self.name}: not synchronized after {timeout:g} s "
                    f"(height {info.get('height')}, {info.get('outgoing_connections_count')} out /"
                    f" {info.get('incoming_connections_count')} in peers); a node syncs only "
                    "after connecting to a peer, or when started offline"
                )
            time.sleep(0.2)

    @contextlib.contextmanager
    def diagnose(self) -> Iterator[None]:
        """Turn an RPC failure caused by the process dying into :class:`ProcessDied`.

        A refused connection right after a crash can arrive before the exit is
        visible to ``waitpid``, so give the process a moment to be seen dead.
        """
        try:
            yield
        except (RpcConnectionError, RpcTimeout):
            if self.process is not None:
                self.process.wait(1.0)
            self.ensure_alive()
            raise

    def health(self) -> NodeHealth:
        proc = self.process
        if proc is None or not proc.alive():
            return NodeHealth(
                self.name, alive=False, rpc_ok=False,
                returncode=proc.returncode if proc else None,
                error="not started" if proc is None else "process exited",
            )
        try:
            info = self.rpc.request("get_info", timeout=5.0, retry=False)
        except MonerodBackendError as exc:
            return NodeHealth(self.name, alive=True, rpc_ok=False, error=str(exc))
        return NodeHealth(
            self.name,
            alive=True,
            rpc_ok=True,
            height=int(info.get("height", 0)),
            synchronized=bool(info.get("synchronized")),
            outgoing=int(info.get("outgoing_connections_count", 0)),
            incoming=int(info.get("incoming_connections_count", 0)),
        )

    def __repr__(self) -> str:
        return f"MonerodNode({self.name!r}, p2p={self.ports.p2p}, rpc={self.ports.rpc})"

    # -- internals -------------------------------------------------------------------

    def _death_cause(self, tail: str) -> PortInUse | None:
        if "Failed to bind" in tail or "Address already in use" in tail:
            for role, port in self._bound_ports():
                if not port_is_free(port, self.host):
                    return PortInUse(port, f"{self.name} {role}")
        return None


# -- waiting on several nodes --------------------------------------------------------


def wait_for_height(nodes: Sequence[MonerodNode], height: int, timeout: float = 60.0) -> float:
    """Wait until every node's chain height (block count) is at least ``height``.

    Returns the seconds waited; fails fast if a node dies, and on timeout names
    each node's height.
    """
    return _wait_nodes(
        nodes, lambda n: n.rpc.get_height() >= height, timeout, f"height {height}",
        lambda n: f"height {n.rpc.get_height()}",
    )


def wait_for_same_tip(nodes: Sequence[MonerodNode], timeout: float = 60.0) -> str:
    """Wait until every node has the same top block; return its hash."""
    begin = time.monotonic()
    while True:
        tips: dict[str, str] = {}
        for node in nodes:
            node.ensure_alive()
            with node.diagnose():
                tips[node.name] = str(node.rpc.get_last_block_header()["hash"])
        if len(set(tips.values())) == 1:
            return next(iter(tips.values()))
        if time.monotonic() - begin >= timeout:
            states = ", ".join(f"{name}: {tip[:12]}" for name, tip in tips.items())
            raise MonerodBackendError(
                f"nodes did not agree on a top block within {timeout:g} s ({states})"
            )
        time.sleep(0.1)


def wait_for_connections(node: MonerodNode, count: int, timeout: float = 60.0) -> float:
    """Wait until ``node`` has at least ``count`` connections (in + out)."""

    def total(n: MonerodNode) -> int:
        info = n.rpc.get_info()
        return int(info.get("outgoing_connections_count", 0)) + int(
            info.get("incoming_connections_count", 0)
        )

    return _wait_nodes([node], lambda n: total(n) >= count, timeout,
                       f"{count} connections", lambda n: f"{total(n)} connections")


def stop_nodes(nodes: Sequence[MonerodNode], timeout: float = 15.0) -> dict[str, int | None]:
    """Stop many nodes at once (:func:`.shutdown.stop_together`, ``timeout`` of grace).

    Returns each node's exit code by name.
    """
    from .shutdown import stop_together

    return stop_together(nodes, grace=timeout)


def _wait_nodes(
    nodes: Sequence[MonerodNode],
    done: Callable[[MonerodNode], bool],
    timeout: float,
    goal: str,
    describe: Callable[[MonerodNode], str],
) -> float:
    begin = time.monotonic()
    while True:
        pending = []
        for node in nodes:
            node.ensure_alive()
            with node.diagnose():
                if not done(node):
                    pending.append(node)
        if not pending:
            return time.monotonic() - begin
        if time.monotonic() - begin >= timeout:
            states = ", ".join(f"{n.name}: {_safe(describe, n)}" for n in nodes)
            raise MonerodBackendError(
                f"nodes did not reach {goal} within {timeout:g} s ({states}); "
                "check their peers (get_connections) and logs"
            )
        time.sleep(0.1)


def _safe(describe: Callable[[MonerodNode], str], node: MonerodNode) -> str:
    try:
        return describe(node)
    except MonerodBackendError as exc:
        return f"unreachable ({type(exc).__name__})"
