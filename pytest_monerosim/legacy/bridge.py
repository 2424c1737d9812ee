"""Detect the existing Monerosim's config format and turn it into a scenario.

The format itself lives in :mod:`.model`; the translation in :mod:`.migrate`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..config.model import Scenario


def looks_legacy(data: Mapping[str, Any]) -> bool:
    """Upstream configs have ``agents`` as a mapping and no ``nodes`` list."""
    return isinstance(data.get("agents"), dict) and "nodes" not in data


def scenario_dict_from_legacy(path: str | Path) -> dict[str, Any]:
    from .migrate import migrate_file

    return migrate_file(path).scenario


def scenario_from_legacy_file(path: str | Path, overrides: Mapping[str, Any] | None = None) -> Scenario:
    from ..config.loader import scenario_from_dict

    return scenario_from_dict(scenario_dict_from_legacy(path), source=str(path), overrides=overrides)


# The reader protocol of :data:`pytest_monerosim.config.loader.OTHER_FORMATS`.
recognises = looks_legacy
scenario_dict = scenario_dict_from_legacy
