"""pytest-monerosim: the pytest plugin (entry point ``pytest11: monerosim``).

Nothing heavy happens at import: the registry and backends load on first use.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from ..config.errors import ScenarioError
from . import hookspecs
from .fixtures import (  # noqa: F401  (fixtures are found by name in this module)
    monero_network,
    monerosim_attack,
    monerosim_params,
    monerosim_registry,
    monerosim_run,
    monerosim_scenario,
    monerosim_workdir,
)
from .options import add_options, read_settings
from .parametrize import attack_cases, sweep_id, sweep_points
from .reporting import (
    format_table,
    junit_properties,
    network_line,
    rows_for,
    sweep_tables,
)
from .scenarios import build_scenario
from .state import ITEM_RUNS, ITEM_SCENARIO, SESSION, SessionState, session_state

MARKERS = (
    "monerosim(scenario=None, **overrides): the network this test runs: a scenario YAML path "
    "(relative to the test file or rootdir), an inline dict or a Scenario; overrides are dotted "
    "paths or shortcuts (seed, duration, out_peers, ...)",
    "monerosim_attack(name, **params): run this attack (narrows the monerosim_attack fixture, or adds "
    "the attack to the scenario of a test that does not use it); may be repeated",
    "monerosim_sweep(**grid): one test per point of the cartesian product of the lists; keys are "
    "scenario paths or parameters of the test's attack",
    "monerosim_backends(*names): backends this test supports; skipped on others",
)
NETWORK_FIXTURES = ("monero_network", "monerosim_scenario", "monerosim_run")


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hookspecs)


def pytest_configure(config: pytest.Config) -> None:
    for marker in MARKERS:
        config.addinivalue_line("markers", marker)
    state = SessionState(read_settings(config), config=config)
    config.stash[SESSION] = state
    config.pluginmanager.register(_RowCollector(state), "monerosim-rows")
    from .reporting_plugin import register as register_reporting

    register_reporting(config)  # JSON report, baseline, Allure, plots, progress, live API


def pytest_plugin_registered(plugin: Any, manager: pytest.PytestPluginManager) -> None:
    # A conftest loaded after the registry was built still gets to register plugins.
    register = getattr(plugin, "pytest_monerosim_register", None)
    if register is None:
        return
    config = getattr(manager, "_config", None) or getattr(plugin, "config", None)
    if config is None or SESSION not in getattr(config, "stash", {}):
        return
    registry = config.stash[SESSION].registry_if_built()
    if registry is not None:
        register(registry=registry)


def pytest_report_header(config: pytest.Config) -> list[str]:
    s = session_state(config).settings
    parts = [f"backend={s.backend}"]
    parts.append(f"seed={s.seed if s.seed is not None else 'from scenario'}")
    parts.append(f"duration={s.duration if s.duration is not None else 'from scenario'}")
    if s.attacks:
        parts.append(f"attacks={','.join(s.attacks)}")
    if s.out:
        parts.append(f"out={s.out}")
    return ["monerosim: " + " ".join(parts)]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    state = session_state(metafunc.config)
    if "monerosim_attack" in metafunc.fixturenames:
        cases = attack_cases(metafunc, state.registry, state.settings.attacks)
        metafunc.parametrize("monerosim_attack", cases, ids=[c.id for c in cases], indirect=True)
    points = sweep_points(metafunc)
    if points is not None:
        if "monerosim_params" not in metafunc.fixturenames:
            raise pytest.UsageError(
                f"{metafunc.definition.nodeid} has @pytest.mark.monerosim_sweep but uses none of "
                f"{', '.join(NETWORK_FIXTURES)} or monerosim_params"
            )
        metafunc.parametrize("monerosim_params", points, ids=[sweep_id(p) for p in points], indirect=True)


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Build and validate every network test's scenario before anything runs."""
    state = session_state(config)
    errors: list[str] = []
    for item in items:
        if not any(f in getattr(item, "fixturenames", ()) for f in NETWORK_FIXTURES):
            continue
        try:
            item.stash[ITEM_SCENARIO] = build_scenario(item, state.settings, state.registry)
        except ScenarioError as exc:
            errors.append(f"{item.nodeid}: {exc}")
    if errors:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise pytest.UsageError(errors[0] + more)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    report = yield
    runs = item.stash.get(ITEM_RUNS, None)
    if not runs or report.when != "call":
        return report
    state = session_state(item.config)
    rows = rows_for(item, runs, state.settings.backend_explicit)
    report.monerosim = rows
    report.user_properties.extend(junit_properties(rows))
    if report.failed:
        lines = [f"seed {row['seed']} on {row['backend']}: replay with\n    {row['replay']}" for row in rows]
        report.sections.append(("monerosim replay", "\n".join(lines)))
    return report


class _RowCollector:
    """Gathers network rows from test reports (local or sent by xdist workers)."""

    def __init__(self, state: SessionState) -> None:
        self.state = state

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        rows = getattr(report, "monerosim", None)
        if rows and report.when == "call":
            self.state.network_rows.extend(rows)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    state = session_state(config)
    rows = state.network_rows
    if not rows or hasattr(config, "workerinput"):
        return
    tr = terminalreporter
    tr.write_sep("=", f"monerosim: {len(rows)} network(s)")
    verbose = config.getoption("verbose", 0)
    shown = rows if verbose > 0 or len(rows) <= 20 else rows[:20]
    for row in shown:
        tr.write_line(network_line(row))
    if len(shown) < len(rows):
        tr.write_line(f"... {len(rows) - len(shown)} more (use -v to list all)")
    for func, cells in sweep_tables(rows).items():
        if len(cells) < 2:
            continue
        tr.write_sep("-", f"sweep {func}")
        for line in format_table(cells):
            tr.write_line(line)
