"""Attacks and sweeps become parametrized tests.

* ``monerosim_attack``: one test per selected attack case. Cases come from
  ``@pytest.mark.monerosim_attack(name, **params)`` markers, else from
  ``--monerosim-attack``, else from every registered attack (each with its
  ``default_sweep`` parameter sets).
* ``@pytest.mark.monerosim_sweep(key=[...], ...)``: the cartesian product of the
  lists, one test each, ids like ``q=0.1-z=2``. A key is a scenario path
  (``p2p.out_peers``, ``duration``) or, for a test with one attack, a parameter of
  that attack (``attackers``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from pydantic import ValidationError

from ..config.loader import error_from_validation
from ..registry import Kind, Registry, UnknownPlugin


@dataclass(frozen=True)
class AttackCase:
    name: str
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return "-".join([self.name] + [f"{k}={_fmt(v)}" for k, v in self.params.items()])


@dataclass(frozen=True)
class BehaviourCase:
    """A node behaviour applied to one node group (``None``: the first miner group)."""

    name: str
    group: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        parts = [self.name] + ([f"group={self.group}"] if self.group else [])
        return "-".join(parts + [f"{k}={_fmt(v)}" for k, v in self.params.items()])


def _behaviour_marker_args(name: str, group: str | None = None, **params: Any) -> BehaviourCase:
    return BehaviourCase(name, group, params)


def behaviour_cases(metafunc: pytest.Metafunc, registry: Registry) -> list[BehaviourCase]:
    """``@pytest.mark.monerosim_behaviour(name, group=None, **params)`` markers, else every
    registered behaviour with its default parameters."""
    cases = _marker_cases(metafunc, "monerosim_behaviour", _behaviour_marker_args,
                          "monerosim_behaviour(name, group=None, **params)")
    if not cases:
        cases = [BehaviourCase(name) for name in registry.names("behaviour")]
    _validate_cases(metafunc, registry, "behaviour", cases)
    return cases


def _marker_cases(
    metafunc: pytest.Metafunc, marker: str, parse: Callable[..., Any], usage: str
) -> list[Any]:
    """One case per ``marker`` on the test (farthest first); a bad signature is a UsageError."""
    cases = []
    for m in reversed(list(metafunc.definition.iter_markers(marker))):
        try:
            cases.append(parse(*m.args, **m.kwargs))
        except TypeError as exc:
            raise pytest.UsageError(
                f"{metafunc.definition.nodeid}: @pytest.mark.{marker}{m.args!r}: {exc}; usage: {usage}"
            ) from None
    return cases


def _validate_cases(
    metafunc: pytest.Metafunc, registry: Registry, kind: Kind, cases: list[Any]
) -> None:
    """Each case's params against its plugin's schema; a bad one is a ``UsageError``."""
    for case in cases:
        try:
            registry.validate(kind, case.name, case.params)
        except UnknownPlugin as exc:
            raise pytest.UsageError(f"{metafunc.definition.nodeid}: {exc}") from None
        except Exception as exc:  # pydantic ValidationError
            raise pytest.UsageError(
                f"{metafunc.definition.nodeid}: {kind} {case.name!r} params {dict(case.params)}: "
                f"{_first_error(exc)}"
            ) from None


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return "+".join(_fmt(v) for v in value)
    return str(value)


def _attack_marker_args(name: str, **params: Any) -> AttackCase:
    return AttackCase(name, params)


def attack_cases(
    metafunc: pytest.Metafunc, registry: Registry, selected: tuple[str, ...]
) -> list[AttackCase]:
    cases = _marker_cases(metafunc, "monerosim_attack", _attack_marker_args,
                          "monerosim_attack(name, **params)")
    marked = bool(cases)
    check_selected_attacks(registry, selected)
    if not marked:
        for name in list(selected) or registry.names("attack"):
            spec = registry.get("attack", name)
            sweep = spec.default_sweep or ({},)
            cases.extend(AttackCase(name, dict(p)) for p in sweep)
    _validate_cases(metafunc, registry, "attack", cases)
    if selected and marked:
        cases = [c for c in cases if c.name in selected]
    return cases


def check_selected_attacks(registry: Registry, selected: tuple[str, ...]) -> None:
    """``--monerosim-attack`` names must be registered attacks (one ``UsageError`` otherwise)."""
    known = registry.names("attack")
    unknown = [name for name in selected if name not in known]
    if unknown:
        raise pytest.UsageError(
            f"--monerosim-attack={','.join(selected)}: {unknown[0]!r} is not an attack; accepted: "
            f"a comma-separated list of {', '.join(known)}"
        )


def check_marker_names(item: pytest.Item, registry: Registry) -> None:
    """Names in ``monerosim_backends``, ``monerosim_attack`` and ``monerosim_behaviour`` markers
    must exist, whether or not the test uses the fixture they narrow (a typo never passes)."""
    from ..backends import BACKENDS

    for marker in item.iter_markers("monerosim_backends"):
        for name in marker.args:
            if name not in BACKENDS:
                raise pytest.UsageError(
                    f"{item.nodeid}: @pytest.mark.monerosim_backends{marker.args!r}: {name!r} is not a "
                    f"backend; accepted: {', '.join(BACKENDS)}"
                )
    kinds: tuple[tuple[str, Kind], ...] = (("monerosim_attack", "attack"),
                                           ("monerosim_behaviour", "behaviour"))
    for marker_name, kind in kinds:
        for marker in item.iter_markers(marker_name):
            name = marker.args[0] if marker.args else marker.kwargs.get("name")
            if not isinstance(name, str):
                raise pytest.UsageError(
                    f"{item.nodeid}: @pytest.mark.{marker_name}{marker.args!r}: the first argument is "
                    f"the {kind}'s name; accepted: one of {', '.join(registry.names(kind))}"
                )
            if name not in registry.names(kind):
                raise pytest.UsageError(
                    f"{item.nodeid}: @pytest.mark.{marker_name}({name!r}): {name!r} is not a registered "
                    f"{kind}; accepted: {', '.join(registry.names(kind))}"
                )


def _first_error(exc: Exception) -> str:
    """The first problem of a plugin's parameter validation, as the scenario loader words it."""
    if isinstance(exc, ValidationError):
        err = error_from_validation(exc)
        return f"{err.path}: {err.message}" if err.path else err.message
    return str(exc)


def sweep_points(metafunc: pytest.Metafunc) -> list[dict[str, Any]] | None:
    marker = metafunc.definition.get_closest_marker("monerosim_sweep")
    if marker is None:
        return None
    if marker.args:
        raise pytest.UsageError(
            f"{metafunc.definition.nodeid}: monerosim_sweep takes keyword lists only, e.g. "
            "monerosim_sweep(q=[0.1, 0.2], z=[1, 2])"
        )
    grid: dict[str, list[Any]] = {}
    for key, values in marker.kwargs.items():
        if not isinstance(values, (list, tuple)) or not values:
            raise pytest.UsageError(
                f"{metafunc.definition.nodeid}: monerosim_sweep {key}={values!r}; accepted: a "
                "non-empty list of values"
            )
        grid[key] = list(values)
    keys = list(grid)
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*grid.values())]


def sweep_id(point: Mapping[str, Any]) -> str:
    return "-".join(f"{k.split('.')[-1]}={_fmt(v)}" for k, v in point.items())
