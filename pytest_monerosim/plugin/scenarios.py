"""Build each test's scenario at collection time, so bad input fails before any run.

Sources, later ones winning: the ``@pytest.mark.monerosim(scenario, **overrides)``
markers (module/class first, then function; the nearest marker naming a
scenario starts afresh, dropping farther overrides), the sweep point, the
attack case, then ``--monerosim-seed`` / ``--monerosim-duration`` (applied last, through
:func:`~pytest_monerosim.config.loader.apply_run_overrides`, before any hook sees the scenario).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ..config.errors import ScenarioError
from ..config.loader import SHORTCUTS, apply_run_overrides, read_yaml, scenario_from_dict
from ..config.model import Scenario
from ..registry import Registry
from ..runner import prepare
from .options import Settings
from .parametrize import AttackCase
from .state import ITEM_LAYOUT

# The network a test gets when its marker names no scenario: small, quick, mines.
DEFAULT_SCENARIO: dict[str, Any] = {
    "general": {"name": "default", "seed": 1, "duration": "2h"},
    "nodes": [
        {"group": "miners", "count": 4, "role": "miner", "hashrate": 1.0},
        {"group": "relays", "count": 16, "role": "relay"},
    ],
}


def _marker_args(scenario: Any = None, **overrides: Any) -> tuple[Any, dict[str, Any]]:
    """The signature of ``@pytest.mark.monerosim``."""
    return scenario, overrides


def _resolve_path(item: pytest.Item, spec: str | Path) -> Path:
    p = Path(spec)
    if p.is_absolute():
        return p
    for base in (item.path.parent, item.config.rootpath, Path.cwd()):
        if (base / p).exists():
            return base / p
    return item.path.parent / p


def _base(
    item: pytest.Item,
) -> tuple[dict[str, Any], dict[tuple[Any, ...], int] | None, str | None, dict[str, Any]]:
    data: Any = None
    lines = None
    source = None
    overrides: dict[str, Any] = {}
    for marker in reversed(list(item.iter_markers("monerosim"))):
        try:
            scenario, kw = _marker_args(*marker.args, **marker.kwargs)
        except TypeError as exc:
            raise ScenarioError(
                f"@pytest.mark.monerosim{marker.args!r}: {exc}; usage: "
                "monerosim(scenario=PATH|dict, **overrides)"
            ) from None
        if scenario is not None:
            # A nearer scenario replaces a farther one, and the farther one's overrides with it.
            overrides = {}
            if isinstance(scenario, (str, Path)):
                path = _resolve_path(item, scenario)
                data, lines = read_yaml(path)
                source = str(path)
                if isinstance(data, dict):
                    from ..legacy import bridge as legacy_bridge

                    if legacy_bridge.looks_legacy(data):
                        data, lines = legacy_bridge.scenario_dict_from_legacy(path), None
            elif isinstance(scenario, dict):
                data, lines, source = scenario, None, f"{item.nodeid} (inline scenario)"
            elif isinstance(scenario, Scenario):
                data, lines, source = scenario.model_dump(), None, f"{item.nodeid} (Scenario object)"
            else:
                raise ScenarioError(
                    f"@pytest.mark.monerosim scenario={scenario!r}; accepted: a YAML path, a dict or a "
                    "Scenario"
                )
        overrides.update(kw)
    if data is None:
        data, source = DEFAULT_SCENARIO, "built-in default scenario"
    return data, lines, source, overrides


def _split_sweep(point: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Sweep keys that are scenario paths vs attack parameters."""
    paths, attack = {}, {}
    for key, value in point.items():
        if key in SHORTCUTS or "." in key:
            paths[key] = value
        else:
            attack[key] = value
    return paths, attack


def _behaviour_group(data: Any, overrides: dict[str, Any], group: str | None) -> str:
    groups = [g for g in (data.get("nodes") or []) if isinstance(g, dict)] if isinstance(data, dict) else []
    names = [str(g.get("group")) for g in groups]
    if group is not None:
        if group not in names:
            raise ScenarioError(
                f"monerosim_behaviour group={group!r} is not a node group; groups are {names}"
            )
        return group
    miners = [str(g.get("group")) for g in groups if g.get("role") == "miner"]
    if not (miners or names):
        raise ScenarioError("monerosim_behaviour: the scenario has no node group")
    return (miners or names)[0]


def build_scenario(item: pytest.Item, settings: Settings, registry: Registry) -> tuple[Scenario, str | None]:
    data, lines, source, overrides = _base(item)
    callspec = getattr(item, "callspec", None)
    params = callspec.params if callspec else {}
    point = params.get("monerosim_params") or {}
    sweep_paths, sweep_attack = _split_sweep(point)
    overrides.update(sweep_paths)
    behaviour = params.get("monerosim_behaviour")
    if behaviour is not None:
        overrides[f"nodes.{_behaviour_group(data, overrides, behaviour.group)}.behaviour"] = {
            "name": behaviour.name, **dict(behaviour.params)
        }
    scenario = scenario_from_dict(data, source=source, lines=lines, overrides=overrides)
    attacks = [a.model_dump() for a in scenario.attacks]
    case: AttackCase | None = params.get("monerosim_attack")
    if case is None and "monerosim_attack" not in getattr(item, "fixturenames", ()):
        for m in reversed(list(item.iter_markers("monerosim_attack"))):
            name, *_ = m.args or (None,)
            attacks.append({"name": name, "params": dict(m.kwargs)})
    if case is not None:
        attacks.append({"name": case.name, "params": dict(case.params)})
    if sweep_attack:
        if len(attacks) != 1:
            raise ScenarioError(
                f"sweep keys {sorted(sweep_attack)} are neither scenario paths nor parameters of a "
                f"single attack (this test has {len(attacks)} attacks); use a dotted path like "
                "p2p.out_peers"
            )
        attacks[0]["params"] = {**attacks[0]["params"], **sweep_attack}
    if attacks != [a.model_dump() for a in scenario.attacks]:
        scenario = scenario_from_dict({**scenario.model_dump(), "attacks": attacks}, source=source)
    scenario = apply_run_overrides(scenario, seed=settings.seed, duration=settings.duration, source=source)
    item.stash[ITEM_LAYOUT] = prepare(scenario, registry, source)
    return scenario, source
