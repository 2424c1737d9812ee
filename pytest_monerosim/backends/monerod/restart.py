"""Start a stopped daemon of a running network again, on the ports it had."""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

from .errors import PortInUse
from .process import ManagedProcess

if TYPE_CHECKING:
    from .daemon import MonerodNode


def restart(daemon: MonerodNode) -> None:
    """Launch a stopped daemon again on its ports (returns at once; then ``wait_ready``).

    :meth:`~.node_base.RpcProcessNode.start` checks its ports with a plain
    ``bind``, which the connections its stop left in TIME_WAIT fail for a
    minute; monerod binds with ``SO_REUSEADDR``, and so does this check.
    """
    for role, port in [] if daemon.exec_prefix else daemon._bound_ports():  # own host: own ports
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((daemon.host, port))
            except OSError:
                raise PortInUse(port, f"{daemon.name} {role}") from None
    daemon.process = ManagedProcess([*daemon.exec_prefix, *daemon.command_line()], name=daemon.name,
                                    run_dir=daemon.run_dir, log_path=daemon.stdout_path)
    daemon.process.start()


__all__ = ["restart"]
