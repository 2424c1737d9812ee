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

from ..atomic import atomic_write
from ..backends import BackendUnavailable, RunOptions
from ..config.errors import ScenarioError
from ..config.loader import load_scenario, scenario_from_dict
from ..config.model import Scenario
from ..registry import Registry
from ..runner import NetworkRun, run_scenario
from .state import ITEM_LAYOUT, ITEM_RUNS, ITEM_SCENARIO, session_state

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
        layout = item.stash.get(ITEM_LAYOUT, None)  # built at collection: the first run takes it
        if layout is not None:
            del item.stash[ITEM_LAYOUT]
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
        atomic_write(workdir / "scenario.yaml", yaml.safe_dump(scen.model_dump(mode="json"), sort_keys=False))
        options = RunOptions(
            workdir=workdir,
            monerod_bin=settings.monerod_bin,
            wallet_rpc_bin=settings.wallet_rpc_bin,
            shadow_bin=settings.shadow_bin,
            time_scale=settings.time_scale,
        )

        def keep(partial: NetworkRun) -> None:
            """An interrupted or failed run: list it with what it measured, write its summary."""
            runs.append(partial)
            with contextlib.suppress(OSError):
                partial.write_summary(workdir / "summary.json")
            with contextlib.suppress(Exception):
                item.config.hook.pytest_monerosim_network_done(item=item, run=partial)
            if partial.status == "interrupted":  # no test report will carry it: record it now
                from .session import record_unreported

                record_unreported(item, runs, partial)

        key = _reuse_key(chosen, scen, options)
        if key is not None and key in state.real_runs:
            owner, earlier = state.real_runs[key]
            print(f"monerosim: {chosen} run of {owner} reused (same scenario and options)", flush=True)
            runs.append(earlier)
            earlier.write_summary(workdir / "summary.json")
            item.config.hook.pytest_monerosim_network_done(item=item, run=earlier)
            return earlier
        try:
            with contextlib.ExitStack() as stack:
                for context in item.config.hook.pytest_monerosim_run_context(
                    item=item, scenario=scen, backend=chosen, options=options
                ):
                    stack.enter_context(context)
                net = run_scenario(scen, backend=chosen, registry=state.registry, options=options,
                                   source=source, on_partial=keep, layout=layout)
        except BackendUnavailable as exc:
            pytest.skip(str(exc))
        except ScenarioError as exc:
            raise pytest.UsageError(f"{item.nodeid}: {exc}") from None
        runs.append(net)
        net.write_summary(workdir / "summary.json")
        item.config.hook.pytest_monerosim_network_done(item=item, run=net)
        if key is not None and net.status == "finished":
            state.real_runs[key] = (item.nodeid, net)
        return net

    return run


REUSED_BACKENDS = ("monerod",)
"""Backends whose finished runs tests of one session share when scenario and options are equal:
a real run costs minutes of wall time and is only read afterwards (the simulator is cheap
and deterministic, so it reruns)."""


def _reuse_key(backend: str, scenario: Scenario, options: RunOptions) -> str | None:
    import json
    import os

    if backend not in REUSED_BACKENDS or os.environ.get("MONEROSIM_REUSE_RUNS") == "0":
        return None
    return json.dumps([backend, scenario.model_dump(mode="json"), options.monerod_bin,
                       options.wallet_rpc_bin, options.time_scale], sort_keys=True, default=str)


class PendingNetwork:
    """What the ``monero_network`` fixture returns during setup: the network, not yet run.

    The network runs at the start of the test's call phase (the plugin then hands the
    test the ``NetworkRun`` itself), so an interrupt or a failure during the run happens
    in the test, not in fixture setup: pytest reports it as the test's, other fixtures'
    teardown is not disturbed, and the report keeps what was measured. A fixture that
    reads it during setup runs it then (any attribute access runs it once).
    """

    def __init__(self, start: Callable[[], NetworkRun]) -> None:
        self._start: Callable[[], NetworkRun] | None = start
        self._run: NetworkRun | None = None

    def get(self) -> NetworkRun:
        if self._run is None:
            start, self._start = self._start, None
            if start is None:
                raise RuntimeError("this network's run was interrupted or failed")
            self._run = start()
        return self._run

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.get(), name)

    def __repr__(self) -> str:
        return f"<PendingNetwork {self._run!r}>" if self._run else "<PendingNetwork (not run yet)>"


@pytest.fixture
def monero_network(
    monerosim_scenario: Scenario, monerosim_run: Callable[..., NetworkRun]
) -> NetworkRun:
    """This test's scenario run on the selected backend: the ``NetworkRun``.

    The run happens when the test's call phase starts (see :class:`PendingNetwork`).
    """
    return PendingNetwork(monerosim_run)  # type: ignore[return-value]
