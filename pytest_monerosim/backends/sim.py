"""The embedded simulator as a backend: scenario (or its layout) in, :class:`Result` out.

``run(scenario, registry, options, layout=None)`` is the backend protocol
(:mod:`pytest_monerosim.backends`); :func:`run_scenario` is the same with
keyword arguments for direct use. Seed and duration are the scenario's own
(``general.seed``, ``general.duration``): a run that wants others applies them
to the scenario first (:func:`pytest_monerosim.config.loader.apply_run_overrides`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ..layout import NetworkLayout, build_layout
from ..sim.network import DEFAULT_SNAPSHOT_INTERVAL_S, World

if TYPE_CHECKING:
    from ..config.model import Scenario
    from ..registry import Registry
    from ..result.model import Result
    from . import RunOptions

Progress = Callable[[float, float, int], None]
"""``progress(sim_time, duration, events)``."""


def run_scenario(
    scenario: Scenario,
    registry: Registry | None = None,
    *,
    progress: Progress | None = None,
    progress_every: int = 200_000,
    snapshot_interval_s: float | None = DEFAULT_SNAPSHOT_INTERVAL_S,
    components: Iterable[Any] = (),
) -> Result:
    """Simulate ``scenario`` and return its result."""
    world = build_world(scenario, registry, snapshot_interval_s=snapshot_interval_s,
                        components=components)
    return world.run(progress=_reporter(progress, world.duration), progress_every=progress_every)


def build_world(
    scenario: Scenario,
    registry: Registry | None = None,
    *,
    layout: NetworkLayout | None = None,
    snapshot_interval_s: float | None = DEFAULT_SNAPSHOT_INTERVAL_S,
    components: Iterable[Any] = (),
) -> World:
    """The world for ``scenario`` (from ``layout`` if already built), built but not run."""
    if registry is None:
        from ..registry import default_registry

        registry = default_registry()
    if layout is None:
        layout = build_layout(scenario, registry)
    return World(layout, registry, snapshot_interval_s=snapshot_interval_s, components=components)


def run(scenario: Scenario, registry: Registry, options: RunOptions,
        layout: NetworkLayout | None = None) -> Result:
    """Backend protocol entry point."""
    snapshot = options.extra.get("snapshot_interval_s", DEFAULT_SNAPSHOT_INTERVAL_S)
    world = build_world(scenario, registry, layout=layout,
                        snapshot_interval_s=snapshot,  # type: ignore[arg-type]
                        components=options.extra.get("components", ()),  # type: ignore[arg-type]
                        )
    options.partial = world.partial_result  # what an interrupted or failed run had measured
    return world.run(progress=_reporter(options.progress, world.duration))


def _reporter(progress: Progress | None, total: float) -> Callable[[float, int, float], None] | None:
    if progress is None:
        return None

    def report(now: float, events: int, _rate: float) -> None:
        progress(now, total, events)

    return report
