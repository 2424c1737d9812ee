"""One real ``monero-wallet-rpc`` serving wallets against a regtest daemon.

``monero-wallet-rpc`` 0.18 has no ``--regtest`` flag: it runs in mainnet mode
and talks to the regtest daemon, whose addresses are mainnet-style. Wallet
files live in ``--wallet-dir``; one process serves one open wallet at a time.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from ...rpc import WalletRpc
from .daemon import check_version, find_binary
from .errors import RpcError
from .node_base import RpcProcessNode
from .ports import LOOPBACK, default_allocator
from .process import ManagedProcess

WALLET_RPC = "monero-wallet-rpc"
#: error code monero-wallet-rpc answers when open_wallet finds no such file
WALLET_OPEN_FAILED = -1


class WalletRpcNode(RpcProcessNode):
    """A ``monero-wallet-rpc`` process bound to loopback, with its RPC client."""

    KIND = "wallet"
    NOT_ANSWERING = "wallet {name}: RPC {url} not answering after {timeout:g} s"
    rpc: WalletRpc

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

    def _state_dir(self) -> Path:
        return self.wallet_dir

    def _bound_ports(self) -> list[tuple[str, int]]:
        return [("wallet rpc", self.rpc_port)]

    def _probe_rpc(self) -> bool:
        self.rpc.request("get_version", timeout=2.0, retry=False)
        return True

    def _stop_rpc(self) -> None:
        """``stop_wallet`` saves the wallet before the process exits."""
        self.rpc.stop_wallet()

    def open_or_create(self, filename: str, password: str = "") -> str:
        """Open ``filename`` in the wallet dir, creating it if missing; return its address."""
        try:
            self.rpc.open_wallet(filename, password)
        except RpcError as exc:
            if exc.code != WALLET_OPEN_FAILED or (self.wallet_dir / filename).exists():
                raise
            self.rpc.create_wallet(filename, password)
        return self.rpc.get_address()

    def __repr__(self) -> str:
        return f"WalletRpcNode({self.name!r}, rpc={self.rpc_port}, daemon={self.daemon_address})"
