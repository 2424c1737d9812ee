"""The plugin registry: built-ins, entry points, errors."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest
from pydantic import ValidationError

from pytest_monerosim.registry import (
    ENTRY_POINT_GROUPS,
    KINDS,
    NoParams,
    PluginSpec,
    Registry,
    UnknownPlugin,
    default_registry,
    load_entry_points,
)


def test_builtins_cover_every_kind() -> None:
    registry = default_registry()
    for kind in KINDS:
        assert registry.names(kind), f"no built-in {kind}"
    assert {"eclipse", "sybil", "partition", "double_spend", "selfish_mining"} <= set(registry.names("attack"))


def test_unknown_plugin_lists_what_exists() -> None:
    registry = default_registry()
    with pytest.raises(UnknownPlugin, match="unknown attack 'eclipsee'; registered: double_spend, eclipse"):
        registry.get("attack", "eclipsee")


def test_params_are_validated_by_the_plugins_schema() -> None:
    registry = default_registry()
    with pytest.raises(ValidationError):
        registry.validate("behaviour", "constant_mining", {"intervl": 5})


def test_duplicate_names_are_refused() -> None:
    registry = Registry()
    spec = PluginSpec("behaviour", "x", NoParams, object)
    registry.add(spec)
    registry.add(spec)  # the same spec twice is harmless
    with pytest.raises(ValueError, match="registered twice"):
        registry.add(PluginSpec("behaviour", "x", NoParams, dict))


def test_entry_points_of_an_installed_package_are_loaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A third-party distribution declares an attack in the ``monerosim.attacks`` group."""
    (tmp_path / "thirdparty_attack.py").write_text(textwrap.dedent("""
        from pytest_monerosim.registry import NoParams, PluginSpec

        class Noop:
            def __init__(self, params):
                self.params = params

        SPEC = PluginSpec("attack", "noop", NoParams, Noop, "does nothing")
    """))
    dist = tmp_path / "thirdparty_attack-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: thirdparty-attack\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUPS['attack']}]\nnoop = thirdparty_attack:SPEC\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = Registry()
    load_entry_points(registry)
    assert registry.names("attack") == ["noop"]
    assert registry.get("attack", "noop").description == "does nothing"
    sys.modules.pop("thirdparty_attack", None)


def test_entry_point_of_the_wrong_kind_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "wrongkind.py").write_text(
        "from pytest_monerosim.registry import NoParams, PluginSpec\n"
        "SPEC = PluginSpec('behaviour', 'b', NoParams, object)\n"
    )
    dist = tmp_path / "wrongkind-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: wrongkind\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUPS['attack']}]\nb = wrongkind:SPEC\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(TypeError, match="must name a PluginSpec of kind 'attack'"):
        load_entry_points(Registry())
    sys.modules.pop("wrongkind", None)


