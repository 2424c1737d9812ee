"""Allure: steps for a network's phases and its checks, parameters, labels, attachments.

Used only when allure-pytest is writing results (``--alluredir``); the plugin
does not import this module otherwise. allure-pytest writes one result file
per test from whichever process ran it, so xdist workers never coordinate:
everything here happens in the process that runs the network.

* the test's time: ``monero_network`` runs the network in fixture set-up,
  which allure-pytest does not count in the test's duration; the test's start
  is moved back to the start of its first network, so the report shows the
  time the test really took;
* steps: ``build network`` → ``simulate`` around each run while it runs (the
  switch happens when the simulator calls the component's ``setup``, or at the
  first progress report) — in the *set-up* section for a run made by a
  fixture; then, in the test's own steps, one ``network …`` step per run with
  its real start and stop, the run's figures as step parameters and one
  ``attack …`` sub-step per attack carrying its metrics; and one step per
  check function the test calls;
* parameters: scenario, seed, backend, attack and its parameters, sweep point,
  and the measured figures (simulated and wall seconds, height, stale rate,
  reorgs, every scalar attack metric) as *excluded* parameters, so they show
  on the test without splitting its history; ``monerosim_attack``,
  ``monerosim_behaviour`` and ``monerosim_params`` read ``eclipse(attackers=8)``
  instead of the objects' repr;
* labels: feature = the attack (else the test module's area, ``test_consensus``
  → ``consensus``), story = the scenario name, tag = the backend;
* description: the scenario's, when the test function has no docstring;
* attachments (on the test, after its body ran): the scenario YAML, the
  summary JSON and every plot the run has data for.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import allure
import yaml
from allure_commons.model2 import Parameter, Status, TestResult, TestStepResult
from allure_commons.types import AttachmentType

from ..checks.observed import call_string
from ..observe.sim_component import add_sim_component
from ..result.summary import dig

if TYPE_CHECKING:
    import pytest

    from ..backends import RunOptions
    from ..runner import NetworkRun


def is_active(config: pytest.Config) -> bool:
    return bool(getattr(config.option, "allure_report_dir", None)) and config.pluginmanager.hasplugin(
        "allure_pytest"
    )


def _now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class RunTiming:
    """When one network run started, began simulating and stopped (ms since the epoch, as Allure)."""

    label: str
    start: int
    simulate: int | None = None
    stop: int | None = None


class _Phases:
    """Opens ``build network``, switches to ``simulate`` once, closes whatever is open.

    ``live`` = False records the times only (a run inside the test body: its steps are
    added to the test afterwards, with the figures, by :func:`label_and_attach`).
    """

    def __init__(self, label: str, live: bool = True) -> None:
        self.label = label
        self.timing = RunTiming(label, _now_ms())
        self.live = live
        self.open: Any = allure.step(f"build network: {label}") if live else None
        if self.open is not None:
            self.open.__enter__()
        self.simulating = False

    def simulate(self) -> None:
        if self.simulating:
            return
        self.simulating = True
        self.timing.simulate = _now_ms()
        if self.open is not None:
            self.open.__exit__(None, None, None)
            self.open = allure.step(f"simulate: {self.label}")
            self.open.__enter__()

    # simulator component hook: the world is built, the first event is next
    def setup(self, world: Any) -> None:
        self.simulate()

    def close(self, exc: BaseException | None) -> None:
        self.timing.stop = _now_ms()
        if self.open is None:
            return
        if exc is None:
            self.open.__exit__(None, None, None)
        else:
            self.open.__exit__(type(exc), exc, exc.__traceback__)


@contextmanager
def run_steps(
    scenario: Any, backend: str, options: RunOptions, timings: list[RunTiming] | None = None,
    live: bool = True,
) -> Iterator[None]:
    """Around one run: live phase steps (``live``) and, on success, its timing appended to ``timings``."""
    seed = scenario.general.seed
    phases = _Phases(f"{scenario.general.name} on {backend} (seed {seed})", live=live)
    if backend == "sim":
        add_sim_component(options, phases)
    previous = options.progress

    def progress(sim_time: float, duration: float, events: int) -> None:
        phases.simulate()
        if previous is not None:
            previous(sim_time, duration, events)

    options.progress = progress
    try:
        yield
    except BaseException as exc:
        phases.close(exc)
        raise
    phases.close(None)
    if timings is not None:
        timings.append(phases.timing)


class CheckSteps:
    """A check listener (:mod:`pytest_monerosim.checks.observed`) that makes each check a step."""

    def check_started(self, name: str, args: dict[str, str]) -> Any:
        step = allure.step(f"check {call_string(name, args)}")
        step.__enter__()
        return step

    def check_finished(self, token: Any, name: str, error: BaseException | None) -> None:
        if error is None:
            token.__exit__(None, None, None)
        else:
            token.__exit__(type(error), error, error.__traceback__)


def area_of(nodeid: str) -> str:
    """``scenarios/test_eclipse.py::test_x`` → ``eclipse``."""
    module = nodeid.split("::", 1)[0].rsplit("/", 1)[-1]
    stem = module[:-3] if module.endswith(".py") else module
    return stem[5:] if stem.startswith("test_") else stem


# (summary path, parameter name): the figures of a run shown on its step and the test
RUN_FIGURES = (
    ("sim_seconds", "sim_seconds"),
    ("wall_seconds", "wall_seconds"),
    ("events", "events"),
    ("nodes", "nodes"),
    ("blocks.main_chain_height", "height"),
    ("blocks.stale_rate", "stale_rate"),
    ("reorgs.count", "reorgs"),
    ("reorgs.max_depth", "max_reorg_depth"),
    ("propagation.p90_s", "propagation_p90_s"),
    ("consensus.agreed", "consensus"),
    ("transactions.created", "txs"),
    ("transactions.in_blocks_ratio", "in_blocks_ratio"),
)


def _text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def run_figures(summary: dict[str, Any]) -> dict[str, Any]:
    """The run's headline figures (those present in its summary)."""
    out = {}
    for path, name in RUN_FIGURES:
        value = dig(summary, path)
        if value is not None:
            out[name] = value
    return out


