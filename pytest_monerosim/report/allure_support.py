"""Allure: steps for a network's phases and its checks, parameters, labels, attachments.

Used only when allure-pytest is writing results (``--alluredir``); the plugin
does not import this module otherwise. allure-pytest writes one result file
per test from whichever process ran it, so xdist workers never coordinate:
everything here happens in the process that runs the network.

* steps: ``build network`` → ``simulate`` around each run (the switch happens
  when the simulator calls the component's ``setup``, or at the first progress
  report), and one step per check function the test calls;
* parameters: scenario, seed, backend, attack and its parameters, sweep point;
* labels: feature = the attack (else the test module's area, ``test_consensus``
  → ``consensus``), story = the scenario name, tag = the backend;
* attachments (on the test, after its body ran): the scenario YAML, the
  summary JSON and every plot the run has data for.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import allure
import yaml
from allure_commons.types import AttachmentType

from ..observe.checks import call_string
from ..observe.sim_component import add_sim_component

if TYPE_CHECKING:
    import pytest

    from ..backends import RunOptions
    from ..runner import NetworkRun


def is_active(config: pytest.Config) -> bool:
    return bool(getattr(config.option, "allure_report_dir", None)) and config.pluginmanager.hasplugin(
        "allure_pytest"
    )


class _Phases:
    """Opens ``build network``, switches to ``simulate`` once, closes whatever is open."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.open: Any = allure.step(f"build network: {label}")
        self.open.__enter__()
        self.simulating = False

    def simulate(self) -> None:
        if self.simulating:
            return
        self.simulating = True
        self.open.__exit__(None, None, None)
        self.open = allure.step(f"simulate: {self.label}")
        self.open.__enter__()

    # simulator component hook: the world is built, the first event is next
    def setup(self, world: Any) -> None:
        self.simulate()

    def close(self, exc: BaseException | None) -> None:
        if exc is None:
            self.open.__exit__(None, None, None)
        else:
            self.open.__exit__(type(exc), exc, exc.__traceback__)


@contextmanager
def run_steps(scenario: Any, backend: str, options: RunOptions) -> Iterator[None]:
    seed = options.seed if options.seed is not None else scenario.general.seed
    phases = _Phases(f"{scenario.general.name} on {backend} (seed {seed})")
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


class CheckSteps:
    """A check listener (:mod:`pytest_monerosim.observe.checks`) that makes each check a step."""

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


def label_and_attach(
    item: pytest.Item, runs: list[NetworkRun], rows: list[dict[str, Any]], plots: dict[int, dict[str, bytes]]
) -> None:
    """Parameters, labels and attachments for a test's networks (call after the test body)."""
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
