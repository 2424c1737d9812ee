"""pytest-monerosim: the pytest plugin (entry point ``pytest11: monerosim``).

This module stays light: options, hook specs and markers. The fixtures and the
session's hooks (:mod:`.fixtures`, :mod:`.session`, :mod:`.reporting`)
are registered in ``pytest_configure``, so nothing heavy is imported before
pytest is configured.
"""

from __future__ import annotations

import pytest

from . import hookspecs
from .options import add_options

MARKERS = (
    "monerosim(scenario=None, **overrides): the network this test runs: a scenario YAML path "
    "(relative to the test file or rootdir), an inline dict or a Scenario; overrides are dotted "
    "paths or shortcuts (seed, duration, out_peers, ...)",
    "monerosim_attack(name, **params): run this attack (narrows the monerosim_attack fixture, or adds "
    "the attack to the scenario of a test that does not use it); may be repeated",
    "monerosim_sweep(**grid): one test per point of the cartesian product of the lists; keys are "
    "scenario paths or parameters of the test's attack",
    "monerosim_behaviour(name, group=None, **params): give a node group (default: the first miner "
    "group) this behaviour; narrows the monerosim_behaviour fixture (default: every behaviour)",
    "monerosim_backends(*names): backends this test supports; skipped on others",
)


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hookspecs)


def pytest_configure(config: pytest.Config) -> None:
    for marker in MARKERS:
        config.addinivalue_line("markers", marker)
    from ..runner import interrupt_on_sigterm

    config.add_cleanup(interrupt_on_sigterm())
    from . import fixtures, session
    from .options import read_settings
    from .reporting import register as register_reporting
    from .state import SESSION, SessionState

    state = SessionState(read_settings(config), config=config)
    config.stash[SESSION] = state
    config.pluginmanager.register(fixtures, "monerosim-fixtures")
    config.pluginmanager.register(session, "monerosim-session")
    if not hasattr(config, "workerinput"):
        from .spool import InterruptedRowSpool

        config.pluginmanager.register(InterruptedRowSpool(), "monerosim-spool")
    register_reporting(config)  # JSON report, baseline, Allure, plots, progress, live API
