"""Loopback port allocation that never collides across workers and sessions.

Scheme
------
The ports ``PORT_MIN .. PORT_MAX`` (15000-32000 by default: under Linux's
ephemeral range 32768-60999, so no outgoing connection is ever given one of
our ports by the kernel) are cut into blocks of ``BLOCK_SIZE`` ports.

* **Ownership of a block** is an exclusive, non-blocking ``flock`` on
  ``<tmp>/monerosim-ports-<uid>/block-<n>.lock``. The lock belongs to the open
  file, so it is released by the kernel when the owning process dies, however
  it dies: no stale locks, no pid bookkeeping. ``flock`` locks also conflict
  between two open files of the same process, so two allocators in one
  process behave like two processes.
* **Where to look first**: the pytest-xdist worker id (``PYTEST_XDIST_WORKER``,
  ``gw0``, ``gw1``...) picks a home region of ``BLOCKS_PER_WORKER`` blocks, so
  workers of one run normally never even contend for a lock. A second pytest
  session on the same machine starts in the same home region, finds those
  blocks locked, and moves on to the next free block.
* **Each port** handed out is also bind-checked on 127.0.0.1 right before it
  is returned, which skips ports held by unrelated programs (or sockets still
  in TIME_WAIT). Within one allocator ports are never handed out twice, so a
  restarted node gets fresh ports rather than ones in TIME_WAIT.

The bind check cannot stop an unrelated program from taking the port between
the check and the node's own bind; the node then fails with ``PortInUse``.

``MONEROSIM_PORT_RANGE=lo-hi`` overrides the range (e.g. in CI).
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from .errors import MonerodBackendError

PORT_MIN = 15000
PORT_MAX = 32000
BLOCK_SIZE = 40
BLOCKS_PER_WORKER = 8
LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class NodePorts:
    """The ports one simulated host uses."""

    p2p: int
    rpc: int
    zmq: int
    wallet: int

    def as_dict(self) -> dict[str, int]:
        return {"p2p": self.p2p, "rpc": self.rpc, "zmq": self.zmq, "wallet": self.wallet}


class PortsExhausted(MonerodBackendError):
    """Every port block of the range is locked or busy."""


def worker_slot(worker_id: str | None = None) -> int:
    """0-based slot of an xdist worker id (``gw3`` -> 3; the main process -> 0)."""
    if worker_id is None:
        worker_id = os.environ.get("PYTEST_XDIST_WORKER", "")
    match = re.fullmatch(r"gw(\d+)", worker_id or "")
    return int(match.group(1)) if match else 0


def port_range() -> tuple[int, int]:
    """The ``[lo, hi)`` port range, from ``MONEROSIM_PORT_RANGE`` or the defaults."""
    text = os.environ.get("MONEROSIM_PORT_RANGE", "")
    if not text:
        return PORT_MIN, PORT_MAX
    match = re.fullmatch(r"\s*(\d+)\s*-\s*(\d+)\s*", text)
    if not match or not 1024 <= int(match.group(1)) < int(match.group(2)) <= 65536:
        raise MonerodBackendError(
            f"MONEROSIM_PORT_RANGE={text!r} is not a range like '15000-32000' "
            "within 1024-65536"
        )
    return int(match.group(1)), int(match.group(2))


def default_lock_dir() -> Path:
    return Path(tempfile.gettempdir()) / f"monerosim-ports-{os.getuid()}"


def port_is_free(port: int, host: str = LOOPBACK) -> bool:
    """True when nothing is bound to ``host:port`` (TCP) right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


class PortAllocator:
    """Hands out ports from blocks this process holds an exclusive lock on."""

    def __init__(
        self,
        worker_id: str | None = None,
        *,
        lock_dir: Path | None = None,
        port_min: int | None = None,
        port_max: int | None = None,
    ) -> None:
        lo, hi = port_range()
        self.port_min = lo if port_min is None else port_min
        self.port_max = hi if port_max is None else port_max
        self.n_blocks = (self.port_max - self.port_min) // BLOCK_SIZE
        if self.n_blocks < 1:
            raise MonerodBackendError(
                f"port range {self.port_min}-{self.port_max} is smaller than one block "
                f"of {BLOCK_SIZE} ports"
            )
        self.slot = worker_slot(worker_id)
        self.lock_dir = lock_dir or default_lock_dir()
        self._held: dict[int, IO[bytes]] = {}
        self._current: int | None = None
        self._next_port = 0
        self._handed_out: set[int] = set()

    # -- public --------------------------------------------------------------

    def allocate(self) -> int:
        """One free loopback port, never handed out before by this allocator."""
        while True:
            if self._current is None or self._next_port >= self._block_end(self._current):
                self._current = self._claim_block()
                self._next_port = self._block_start(self._current)
            port = self._next_port
            self._next_port += 1
            if port in self._handed_out:
                continue
            if port_is_free(port):
                self._handed_out.add(port)
                return port

    def allocate_many(self, n: int) -> list[int]:
        return [self.allocate() for _ in range(n)]

    def node_ports(self) -> NodePorts:
        """Ports for one host: p2p, rpc, zmq, wallet."""
        p2p, rpc, zmq, wallet = self.allocate_many(4)
        return NodePorts(p2p=p2p, rpc=rpc, zmq=zmq, wallet=wallet)

    @property
    def held_blocks(self) -> list[int]:
        return sorted(self._held)

    def close(self) -> None:
        """Release every block lock (the kernel also does at process exit)."""
        for handle in self._held.values():
            try:
                fcntl.flock(handle, fcntl.LOCK_UN)
            finally:
                handle.close()
        self._held.clear()
        self._current = None

    def __enter__(self) -> PortAllocator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- blocks ----------------------------------------------------------------

    def _block_start(self, block: int) -> int:
        return self.port_min + block * BLOCK_SIZE

    def _block_end(self, block: int) -> int:
        return self._block_start(block) + BLOCK_SIZE

    def _claim_block(self) -> int:
        self.lock_dir.mkdir(parents=True, exist_ok=True)
        home = (self.slot * BLOCKS_PER_WORKER) % self.n_blocks
        for offset in range(self.n_blocks):
            block = (home + offset) % self.n_blocks
            if block in self._held:
                continue
            if self._try_lock(block):
                return block
        raise PortsExhausted(
            f"all {self.n_blocks} port blocks in {self.port_min}-{self.port_max} are held "
            f"by other monerosim processes (locks in {self.lock_dir}); stop some runs or "
            "widen MONEROSIM_PORT_RANGE"
        )

    def _try_lock(self, block: int) -> bool:
        path = self.lock_dir / f"block-{block}.lock"
        handle = open(path, "ab")  # kept open: the lock lives with it
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            handle.close()
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                return False
            raise
        self._held[block] = handle
        return True


_default: PortAllocator | None = None


def default_allocator() -> PortAllocator:
    """The process-wide allocator for the current xdist worker."""
    global _default
    if _default is None:
        _default = PortAllocator()
    return _default


def allocate_node_ports() -> NodePorts:
    """Ports for one more host from the process-wide allocator."""
    return default_allocator().node_ports()
