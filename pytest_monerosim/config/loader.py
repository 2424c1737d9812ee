"""Loading scenarios from YAML, dicts and overrides, with errors that point at the line."""

from __future__ import annotations

import copy
import importlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from .errors import ScenarioError
from .model import Scenario

# Short override names a marker or CLI may use, mapped to their full path.
SHORTCUTS = {
    "seed": "general.seed",
    "duration": "general.duration",
    "name": "general.name",
    "backend": "general.backend",
    "topology": "network.topology",
    "latency": "network.latency",
    "out_peers": "p2p.out_peers",
    "in_peers": "p2p.in_peers",
    "anchors": "p2p.anchors",
    "relay": "transactions.relay",
}


def _line_index(node: yaml.Node, prefix: tuple[Any, ...] = ()) -> dict[tuple[Any, ...], int]:
    """Map every YAML path (keys and list indexes) to its 1-based line number."""
    out: dict[tuple[Any, ...], int] = {prefix: node.start_mark.line + 1}
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            out[prefix + (key,)] = key_node.start_mark.line + 1
            out.update(
                {k: v for k, v in _line_index(value_node, prefix + (key,)).items() if k != prefix + (key,)}
            )
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            out.update(_line_index(item, prefix + (i,)))
    return out


def dotted(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts)


def _clean_loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    # pydantic inserts tags such as 'function-before[...]' for validators; drop them.
    return tuple(p for p in loc if not (isinstance(p, str) and ("[" in p or p.startswith("function-"))))


def error_from_validation(
    exc: ValidationError,
    *,
    source: str | None = None,
    lines: Mapping[tuple[Any, ...], int] | None = None,
    prefix: tuple[Any, ...] = (),
) -> ScenarioError:
    """The first error of a pydantic ``ValidationError`` as one readable ``ScenarioError``."""
    err = exc.errors(include_url=False)[0]
    loc = prefix + _clean_loc(tuple(err["loc"]))
    line = None
    if lines:
        probe = loc
        while probe and probe not in lines:
            probe = probe[:-1]
        line = lines.get(probe)
    kind = err["type"]
    value = err.get("input")
    if kind == "extra_forbidden":
        parent = loc[:-1]
        message = f"unknown field {loc[-1]!r}" + (f" in {dotted(parent)}" if parent else "")
        allowed = _allowed_fields(exc.title, parent, prefix)
        if allowed:
            message += f"; accepted: {', '.join(allowed)}"
        return ScenarioError(message, source=source, path=dotted(loc), line=line)
    msg = str(err["msg"]).removeprefix("Value error, ")
    if kind == "missing":
        message = "is required but missing"
    else:
        message = f"bad value {_short(value)}: {msg}"
    more = len(exc.errors()) - 1
    if more:
        message += f" (and {more} more error{'s' if more > 1 else ''})"
    return ScenarioError(message, source=source, path=dotted(loc) or None, line=line)


def _allowed_fields(title: str, parent: tuple[Any, ...], prefix: tuple[Any, ...]) -> list[str]:
    model: Any = Scenario if title == "Scenario" else None
    if model is None:
        return []
    for part in parent[len(prefix) :] if prefix and parent[: len(prefix)] == prefix else parent:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        if field is None:
            return []
        ann = field.annotation
        model = _model_in(ann)
        if model is None:
            return []
    return sorted(model.model_fields)


