"""The small agent API every backend provides.

Node behaviours and wallet strategies are written against these protocols
only, so the same agent runs inside the embedded simulator (callbacks on its
event loop, simulated time) and against real ``monerod``/``monero-wallet-rpc``
processes (a scheduler thread, scaled wall-clock time).

Rules for agents: take randomness from ``ctx.rng`` (never the global
``random``), read time from ``ctx.now()``, and never block: schedule a callback
instead of sleeping.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Protocol, runtime_checkable

from pydantic import BaseModel


class InsufficientFunds(Exception):
    """A wallet cannot pay ``amount + fee`` from its unlocked outputs."""


class AgentContext(Protocol):
    """What every agent can do, whatever the backend."""

    name: str
    rng: random.Random

    def now(self) -> float:
        """Simulated seconds since the start of the run."""

    def schedule(self, delay: float, callback: Callable[[], None]) -> None:
        """Run ``callback`` after ``delay`` simulated seconds."""

    def log(self, event: str, **fields: object) -> None:
        """Record a structured event (goes to the run's event log)."""


class NodeAPI(AgentContext, Protocol):
    """A node as its behaviour sees it."""

    group: str
    role: str

    def height(self) -> int:
        """Height of this node's current tip."""

    def hashrate(self) -> float:
        """This node's hashrate (relative units, 0 for non-miners)."""

    def set_hashrate(self, hashrate: float) -> None:
        """Change this node's hashrate; mining reschedules from now (memoryless)."""

    def mine_block(self) -> None:
        """Find a block on top of the current tip right now (ignores hashrate)."""

    def set_relaying(self, relay: bool) -> None:
        """Whether this node forwards blocks and transactions it receives."""

    def peers(self) -> list[str]:
        """Names of the nodes this node is connected to (either direction)."""


class WalletAPI(AgentContext, Protocol):
    """A wallet as its strategy sees it."""

    node: str
    address: str

    def balance(self) -> tuple[int, int]:
        """(total, unlocked) in atomic units."""

    def transfer(self, destinations: dict[str, int], priority: int = 1) -> str:
        """Send to ``{address: amount}``; returns the tx id. Raises ``InsufficientFunds``."""

    def directory(self) -> dict[str, str]:
        """Every wallet in the run: name → address (recipients choose from it)."""

    def height(self) -> int:
        """Height of the wallet's node."""


@runtime_checkable
class Behaviour(Protocol):
    """A node behaviour: built from validated params by its PluginSpec factory."""

    params: BaseModel

    def start(self, node: NodeAPI) -> None: ...


@runtime_checkable
class WalletStrategy(Protocol):
    params: BaseModel

    def start(self, wallet: WalletAPI) -> None: ...
