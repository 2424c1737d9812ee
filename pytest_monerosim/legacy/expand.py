"""Upstream's scenario form expanded into its expanded form, as ``scripts/scenario_parser.py`` does.

Agent ranges (``relay-{001..800}``), ``<field>_stagger`` fields, per-agent
value lists and ``type`` presets become one entry per agent; ``auto`` values
stay ``"auto"`` for ``migrate`` to decide. :func:`expand_agents` raises
``_ExpandError`` with the YAML path, the problem and what is accepted.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from typing import Any

from .values import parse_legacy_duration

# scripts/timing_constants.py
_AUTO_THRESHOLD = 50
_BATCH = {
    "initial_delay": 1200,
    "batch_interval": 1200,
    "initial_batch": 5,
    "growth_factor": 2.0,
    "max_batch": 200,
    "intra_stagger": 5,
}
_UPGRADE_STAGGER_S = 30
_EXPAND_SEED = 12345  # scenario_parser.py --seed default (it does not use simulation_seed)
_RANGE = re.compile(r"^(.+?)\{(\d+)(?:\.\.(\d+))?\}$")
_TYPE_SCRIPTS = {
    "miner": "agents.autonomous_miner",
    "user": "agents.regular_user",
    "distributor": "agents.miner_distributor",
    "monitor": "agents.simulation_monitor",
}
# scenario_parser.AGENT_TYPE_DEFAULTS, with upstream's placeholder `true` values
# replaced by the binaries and scripts every upstream example names.
_TYPE_DEFAULTS: dict[str, dict[str, Any]] = {
    "miner": {
        "daemon": "monerod",
        "wallet": "monero-wallet-rpc",
        "script": _TYPE_SCRIPTS["miner"],
        "daemon_options": {"start-mining": True},
    },
    "user": {"daemon": "monerod", "wallet": "monero-wallet-rpc", "script": _TYPE_SCRIPTS["user"]},
    "relay": {"daemon": "monerod"},
    "spy": {"daemon": "monerod", "daemon_options": {"out-peers": 0}},
    "distributor": {
        "daemon": "monerod",
        "wallet": "monero-wallet-rpc",
        "script": _TYPE_SCRIPTS["distributor"],
    },
    "monitor": {"daemon": "monerod", "wallet": "monero-wallet-rpc", "script": _TYPE_SCRIPTS["monitor"]},
}


class _ExpandError(ValueError):
    def __init__(self, path: tuple[Any, ...], problem: str, accepted: str) -> None:
        self.path, self.problem, self.accepted = path, problem, accepted
        super().__init__(problem)


def _range_ids(key: str) -> list[str] | None:
    """``miner-{001..005}`` -> miner-001..miner-005 (zero padding from the start number)."""
    match = _RANGE.match(key)
    if match is None:
        return None
    prefix, first = match.group(1), match.group(2)
    start, end = int(first), int(match.group(3) or first)
    if end < start:
        raise _ExpandError(
            ("agents", key), f"range {key!r} ends before it starts", "{START..END} with START <= END"
        )
    width = len(first) if first.startswith("0") and len(first) > 1 else 0
    return [f"{prefix}{i:0{width}d}" for i in range(start, end + 1)]


def _with_type(props: dict[str, Any], key: str) -> dict[str, Any]:
    kind = props.pop("type", None)
    if kind is None:
        return props
    if kind not in _TYPE_DEFAULTS:
        raise _ExpandError(
            ("agents", key, "type"), f"unknown agent type {kind!r}", ", ".join(sorted(_TYPE_DEFAULTS))
        )
    for name, default in _TYPE_DEFAULTS[kind].items():
        if name not in props:
            props[name] = default
        elif isinstance(default, dict) and isinstance(props[name], dict):
            props[name] = {**default, **props[name]}
    return props


def _batched(count: int, config: Mapping[str, Any]) -> list[float]:
    """scenario_parser.calculate_batched_schedule: batches of 5, 10, 20... (<= 200)."""
    cfg = {**_BATCH, **config}
    times: list[float] = []
    size, batch = float(cfg["initial_batch"]), 0
    while len(times) < count:
        take = min(int(size), int(cfg["max_batch"]), count - len(times))
        begin = cfg["initial_delay"] + batch * cfg["batch_interval"]
        times += [begin + i * cfg["intra_stagger"] for i in range(take)]
        batch, size = batch + 1, int(size * cfg["growth_factor"])
    return times


def _stagger(
    base: Any, spec: Any, count: int, offset: int, where: tuple[Any, ...], spawn: float | None
) -> list[Any]:
    """One field's per-agent values from its ``_stagger`` (scenario_parser.expand_stagger)."""
    if isinstance(spec, list):
        if len(spec) != count:
            raise _ExpandError(
                where, f"{len(spec)} values for {count} agents", f"a list of exactly {count} values"
            )
        return list(spec)
    if isinstance(spec, Mapping) and "range" in spec:
        low, high = spec["range"]
        rng = random.Random(_EXPAND_SEED)  # upstream: absolute values, not offsets
        return [rng.randint(low, high) for _ in range(count)]
    try:
        base_s = parse_legacy_duration(base) if base is not None else 0.0
    except ValueError:
        base_s = 0.0
    if spec in ("auto", "batched") or (isinstance(spec, Mapping) and "batch_sizes" in spec):
        if spec == "auto" and count < _AUTO_THRESHOLD:  # upstream: linear, 5 s apart
            base_s = spawn if spawn is not None else base_s
            return [base_s + (offset + i) * _BATCH["intra_stagger"] for i in range(count)]
        config = dict(spec) if isinstance(spec, Mapping) else {}
        if spawn is not None:
            config["initial_delay"] = spawn
        return [base_s + t for t in _batched(count, config)]
    try:
        interval = parse_legacy_duration(spec)
    except ValueError:
        raise _ExpandError(
            where, f"{spec!r} is not a stagger", "a duration, auto, batched, {range: [lo, hi]} or a list"
        ) from None
    if spawn is not None:
        base_s = spawn
    return [base_s + (offset + i) * interval for i in range(count)]


