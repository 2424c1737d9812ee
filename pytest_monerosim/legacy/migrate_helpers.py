"""Small pure functions of ``migrate``: merged warnings, spans of agent ids, group names,
start-time clusters, flags and amounts."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from ..config.model import ATOMIC_PER_XMR
from .migration import (
    _GROUP_NAME,
    STAGGER_TOLERANCE_S,
    MigrationWarning,
)
from .model import (
    LegacyConfig,
)


def _merge(warnings: list[MigrationWarning], cfg: LegacyConfig) -> list[MigrationWarning]:
    """One warning for the same problem on many agents: ``agents.{user-001..user-100}.x``."""
    order = {name: i for i, name in enumerate(cfg.agents)}
    merged: dict[tuple[str, str], list[str]] = {}
    out: list[MigrationWarning | tuple[str, str]] = []
    for w in warnings:
        agent, rest = _agent_field(w.field, order)
        if agent is None:
            out.append(w)
            continue
        key = (rest, w.message)
        if key not in merged:
            merged[key] = []
            out.append(key)
        merged[key].append(agent)
    result: list[MigrationWarning] = []
    for item in out:
        if isinstance(item, MigrationWarning):
            result.append(item)
            continue
        agents = merged[item]
        result.append(MigrationWarning(f"agents.{_agents_span(agents, order, cfg.groups)}{item[0]}",
                                       item[1]))
    return result


def _agent_field(field: str, order: Mapping[str, int]) -> tuple[str | None, str]:
    """(agent id, the rest of the path after it) for ``agents.<id>...`` fields."""
    if not field.startswith("agents."):
        return None, field
    body = field[len("agents."):]
    for name in sorted(order, key=len, reverse=True):
        if body == name or body.startswith(name + "."):
            return name, body[len(name):]
    return None, field


def _agents_span(agents: list[str], order: Mapping[str, int], ranges: Mapping[str, list[str]]) -> str:
    if len(agents) == 1:
        return agents[0]
    for key, members in ranges.items():
        if sorted(members) == sorted(agents):
            return key
    idx = sorted(order[a] for a in agents)
    if idx[-1] - idx[0] == len(idx) - 1:
        first, last = min(agents, key=order.__getitem__), max(agents, key=order.__getitem__)
        return f"{{{first}..{last}}}"
    shown = sorted(agents, key=order.__getitem__)
    return "{" + ", ".join(shown[:4]) + (f", ... ({len(shown)} agents)" if len(shown) > 4 else "") + "}"


def _scenario_name(source: str | None) -> str:
    if not source:
        return "migrated"
    stem = Path(source).name.split(".")[0]
    return re.sub(r"[^a-z0-9-]+", "-", stem.lower()).strip("-") or "migrated"


def _shadow_time(seconds: float) -> str:
    from ..shadow_units import format_time

    return format_time(round(seconds, 9))


def _flag(key: str, value: Any) -> str:
    if value is True:
        return f"--{key}"
    return f"--{key}={str(value).lower() if isinstance(value, bool) else value}"


def _atomic(xmr: str) -> int:
    return int(Decimal(xmr) * ATOMIC_PER_XMR)



def _some(items: list[str], k: int = 4) -> str:
    return ", ".join(items[:k]) + (f" ... ({len(items)} in all)" if len(items) > k else "")


T = TypeVar("T")


def _clusters(members: list[T], start: Callable[[T], float]) -> list[list[T]]:
    """Split where consecutive (sorted) start times are further apart than the tolerance.

    Each cluster keeps the members' original order.
    """
    ordered = sorted(members, key=start)
    out: list[list[T]] = [[ordered[0]]]
    for prev, cur in zip(ordered, ordered[1:], strict=False):
        if start(cur) - start(prev) > STAGGER_TOLERANCE_S:
            out.append([])
        out[-1].append(cur)
    order = {id(m): i for i, m in enumerate(members)}
    return [sorted(c, key=lambda m: order[id(m)]) for c in out]


def _group_name(ids: list[str], role: str, ranges: Mapping[str, list[str]]) -> str:
    if len(ids) == 1:
        raw = ids[0]
    else:
        wanted = set(ids)
        key = next((k for k, members in ranges.items() if wanted <= set(members)), None)
        if key is not None:
            raw = key.split("{", 1)[0]
        else:
            raw = _common_prefix(ids)
        raw = raw.rstrip("-_0123456789.") or role
    name = re.sub(r"[^a-z0-9-]+", "-", raw.lower()).strip("-")
    if not name or not name[0].isalpha():
        name = f"{role}-{name}" if name else role
    assert _GROUP_NAME.match(name), name
    return name


def _common_prefix(ids: Iterable[str]) -> str:
    items = list(ids)
    first, last = min(items), max(items)
    i = 0
    while i < len(first) and i < len(last) and first[i] == last[i]:
        i += 1
    return first[:i]


def _unique(name: str, used: set[str], count: int) -> str:
    """``name`` or ``name-b``, ``name-c``... so that neither it nor its node names clash."""

    def clashes(candidate: str) -> bool:
        nodes = [candidate] if count == 1 else [f"{candidate}-{i}" for i in range(count)]
        return candidate in used or any(n in used for n in nodes)

    candidate, n = name, 1
    while clashes(candidate):
        n += 1
        candidate = f"{name}-x{n}"
    used.add(candidate)
    if count > 1:
        used.update(f"{candidate}-{i}" for i in range(count))
    return candidate