def _model_in(annotation: Any) -> Any:
    from pydantic import BaseModel

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def read_yaml(path: str | Path) -> tuple[Any, dict[tuple[Any, ...], int]]:
    """Parse a YAML file; returns (data, line index). Errors become ``ScenarioError``."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"cannot read scenario file: {exc.strerror}", source=str(p)) from None
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"not a text file (byte {exc.start} is not UTF-8); accepted: a YAML scenario "
                            "in UTF-8", source=str(p)) from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or getattr(exc, "reason", None) or str(exc)
        raise ScenarioError(
            f"invalid YAML: {problem}", source=str(p), line=mark.line + 1 if mark else None
        ) from None
    lines = _line_index(node) if node is not None else {}
    return data, lines


def apply_overrides(data: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Overrides as dotted paths (``p2p.out_peers``) or shortcuts (``seed``, ``duration``).

    List items are addressed by index or, for ``nodes``, by group name:
    ``nodes.victim.out_peers=4``.
    """
    out = copy.deepcopy(data)
    for key, value in overrides.items():
        if not isinstance(key, str) or not key or any(not p for p in SHORTCUTS.get(key, key).split(".")):
            raise ScenarioError(f"override {key!r}: not a dotted path; accepted: a path such as "
                                f"p2p.out_peers or one of {', '.join(SHORTCUTS)}", path=str(key))
        path = SHORTCUTS.get(key, key).split(".")
        target: Any = out
        for i, part in enumerate(path[:-1]):
            target = _step(target, part, ".".join(path[: i + 1]), key)
        last = path[-1]
        if isinstance(target, list):
            target[_list_index(target, last, key)] = value
        elif isinstance(target, dict):
            target[last] = value
        else:
            parent = ".".join(path[:-1])
            raise ScenarioError(f"override {key!r}: {parent} is {_short(target)}, not a mapping; accepted: "
                                "a path that ends at a field", path=key)
    return out


def _step(target: Any, part: str, so_far: str, key: str) -> Any:
    if isinstance(target, list):
        return target[_list_index(target, part, key)]
    if not isinstance(target, dict):
        raise ScenarioError(f"override {key!r}: {so_far} is {_short(target)}, not a mapping", path=key)
    return target.setdefault(part, {})


def _list_index(items: list[Any], part: str, key: str) -> int:
    if part.isdigit() and int(part) < len(items):
        return int(part)
    for i, item in enumerate(items):
        if isinstance(item, dict) and part in (item.get("group"), item.get("name")):
            return i
    names = [str(it.get("group") or it.get("name")) for it in items if isinstance(it, dict)]
    raise ScenarioError(
        f"override {key!r}: no list item {part!r}; accepted: an index < {len(items)} or one of "
        f"{names}",
        path=key,
    )


def scenario_from_dict(
    data: Any,
    *,
    source: str | None = None,
    lines: Mapping[tuple[Any, ...], int] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Scenario:
    if not isinstance(data, dict):
        raise ScenarioError(
            f"a scenario is a mapping with keys general, network, nodes, ...; got {type(data).__name__}",
            source=source,
        )
    if overrides:
        data = apply_overrides(data, overrides)
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise error_from_validation(exc, source=source, lines=lines) from None


#: Modules that read other scenario formats, asked in order before a file is read as this
#: project's format: each has ``recognises(data) -> bool`` and ``scenario_dict(path) -> dict``.
#: Named, not imported: they sit in a layer above this one (:mod:`pytest_monerosim.legacy`
#: converts into ``config``) and are imported on first use, as the registry imports its built-ins.
OTHER_FORMATS: tuple[str, ...] = ("pytest_monerosim.legacy.bridge",)


def load_scenario(
    path: str | Path, overrides: Mapping[str, Any] | None = None
) -> Scenario:
    """Load and validate a scenario file (this project's format or the legacy one)."""
    data, lines = read_yaml(path)
    if isinstance(data, dict):
        for module_name in OTHER_FORMATS:
            reader = importlib.import_module(module_name)
            if reader.recognises(data):
                return scenario_from_dict(reader.scenario_dict(path), source=str(path), overrides=overrides)
    return scenario_from_dict(data, source=str(path), lines=lines, overrides=overrides)


def apply_run_overrides(
    scenario: Scenario,
    *,
    seed: int | None = None,
    duration: float | str | None = None,
    overrides: Mapping[str, Any] | None = None,
    source: str | None = None,
) -> Scenario:
    """The run's overrides (``--seed``, ``--duration``, dotted ``--set`` paths) on ``scenario``.

    The one place a run's seed and duration reach the scenario: the plugin and
    the CLI call it before any hook or backend sees the scenario, and from then
    on ``general.seed`` / ``general.duration`` are the run's. ``seed`` and
    ``duration`` win over the same paths in ``overrides``. Validated as a
    YAML file is (a bad value names its field).
    """
    paths = dict(overrides or {})
    if seed is not None:
        paths["general.seed"] = seed
    if duration is not None:
        paths["general.duration"] = duration
    if not paths:
        return scenario
    return scenario_from_dict(scenario.model_dump(), source=source, overrides=paths)
