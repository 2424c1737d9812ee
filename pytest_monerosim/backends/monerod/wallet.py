"""One real ``monero-wallet-rpc`` serving wallets against a regtest daemon.

``monero-wallet-rpc`` 0.18 has no ``--regtest`` flag: it runs in mainnet mode
and talks to the regtest daemon, whose addresses are mainnet-style. Wallet
files live in ``--wallet-dir``; one process serves one open wallet at a time.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path

from .daemon import check_version, find_binary
from .errors import (
    MonerodBackendError,
    PortInUse,
    ProcessDied,
    RpcConnectionError,
    RpcError,
    RpcTimeout,
)
from .ports import LOOPBACK, default_allocator, port_is_free
from .process import ManagedProcess
from .rpc import WalletRpc

WALLET_RPC = "monero-wallet-rpc"
#: error code monero-wallet-rpc answers when open_wallet finds no such file
WALLET_OPEN_FAILED = -1


class WalletRpcNode:
    """A ``monero-wallet-rpc`` process bound to loopback, with its RPC client."""

    def __init__(
        self,
        name: str,
        wallet_dir: Path,
        daemon_address: str,
        rpc_port: int | None = None,
        *,
        log_level: int | str = 0,
        extra_args: Sequence[str] = (),
        binary: str | os.PathLike[str] | None = None,
        run_dir: Path | None = None,
        rpc_timeout: float = 60.0,
    ) -> None:
        self.name = name
        self.wallet_dir = Path(wallet_dir)
        self.run_dir = Path(run_dir) if run_dir else self.wallet_dir
        self.daemon_address = daemon_address
        self.rpc_port = rpc_port if rpc_port is not None else default_allocator().allocate()
        self.log_level = log_level
        self.extra_args = list(extra_args)
        self.binary = find_binary(WALLET_RPC, binary)
        self.version = check_version(str(self.binary))
        self.host = LOOPBACK
        self.rpc = WalletRpc(self.host, self.rpc_port, timeout=rpc_timeout)
        self.process: ManagedProcess | None = None

    @property
    def log_path(self) -> Path:
        return self.run_dir / f"{self.name}.log"

    @property
    def stdout_path(self) -> Path:
        return self.run_dir / f"{self.name}.out"

    def log_tail(self, n: int = 40) -> str:
        return self.process.log_tail(n) if self.process else ""

    def command_line(self) -> list[str]:
        return [
            str(self.binary),
            "--daemon-address", self.daemon_address,
            "--trusted-daemon",
            "--daemon-ssl", "disabled",
            "--disable-rpc-login",
            "--disable-rpc-ban",
            "--rpc-bind-ip", self.host,
            "--rpc-bind-port", str(self.rpc_port),
            "--wallet-dir", str(self.wallet_dir),
            "--shared-ringdb-dir", str(self.wallet_dir / "ringdb"),
            "--log-file", str(self.log_path),
            "--log-level", str(self.log_level),
            "--non-interactive",
            "--no-dns",
            *self.extra_args,
        ]

    def start(self) -> None:
        if self.process is not None and self.process.alive():
            raise MonerodBackendError(f"wallet {self.name} is already running")
        if not port_is_free(self.rpc_port, self.host):
            raise PortInUse(self.rpc_port, f"{self.name} wallet rpc")
        self.wallet_dir.mkdir(parents=True, exist_ok=True)
        self.process = ManagedProcess(
            self.command_line(), name=self.name, run_dir=self.run_dir, log_path=self.stdout_path
        )
        self.process.start()

    def wait_ready(self, timeout: float = 60.0) -> float:
        """Poll ``get_version`` until the RPC answers; return the seconds it took."""
        proc = self._require_process()
        begin = time.monotonic()
        while True:
            if not proc.alive():
                self._raise_death("while starting")
            try:
                self.rpc.request("get_version", timeout=2.0, retry=False)
                return time.monotonic() - begin
            except (RpcConnectionError, RpcTimeout, RpcError):
                pass
            if time.monotonic() - begin >= timeout:
                raise MonerodBackendError(
                    f"wallet {self.name}: RPC {self.rpc.base_url} not answering after "
                    f"{timeout:g} s; log {self.stdout_path}:\n{self.log_tail()}"
                )
            time.sleep(0.1)

    def ensure_alive(self) -> None:
        if not self._require_process().alive():
            self._raise_death("unexpectedly")

    def alive(self) -> bool:
        return self.process is not None and self.process.alive()

    def stop(self, timeout: float = 15.0) -> int | None:
        """``stop_wallet`` RPC (saves the wallet), then SIGTERM, then SIGKILL."""
        if self.process is None:
            return None
        code = self.process.stop(
            graceful=self.rpc.stop_wallet, graceful_timeout=timeout,
            term_timeout=5.0, kill_timeout=5.0,
        )
        self.rpc.session.close()
        return code

    def open_or_create(self, filename: str, password: str = "") -> str:
        """Open ``filename`` in the wallet dir, creating it if missing; return its address."""
        try:
            self.rpc.open_wallet(filename, password)
        except RpcError as exc:
            if exc.code != WALLET_OPEN_FAILED or (self.wallet_dir / filename).exists():
                raise
            self.rpc.create_wallet(filename, password)
        return self.rpc.get_address()

    def __enter__(self) -> WalletRpcNode:
        self.start()
        self.wait_ready()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"WalletRpcNode({self.name!r}, rpc={self.rpc_port}, daemon={self.daemon_address})"

    def _require_process(self) -> ManagedProcess:
        if self.process is None:
            raise MonerodBackendError(f"wallet {self.name} was never started")
        return self.process

    def _raise_death(self, when: str) -> None:
        proc = self._require_process()
        tail, code = proc.log_tail(), proc.returncode
        proc.stop()
        raise ProcessDied(self.name, code, tail, self.stdout_path, when)
