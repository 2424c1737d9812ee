"""Public fixtures of pytest-monerosim.

* ``monerosim_scenario`` — the validated scenario for this test;
* ``monero_network`` — runs it on the selected backend, returns a ``NetworkRun``;
* ``monerosim_run`` — a factory to run further scenarios in one test;
* ``monerosim_attack`` — the attack case of this test (parametrized);
* ``monerosim_behaviour`` — the node behaviour case of this test (parametrized);
* ``monerosim_params`` — this test's sweep point (``{}`` outside sweeps);
* ``monerosim_registry`` — the session's plugin registry;
* ``monerosim_workdir`` — where this test's networks write summaries and logs.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from ..backends import BackendUnavailable, RunOptions
from ..config.errors import ScenarioError
from ..config.loader import load_scenario, scenario_from_dict
from ..config.model import Scenario
from ..registry import Registry
from ..runner import NetworkRun, run_scenario
from .state import ITEM_RUNS, ITEM_SCENARIO, session_state

__all__ = [
    "monero_network",
    "monerosim_attack",
    "monerosim_behaviour",
    "monerosim_params",
    "monerosim_registry",
    "monerosim_run",
    "monerosim_scenario",
    "monerosim_workdir",
]


@pytest.fixture(scope="session")
def monerosim_registry(pytestconfig: pytest.Config) -> Registry:
    return session_state(pytestconfig).registry


@pytest.fixture
def monerosim_params(request: pytest.FixtureRequest) -> dict[str, Any]:
    return dict(getattr(request, "param", None) or {})


@pytest.fixture
def monerosim_behaviour(request: pytest.FixtureRequest) -> Any:
    param = getattr(request, "param", None)
    if param is None:
        raise pytest.UsageError(f"{request.node.nodeid} uses monerosim_behaviour but it was not parametrized")
    return param


@pytest.fixture
def monerosim_attack(request: pytest.FixtureRequest) -> Any:
    param = getattr(request, "param", None)
    if param is None:
        raise pytest.UsageError(
            f"{request.node.nodeid} uses monerosim_attack but it was not parametrized; "
            "is pytest-monerosim's pytest_generate_tests active?"
        )
    return param


@pytest.fixture
def monerosim_scenario(request: pytest.FixtureRequest, monerosim_params: dict[str, Any]) -> Scenario:
    scenario = request.node.stash.get(ITEM_SCENARIO, None)
    if scenario is None:  # e.g. a fixture requested from another fixture's item type
        raise pytest.UsageError(f"{request.node.nodeid}: no monerosim scenario was built at collection")
    return scenario[0]


def _safe_name(nodeid: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.=-]+", "_", nodeid).strip("_")[-150:]


@pytest.fixture
def monerosim_workdir(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    state = session_state(request.config)
    if state.settings.out:
        path = Path(state.settings.out) / _safe_name(request.node.nodeid)
        path.mkdir(parents=True, exist_ok=True)
        return path
    return tmp_path


@pytest.fixture
def monerosim_run(
    request: pytest.FixtureRequest, monerosim_workdir: Path
) -> Callable[..., NetworkRun]:
    """``monerosim_run(scenario=None, backend=None, **overrides) -> NetworkRun``.

    ``scenario`` is a path, a dict or a Scenario (default: this test's scenario).
    """
    state = session_state(request.config)
    item = request.node

    def run(scenario: Any = None, backend: str | None = None, **overrides: Any) -> NetworkRun:
        source = None
        if scenario is None:
            base, source = item.stash[ITEM_SCENARIO]
            scen = scenario_from_dict(base.model_dump(), overrides=overrides) if overrides else base
        elif isinstance(scenario, Scenario):
            scen = scenario_from_dict(scenario.model_dump(), overrides=overrides) if overrides else scenario
        elif isinstance(scenario, dict):
            scen = scenario_from_dict(scenario, overrides=overrides)
        else:
            source = str(scenario)
            scen = load_scenario(scenario, overrides=overrides)
        settings = state.settings
        chosen = backend or (settings.backend if settings.backend_explicit else None)
        chosen = chosen or scen.general.backend or settings.backend
        chosen = item.config.hook.pytest_monerosim_select_backend(item=item, scenario=scen) or chosen
        allowed = item.get_closest_marker("monerosim_backends")
        if allowed is not None and chosen not in allowed.args:
            pytest.skip(f"this test runs on backend(s) {', '.join(allowed.args)}, not {chosen}")
        runs = item.stash.setdefault(ITEM_RUNS, [])
        workdir = monerosim_workdir / f"net{len(runs)}" if runs else monerosim_workdir
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "scenario.yaml").write_text(yaml.safe_dump(scen.model_dump(mode="json"), sort_keys=False))
        options = RunOptions(
            seed=None,
            duration=None,
            workdir=workdir,
            monerod_bin=settings.monerod_bin,
            wallet_rpc_bin=settings.wallet_rpc_bin,
            shadow_bin=settings.shadow_bin,
            time_scale=settings.time_scale,
        )
        try:
            with contextlib.ExitStack() as stack:
                for context in item.config.hook.pytest_monerosim_run_context(
                    item=item, scenario=scen, backend=chosen, options=options
                ):
                    stack.enter_context(context)
                net = run_scenario(scen, backend=chosen, registry=state.registry, options=options,
                                   source=source)
        except BackendUnavailable as exc:
            pytest.skip(str(exc))
        except ScenarioError as exc:
            raise pytest.UsageError(f"{item.nodeid}: {exc}") from None
        runs.append(net)
        net.write_summary(workdir / "summary.json")
        item.config.hook.pytest_monerosim_network_done(item=item, run=net)
        return net

    return run


@pytest.fixture
def monero_network(
    monerosim_scenario: Scenario, monerosim_run: Callable[..., NetworkRun]
) -> NetworkRun:
    """Run this test's scenario on the selected backend and return the ``NetworkRun``."""
    return monerosim_run()
