"""Helpers for the tests that run a pytest or CLI session in a child process and signal it."""

from __future__ import annotations

import signal


def interruptible() -> None:
    """``preexec_fn`` for a child that a test interrupts: SIGINT back to its default, so Python
    turns it into KeyboardInterrupt as at a terminal. A suite started as a background job of a
    shell without job control (``pytest ... &`` in a script) runs with SIGINT ignored, and a
    child inherits that: it would never see the test's Ctrl-C."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
