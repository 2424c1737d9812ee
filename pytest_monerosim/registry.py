"""Plugin registry: behaviours, wallet strategies, attacks, topologies and latency models.

A plugin is a :class:`PluginSpec`: a name, a pydantic model for its parameters
and a factory. Plugins are found the way pytest finds its own:

* built-ins, listed in :data:`BUILTIN_MODULES`;
* the setuptools entry-point groups ``monerosim.behaviours``,
  ``monerosim.wallet_strategies``, ``monerosim.attacks``, ``monerosim.topologies``
  and ``monerosim.latency_models`` (each entry point names a ``PluginSpec`` or a list
  of them);
* the hook ``monerosim_register(registry)`` (see :mod:`pytest_monerosim.hookspecs`),
  which a ``conftest.py`` or any pluggy plugin may implement.

This module sits below every layer that has plugins and imports none of them
eagerly; the built-in modules are imported on first use.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from .strict import StrictModel

Kind = Literal["behaviour", "wallet_strategy", "attack", "topology", "latency_model"]
KINDS: tuple[Kind, ...] = ("behaviour", "wallet_strategy", "attack", "topology", "latency_model")
ENTRY_POINT_GROUPS: dict[Kind, str] = {
    "behaviour": "monerosim.behaviours",
    "wallet_strategy": "monerosim.wallet_strategies",
    "attack": "monerosim.attacks",
    "topology": "monerosim.topologies",
    "latency_model": "monerosim.latency_models",
}
# Modules whose ``PLUGINS`` list holds the built-in PluginSpecs.
BUILTIN_MODULES: tuple[str, ...] = (
    "pytest_monerosim.agents.behaviours",
    "pytest_monerosim.agents.wallets",
    "pytest_monerosim.attacks",
    "pytest_monerosim.topology.plugins",
)

P = TypeVar("P", bound=BaseModel)


class NoParams(StrictModel):
    pass


@dataclass(frozen=True)
class PluginSpec(Generic[P]):
    """One plugin: ``factory(params)`` builds what the kind needs."""

    kind: Kind
    name: str
    params: type[P]
    factory: Callable[..., Any]
    description: str = ""
    default_sweep: tuple[Mapping[str, Any], ...] = field(default_factory=tuple)
    """Parameter sets a bare ``monerosim_attack`` fixture runs (one test each)."""

    def validate(self, raw: Mapping[str, Any] | None) -> P:
        return self.params.model_validate(dict(raw or {}))


class UnknownPlugin(LookupError):
    def __init__(self, kind: str, name: str, known: Iterable[str]) -> None:
        self.kind, self.name, self.known = kind, name, sorted(known)
        super().__init__(
            f"unknown {kind.replace('_', ' ')} {name!r}; registered: {', '.join(self.known) or 'none'}"
        )


class Registry:
    """Name → PluginSpec per kind. One per run (the plugin keeps one per session)."""

    def __init__(self) -> None:
        self._specs: dict[Kind, dict[str, PluginSpec[Any]]] = {k: {} for k in KINDS}

    def add(self, spec: PluginSpec[Any], *, replace: bool = False) -> None:
        table = self._specs[spec.kind]
        if spec.name in table and not replace and table[spec.name] is not spec:
            raise ValueError(f"{spec.kind} {spec.name!r} is registered twice")
        table[spec.name] = spec

    def add_all(self, specs: Iterable[PluginSpec[Any]]) -> None:
        for spec in specs:
            self.add(spec)

    def get(self, kind: Kind, name: str) -> PluginSpec[Any]:
        try:
            return self._specs[kind][name]
        except KeyError:
            raise UnknownPlugin(kind, name, self._specs[kind]) from None

    def names(self, kind: Kind) -> list[str]:
        return sorted(self._specs[kind])

    def specs(self, kind: Kind) -> Iterator[PluginSpec[Any]]:
        for name in self.names(kind):
            yield self._specs[kind][name]

    def validate(self, kind: Kind, name: str, raw: Mapping[str, Any] | None) -> BaseModel:
        """Validated params; raises ``UnknownPlugin`` or pydantic ``ValidationError``."""
        return self.get(kind, name).validate(raw)


def load_builtins(registry: Registry) -> None:
    for module_name in BUILTIN_MODULES:
        module = importlib.import_module(module_name)
        registry.add_all(module.PLUGINS)


def load_entry_points(registry: Registry) -> None:
    for kind, group in ENTRY_POINT_GROUPS.items():
        for ep in entry_points(group=group):
            obj = ep.load()
            specs = obj if isinstance(obj, (list, tuple)) else [obj]
            for spec in specs:
                if not isinstance(spec, PluginSpec) or spec.kind != kind:
                    raise TypeError(
                        f"entry point {ep.name!r} in group {group!r} must name a PluginSpec "
                        f"of kind {kind!r}; got {spec!r}"
                    )
                registry.add(spec)


def default_registry() -> Registry:
    """Built-ins plus installed entry points (no pytest hooks: the plugin adds those)."""
    registry = Registry()
    load_builtins(registry)
    load_entry_points(registry)
    return registry


__all__ = [
    "KINDS",
    "ENTRY_POINT_GROUPS",
    "Kind",
    "NoParams",
    "PluginSpec",
    "Registry",
    "UnknownPlugin",
    "ValidationError",
    "default_registry",
]
