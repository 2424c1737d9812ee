"""Run a :class:`~.peer.Swarm` on its own event-loop thread, for synchronous callers.

The monerod backend and its attack drivers are synchronous (they poll daemons
over JSON-RPC); :class:`BackgroundSwarm` gives them the Levin peer without
making them async: ``call`` runs a coroutine on the swarm's loop and waits
for its result. Callbacks registered with ``on_tx`` / ``on_block`` run on the
loop thread.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from .peer import Swarm

T = TypeVar("T")


class BackgroundSwarm:
    """A swarm and the thread running its loop; ``close()`` stops both (idempotent)."""

    def __init__(self, **swarm_kwargs: Any) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="levin-swarm", daemon=True)
        self.thread.start()
        self.swarm: Swarm = self.call(self._make(swarm_kwargs))
        self._closed = False

    @staticmethod
    async def _make(kwargs: dict[str, Any]) -> Swarm:
        return Swarm(**kwargs)

    def call(self, coro: Awaitable[T], timeout: float | None = 60.0) -> T:
        """Run ``coro`` on the swarm's loop; its result (or exception) here."""
        future: concurrent.futures.Future[T] = asyncio.run_coroutine_threadsafe(
            coro, self.loop)  # type: ignore[arg-type]
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise

    def submit(self, fn: Callable[[], Any]) -> None:
        """Run a plain function on the loop thread (e.g. to change the swarm's policy)."""
        self.loop.call_soon_threadsafe(fn)

    def close(self) -> None:
        if getattr(self, "_closed", True):
            return
        self._closed = True
        try:
            self.call(self.swarm.close(), timeout=10.0)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10.0)
            if not self.loop.is_running():
                self.loop.close()

    def __enter__(self) -> BackgroundSwarm:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["BackgroundSwarm"]
