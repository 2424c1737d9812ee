"""Run a scenario on a backend and hand back a :class:`NetworkRun`.

The one path from a validated scenario to a result, shared by the pytest
plugin and the CLI: expand the scenario into its layout (so bad input fails
before any simulation starts), pick the backend, run it on that layout,
summarise. The run's seed and duration are the scenario's: overrides reach it
before (:func:`pytest_monerosim.config.loader.apply_run_overrides`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from .atomic import atomic_write
from .backends import BACKENDS, BackendUnavailable, RunOptions, get_backend
from .config.errors import ScenarioError
from .config.model import Scenario
from .config.resolve import ResolvedPlugin
from .layout import NetworkLayout, build_layout
from .registry import Registry, default_registry
from .result.model import BlockRecord, Result
from .result.summary import summarize


@dataclass
class NetworkRun:
    """What a test gets from ``monero_network``: the result plus handles on it."""

    scenario: Scenario
    result: Result
    backend: str
    seed: int
    source: str | None = None
    plugins: dict[str, ResolvedPlugin] = field(default_factory=dict)
    status: str = "finished"
    """``finished``; ``interrupted`` (SIGINT/SIGTERM) or ``failed`` (the backend raised): then
    :attr:`result` holds what the run had measured when it stopped."""
    error: str | None = None
    """One line saying why the run did not finish (``None`` when it did)."""
    error_detail: str | None = None
    """More about the failure when there is more (a dead daemon's log tail)."""

    @cached_property
    def summary(self) -> dict[str, Any]:
        summary = summarize(self.result)
        if self.status != "finished":
            # only unfinished runs carry these keys: a finished run's summary stays as it was
            summary["status"] = self.status
            summary["error"] = self.error
            if self.error_detail:
                summary["error_detail"] = self.error_detail
        return summary

    # -- handles ---------------------------------------------------------------
    def nodes(self, role: str | None = None, group: str | None = None) -> list[str]:
        return self.result.node_names(role=role, group=group)

    def honest_nodes(self) -> list[str]:
        return self.result.honest_nodes()

    def attack(self, name: str) -> dict[str, Any]:
        try:
            return self.result.attacks[name]
        except KeyError:
            raise KeyError(
                f"no attack {name!r} in this run; attacks run: {sorted(self.result.attacks) or 'none'}"
            ) from None

    def height(self, node: str | None = None) -> int:
        return self.result.height(node)

    def write_summary(self, path: str | Path) -> Path:
        """Write the summary JSON atomically (a reader never sees half a file)."""
        return atomic_write(path, json.dumps(self.summary, indent=2) + "\n")


def prepare(scenario: Scenario, registry: Registry, source: str | None = None) -> NetworkLayout:
    """Validate the scenario for a run and expand it: its layout (plugins, topology, latency
    model, regions, each attack's view of the scenario) and its wallets' strategies."""
    layout = build_layout(scenario, registry, source=source)
    if scenario.wallets:
        from .config.wallets import validate_wallets

        try:
            validate_wallets(scenario, registry)
        except ScenarioError as exc:
            raise ScenarioError(exc.message, source=source or exc.source, path=exc.path) from None
    return layout


def for_backend(scenario: Scenario, backend: str, options: RunOptions, source: str | None = None) -> Scenario:
    """Apply the scenario's ``backends.<name>`` section: overrides, and options into ``options.extra``."""
    section = scenario.backends.get(backend)  # type: ignore[call-overload]
    if section is None:
        return scenario
    if section.options:
        options.extra.setdefault(backend, dict(section.options))
    if not section.overrides:
        return scenario
    from .config.loader import scenario_from_dict

    data = scenario.model_dump(mode="json")
    data.pop("backends", None)
    adjusted = scenario_from_dict(data, source=source, overrides=section.overrides)
    return adjusted.model_copy(update={"backends": scenario.backends})


def run_scenario(
    scenario: Scenario,
    *,
    backend: str | None = None,
    registry: Registry | None = None,
    options: RunOptions | None = None,
    source: str | None = None,
    on_partial: Callable[[NetworkRun], None] | None = None,
    layout: NetworkLayout | None = None,
) -> NetworkRun:
    """Run ``scenario`` (``layout``: its expansion by :func:`prepare`, if the caller has it and
    the scenario is unchanged since; else it is built here). If the backend raises (or is
    interrupted), ``on_partial`` first gets a :class:`NetworkRun` with what was measured so far
    (status ``interrupted`` or ``failed``), then the exception propagates."""
    registry = registry or default_registry()
    options = options or RunOptions()
    name = backend or scenario.general.backend or "sim"
    if name not in BACKENDS:
        raise ScenarioError(f"unknown backend {name!r}; accepted: {', '.join(BACKENDS)}", path="backend")
    scenario = for_backend(scenario, name, options, source)
    if layout is None or not layout.is_layout_of(scenario):
        layout = prepare(scenario, registry, source)
    plugins = layout.plugins
    started = time.perf_counter()
    try:
        result: Result = get_backend(name).run(scenario, registry, options, layout)
    except (ScenarioError, BackendUnavailable):
        raise  # bad input or a missing binary: nothing ran, nothing to keep
    except BaseException as exc:
        if on_partial is not None:
            partial = partial_run(exc, layout, name, options, source)
            partial.result.wall_seconds = partial.result.wall_seconds or time.perf_counter() - started
            on_partial(partial)
        if isinstance(exc, KeyboardInterrupt):
            # A fresh exception raised here: the signal may have landed between two bytecodes
            # of a frame whose line number is unknown, which pytest's interrupt summary cannot
            # render (TypeError inside pytest). What ran is kept; the user sees this line.
            raise KeyboardInterrupt(
                f"{scenario.general.name!r} on {name} interrupted; what it measured is kept"
            ) from None
        raise
    if not result.wall_seconds:
        result.wall_seconds = time.perf_counter() - started
    return NetworkRun(scenario, result, name, layout.seed, source, plugins)


INTERRUPTS = (KeyboardInterrupt, SystemExit)
"""Exceptions that mean "stop" (Ctrl-C, SIGTERM turned into KeyboardInterrupt) rather than a failure."""


def describe_error(exc: BaseException) -> tuple[str, str | None]:
    """(one line, the rest) of an exception: a dead daemon's message and its log tail."""
    text = str(exc).strip() or type(exc).__name__
    first, _, rest = text.partition("\n")
    if isinstance(exc, INTERRUPTS):
        first = "interrupted" + (f" ({first})" if first and first != type(exc).__name__ else "")
    elif not type(exc).__module__.startswith("pytest_monerosim."):
        first = f"{type(exc).__name__}: {first}"  # our own errors are written to be read as they are
    tail = getattr(exc, "log_tail", None)
    detail = (str(tail).rstrip() if tail else rest.strip()) or None
    return first, detail


def empty_result(layout: NetworkLayout, backend: str) -> Result:
    """The result of a run that measured nothing: a genesis block and no nodes."""
    scenario = layout.scenario
    genesis = BlockRecord(id="genesis", height=0, parent=None, miner="", found_at=0.0, difficulty=1,
                          cumulative_difficulty=1, reward=0)
    return Result(scenario=scenario.general.name, backend=backend, seed=layout.seed,
                  sim_seconds=0.0, blocks={genesis.id: genesis}, genesis=genesis.id,
                  target_s=scenario.mining.target_s)


def partial_run(
    exc: BaseException,
    layout: NetworkLayout,
    backend: str,
    options: RunOptions,
    source: str | None = None,
) -> NetworkRun:
    """The :class:`NetworkRun` of a run that raised ``exc``: what the backend had measured
    (``options.partial``), marked ``interrupted`` or ``failed`` with the error's first line."""
    result = None
    if options.partial is not None:
        try:
            result = options.partial()
        except Exception:  # a half-built world may not summarise; keep the network listed
            result = None
    if result is None:
        result = empty_result(layout, backend)
    result.extra["partial"] = True
    line, detail = describe_error(exc)
    status = "interrupted" if isinstance(exc, INTERRUPTS) else "failed"
    return NetworkRun(layout.scenario, result, backend, layout.seed, source, dict(layout.plugins),
                      status=status, error=line, error_detail=detail)


def interrupt_on_sigterm() -> Callable[[], None]:
    """SIGTERM stops a session or command as Ctrl-C does, so it still writes what it measured.

    Python's default for SIGTERM ends the process on the spot (no teardown, no report);
    here the first SIGTERM raises ``KeyboardInterrupt`` in the main thread and later ones
    are ignored while the run winds down. Left alone off the main thread or if someone
    else handles SIGTERM. Returns the function that puts the default back.
    """
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return lambda: None

    def on_sigterm(signum: int, frame: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise KeyboardInterrupt("SIGTERM")

    signal.signal(signal.SIGTERM, on_sigterm)

    def restore() -> None:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)

    return restore

