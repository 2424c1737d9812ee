"""The session's hooks: collection-time scenarios, parametrization, reports, summary.

Registered by :func:`pytest_monerosim.plugin.entry.pytest_configure`, so the
scenario model, registry and runner are imported only once pytest is configured
(and after coverage measurement has started).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from ..config.errors import ScenarioError
from .parametrize import (
    attack_cases,
    behaviour_cases,
    check_marker_names,
    check_selected_attacks,
    sweep_id,
    sweep_points,
)
from .rows import network_rows
from .scenarios import build_scenario
from .state import (
    ITEM_IN_CALL,
    ITEM_SCENARIO,
    ITEM_USAGE_ERROR,
    SESSION,
    SessionState,
    session_state,
)

NETWORK_FIXTURES = ("monero_network", "monerosim_scenario", "monerosim_run")


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
    try:
        _parametrize(metafunc, state)
    except pytest.UsageError as exc:
        # Raised here it would be a collection error (exit 2); kept for
        # pytest_collection_modifyitems, which ends the session as a usage error (exit 4).
        state.collection_errors.append(str(exc))


def _parametrize(metafunc: pytest.Metafunc, state: SessionState) -> None:
    if "monerosim_behaviour" in metafunc.fixturenames:
        behaviours = behaviour_cases(metafunc, state.registry)
        metafunc.parametrize(
            "monerosim_behaviour", behaviours, ids=[c.id for c in behaviours], indirect=True
        )
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
    """Build and validate every network test's scenario before anything runs.

    A bad input ends the session as one usage error. On an xdist worker a usage
    error would crash the worker (xdist reports an INTERNALERROR), so there each
    test with a bad input fails instead, with the same one line and no traceback.
    """
    state = session_state(config)
    errors: list[str] = list(state.collection_errors)
    if state.settings.attacks:
        try:
            check_selected_attacks(state.registry, state.settings.attacks)
        except pytest.UsageError as exc:
            errors.insert(0, str(exc))
    general = list(errors)
    for item in items:
        try:
            check_marker_names(item, state.registry)
        except pytest.UsageError as exc:
            errors.append(str(exc))
            item.stash[ITEM_USAGE_ERROR] = str(exc)
            continue
        if not any(f in getattr(item, "fixturenames", ()) for f in NETWORK_FIXTURES):
            continue
        try:
            item.stash[ITEM_SCENARIO] = build_scenario(item, state.settings, state.registry)
        except ScenarioError as exc:
            errors.append(f"{item.nodeid}: {exc}")
            item.stash[ITEM_USAGE_ERROR] = f"{item.nodeid}: {exc}"
    if not errors:
        return
    if hasattr(config, "workerinput"):
        for item in items:
            if general and ITEM_USAGE_ERROR not in item.stash:
                item.stash[ITEM_USAGE_ERROR] = general[0]
        return
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    raise pytest.UsageError(errors[0] + more)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Under xdist: a test whose inputs are bad fails with the usage error's one line."""
    message = item.stash.get(ITEM_USAGE_ERROR, None)
    if message is not None:
        pytest.fail(f"usage error: {message}", pytrace=False)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    """Run the test's ``monero_network`` now, in the call phase (not in fixture setup)."""
    from .fixtures import PendingNetwork

    item.stash[ITEM_IN_CALL] = True
    funcargs = getattr(item, "funcargs", None) or {}
    for name, value in list(funcargs.items()):
        if isinstance(value, PendingNetwork):
            funcargs[name] = value.get()
    return (yield)


def record_unreported(item: pytest.Item, runs: list[Any], run: Any) -> None:
    """Rows for an interrupted network, straight into the session (no report will carry them)."""
    workerinput = getattr(item.config, "workerinput", None)
    state = session_state(item.config)
    workdir = item.funcargs.get("monerosim_workdir") if hasattr(item, "funcargs") else None
    index = runs.index(run)
    rows = network_rows(item, [run], state.settings.backend_explicit)
    for row in rows:
        row.network, row.outcome = index, "interrupted"
        row.worker = None if workerinput is None else workerinput.get("workerid")
        if workdir is not None:
            row.workdir = str(workdir / f"net{index}" if index else workdir)
    if workerinput is None:
        state.network_rows.extend(row.as_dict() for row in rows)
    else:  # an xdist worker: the interrupted controller no longer listens; leave them in its spool
        from .spool import spool_rows

        spool_rows(item.config, [row.as_dict() for row in rows])
