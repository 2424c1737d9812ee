"""Validate a scenario's plugin references against a registry.

The scenario model keeps plugin parameters as plain mappings; this step checks
each against the named plugin's own schema, so a YAML file, a marker argument
and a CLI override are held to the same rules and a typo names its field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from ..registry import Kind, Registry, UnknownPlugin
from .errors import ScenarioError
from .loader import dotted, error_from_validation
from .model import PluginRef, Scenario


@dataclass(frozen=True)
class ResolvedPlugin:
    name: str
    params: BaseModel
    path: str


def _resolve(registry: Registry, kind: Kind, ref: PluginRef, loc: tuple[Any, ...]) -> ResolvedPlugin:
    try:
        params = registry.validate(kind, ref.name, ref.params)
    except UnknownPlugin as exc:
        raise ScenarioError(str(exc), path=dotted(loc + ("name",))) from None
    except ValidationError as exc:
        err = error_from_validation(exc, prefix=loc)
        raise ScenarioError(err.message, path=err.path) from None
    return ResolvedPlugin(ref.name, params, dotted(loc))


def resolve_plugins(
    scenario: Scenario, registry: Registry, source: str | None = None
) -> dict[str, ResolvedPlugin]:
    """Map of dotted path → validated plugin; raises ``ScenarioError`` on the first bad one."""
    out: dict[str, ResolvedPlugin] = {}
    items: list[tuple[Kind, PluginRef, tuple[Any, ...]]] = [
        ("topology", scenario.network.topology, ("network", "topology")),
        ("latency_model", scenario.network.latency, ("network", "latency")),
    ]
    items += [
        ("behaviour", g.behaviour_ref(), ("nodes", i, "behaviour")) for i, g in enumerate(scenario.nodes)
    ]
    items += [
        ("wallet_strategy", w.strategy, ("wallets", i, "strategy")) for i, w in enumerate(scenario.wallets)
    ]
    items += [("attack", a, ("attacks", i)) for i, a in enumerate(scenario.attacks)]
    for kind, ref, loc in items:
        try:
            resolved = _resolve(registry, kind, ref, loc)
        except ScenarioError as exc:
            raise ScenarioError(exc.message, source=source, path=exc.path) from None
        out[resolved.path] = resolved
    return out
