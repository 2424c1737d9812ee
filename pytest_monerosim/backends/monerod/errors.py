"""Errors raised by the real-``monerod`` backend.

The RPC errors (and the base class every one of these shares) live with the
client in :mod:`pytest_monerosim.rpc.errors`; they are imported here so the
backend's errors are found in one module. Every message says what went wrong
and what a person can do about it: which binary to install, which port is
taken, where the log is.
"""

from __future__ import annotations

from pathlib import Path

from ...rpc.errors import MonerodBackendError, RpcConnectionError, RpcError, RpcTimeout

INSTALL_HINT = (
    "install Debian's package 'monero' (apt-get install -y monero), "
    "or point the backend at the binary explicitly"
)


class BinaryNotFound(MonerodBackendError):
    """A Monero binary (``monerod``, ``monero-wallet-rpc``) is not installed."""

    def __init__(self, name: str, configured: str | None = None) -> None:
        self.name = name
        self.configured = configured
        if configured:
            where = f"configured path {configured!r} does not exist or is not executable"
        else:
            where = "not found on PATH"
        super().__init__(f"{name}: {where}; {INSTALL_HINT}")


class BinaryVersionError(MonerodBackendError):
    """The binary is not the Monero release the backend was written against."""

    def __init__(self, binary: str, found: str, expected: str = "0.18.x") -> None:
        self.binary = binary
        self.found = found
        self.expected = expected
        super().__init__(
            f"{binary} reports version {found!r}, expected {expected}; "
            f"{INSTALL_HINT} (Debian 12 ships 0.18)"
        )


class PortInUse(MonerodBackendError):
    """A port a node must bind is already taken by another process."""

    def __init__(self, port: int, role: str = "", owner: str = "") -> None:
        self.port = port
        self.role = role
        what = f"{role} port {port}" if role else f"port {port}"
        who = f" ({owner})" if owner else ""
        super().__init__(
            f"{what} on 127.0.0.1 is already in use{who}; stop whatever listens there "
            f"(ss -ltnp 'sport = :{port}') or let the port allocator choose the ports"
        )


class ProcessDied(MonerodBackendError):
    """A managed process exited while it was expected to be running."""

    def __init__(
        self,
        name: str,
        returncode: int | None,
        log_tail: str,
        log_path: Path | str | None = None,
        when: str = "",
    ) -> None:
        self.name = name
        self.returncode = returncode
        self.log_tail = log_tail
        self.log_path = log_path
        when_txt = f" {when}" if when else ""
        where = f"; full log: {log_path}" if log_path else ""
        tail = log_tail.rstrip() or "(log is empty)"
        super().__init__(
            f"{name} exited{when_txt} with code {returncode}{where}\n"
            f"--- last log lines ---\n{tail}"
        )


__all__ = [
    "BinaryNotFound",
    "BinaryVersionError",
    "INSTALL_HINT",
    "MonerodBackendError",
    "PortInUse",
    "ProcessDied",
    "RpcConnectionError",
    "RpcError",
    "RpcTimeout",
]
