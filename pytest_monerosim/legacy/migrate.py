"""Translate the existing Monerosim's config ("legacy", see :mod:`.model`) into a scenario.

:func:`migrate` / :func:`migrate_file` return a :class:`Migration`: the
scenario as a plain dict in this project's format (validated by
:func:`~pytest_monerosim.config.loader.scenario_from_dict`), plus one
:class:`MigrationWarning` for every legacy setting that has no exact
equivalent here. A warning names the legacy field (a dotted path into the
legacy file, ``agents.<id>.<field>`` for an agent) and says what happens to it.

The mapping, in short:

* ``general.stop_time`` → ``general.duration``; ``simulation_seed`` → ``seed``;
* agents with ``hashrate`` → ``role: miner`` node groups (equal settings share a
  group of ``count``), their wallets → ``mining_wallet`` wallets; users →
  ``role: user`` nodes with ``transaction_bot`` wallets; daemon-only agents →
  ``role: relay``; the script-only ``miner-distributor`` → a ``distributor``
  wallet on the first miner; the ``simulation-monitor`` → an ``observer`` node
  when it has its own daemon, else nothing (the result records what it polled);
* ``network.type: 1_gbit_switch`` → constant 1 ms latency and 1 Gbit bandwidth
  (Shadow's built-in switch); ``network.path`` (a GML graph that hosts attach
  to) → a ``regions`` latency model with one region per GML node and the
  shortest-path latencies between them, hosts spread as upstream spreads them;
* ``peer_mode`` / ``topology`` → a topology plugin (``monero`` discovery with
  the miners as seed nodes for ``Dynamic``; ``star`` / ``mesh`` / ``ring`` for
  ``Hardcoded``/``Hybrid``; ``Dag`` → ``mesh``, the same set of links);
* ``out-peers`` / ``in-peers`` daemon options → ``p2p`` or group settings;
  unreachable nodes (``reachable_fraction``) → ``in_peers: 0``; ``hidden_fraction`` →
  ``hidden: 1.0`` on the drawn nodes' groups; ``turnover`` → ``churn`` on the drawn users'
  and relays' groups (seed nodes stay up);
* Shadow-only knobs (``parallelism``, ``runahead``, ...) → kept in
  :attr:`Migration.shadow_options` for the shadow backend
  (``RunOptions.extra["shadow"]``); the scenario itself has no place for them.

Dual mode (the original plan): ``general.use_agents: false`` keeps the legacy
behaviour — processes and mining only, no wallet strategies but mining wallets.
Absent or ``true`` runs every strategy, which is what upstream does today.

Staggered start times (upstream spreads starts to spare Shadow a thundering
herd) are collapsed: agents whose settings differ only in start times that
chain within :data:`STAGGER_TOLERANCE_S` of each other share one group that
starts at the earliest of them, with a warning.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..config.durations import format_duration
from .gml import SWITCH_LATENCY_S, gml_network, resolve_network_path
from .load import legacy_from_dict, load_legacy
from .migrate_agents import _AgentMapping
from .migrate_groups import _Grouping
from .migrate_helpers import (
    _merge,
    _scenario_name,
    _shadow_time,
)
from .migration import (
    STAGGER_TOLERANCE_S,
    SWITCH_BANDWIDTH_BPS,
    Migration,
    MigrationWarning,
)
from .model import (
    LegacyConfig,
    LegacyGmlNetwork,
    LegacySwitchNetwork,
)

__all__ = [
    "STAGGER_TOLERANCE_S",
    "Migration",
    "MigrationWarning",
    "migrate",
    "migrate_file",
]


# --------------------------------------------------------------------------- entry points


def migrate_file(path: str | Path, *, base_dir: str | Path | None = None) -> Migration:
    """Read a legacy config file and translate it.

    A relative GML ``network.path`` is looked up against ``base_dir`` when
    given, else the working directory (as upstream does), else the file's folder.
    """
    unknown: list[tuple[str, str]] = []
    config = load_legacy(path, unknown=unknown)
    migration = migrate(config, source=str(path), base_dir=base_dir)
    migration.warnings[:0] = [MigrationWarning(k, m) for k, m in unknown]
    return migration


def migrate(
    legacy: LegacyConfig | Mapping[str, Any],
    *,
    source: str | None = None,
    base_dir: str | Path | None = None,
) -> Migration:
    """Translate a legacy config (a :class:`LegacyConfig` or its YAML data) into a scenario.

    ``base_dir`` is where a relative ``network.path`` is looked up (default: the
    working directory, then the directory of ``source``). Raises ``ScenarioError``
    for input that cannot be translated (an unreadable GML file, for instance).
    """
    unknown: list[tuple[str, str]] = []
    if isinstance(legacy, LegacyConfig):
        config = legacy
    else:
        config = legacy_from_dict(legacy, source=source, unknown=unknown)
    migration = _Migrator(config, source, Path(base_dir) if base_dir is not None else None).run()
    migration.warnings[:0] = [MigrationWarning(k, m) for k, m in unknown]
    return migration


# --------------------------------------------------------------------------- the work


class _Migrator(_AgentMapping, _Grouping):
    """One translation: the sections here, the agents and the grouping in the mixins."""

    # -- top level -----------------------------------------------------------------
    def run(self) -> Migration:
        scenario: dict[str, Any] = {"general": self.general()}
        scenario["network"] = network = self.network_section()
        p2p = self.p2p_defaults()
        if p2p:
            scenario["p2p"] = p2p
        nodes_specs, wallet_specs = self.agents()
        groups, node_names, group_of_agent = self.node_groups(nodes_specs)
        self.seed_nodes(network, groups, nodes_specs, group_of_agent)
        for group in groups:
            if group.get("seed_node"):
                group.pop("churn", None)  # upstream: seed nodes stay up
        scenario["nodes"] = groups
        wallets, wallet_names = self.wallet_groups(wallet_specs, node_names, group_of_agent, groups)
        if wallets:
            scenario["wallets"] = wallets
        self.performance()
        self.timing()
        if self.shadow:
            scenario["backends"] = {"shadow": {"options": {k: dict(v) for k, v in self.shadow.items()}}}
        return Migration(
            scenario=scenario,
            warnings=_merge(self.warnings, self.cfg),
            node_names=node_names,
            wallet_names=wallet_names,
            shadow_options=self.shadow,
            use_agents=self.use_agents,
            source=self.source,
            notes=self.notes,
        )

    # -- general -------------------------------------------------------------------
    def general(self) -> dict[str, Any]:
        g = self.cfg.general
        out: dict[str, Any] = {
            "name": _scenario_name(self.source),
            "seed": g.simulation_seed,
            "duration": format_duration(g.stop_time),
        }
        if self.source:
            out["description"] = f"migrated from the Monerosim config {Path(self.source).name}"
        set_ = g.model_fields_set
        shadow_general = self.shadow.setdefault("general", {})
        shadow_exp: dict[str, Any] = {}
        if "parallelism" in set_:
            shadow_general["parallelism"] = g.parallelism
            self._shadow_knob("general.parallelism")
        if "shadow_log_level" in set_:
            level = {"warn": "warning"}.get(g.shadow_log_level, g.shadow_log_level)
            shadow_general["log_level"] = level
            self._shadow_knob("general.shadow_log_level")
        if "progress" in set_ and g.progress is not None:
            shadow_general["progress"] = g.progress
            self._shadow_knob("general.progress")
        if g.bootstrap_end_time is not None:
            if isinstance(g.bootstrap_end_time, float):
                shadow_general["bootstrap_end_time"] = _shadow_time(g.bootstrap_end_time)
                self._shadow_knob("general.bootstrap_end_time")
            else:
                end = self.timeline["bootstrap_end"]
                shadow_general["bootstrap_end_time"] = _shadow_time(end)
                self.warn("general.bootstrap_end_time",
                          f"'auto' resolves to {format_duration(end)} on upstream's timeline; "
                          "Shadow-only: kept for the shadow backend (backends.shadow.options); the "
                          "other backends ignore it")
        if g.runahead is not None:
            shadow_exp["runahead"] = _shadow_time(g.runahead)
            self._shadow_knob("general.runahead")
        if g.native_preemption is not None:
            shadow_exp["native_preemption_enabled"] = g.native_preemption
            self._shadow_knob("general.native_preemption")
        if shadow_exp:
            self.shadow["experimental"] = shadow_exp
        if not shadow_general:
            del self.shadow["general"]
        if g.process_threads is not None:
            self.warn("general.process_threads",
                      "a knob of upstream's patched Shadow fork that stock Shadow 3.x lacks; dropped")
        if g.log_level is not None:
            self.warn("general.log_level",
                      "agent log level; this project logs through pytest (use --log-level); dropped")
        if g.fresh_blockchain is False:
            self.warn("general.fresh_blockchain",
                      "false reuses a chain snapshot upstream; every run here starts from genesis")
        if g.python_venv is not None:
            self.warn("general.python_venv",
                      "agents run with the interpreter that runs pytest-monerosim; dropped")
        if g.enable_dns_server is not None:
            self.warn("general.enable_dns_server",
                      "upstream's DNS host for monerod's seed lookups has no equivalent; nodes "
                      "find seed nodes through the topology; dropped")
        if "difficulty_cache_ttl" in set_:
            self.warn("general.difficulty_cache_ttl",
                      "a cache of upstream's mining agent; mining here is event driven; dropped")
        for key in ("shared_dir", "daemon_data_dir"):
            if getattr(g, key) is not None:
                self.warn(f"general.{key}",
                          "backends choose their own directories (RunOptions.workdir); dropped")
        if "fallback_seeds" in set_ and g.fallback_seeds != "auto":
            self.warn("general.fallback_seeds",
                      f"{g.fallback_seeds!r}: monerod's compiled-in seed nodes are never used "
                      "here; seed nodes come from the topology")
        if g.use_agents is False:
            self.warn("general.use_agents",
                      "false: legacy mode, processes and mining only; user, distributor and other "
                      "wallet strategies are left out (mining wallets stay)")
        return out

    def _shadow_knob(self, field: str) -> None:
        self.warn(field, "Shadow-only: kept for the shadow backend (backends.shadow.options); "
                         "the other backends ignore it")

    def performance(self) -> None:
        perf = self.cfg.performance
        if perf is not None:
            self.shadow.setdefault("general", {})["model_unblocked_syscall_latency"] = (
                perf.model_unblocked_syscall_latency)
            self._shadow_knob("performance.model_unblocked_syscall_latency")

    def timing(self) -> None:
        timing = self.cfg.timing
        if timing is None:
            return
        if timing.bootstrap_end_time is not None:
            self.shadow.setdefault("general", {})["bootstrap_end_time"] = _shadow_time(
                timing.bootstrap_end_time)
            self._shadow_knob("timing.bootstrap_end_time")
        for key in ("activity_batch_size", "activity_batch_interval", "activity_batch_jitter"):
            if getattr(timing, key) is not None:
                self.warn(f"timing.{key}",
                          "batched activity starts have no equivalent; each wallet group starts at "
                          "its own start_time")

    # -- network -------------------------------------------------------------------
    def network_section(self) -> dict[str, Any]:
        net = self.cfg.network
        out: dict[str, Any] = {}
        if net is None or isinstance(net, LegacySwitchNetwork):
            out["latency"] = {"name": "constant", "latency_s": SWITCH_LATENCY_S}
            out["bandwidth_bps"] = SWITCH_BANDWIDTH_BPS
            if isinstance(net, LegacySwitchNetwork):
                for key in ("latency", "bandwidth"):
                    if getattr(net, key) is not None:
                        self.warn(f"network.{key}",
                                  "upstream ignores it for 1_gbit_switch (1 ms, 1 Gbit); so does "
                                  "the migrated scenario")
        else:
            out.update(self.gml_network(net))
        self.net = net
        return out

    def gml_network(self, net: LegacyGmlNetwork) -> dict[str, Any]:
        path, how = resolve_network_path(net.path, self.source, self.base_dir)
        return gml_network(net, path, how, self.warn, self.note, self.source)
