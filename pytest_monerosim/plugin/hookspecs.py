"""Hooks pytest-monerosim adds to pytest (implement them in a ``conftest.py`` or plugin)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from ..backends import RunOptions
    from ..registry import Registry
    from ..runner import NetworkRun


def pytest_monerosim_register(registry: Registry) -> None:
    """Add behaviours, wallet strategies, attacks, topologies or latency models.

    Called once per session after the built-ins and entry points are loaded::

        def pytest_monerosim_register(registry):
            registry.add(PluginSpec("attack", "my-attack", MyParams, MyAttack))
    """


def pytest_monerosim_network_done(item: pytest.Item, run: NetworkRun) -> None:
    """Called after ``monero_network`` finished a run, before the test body asserts on it.

    Also called for a run that was interrupted or raised, with what it had measured:
    then ``run.status`` is ``"interrupted"`` or ``"failed"`` and ``run.error`` says why.
    """


@pytest.hookspec(firstresult=True)
def pytest_monerosim_select_backend(item: pytest.Item, scenario: Any) -> str | None:
    """Return a backend name to override ``--monerosim-backend`` for one test."""


def pytest_monerosim_run_context(
    item: pytest.Item, scenario: Any, backend: str, options: RunOptions
) -> AbstractContextManager[None] | None:
    """Return a context manager to wrap one network run, or None.

    Called just before a network starts; every returned manager is entered (in
    hook order) around the run. It may adjust ``options``: chain
    ``options.progress`` or append simulator components to
    ``options.extra["components"]``.

    Not called when a test reuses a finished real-daemon run of the same scenario
    and options (the ``monerod`` backend; ``MONEROSIM_REUSE_RUNS=0`` turns reuse
    off): nothing starts then. ``pytest_monerosim_network_done`` is still called.
    """
