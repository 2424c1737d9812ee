"""The embedded simulator as a backend: scenario in, :class:`Result` out.

``run(scenario, registry, options)`` is the backend protocol
(:mod:`pytest_monerosim.backends`); :func:`run_scenario` is the same with
keyword arguments for direct use.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

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
    seed: int | None = None,
    duration: float | None = None,
    progress: Progress | None = None,
    progress_every: int = 200_000,
    snapshot_interval_s: float | None = DEFAULT_SNAPSHOT_INTERVAL_S,
    components: Iterable[Any] = (),
) -> Result:
    """Simulate ``scenario`` (seed and duration overridable) and return its result."""
    world = build_world(scenario, registry, seed=seed, duration=duration,
                        snapshot_interval_s=snapshot_interval_s, components=components)
    report = None
    if progress is not None:
        total = world.duration

        def report(now: float, events: int, _rate: float) -> None:
            progress(now, total, events)

    return world.run(progress=report, progress_every=progress_every)


def build_world(
    scenario: Scenario,
    registry: Registry | None = None,
    *,
    seed: int | None = None,
    duration: float | None = None,
    snapshot_interval_s: float | None = DEFAULT_SNAPSHOT_INTERVAL_S,
    components: Iterable[Any] = (),
) -> World:
    """The world for ``scenario``, built but not run (tests and attacks poke at it first)."""
    if registry is None:
        from ..registry import default_registry

        registry = default_registry()
    return World(scenario, registry, seed=seed, duration=duration,
                 snapshot_interval_s=snapshot_interval_s, components=components)


def run(scenario: Scenario, registry: Registry, options: RunOptions) -> Result:
    """Backend protocol entry point."""
    snapshot = options.extra.get("snapshot_interval_s", DEFAULT_SNAPSHOT_INTERVAL_S)
    world = build_world(scenario, registry, seed=options.seed, duration=options.duration,
                        snapshot_interval_s=snapshot,  # type: ignore[arg-type]
                        components=options.extra.get("components", ()),  # type: ignore[arg-type]
                        )
    options.partial = world.partial_result  # what an interrupted or failed run had measured
    report = None
    if options.progress is not None:
        progress, total = options.progress, world.duration

        def report(now: float, events: int, _rate: float) -> None:
            progress(now, total, events)

    return world.run(progress=report)
