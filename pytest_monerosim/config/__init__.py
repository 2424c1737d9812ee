"""Scenario model, YAML loading and plugin parameter resolution."""

from .durations import format_duration, parse_duration
from .errors import ScenarioError
from .loader import apply_overrides, apply_run_overrides, load_scenario, scenario_from_dict
from .model import NodeGroup, PluginRef, Scenario, WalletGroup

__all__ = [
    "NodeGroup",
    "PluginRef",
    "Scenario",
    "ScenarioError",
    "WalletGroup",
    "apply_overrides",
    "apply_run_overrides",
    "format_duration",
    "load_scenario",
    "parse_duration",
    "scenario_from_dict",
]
