"""Translate the existing Monerosim's config ("legacy", see :mod:`.legacy`) into a scenario.

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

import random
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import yaml

from .durations import format_duration
from .errors import ScenarioError
from .legacy import (
    LegacyAgent,
    LegacyConfig,
    LegacyGmlNetwork,
    LegacySwitchNetwork,
    RemoteDaemon,
    legacy_from_dict,
    load_legacy,
)
from .legacy_gml import SWITCH_LATENCY_S, gml_network, resolve_network_path
from .model import ATOMIC_PER_XMR

__all__ = [
    "STAGGER_TOLERANCE_S",
    "Migration",
    "MigrationWarning",
    "migrate",
    "migrate_file",
]

STAGGER_TOLERANCE_S = 300.0
"""Start times that chain within this many seconds of each other collapse into one group."""
SWITCH_BANDWIDTH_BPS = 1e9

# Wallet strategies (pytest_monerosim/agents/wallets.py) and their parameter names.
MINING_WALLET = "mining_wallet"
TRANSACTION_BOT = "transaction_bot"
DISTRIBUTOR = "distributor"
HODLER = "hodler"

# Upstream miner distributor's defaults (agents/miner_distributor/agent.py).
UPSTREAM_N_RECIPIENTS = 8
UPSTREAM_OUT_PER_TX = 2
UPSTREAM_OUTPUT_XMR = "5.0"

# Upstream's automatic timeline (scripts/timing_constants.py).
UPSTREAM_MIN_BOOTSTRAP_S = 14400
UPSTREAM_BOOTSTRAP_BUFFER = 0.20
UPSTREAM_FUNDING_PERIOD_S = 3600.0

# Defaults for upstream's "auto" values when nothing else pins them.
AUTO_TRANSACTION_INTERVAL_S = 60.0
AUTO_POLL_INTERVAL_S = 300.0

_GROUP_NAME = re.compile(r"^[a-z][a-z0-9-]*$")


@dataclass(frozen=True)
class MigrationWarning:
    """A legacy setting with no exact equivalent: where it is and what became of it."""

    field: str
    """Dotted path into the legacy file (``general.parallelism``, ``agents.relay-001.subnet_group``)."""
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


@dataclass
class Migration:
    """The outcome of :func:`migrate`."""

    scenario: dict[str, Any]
    """This project's scenario, as plain data (``scenario_from_dict`` validates it)."""
    warnings: list[MigrationWarning] = field(default_factory=list)
    node_names: dict[str, str] = field(default_factory=dict)
    """Legacy agent id → node name in the scenario (agents with a daemon)."""
    wallet_names: dict[str, str] = field(default_factory=dict)
    """Legacy agent id → wallet name in the scenario."""
    shadow_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Shadow knobs of the legacy file as Shadow config sections (``general``,
    ``experimental``), for ``RunOptions.extra["shadow"]``."""
    use_agents: bool = True
    source: str | None = None
    notes: list[MigrationWarning] = field(default_factory=list)
    """What the translation decided that is not a loss: which file ``network.path`` was."""

    def to_yaml(self) -> str:
        """The scenario as YAML, headed by a comment listing the warnings."""
        lines = ["# Scenario migrated by `monerosim migrate`"
                 + (f" from {self.source}" if self.source else "") + "."]
        lines += [f"# {_one_line(str(n))}" for n in self.notes]
        if self.warnings:
            lines.append(f"# {len(self.warnings)} legacy setting(s) without an exact equivalent:")
            lines += [f"#   - {_one_line(str(w))}" for w in self.warnings]
        else:
            lines.append("# Every legacy setting has an equivalent here.")
        if self.shadow_options:
            lines.append("# Shadow options of the legacy file (kept in backends.shadow.options):")
            for section, values in self.shadow_options.items():
                lines += [f"#   {section}.{k}: {v}" for k, v in values.items()]
        renamed = _renames(self.node_names)
        if renamed:
            lines.append("# Node names (legacy agent id -> node):")
            lines += [f"#   {line}" for line in renamed]
        body = yaml.safe_dump(self.scenario, sort_keys=False, default_flow_style=False, width=100)
        return "\n".join(lines) + "\n" + body

    def write(self, path: str | Path) -> Path:
        """Write :meth:`to_yaml` atomically (a temporary file renamed over ``path``)."""
        from ..atomic import atomic_write

        out = Path(path)
        atomic_write(out, self.to_yaml())
        return out


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _renames(names: Mapping[str, str]) -> list[str]:
    changed = [(old, new) for old, new in names.items() if old != new]
    if len(changed) <= 12:
        return [f"{old} -> {new}" for old, new in changed]
    head = [f"{old} -> {new}" for old, new in changed[:10]]
    return head + [f"... ({len(changed)} renamed in all; Migration.node_names has them)"]


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


@dataclass
class _NodeSpec:
    """What becomes of one agent that has a daemon of its own."""

    agent: str
    role: str
    start: float
    hashrate: float = 0.0
    out_peers: int | None = None
    in_peers: int | None = None
    seed: bool = False
    hidden: bool = False
    churn: bool = False

    def key(self) -> tuple[Any, ...]:
        return (self.role, self.hashrate, self.out_peers, self.in_peers, self.seed, self.hidden,
                self.churn)


@dataclass
class _WalletSpec:
    agent: str
    node_agent: str
    """The agent whose node the wallet talks to."""
    strategy: str
    params: dict[str, Any]
    receives: bool = False
    """Upstream ``can_receive_distributions``."""


class _Migrator:
    def __init__(self, config: LegacyConfig, source: str | None, base_dir: Path | None) -> None:
        self.cfg = config
        self.source = source
        self.base_dir = base_dir
        self.warnings: list[MigrationWarning] = []
        self.notes: list[MigrationWarning] = []
        self.shadow: dict[str, dict[str, Any]] = {}
        general = config.general
        self.use_agents = general.use_agents is not False
        self.bootstrap_s = general.bootstrap_end_time if isinstance(
            general.bootstrap_end_time, float) else None
        self.seed = general.simulation_seed
        self.net: LegacySwitchNetwork | LegacyGmlNetwork | None = None
        self.timeline = self._auto_timeline()

    def _auto_timeline(self) -> dict[str, float]:
        """Upstream's scenario generator's timeline for ``auto`` values (scenario_parser.py
        ``_resolve_timing``): bootstrap ends at the timing override, else the general value,
        else max(4 h, 1.2 x the last start of an early bootstrap participant); the miner
        distributor starts then (or at ``timing.md_start_time``); users start transacting
        one funding hour later (or at ``timing.activity_start_time``). The calibrated
        per-user stagger on top of that depends on upstream's machine calibration and is
        not reproduced."""
        last = 0.0
        for agent in self.cfg.agents.values():
            start = agent.start_time
            if start is None or start >= 3600.0:
                continue
            script = agent.script or ""
            daemon_only = (isinstance(agent.daemon, str) or bool(agent.daemon_phases)) and \
                agent.wallet is None and not agent.wallet_phases and agent.script is None
            if agent.activity_start_time == "auto" or script == "agents.autonomous_miner" \
                    or daemon_only:
                last = max(last, start)
        timing = self.cfg.timing
        if timing is not None and timing.bootstrap_end_time is not None:
            bootstrap = timing.bootstrap_end_time
        elif self.bootstrap_s is not None:
            bootstrap = self.bootstrap_s
        else:
            bootstrap = float(max(UPSTREAM_MIN_BOOTSTRAP_S, int(last * (1 + UPSTREAM_BOOTSTRAP_BUFFER))))
        md_start = timing.md_start_time if timing is not None and timing.md_start_time is not None \
            else bootstrap
        activity = timing.activity_start_time if timing is not None and \
            timing.activity_start_time is not None else md_start + UPSTREAM_FUNDING_PERIOD_S
        return {"bootstrap_end": bootstrap, "md_start": md_start, "activity_start": activity}

    def warn(self, field: str, message: str) -> None:
        self.warnings.append(MigrationWarning(field, message))

    def note(self, field: str, message: str) -> None:
        self.notes.append(MigrationWarning(field, message))

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

    # -- agents --------------------------------------------------------------------
    def agents(self) -> tuple[list[_NodeSpec], list[_WalletSpec]]:
        nodes: list[_NodeSpec] = []
        wallets: list[_WalletSpec] = []
        unreachable = self.unreachable_agents()
        hidden = self.hidden_agents(unreachable)
        churning = self.churning_agents()
        public = [a for a, ag in self.cfg.agents.items() if ag.is_public_node]
        later: list[tuple[str, LegacyAgent]] = []
        for name, agent in self.cfg.agents.items():
            role = agent.role
            here = f"agents.{name}"
            self.agent_common(name, agent)
            has_daemon = isinstance(agent.daemon, str) or bool(agent.daemon_phases)
            if has_daemon:
                node_role = {"miner": "miner", "user": "user", "monitor": "observer"}.get(role, "relay")
                spec = _NodeSpec(name, node_role, agent.start_time or 0.0,
                                 hashrate=float(agent.hashrate or 0))
                spec.out_peers, spec.in_peers = self.peer_options(f"{here}.daemon_options",
                                                                  agent.daemon_options)
                if name in unreachable:
                    spec.in_peers = 0
                spec.hidden = name in hidden
                spec.churn = name in churning
                nodes.append(spec)
            if role == "miner":
                wallets.append(_WalletSpec(name, name, MINING_WALLET, {},
                                           receives=bool(agent.can_receive_distributions)))
            elif role == "user":
                self.user_wallet(name, agent, name, wallets)
            elif role in ("distributor", "wallet-only"):
                later.append((name, agent))
            elif role == "monitor":
                self.monitor(name, agent, has_daemon)
            elif role == "custom":
                self.custom(name, agent, has_daemon, wallets)
        for name, agent in later:
            if agent.role == "distributor":
                self.distributor(name, agent, nodes, wallets, has_daemon=isinstance(agent.daemon, str))
            else:
                self.wallet_only(name, agent, nodes, public, wallets)
        if not nodes:
            raise ScenarioError("no agent has a daemon of its own, so the scenario would have no "
                                "nodes; accepted: at least one agent with daemon: monerod",
                                source=self.source, path="agents")
        if not self.use_agents:
            dropped = [w.agent for w in wallets if w.strategy != MINING_WALLET]
            wallets = [w for w in wallets if w.strategy == MINING_WALLET]
            if dropped:
                self.warn("general.use_agents",
                          f"false: wallets of {_some(dropped)} are not created")
        self.unfunded_users(wallets)
        return nodes, wallets

    def unfunded_users(self, wallets: list[_WalletSpec]) -> None:
        """Users no money can reach send nothing: upstream runs them, so do we (as hodlers).

        Upstream users are funded only by its miner distributor (miners keep
        their coinbase). Without one, a user's wallet stays empty and its
        script never manages a transfer; a ``transaction_bot`` here would fail
        the funding check, so the wallet becomes a ``hodler``: it exists,
        receives, and never sends, as upstream's user does.
        """
        if any(w.strategy == DISTRIBUTOR for w in wallets):
            return
        for i, w in enumerate(wallets):
            if w.strategy != TRANSACTION_BOT:
                continue
            wallets[i] = _WalletSpec(w.agent, w.node_agent, HODLER, {}, w.receives)
            self.warn(f"agents.{w.agent}.script",
                      "no funding path (no miner-distributor pays users); upstream runs this user "
                      "and it never sends; its wallet becomes a hodler (holds, never sends)")

    def agent_common(self, name: str, agent: LegacyAgent) -> None:
        """Warnings for per-agent settings that no role maps."""
        here = f"agents.{name}"
        for key in ("daemon_args", "wallet_args", "daemon_env", "wallet_env"):
            if getattr(agent, key):
                self.warn(f"{here}.{key}", "extra process arguments/environment have no equivalent; "
                                           "backends build the command lines")
        if agent.wallet_options:
            self.warn(f"{here}.wallet_options",
                      f"monero-wallet-rpc flags {', '.join(agent.wallet_options)} have no equivalent")
        if agent.subnet_group is not None:
            self.warn(f"{here}.subnet_group",
                      "addresses are assigned by the backend; a shared subnet is not modelled")
        if agent.daemon_phases or agent.wallet_phases:
            self.warn(f"{here}.daemon_0", "binary upgrade phases have no equivalent; the node runs "
                                          "one monerod for the whole run")
        extra = {k: v for k, v in (agent.attributes or {}).items() if k != "is_public_node"}
        if extra:
            self.warn(f"{here}.attributes", f"{', '.join(extra)} have no equivalent")
        if isinstance(agent.daemon, str) and agent.daemon not in ("monerod",) and not \
                agent.daemon.endswith("/monerod"):
            self.warn(f"{here}.daemon", f"{agent.daemon!r}: backends run their configured monerod")

    def peer_options(
        self, where: str, options: Mapping[str, Any] | None
    ) -> tuple[int | None, int | None]:
        out_peers = in_peers = None
        for key, value in (options or {}).items():
            if key in ("out-peers", "in-peers") and isinstance(value, int) and not isinstance(
                    value, bool) and value >= -1:
                number = None if value == -1 else value
                if key == "out-peers":
                    out_peers = number
                else:
                    in_peers = number
            elif key == "start-mining" or (key == "non-interactive" and value is True):
                continue  # mining follows from hashrate; non-interactive is always the case
            else:
                self.warn(f"{where}.{key}",
                          f"monerod flag {_flag(key, value)} has no scenario equivalent; the real "
                          "backends build monerod's command line themselves")
        return out_peers, in_peers

    def p2p_defaults(self) -> dict[str, Any]:
        defaults = self.cfg.general.daemon_defaults
        out_peers, in_peers = self.peer_options("general.daemon_defaults", defaults)
        out: dict[str, Any] = {}
        if out_peers is not None:
            out["out_peers"] = out_peers
        if in_peers is not None:
            out["in_peers"] = in_peers
        if self.cfg.general.wallet_defaults:
            keys = ", ".join(self.cfg.general.wallet_defaults)
            self.warn("general.wallet_defaults",
                      f"monero-wallet-rpc flags {keys} have no scenario equivalent")
        return out

    def unreachable_agents(self) -> set[str]:
        """Users and relays behind NAT (upstream ``reachable_fraction``/``reachable_by_role``)."""
        g = self.cfg.general
        if "reachable_fraction" not in g.model_fields_set and not g.reachable_by_role:
            return set()
        by_role = dict(g.reachable_by_role or {})
        out: set[str] = set()
        rng = random.Random(f"{self.seed}:reachable")
        for role in ("user", "relay"):
            agents = [a for a, ag in self.cfg.agents.items() if ag.role == role
                      and isinstance(ag.daemon, str) and not ag.is_public_node]
            share = by_role.get(role, g.reachable_fraction)
            hidden = len(agents) - round(share * len(agents))
            out.update(rng.sample(agents, hidden) if hidden > 0 else [])
        if out:
            field = "general.reachable_by_role" if by_role else "general.reachable_fraction"
            self.warn(field, f"{len(out)} unreachable user/relay node(s) get in_peers: 0 "
                             "(which ones are drawn from the seed, not upstream's choice)")
        return out

    def _eligible(self) -> list[str]:
        """Users and relays with a daemon of their own, not public nodes (upstream's eligible set)."""
        return [a for a, ag in self.cfg.agents.items() if ag.role in ("user", "relay")
                and isinstance(ag.daemon, str) and not ag.is_public_node]

    def hidden_agents(self, unreachable: set[str]) -> set[str]:
        """Nodes run with ``--hide-my-port`` (upstream ``hidden_fraction``) → ``hidden: 1.0``."""
        share = self.cfg.general.hidden_fraction
        if not share:
            return set()
        eligible = self._eligible()
        # the same ordering as the unreachable set: reachable ones first, then the rest
        order = [a for a in eligible if a not in unreachable] + [a for a in eligible if a in unreachable]
        random.Random(f"{self.seed}:hidden").shuffle(order)
        order.sort(key=lambda a: a in unreachable)
        out = set(order[:round(share * len(eligible))])
        if out:
            self.warn("general.hidden_fraction",
                      f"{share}: {len(out)} user/relay node(s) run with --hide-my-port: their groups "
                      "get hidden: 1.0 (which ones are drawn from the seed, not upstream's choice)")
        else:
            self.warn("general.hidden_fraction",
                      f"{share} of {len(eligible)} eligible user/relay node(s) rounds to none; "
                      "no node is hidden")
        return out

    def churning_agents(self) -> set[str]:
        """Users and relays that go offline and come back (upstream ``general.turnover``)."""
        turnover = self.cfg.general.turnover
        if turnover is None or not turnover.fraction:
            return set()
        eligible = self._eligible()
        k = round(turnover.fraction * len(eligible))
        out = set(random.Random(f"{self.seed}:turnover").sample(eligible, k))
        if out:
            self.warn("general.turnover",
                      f"node churn: {len(out)} user/relay node(s) go offline and come back; their "
                      f"groups get churn: "
                      f"{self.churn_section()} (which ones are drawn from the seed; seed nodes "
                      "stay up)")
        else:
            self.warn("general.turnover",
                      f"node churn: fraction {turnover.fraction} of {len(eligible)} eligible "
                      "user/relay node(s) rounds to none; every node stays up")
        return out

    def churn_section(self) -> dict[str, Any]:
        """``general.turnover`` as a group's ``churn`` (upstream defaults: min session 300 s,
        min downtime 30 s)."""
        t = self.cfg.general.turnover
        assert t is not None
        out: dict[str, Any] = {
            "mean_session_s": format_duration(t.mean_session),
            "mean_downtime_s": format_duration(t.mean_downtime),
            "min_session_s": format_duration(300.0 if t.min_session is None else t.min_session),
            "min_downtime_s": format_duration(30.0 if t.min_downtime is None else t.min_downtime),
        }
        if t.max_session is not None:
            out["max_session_s"] = format_duration(t.max_session)
        return out

    def _auto(self, where: str, value: float | str | None, fallback: float, what: str,
              shown: str | None = None) -> float:
        if isinstance(value, float):
            return value
        if value == "auto":
            self.warn(where, f"'auto' is upstream's calibrated timeline; {what} "
                             f"{shown or format_duration(fallback)} is used")
        return fallback

    def user_wallet(self, name: str, agent: LegacyAgent, node_agent: str,
                    wallets: list[_WalletSpec]) -> None:
        here = f"agents.{name}"
        interval = self._auto(f"{here}.transaction_interval", agent.transaction_interval,
                              AUTO_TRANSACTION_INTERVAL_S, "an interval of")
        timing = self.cfg.timing
        if agent.activity_start_time == "auto":
            start_default, shown = self.timeline["activity_start"], None
        elif timing and timing.activity_start_time is not None:
            start_default, shown = timing.activity_start_time, None
        elif self.bootstrap_s is not None:
            start_default, shown = self.bootstrap_s, None
        else:
            start_default, shown = agent.start_time or 0.0, "the agent's own start_time"
        start = self._auto(f"{here}.activity_start_time", agent.activity_start_time,
                           start_default, "without its calibrated per-user stagger, the start", shown)
        wallets.append(_WalletSpec(name, node_agent, TRANSACTION_BOT,
                                   {"interval_s": interval, "start_time": start},
                                   receives=bool(agent.can_receive_distributions)))

    def monitor(self, name: str, agent: LegacyAgent, has_daemon: bool) -> None:
        here = f"agents.{name}"
        what = ("its daemon becomes an observer node" if has_daemon
                else "it is left out")
        self.warn(here, f"the simulation monitor has no equivalent ({what}); every run records "
                        "each node's chain, peers and sync state in its result")
        for key in ("poll_interval", "status_file", "enable_alerts", "detailed_logging"):
            if getattr(agent, key) is not None:
                self.warn(f"{here}.{key}", "a setting of the simulation monitor; dropped")

    def custom(self, name: str, agent: LegacyAgent, has_daemon: bool,
               wallets: list[_WalletSpec]) -> None:
        here = f"agents.{name}"
        script = agent.script or "(no script)"
        if has_daemon and agent.wallet is not None:
            wallets.append(_WalletSpec(name, name, HODLER, {},
                                       receives=bool(agent.can_receive_distributions)))
            self.warn(f"{here}.script", f"{script}: no equivalent strategy; its wallet holds "
                                        f"funds ({HODLER}) and its daemon is a relay")
        elif has_daemon:
            self.warn(f"{here}.script", f"{script}: no equivalent behaviour; its daemon is a relay")
        else:
            self.warn(here, f"a script-only agent ({script}) has no equivalent; left out")

    def wallet_only(self, name: str, agent: LegacyAgent, nodes: list[_NodeSpec],
                    public: list[str], wallets: list[_WalletSpec]) -> None:
        here = f"agents.{name}"
        remote = agent.daemon
        assert isinstance(remote, RemoteDaemon)
        if remote.address == "auto" and public:
            host = public[0]
            note = f"its wallet talks to the public node {host}"
            if len(public) > 1 and remote.strategy not in (None, "first"):
                note += f" (strategy {remote.strategy} over {len(public)} public nodes is not modelled)"
        else:
            host = nodes[0].agent
            note = (f"remote daemon {remote.address!r} cannot be matched to an agent; its wallet "
                    f"talks to {host}")
        self.warn(f"{here}.daemon", note)
        before = len(wallets)
        if agent.script and agent.script.endswith("regular_user"):
            self.user_wallet(name, agent, host, wallets)
        else:
            wallets.append(_WalletSpec(name, host, HODLER, {}))
        if len(wallets) > before:
            wallets[-1].node_agent = host
            wallets[-1].receives = bool(agent.can_receive_distributions)

    def distributor(self, name: str, agent: LegacyAgent, nodes: list[_NodeSpec],
                    wallets: list[_WalletSpec], has_daemon: bool) -> None:
        """Upstream's miner distributor → a ``distributor`` wallet paying from every mining wallet.

        Its own wallet sits on the first miner (it holds nothing itself: the
        miners' ``mining_wallet`` s pay, as upstream's script pays from them).
        """
        here = f"agents.{name}"
        miners = [n.agent for n in nodes if n.role == "miner"]
        if not miners:
            self.warn(here, "the miner distributor has no miners to fund users from; left out")
            return
        timing = self.cfg.timing
        if agent.wait_time == "auto":
            wait_default = self.timeline["md_start"]
        else:
            wait_default = (timing.md_start_time if timing and timing.md_start_time is not None
                            else self.bootstrap_s if self.bootstrap_s is not None else 3600.0)
        wait = self._auto(f"{here}.wait_time", agent.wait_time, wait_default, "a wait of")
        outputs = agent.md_out_per_tx or UPSTREAM_OUT_PER_TX
        params: dict[str, Any] = {
            "wait_time": wait,
            "sources": "miners",
            "batch_size": agent.md_n_recipients or UPSTREAM_N_RECIPIENTS,
            "outputs_per_recipient": outputs,
        }
        if agent.md_output_amount is not None:
            params["initial_fund_amount"] = _atomic(str(agent.md_output_amount)) * outputs
            if agent.initial_fund_amount is not None:
                self.warn(f"{here}.initial_fund_amount",
                          "md_output_amount x md_out_per_tx sets the first round's amount; dropped")
        elif agent.initial_fund_amount is not None:
            params["initial_fund_amount"] = _atomic(agent.initial_fund_amount)
        else:
            params["initial_fund_amount"] = _atomic(UPSTREAM_OUTPUT_XMR) * outputs
        for key in ("min_transaction_amount", "max_transaction_amount"):
            value = getattr(agent, key)
            if value is not None:
                params[key] = _atomic(value)
        low, high = params.get("min_transaction_amount"), params.get("max_transaction_amount")
        if low is not None and high is None and low > ATOMIC_PER_XMR:
            params["max_transaction_amount"] = low
        if high is not None and low is None and high < ATOMIC_PER_XMR // 10:
            params["min_transaction_amount"] = high
        if has_daemon:
            self.warn(f"{here}.daemon", "the distributor's own daemon becomes a relay; it pays from "
                                        "the miners' wallets, not from a wallet of its own")
        wallets.append(_WalletSpec(name, miners[0], DISTRIBUTOR, params))

    # -- grouping ------------------------------------------------------------------
    def node_groups(
        self, specs: list[_NodeSpec]
    ) -> tuple[list[dict[str, Any]], dict[str, str], dict[str, str]]:
        by_key: dict[tuple[Any, ...], list[_NodeSpec]] = {}
        for spec in specs:
            by_key.setdefault(spec.key(), []).append(spec)
        clusters: list[list[_NodeSpec]] = []
        for members in by_key.values():
            clusters += _clusters(members, lambda s: s.start)
        clusters.sort(key=lambda c: min(specs.index(s) for s in c))
        used: set[str] = set()
        groups: list[dict[str, Any]] = []
        node_names: dict[str, str] = {}
        group_of: dict[str, str] = {}
        for cluster in clusters:
            ids = [s.agent for s in cluster]
            name = _unique(_group_name(ids, cluster[0].role, self.cfg.groups), used, len(ids))
            first = cluster[0]
            group: dict[str, Any] = {"group": name}
            if len(ids) > 1:
                group["count"] = len(ids)
            group["role"] = first.role
            if first.hashrate:
                group["hashrate"] = first.hashrate
            if first.out_peers is not None:
                group["out_peers"] = first.out_peers
            if first.in_peers is not None:
                group["in_peers"] = first.in_peers
            if first.hidden:
                group["hidden"] = 1.0
            if first.churn:
                group["churn"] = self.churn_section()
            starts = [s.start for s in cluster]
            if min(starts):
                group["start_time"] = format_duration(min(starts))
            if max(starts) > min(starts):
                for agent in ids:
                    self.warn(f"agents.{agent}.start_time",
                              f"staggered starts {format_duration(min(starts))}..."
                              f"{format_duration(max(starts))} collapse into one group {name!r} "
                              f"that starts at {format_duration(min(starts))}")
            groups.append(group)
            names = [name] if len(ids) == 1 else [f"{name}-{i}" for i in range(len(ids))]
            for agent, node in zip(ids, names, strict=True):
                node_names[agent] = node
                group_of[agent] = name
        return groups, node_names, group_of

    def seed_nodes(self, network: dict[str, Any], groups: list[dict[str, Any]],
                   specs: list[_NodeSpec], group_of: Mapping[str, str]) -> None:
        """``peer_mode``/``topology``/``seed_nodes`` → ``network.topology`` (and seed groups)."""
        net = self.net
        mode = (net.peer_mode if net is not None else None) or "Dynamic"
        shape = (net.topology if net is not None else None) or "Dag"
        seeds = net.seed_nodes if net is not None else None
        miners = [s for s in specs if s.role == "miner"]
        field = "network.topology"
        if mode == "Dynamic" and miners:
            network["topology"] = {"name": "monero"}
            seed_groups = {group_of[m.agent] for m in miners}
            for g in groups:
                if g["group"] in seed_groups:
                    g["seed_node"] = True
            if net is not None and net.topology is not None:
                self.warn(field, f"{shape}: upstream ignores it in Dynamic mode when there are "
                                 "miners (they are every node's seed nodes); so does this scenario")
            if seeds:
                self.warn("network.seed_nodes", "ignored in Dynamic mode, upstream and here")
            return
        if seeds and mode in ("Hardcoded", "Hybrid"):
            self.warn("network.seed_nodes",
                      f"{', '.join(seeds)}: upstream IP addresses cannot be matched to nodes here; "
                      + ("the topology below is used instead" if mode == "Hybrid" else
                         "the nodes discover each other from the first node (monero topology)"))
            if mode == "Hardcoded":
                network["topology"] = {"name": "monero", "seeds": 1}
                return
        if shape == "Dag":
            self.warn(field, "Dag (each node seeds from every earlier one) has no equivalent; the "
                             "closest is mesh, the same set of links made as fixed connections")
            shape = "Mesh"
        network["topology"] = {"name": shape.lower()}
        if mode != "Dynamic" or not miners:
            self.warn(field, f"{shape}: upstream passes these peers as --seed-node (bootstrap, then "
                             f"discovery); the {shape.lower()} topology keeps them as fixed links")
        if shape == "Ring" and sum(g.get("count", 1) for g in groups) < 3:
            network["topology"] = {"name": "mesh"}
            self.warn(field, "Ring needs at least 3 nodes; mesh is used")

    def wallet_groups(
        self, specs: list[_WalletSpec], node_names: Mapping[str, str],
        group_of: Mapping[str, str], groups: list[dict[str, Any]],
    ) -> tuple[list[dict[str, Any]], dict[str, str]]:
        """One wallet group per (node group, strategy, parameters), in agent order."""
        buckets: dict[tuple[str, str, str], list[_WalletSpec]] = {}
        for w in specs:
            rest = {k: v for k, v in w.params.items() if k != "start_time"}
            key = (group_of[w.node_agent], w.strategy, repr(sorted(rest.items())))
            buckets.setdefault(key, []).append(w)
        clusters: list[tuple[str, str, list[_WalletSpec]]] = []
        for (node_group, strategy, _), members in buckets.items():
            for cluster in _clusters(members, lambda w: float(w.params.get("start_time", 0.0))):
                clusters.append((node_group, strategy, cluster))
        clusters.sort(key=lambda c: specs.index(c[2][0]))
        used: set[str] = set()
        out: list[dict[str, Any]] = []
        names: dict[str, str] = {}
        wallet_group: dict[str, str] = {}
        distributors: list[dict[str, Any]] = []
        for node_group, strategy, members in clusters:
            base = "distributor" if strategy == DISTRIBUTOR else f"{node_group}-{_WALLET_SUFFIX[strategy]}"
            name = _unique(base, used, len(members))
            starts = [float(w.params["start_time"]) for w in members if "start_time" in w.params]
            if starts and max(starts) > min(starts):
                for w in members:
                    self.warn(f"agents.{w.agent}.activity_start_time",
                              f"staggered activity starts {format_duration(min(starts))}..."
                              f"{format_duration(max(starts))} collapse into wallet group {name!r} "
                              f"starting at {format_duration(min(starts))}")
                members = [_WalletSpec(w.agent, w.node_agent, w.strategy,
                                       {**w.params, "start_time": min(starts)}, w.receives)
                           for w in members]
            entry: dict[str, Any] = {"name": name}
            hosts = [node_names[w.node_agent] for w in members]
            group_nodes = [n for a, n in node_names.items() if group_of[a] == node_group]
            if sorted(hosts) == sorted(group_nodes) and len(set(hosts)) == len(hosts):
                entry["node_group"] = node_group
                hosts = group_nodes
            else:
                entry["nodes"] = hosts
            entry["strategy"] = {"name": strategy, **members[0].params}
            if strategy == DISTRIBUTOR:
                distributors.append(entry)
            out.append(entry)
            taken: set[int] = set()
            for w in members:
                wallet_group[w.agent] = name
                if len(hosts) == 1:
                    names[w.agent] = name
                    continue
                i = next(i for i, h in enumerate(hosts) if h == node_names[w.node_agent] and i not in taken)
                taken.add(i)
                names[w.agent] = f"{name}-{i}"
        for entry in distributors:
            entry["strategy"]["recipients"] = self.recipients(specs, names, wallet_group, group_of,
                                                              groups)
        return out, names


    def recipients(
        self, specs: list[_WalletSpec], names: Mapping[str, str], wallet_group: Mapping[str, str],
        group_of: Mapping[str, str], groups: list[dict[str, Any]],
    ) -> str | list[str]:
        """Upstream's ``can_receive_distributions`` wallets as the distributor's ``recipients``.

        Mining wallets are sources, never recipients (the strategy leaves them out
        anyway). ``users`` when they are exactly the wallets on user nodes, ``all``
        when they are every other wallet, else wallet-group and wallet names.
        """
        role_of = {g["group"]: g["role"] for g in groups}
        spenders = [w for w in specs if w.strategy not in (MINING_WALLET, DISTRIBUTOR)]
        chosen = [w for w in spenders if w.receives]
        on_users = [w for w in spenders if role_of[group_of[w.node_agent]] == "user"]
        if {w.agent for w in chosen} == {w.agent for w in on_users} and chosen:
            return "users"
        if {w.agent for w in chosen} == {w.agent for w in spenders} and chosen:
            return "all"
        out: list[str] = []
        for group in dict.fromkeys(wallet_group.values()):
            members = [w for w in chosen if wallet_group[w.agent] == group]
            size = sum(1 for g in wallet_group.values() if g == group)
            if members and len(members) == size:
                out.append(group)
            else:
                out += [names[w.agent] for w in members]
        if not out:
            self.warn("agents", "no wallet other than the miners' has can_receive_distributions: "
                                "true; the distributor funds every user wallet instead")
            return "users"
        return out


_WALLET_SUFFIX = {MINING_WALLET: "mining", TRANSACTION_BOT: "tx", HODLER: "hodl"}


# --------------------------------------------------------------------------- helpers


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
    from ..backends.shadow.units import format_time

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
