"""The process lifecycle shared by ``monerod`` and ``monero-wallet-rpc`` nodes.

A node owns one :class:`ManagedProcess` and one RPC client; it starts the
process after checking its ports, polls the RPC until it answers, turns an
exit into :class:`ProcessDied` carrying the log tail, and stops the process
with an RPC request first, then signals. Subclasses say which ports they
bind, which request proves the RPC ready and which one asks for a clean exit.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import ClassVar, TypeVar

from ...rpc import RpcClient
from .errors import (
    MonerodBackendError,
    PortInUse,
    ProcessDied,
    RpcConnectionError,
    RpcError,
    RpcTimeout,
)
from .ports import port_is_free
from .process import ManagedProcess

_Node = TypeVar("_Node", bound="RpcProcessNode")


class RpcProcessNode:
    """Base of :class:`MonerodNode` and :class:`WalletRpcNode`."""

    #: "node" or "wallet", in "<kind> <name> was never started"
    KIND: ClassVar[str]
    #: the message when the RPC never answers, from ``name``, ``url`` and ``timeout``
    NOT_ANSWERING: ClassVar[str]

    name: str
    run_dir: Path
    host: str
    rpc: RpcClient
    process: ManagedProcess | None
    #: the live API stopped it: its exit is not a crash (see ``LoopbackNetwork.check_health``)
    stopped_on_purpose: bool = False
    #: argv prefix running the process elsewhere (``ip netns exec <ns>``: its own host)
    exec_prefix: list[str] = []

    # -- what a subclass says ------------------------------------------------------

    def command_line(self) -> list[str]:
        raise NotImplementedError

    def _state_dir(self) -> Path:
        """The directory created before the process starts."""
        raise NotImplementedError

    def _bound_ports(self) -> list[tuple[str, int]]:
        """``(role, port)`` for each port the process listens on."""
        raise NotImplementedError

    def _probe_rpc(self) -> bool:
        """One short RPC request; true when the node is ready."""
        raise NotImplementedError

    def _stop_rpc(self) -> None:
        """The RPC request asking the process to exit cleanly."""
        raise NotImplementedError

    def _death_cause(self, tail: str) -> MonerodBackendError | None:
        """A more precise error than :class:`ProcessDied` for a death, if any."""
        return None

    # -- files -----------------------------------------------------------------------

    @property
    def log_path(self) -> Path:
        """The program's own log (``--log-file``)."""
        return self.run_dir / f"{self.name}.log"

    @property
    def stdout_path(self) -> Path:
        """stdout/stderr of the process: start-up failures and crashes land here."""
        return self.run_dir / f"{self.name}.out"

    def log_tail(self, n: int = 40) -> str:
        if self.process is not None:
            return self.process.log_tail(n)
        return ""

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> None:
        """Launch the process (returns at once; see :meth:`wait_ready`)."""
        if self.process is not None and self.process.alive():
            raise MonerodBackendError(f"{self.KIND} {self.name} is already running")
        if not self.exec_prefix:  # in a namespace of its own, the ports are its own
            for role, port in self._bound_ports():
                if not port_is_free(port, self.host):
                    raise PortInUse(port, f"{self.name} {role}")
        self._state_dir().mkdir(parents=True, exist_ok=True)
        self.process = ManagedProcess(
            [*self.exec_prefix, *self.command_line()],
            name=self.name,
            run_dir=self.run_dir,
            log_path=self.stdout_path,
        )
        self.process.start()

    def wait_ready(self, timeout: float = 60.0) -> float:
        """Poll the RPC until it answers; return the seconds it took.

        Fails fast with :class:`PortInUse` or :class:`ProcessDied` (carrying
        the log tail) if the process exits meanwhile.
        """
        proc = self._require_process()
        begin = time.monotonic()
        deadline = begin + timeout
        while True:
            if not proc.alive():
                self._raise_death("while starting")
            try:
                if self._probe_rpc():
                    return time.monotonic() - begin
            except (RpcConnectionError, RpcTimeout, RpcError):
                pass
            if time.monotonic() >= deadline:
                message = self.NOT_ANSWERING.format(
                    name=self.name, url=self.rpc.base_url, timeout=timeout
                )
                raise MonerodBackendError(
                    f"{message}; log {self.stdout_path}:\n{self.log_tail()}"
                )
            time.sleep(0.1)

    def ensure_alive(self) -> None:
        """Raise :class:`ProcessDied` with the log tail if the process has exited."""
        if not self._require_process().alive():
            self._raise_death("unexpectedly")

    def alive(self) -> bool:
        return self.process is not None and self.process.alive()

    def stop(self, timeout: float = 15.0) -> int | None:
        """The stop RPC, then SIGTERM, then SIGKILL; return the exit code."""
        if self.process is None:
            return None
        code = self.process.stop(
            graceful=self._stop_rpc,
            graceful_timeout=timeout,
            term_timeout=5.0,
            kill_timeout=5.0,
        )
        self.rpc.session.close()
        return code

    def __enter__(self: _Node) -> _Node:
        self.start()
        self.wait_ready()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- internals -------------------------------------------------------------------

    def _require_process(self) -> ManagedProcess:
        if self.process is None:
            raise MonerodBackendError(f"{self.KIND} {self.name} was never started")
        return self.process

    def _raise_death(self, when: str) -> None:
        proc = self._require_process()
        tail = proc.log_tail()
        code = proc.returncode
        proc.stop()  # reap it and drop its pid file
        died = ProcessDied(self.name, code, tail, self.stdout_path, when)
        cause = self._death_cause(tail)
        if cause is not None:
            raise cause from died
        raise died
