"""Loading the existing Monerosim's YAML config into :mod:`.model`: validation and its errors.

:func:`load_legacy` reads a file, :func:`legacy_from_dict` an already parsed
mapping; both expand the scenario form (:mod:`.expand`) and turn pydantic's
errors into one :class:`~.model.LegacyConfigError` naming the YAML line, the
dotted path, the value and what is accepted.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from ..config.loader import dotted, read_yaml
from .expand import _ExpandError, expand_agents
from .model import TOP_LEVEL, LegacyConfig, LegacyConfigError, _Model
from .values import parse_legacy_duration

__all__ = ["is_legacy", "legacy_from_dict", "load_legacy"]


def is_legacy(mapping: object) -> bool:
    """True for upstream's format: an ``agents`` map (this project's scenarios have ``nodes``)."""
    return (
        isinstance(mapping, Mapping) and isinstance(mapping.get("agents"), Mapping) and "nodes" not in mapping
    )


def _model_names(cls: type[BaseModel] = _Model) -> set[str]:
    names: set[str] = set()
    for sub in cls.__subclasses__():
        names |= {sub.__name__} | _model_names(sub)
    return names


_UNION_TAGS = {"bool", "int", "str", "float", "list", "dict"}


def _is_tag(part: Any) -> bool:
    """pydantic's names for union members and validators, which are not YAML keys."""
    return isinstance(part, str) and (
        "[" in part or part.startswith("function") or part in _UNION_TAGS or part in _model_names()
    )


def _yaml_loc(loc: tuple[Any, ...], origin: Mapping[str, str]) -> tuple[tuple[Any, ...], str]:
    """A pydantic loc as the YAML path it came from, plus a note naming the expanded agent."""
    parts = [p for p in loc if not _is_tag(p)]
    note = ""
    if len(parts) >= 2 and parts[0] == "agents" and str(parts[1]) in origin:
        agent = str(parts[1])
        if origin[agent] != agent:
            note = f" (agent {agent})"
        parts[1] = origin[agent]
    if len(parts) >= 5 and parts[2] in ("daemon_phases", "wallet_phases") and isinstance(parts[3], int):
        kind, field = parts[2].split("_")[0], parts[4]
        parts[2:5] = [f"{kind}_{parts[3]}" + ("" if field == "path" else f"_{field}")]
    return tuple(parts), note


def _error(
    problem: str,
    accepted: str,
    path: tuple[Any, ...],
    value: Any,
    note: str,
    source: str | None,
    lines: Mapping[tuple[Any, ...], int] | None,
) -> LegacyConfigError:
    probe = path
    while probe and lines and probe not in lines:
        probe = probe[:-1]
    text = problem + note
    if value is not None and repr(value) not in problem and not isinstance(value, Mapping):
        text += f" (got {value!r})"
    if accepted:
        text += f"; accepted: {accepted}"
    return LegacyConfigError(text, source=source, path=dotted(path) or None, line=(lines or {}).get(probe))


def _from_validation(
    exc: ValidationError,
    origin: Mapping[str, str],
    source: str | None,
    lines: Mapping[tuple[Any, ...], int] | None,
) -> LegacyConfigError:
    errors = exc.errors(include_url=False)
    # Prefer our own messages: for `daemon: {adress: auto}` the union member that
    # explains the problem is RemoteDaemon's unknown field, not "not a string".
    err = next((e for e in errors if e["type"].startswith("legacy")), errors[0])
    ctx = err.get("ctx") or {}
    path, note = _yaml_loc(tuple(err["loc"]), origin)
    same = [e for e in errors if _yaml_loc(tuple(e["loc"]), origin)[0] == path]
    if len(same) > 1 and all(e["type"].endswith("_type") for e in same):
        # every member of a union refused the value: say what any of them would take
        kinds = [str(e["msg"]).removeprefix("Input should be a valid ") for e in same]
        err = {**err, "msg": "Input should be a valid " + " or ".join(dict.fromkeys(kinds))}
        errors = [e for e in errors if e not in same[1:]]
    value, accepted = err.get("input"), str(ctx.get("accepted", ""))
    if err["type"] == "legacy_unknown_key":
        path, value = path + (ctx["key"],), None
        problem = f"unknown field {ctx['key']!r}{ctx['hint']}"
    elif err["type"] == "legacy":
        problem = str(ctx["problem"])
    elif err["type"] == "missing":
        problem, value = "is required but missing", None
    else:
        problem = str(err["msg"])
    if len(errors) > 1:
        accepted += f" ({len(errors) - 1} more error(s))" if accepted else ""
    return _error(problem, accepted, path, value, note, source, lines)


def legacy_from_dict(
    data: Any,
    *,
    source: str | None = None,
    lines: Mapping[tuple[Any, ...], int] | None = None,
    unknown: list[tuple[str, str]] | None = None,
) -> LegacyConfig:
    """Validate an upstream config already parsed from YAML (either form).

    Top-level keys upstream does not read (``metadata``, notes of a sweep...)
    are ignored as upstream ignores them; each adds ``(key, message)`` to
    ``unknown`` when a list is given.
    """
    if not is_legacy(data):
        raise LegacyConfigError(
            "not an upstream Monerosim config: it needs an 'agents' map "
            f"and top-level keys from {', '.join(TOP_LEVEL)}",
            source=source,
        )
    extra = [k for k in data if k not in TOP_LEVEL]
    for key in extra:
        if difflib.get_close_matches(str(key), TOP_LEVEL, n=1, cutoff=0.8):
            continue  # a misspelt section ('genral') stays an error, reported below
        line = (lines or {}).get((key,))
        where = f" (line {line})" if line else ""
        if unknown is not None:
            unknown.append((str(key), f"unknown top-level key{where}; upstream ignores it and so "
                                      f"does migrate (sections read: {', '.join(TOP_LEVEL)})"))
        data = {k: v for k, v in data.items() if k != key}
    timing = data.get("timing")
    spawn = None
    if isinstance(timing, Mapping) and timing.get("user_spawn_start") is not None:
        try:
            spawn = parse_legacy_duration(timing["user_spawn_start"])
        except ValueError:
            spawn = None  # reported by the timing model below
    try:
        agents, groups, origin, changed = expand_agents(data["agents"], spawn)
    except _ExpandError as exc:
        raise _error(exc.problem, exc.accepted, exc.path, None, "", source, lines) from None
    form = "scenario" if changed or "timing" in data else "expanded"
    try:
        return LegacyConfig.model_validate({**data, "agents": agents, "groups": groups, "form": form})
    except ValidationError as exc:
        raise _from_validation(exc, origin, source, lines) from None


def load_legacy(path: str | Path, *, unknown: list[tuple[str, str]] | None = None) -> LegacyConfig:
    """Read and validate an upstream Monerosim config file (expanded or scenario form).

    Raises :class:`LegacyConfigError` (a ``ScenarioError``) naming the file,
    line, dotted field path, bad value and what is accepted. Unknown top-level
    keys are ignored (listed in ``unknown``, see :func:`legacy_from_dict`).
    """
    data, lines = read_yaml(path)
    return legacy_from_dict(data, source=str(path), lines=lines, unknown=unknown)
