"""What ``migrate`` produces (:class:`Migration`, :class:`MigrationWarning`), its constants,
and the state one translation keeps (:class:`_MigratorBase`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .model import LegacyConfig, LegacyGmlNetwork, LegacySwitchNetwork

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


_WALLET_SUFFIX = {MINING_WALLET: "mining", TRANSACTION_BOT: "tx", HODLER: "hodl"}


class _MigratorBase:
    """The state of one translation and how it records what has no exact equivalent."""

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
