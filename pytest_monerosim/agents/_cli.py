"""Entry point shared by the agent scripts (``python -m pytest_monerosim.agents.<script>``).

An agent process runs until the run's end (``--t0`` + ``--duration`` /
``--time-scale``) or until SIGTERM/SIGINT, then writes its ``stop`` record
(the monitor first makes its final sweep) and exits: 0, or 1 if a behaviour
or strategy raised something other than an RPC error.
"""

from __future__ import annotations

import signal
import sys
from types import FrameType

from .hosting import HostedAgent, parse_agent_args


def main(script: str, argv: list[str] | None = None) -> int:
    setup = parse_agent_args(script, sys.argv[1:] if argv is None else argv)
    agent = HostedAgent(setup, registry=None)
    agent.errors.on_fatal = agent.scheduler.stop  # exit at once: the backend sees the code

    def on_signal(signum: int, frame: FrameType | None) -> None:
        agent.scheduler.stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        agent.run_here()
    finally:
        agent.finish()
    if agent.errors.fatal:
        print("\n".join(agent.errors.fatal), file=sys.stderr)
        return 1
    return 0
