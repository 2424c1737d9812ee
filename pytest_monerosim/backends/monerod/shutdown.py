"""Stop a network's daemons and wallets together, within a bound.

Stopping processes one after another costs a graceful wait per process (an
interrupted 9-daemon run once took 110 s to stop). Here every process is
asked to exit at once (its stop RPC, each on its own thread so a busy node
cannot hold the others up), all get a shared grace period, then every
straggler gets SIGTERM at once, then SIGKILL: the whole stop takes at most
``grace + term + kill`` seconds (plus reaping), whatever the node count.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

GRACE_S = 2.0
"""How long processes get to exit after their stop RPC (monerod answers, then flushes and exits;
SIGTERM, which follows, is a clean shutdown for monerod and monero-wallet-rpc alike)."""
TERM_S = 3.0
KILL_S = 2.0


def stop_together(nodes: Sequence[Any], *, grace: float = GRACE_S, term: float = TERM_S,
                  kill: float = KILL_S) -> dict[str, int | None]:
    """Stop ``nodes`` (daemons and wallet-rpcs: ``.process``, ``._stop_rpc()``) in parallel.

    Returns each node's exit code by name (``None`` for one that was never started).
    """
    started = [n for n in nodes if n.process is not None]
    codes: dict[str, int | None] = {n.name: None for n in nodes}
    if not started:
        return codes
    for node in started:
        if node.process.alive():
            threading.Thread(target=_ask, args=(node,), name=f"stop-{node.name}", daemon=True).start()
    _wait_all(started, grace)
    with ThreadPoolExecutor(max_workers=min(32, len(started))) as pool:
        # the ladder's own graceful step is skipped: SIGTERM, then SIGKILL, for stragglers only
        futures = {n.name: pool.submit(n.process.stop, None, term_timeout=term, kill_timeout=kill)
                   for n in started}
    for node in started:
        codes[node.name] = futures[node.name].result()
        with contextlib.suppress(Exception):
            node.rpc.session.close()
    return codes


def _ask(node: Any) -> None:
    with contextlib.suppress(Exception):  # not listening, busy, already gone: the ladder follows
        node._stop_rpc()


def _wait_all(nodes: Sequence[Any], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    for node in nodes:
        node.process.wait(max(0.0, deadline - time.monotonic()))
