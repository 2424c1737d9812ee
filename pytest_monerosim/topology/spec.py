"""Spec objects that describe one topology kind or one latency model.

A spec pairs a name with a pydantic model for its parameters and a builder, so
a YAML scenario, a marker argument and a CLI override are validated by the
same schema before anything is built.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import networkx as nx
from pydantic import BaseModel, ConfigDict

from ..strict import StrictModel

if TYPE_CHECKING:
    from .latency import LatencyModel

P = TypeVar("P", bound=BaseModel)


class Params(StrictModel):
    """Base for every parameter model here: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(frozen=True)


def _coerce(params: type[P], raw: Mapping[str, Any] | BaseModel | None) -> P:
    if isinstance(raw, params):
        return raw
    if isinstance(raw, BaseModel):
        raw = raw.model_dump()
    return params.model_validate(dict(raw or {}))


@dataclass(frozen=True)
class TopologySpec(Generic[P]):
    """One topology kind: ``build(n, params, rng)`` returns an undirected graph.

    ``n`` is the number of nodes wanted. Builders validate the combination of
    ``n`` and parameters themselves and raise ``ValueError`` naming both.
    """

    name: str
    params: type[P]
    build: Callable[[int, P, random.Random], nx.Graph]
    description: str

    def parse_params(self, raw: Mapping[str, Any] | BaseModel | None = None) -> P:
        """Validated parameters (raises pydantic ``ValidationError``)."""
        return _coerce(self.params, raw)

    def generate(
        self, n: int, raw: Mapping[str, Any] | BaseModel | None, rng: random.Random
    ) -> nx.Graph:
        """Validate ``raw`` and build; the graph records its kind in ``graph.graph['topology']``."""
        graph = self.build(n, self.parse_params(raw), rng)
        graph.graph.setdefault("topology", self.name)
        return graph

    def __call__(
        self, n: int, raw: Mapping[str, Any] | BaseModel | None, rng: random.Random
    ) -> nx.Graph:
        """Same as :meth:`generate`, so a spec can serve as a registry factory."""
        return self.generate(n, raw, rng)


@dataclass(frozen=True)
class LatencySpec(Generic[P]):
    """One latency model: ``build(params, rng)`` returns a :class:`LatencyModel`.

    The builder draws whatever seed it needs from ``rng`` once; afterwards the
    model answers every query from that seed alone, so it is deterministic and
    needs no per-pair state.
    """

    name: str
    params: type[P]
    build: Callable[[P, random.Random], LatencyModel]
    description: str

    def parse_params(self, raw: Mapping[str, Any] | BaseModel | None = None) -> P:
        return _coerce(self.params, raw)

    def create(
        self, raw: Mapping[str, Any] | BaseModel | None, rng: random.Random
    ) -> LatencyModel:
        return self.build(self.parse_params(raw), rng)

    def __call__(
        self, raw: Mapping[str, Any] | BaseModel | None, rng: random.Random
    ) -> LatencyModel:
        """Same as :meth:`create`, so a spec can serve as a registry factory."""
        return self.create(raw, rng)