def attack_metrics(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Attack name → its metrics that fit in a parameter (scalars; series and lists left out)."""
    out: dict[str, dict[str, Any]] = {}
    for name, metrics in (summary.get("attacks") or {}).items():
        if isinstance(metrics, dict):
            out[name] = {
                k: v for k, v in metrics.items() if isinstance(v, (int, float, bool, str)) or v is None
            }
    return out


def call_text(name: str, params: dict[str, Any]) -> str:
    """``eclipse(attackers=8, victim_anchors=0)``: an attack or behaviour case as a person reads it."""
    return f"{name}({', '.join(f'{k}={_text(v)}' for k, v in params.items())})"


def current_test() -> TestResult | None:
    """The result allure-pytest is building for the running test (None if allure-pytest changed)."""
    import allure_commons

    for plugin in allure_commons.plugin_manager.get_plugins():
        logger = getattr(plugin, "allure_logger", None)
        if logger is None:
            continue
        test = logger.get_test(None)
        if isinstance(test, TestResult):
            return test
    return None


def network_step(run: NetworkRun, timing: RunTiming | None) -> TestStepResult:
    """One step for a finished run: its real start/stop, figures as parameters, a sub-step per attack."""
    summary = run.summary
    stop = timing.stop if timing and timing.stop else _now_ms()
    start = timing.start if timing else stop
    sim_s = float(summary.get("sim_seconds") or 0)
    wall_s = float(summary.get("wall_seconds") or 0)
    simulated = f"{sim_s / 3600:.2f} h" if sim_s >= 3600 else f"{sim_s:.0f} s"
    label = timing.label if timing else f"{run.scenario.general.name} on {run.backend} (seed {run.seed})"
    children = []
    if timing is not None and timing.simulate is not None:
        children.append(TestStepResult(name="build network", start=start, stop=timing.simulate,
                                       status=Status.PASSED))
        children.append(TestStepResult(name="simulate", start=timing.simulate, stop=stop,
                                       status=Status.PASSED))
    for name, metrics in attack_metrics(summary).items():
        children.append(TestStepResult(
            name=f"attack {name}: " + ", ".join(f"{k}={_text(v)}" for k, v in list(metrics.items())[:4]),
            start=stop, stop=stop, status=Status.PASSED,
            parameters=[Parameter(name=k, value=_text(v)) for k, v in metrics.items()],
        ))
    return TestStepResult(
        name=f"network {label}: {simulated} simulated in {wall_s:.2f} s",
        start=start, stop=stop, status=Status.PASSED, steps=children,
        parameters=[Parameter(name=k, value=_text(v)) for k, v in run_figures(summary).items()],
    )


def _readable_fixture_params(test: TestResult, item: pytest.Item) -> None:
    """``monerosim_attack`` & co. as ``eclipse(attackers=8)`` rather than their objects' repr."""
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return
    texts: dict[str, str] = {}
    attack = callspec.params.get("monerosim_attack")
    if attack is not None:
        texts["monerosim_attack"] = call_text(attack.name, dict(attack.params))
    behaviour = callspec.params.get("monerosim_behaviour")
    if behaviour is not None:
        params = ({"group": behaviour.group} if behaviour.group else {}) | dict(behaviour.params)
        texts["monerosim_behaviour"] = call_text(behaviour.name, params)
    point = callspec.params.get("monerosim_params")
    if point:
        texts["monerosim_params"] = ", ".join(f"{k}={_text(v)}" for k, v in point.items())
    for param in test.parameters:
        if param.name in texts:
            param.value = texts[param.name]


def _description(runs: list[NetworkRun], rows: list[dict[str, Any]]) -> str:
    lines = []
    for run, row in zip(runs, rows, strict=False):
        general = run.scenario.general
        line = (f"Network **{general.name}** on backend `{run.backend}`, seed {run.seed}, "
                f"{run.scenario.total_nodes()} nodes, {_text(general.duration / 3600)} h simulated")
        if row.get("attack"):
            line += f"; attack `{call_text(row['attack']['name'], row['attack']['params'])}`"
        lines.append(line + ".")
        if general.description:
            lines.append(general.description)
    return "\n\n".join(lines)


def label_and_attach(
    item: pytest.Item, runs: list[NetworkRun], rows: list[dict[str, Any]], plots: dict[int, dict[str, bytes]],
    timings: list[RunTiming] | None = None,
) -> None:
    """Parameters, labels, steps and attachments for a test's networks (call after the test body)."""
    timings = list(timings or [])
    test = current_test()
    if test is not None:
        if timings:
            test.start = min(test.start or timings[0].start, timings[0].start)
        steps = [network_step(run, timings[i] if i < len(timings) else None) for i, run in enumerate(runs)]
        test.steps = sorted(steps + list(test.steps), key=lambda s: s.start or 0)
        _readable_fixture_params(test, item)
        if not test.description and not test.descriptionHtml:
            allure.dynamic.description(_description(runs, rows))
    first = rows[0] if rows else None
    attack = (first or {}).get("attack")
    allure.dynamic.feature(attack["name"] if attack else area_of(item.nodeid))
    stories = sorted({run.scenario.general.name for run in runs})
    for story in stories:
        allure.dynamic.story(story)
    for backend in sorted({run.backend for run in runs}):
        allure.dynamic.tag(backend)
    for i, (run, row) in enumerate(zip(runs, rows, strict=False)):
        prefix = "" if len(runs) == 1 else f"net{i}."
        allure.dynamic.parameter(f"{prefix}scenario", run.scenario.general.name)
        allure.dynamic.parameter(f"{prefix}seed", run.seed)
        allure.dynamic.parameter(f"{prefix}backend", run.backend)
        if row.get("attack"):
            allure.dynamic.parameter(f"{prefix}attack", row["attack"]["name"])
            for key, value in sorted(row["attack"]["params"].items()):
                allure.dynamic.parameter(f"{prefix}attack.{key}", value)
        for key, value in sorted((row.get("params") or {}).items()):
            allure.dynamic.parameter(f"{prefix}{key}", value)
        measured = dict(run_figures(run.summary))
        for attack_name, metrics in attack_metrics(run.summary).items():
            measured.update({f"{attack_name}.{k}": v for k, v in metrics.items()})
        for key, value in measured.items():
            # excluded: measured figures show on the test but do not split its history
            if test is not None:
                test.parameters.append(Parameter(name=f"{prefix}{key}", value=_text(value), excluded=True))
            else:
                allure.dynamic.parameter(f"{prefix}{key}", value, excluded=True)
        name = f"{run.scenario.general.name}" + ("" if len(runs) == 1 else f" (net{i})")
        allure.attach(
            yaml.safe_dump(run.scenario.model_dump(mode="json"), sort_keys=False),
            name=f"scenario {name}",
            attachment_type=AttachmentType.YAML,
        )
        allure.attach(
            json.dumps(run.summary, indent=2), name=f"summary {name}", attachment_type=AttachmentType.JSON
        )
        for stem, png in plots.get(i, {}).items():
            allure.attach(png, name=f"{stem.replace('_', ' ')} ({name})", attachment_type=AttachmentType.PNG)