def _default_staggers(props: Mapping[str, Any], staggers: dict[str, Any], count: int) -> None:
    script = str(props.get("script", ""))
    daemon_only = ("daemon" in props or "daemon_0" in props) and not ("wallet" in props or "script" in props)
    user = "regular_user" in script
    if "start_time" in props and "start_time" not in staggers:
        if user:
            staggers["start_time"] = "auto"
        elif "autonomous_miner" in script:
            staggers["start_time"] = "1s"
        elif daemon_only:
            staggers["start_time"] = "5s"
    activity = props.get("activity_start_time")
    if user and activity not in (None, "auto") and "activity_start_time" not in staggers:
        # Upstream uses a machine-calibrated safe interval here; without calibration
        # data its formula reduces to this: max(1, transaction_interval // users).
        try:
            interval = parse_legacy_duration(props.get("transaction_interval", 60))
        except ValueError:
            interval = 60.0
        staggers["activity_start_time"] = max(1, int(interval) // count)
    for key in ("daemon_0_stop", "wallet_0_stop"):
        if key in props and key not in staggers:
            staggers[key] = _UPGRADE_STAGGER_S


def _expand_group(
    key: str, ids: list[str], props: dict[str, Any], offsets: dict[str, int], spawn: float | None
) -> dict[str, dict[str, Any]]:
    count = len(ids)
    staggers = {k[: -len("_stagger")]: v for k, v in props.items() if k.endswith("_stagger")}
    base = {k: v for k, v in props.items() if not k.endswith("_stagger")}
    for name in staggers:
        if name not in base:
            raise _ExpandError(
                ("agents", key, f"{name}_stagger"),
                f"{name}_stagger has no {name} to stagger",
                f"{name}: <value> next to {name}_stagger",
            )
    if count > 1:
        _default_staggers(base, staggers, count)
    user = "regular_user" in str(base.get("script", ""))
    values: dict[str, list[Any]] = {}
    for name, value in base.items():
        if name in staggers:
            kind = name.split("_")[0]
            phase = kind in ("daemon", "wallet") and ("stop" in name or ("start" in name and "0" not in name))
            offset = offsets[kind] if phase else 0
            values[name] = _stagger(
                value,
                staggers[name],
                count,
                offset,
                ("agents", key, f"{name}_stagger"),
                spawn if name == "start_time" and user else None,
            )
            if phase and "stop" in name:
                offsets[kind] += count
        elif isinstance(value, list) and len(value) == count and not name.endswith("_args"):
            values[name] = value
        else:
            values[name] = [value] * count
    return {agent: {name: vals[i] for name, vals in values.items()} for i, agent in enumerate(ids)}


def expand_agents(
    agents: Mapping[str, Any], spawn: float | None
) -> tuple[dict[str, Any], dict[str, list[str]], dict[str, str], bool]:
    """(agents one per id, range groups, agent id -> YAML key, whether anything expanded)."""
    out: dict[str, Any] = {}
    groups: dict[str, list[str]] = {}
    origin: dict[str, str] = {}
    offsets = {"daemon": 0, "wallet": 0}
    changed = False
    for key, raw in agents.items():
        key = str(key)
        ids = _range_ids(key)
        if not isinstance(raw, Mapping) or (
            ids is None and not any(str(k).endswith("_stagger") or k == "type" for k in raw)
        ):
            out[key], origin[key] = raw, key
            continue
        changed = True
        props = _with_type(dict(raw), key)
        if ids is None:  # a singleton: upstream drops its staggers
            out[key], origin[key] = {k: v for k, v in props.items() if not str(k).endswith("_stagger")}, key
            continue
        groups[key] = ids
        for agent, data in _expand_group(key, ids, props, offsets, spawn).items():
            if agent in out:
                raise _ExpandError(
                    ("agents", key),
                    f"agent {agent!r} is defined twice",
                    "agent ids that no other entry or range produces",
                )
            out[agent], origin[agent] = data, key
    return out, groups, origin, changed


__all__ = ["expand_agents"]
