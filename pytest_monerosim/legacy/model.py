"""The existing Monerosim's YAML config ("legacy"), read faithfully and strictly.

Upstream (github.com/Fountain5405/monerosim) has two forms of one format:

* the *expanded* form its Rust generator reads (``src/config/types.rs``,
  ``src/config/agent_config.rs``): ``general``, ``network``, ``agents`` (one
  entry per agent) and an optional ``performance``;
* the *scenario* form (``*.scenario.yaml``, ``scripts/scenario_parser.py``)
  that adds agent ranges (``relay-{001..800}``), ``<field>_stagger`` fields,
  per-agent value lists, ``type`` presets, ``auto`` values and a ``timing``
  section, and is expanded into the first form.

:func:`.load.load_legacy` reads either (into these models). Ranges, staggers, lists and ``type`` are
expanded here as upstream does; ``auto`` values are kept as the string
``"auto"`` (upstream resolves them with machine-calibrated timing, which is a
policy for ``migrate`` to choose). Every upstream field is accepted; unlike
upstream (which ignores unknown keys) a misspelt key is an error naming it,
except at the top level: there a key that is not a near-miss of a section name
(``metadata``, notes of a sweep) is ignored, as upstream ignores it, and
reported through ``unknown``.
Durations become seconds (float) (:mod:`.values`); the scenario form is
expanded by :mod:`.expand`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BeforeValidator,
    Discriminator,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    Tag,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from ..config.errors import ScenarioError
from ..strict import StrictModel
from .values import (
    AutoDuration,
    Count,
    Duration,
    Fraction,
    OptionValue,
    XmrAmount,
    parse_legacy_duration,
)

__all__ = [
    "LegacyAgent",
    "LegacyConfig",
    "LegacyConfigError",
    "LegacyGeneral",
    "LegacyGmlNetwork",
    "LegacySwitchNetwork",
    "parse_legacy_duration",
]

TOP_LEVEL = ("general", "network", "agents", "performance", "timing")
MIN_PHASE_GAP_S = 30.0  # upstream MIN_PHASE_GAP_SECONDS


class LegacyConfigError(ScenarioError):
    """A legacy config that cannot be read: file, line, dotted path, value, what is accepted."""


# --------------------------------------------------------------------------- models


def _attribute(value: Any) -> Any:
    # Upstream wants strings; YAML booleans and numbers are written back as text.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return str(value)
    raise PydanticCustomError(
        "legacy",
        "{problem}; accepted: {accepted}",
        {"problem": f"{value!r} is not a scalar", "accepted": "a string"},
    )


def _value_error(problem: str, accepted: str) -> PydanticCustomError:
    return PydanticCustomError(
        "legacy", "{problem}; accepted: {accepted}", {"problem": problem, "accepted": accepted}
    )


class _Model(StrictModel):
    """Unknown keys are errors that list the accepted ones (upstream silently ignores them)."""

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            for key in data:
                if key not in cls.model_fields and not cls._extra_key(key):
                    raise _unknown_key(key, cls._accepted_keys())
        return data

    @classmethod
    def _extra_key(cls, key: Any) -> bool:
        return False

    @classmethod
    def _accepted_keys(cls) -> list[str]:
        return list(cls.model_fields)


def _unknown_key(key: Any, accepted: list[str]) -> PydanticCustomError:
    close = difflib.get_close_matches(str(key), accepted, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return PydanticCustomError(
        "legacy_unknown_key",
        "unknown field {key!r}{hint}; accepted: {accepted}",
        {"key": key, "hint": hint, "accepted": ", ".join(accepted)},
    )


def _yaml11_off(value: Any) -> Any:
    # upstream reads YAML 1.2 (serde_yaml), where a bare `off` is a string; PyYAML
    # reads YAML 1.1, where it is False.
    return "off" if value is False else value


class LegacyTurnover(_Model):
    """``general.turnover``: relays and users cycle offline/online (exponential sessions)."""

    mean_session: Duration
    mean_downtime: Duration
    fraction: Fraction = 1.0
    min_session: Duration | None = None  # upstream default 300 s
    max_session: Duration | None = None
    min_downtime: Duration | None = None  # upstream default 30 s


class LegacyGeneral(_Model):
    """``general``; defaults are upstream's."""

    stop_time: Duration
    simulation_seed: Count = 12345
    parallelism: Count = 0
    fresh_blockchain: StrictBool | None = None
    python_venv: StrictStr | None = None
    log_level: StrictStr | None = None  # agent log level: trace/debug/info/warn/error
    shadow_log_level: StrictStr = "info"
    enable_dns_server: StrictBool | None = None
    difficulty_cache_ttl: Count = 30
    runahead: Duration | None = None
    bootstrap_end_time: AutoDuration | None = None
    progress: StrictBool | None = None
    process_threads: Count | None = None
    native_preemption: StrictBool | None = None
    daemon_defaults: dict[str, OptionValue] | None = None
    wallet_defaults: dict[str, OptionValue] | None = None
    shared_dir: StrictStr | None = None
    daemon_data_dir: StrictStr | None = None
    fallback_seeds: Annotated[Literal["auto", "custom", "off"], BeforeValidator(_yaml11_off)] = "auto"
    reachable_fraction: Fraction = 1.0
    reachable_by_role: dict[Literal["user", "relay"], Fraction] | None = None
    hidden_fraction: Fraction = 0.0
    turnover: LegacyTurnover | None = None
    use_agents: StrictBool | None = None
    """The original plan's dual-mode switch (absent upstream): ``false`` runs the
    processes only (mining, no agent scripts), ``true`` the agent framework."""


PeerMode = Literal["Dynamic", "Hardcoded", "Hybrid"]
Topology = Literal["Star", "Mesh", "Ring", "Dag"]


class _PeerSettings(_Model):
    peer_mode: PeerMode | None = None  # upstream default Dynamic
    seed_nodes: list[StrictStr] | None = None
    topology: Topology | None = None  # upstream default Dag

    @model_validator(mode="after")
    def _seeds_for_mode(self) -> _PeerSettings:
        if self.seed_nodes is not None and not self.seed_nodes:
            raise _value_error("seed_nodes is an empty list", "a non-empty list of 'ip:port'")
        if self.peer_mode in ("Hardcoded", "Hybrid") and not self.seed_nodes:
            raise _value_error(
                f"peer_mode {self.peer_mode} needs seed_nodes",
                "seed_nodes: ['ip:port', ...] with Hardcoded or Hybrid",
            )
        return self


class LegacySwitchNetwork(_PeerSettings):
    """``network: {type: 1_gbit_switch}``: every host on Shadow's one-node switch graph."""

    type: Literal["1_gbit_switch"]
    bandwidth: StrictStr | None = None  # accepted upstream, not used by its generator
    latency: StrictStr | None = None  # likewise


class RegionWeights(_Model):
    north_america: Count | None = None
    europe: Count | None = None
    asia: Count | None = None
    south_america: Count | None = None
    africa: Count | None = None
    oceania: Count | None = None


class Distribution(_Model):
    strategy: Literal["Global", "Sequential", "Weighted"] = "Global"
    weights: RegionWeights | None = None


class LegacyGmlNetwork(_PeerSettings):
    """``network: {path: file.gml}``: hosts spread over a GML topology (AS-level graph)."""

    path: Annotated[StrictStr, Field(min_length=1)]
    distribution: Distribution | None = None


def _network_tag(data: Any) -> str:
    if isinstance(data, Mapping):
        return "LegacyGmlNetwork" if "path" in data else "LegacySwitchNetwork"
    return "LegacyGmlNetwork" if isinstance(data, LegacyGmlNetwork) else "LegacySwitchNetwork"


LegacyNetwork = Annotated[
    Annotated[LegacySwitchNetwork, Tag("LegacySwitchNetwork")]
    | Annotated[LegacyGmlNetwork, Tag("LegacyGmlNetwork")],
    Discriminator(_network_tag),
]
"""``type: 1_gbit_switch`` or ``path: <file.gml>`` (upstream: an untagged enum)."""


class RemoteDaemon(_Model):
    """A wallet-only agent's daemon: ``address: auto`` (a public node) or ``"ip:port"``."""

    address: StrictStr
    strategy: Literal["random", "first", "round_robin"] | None = None


class LegacyPhase(_Model):
    """One binary of an upgrade: ``daemon_<N>``, ``daemon_<N>_args|_env|_start|_stop``."""

    path: StrictStr = ""
    args: list[StrictStr] | None = None
    env: dict[str, StrictStr] | None = None
    start: AutoDuration | None = None
    stop: Duration | None = None


_PHASE_KEY = re.compile(r"^(daemon|wallet)_(\d+)(?:_(args|env|start|stop))?$")
_PHASE_FIELD = {None: "path", "args": "args", "env": "env", "start": "start", "stop": "stop"}


class LegacyAgent(_Model):
    """One agent. What it *is* follows from what it has (see :attr:`role`)."""

    daemon: StrictStr | RemoteDaemon | None = None
    wallet: StrictStr | None = None
    script: StrictStr | None = None
    daemon_options: dict[str, OptionValue] | None = None
    wallet_options: dict[str, OptionValue] | None = None
    start_time: Duration | None = None
    hashrate: Annotated[StrictInt, Field(ge=1, le=100)] | None = None
    transaction_interval: AutoDuration | None = None
    activity_start_time: AutoDuration | None = None
    can_receive_distributions: StrictBool | None = None
    wait_time: AutoDuration | None = None
    initial_fund_amount: XmrAmount | None = None
    max_transaction_amount: XmrAmount | None = None
    min_transaction_amount: XmrAmount | None = None
    md_n_recipients: Annotated[StrictInt, Field(ge=1, le=16)] | None = None
    md_out_per_tx: Annotated[StrictInt, Field(ge=1, le=16)] | None = None
    md_output_amount: Annotated[float, Field(gt=0)] | None = None
    poll_interval: AutoDuration | None = None
    status_file: StrictStr | None = None
    enable_alerts: StrictBool | None = None
    detailed_logging: StrictBool | None = None
    daemon_args: list[StrictStr] | None = None
    wallet_args: list[StrictStr] | None = None
    daemon_env: dict[str, StrictStr] | None = None
    wallet_env: dict[str, StrictStr] | None = None
    attributes: dict[str, Annotated[str, BeforeValidator(_attribute)]] | None = None
    subnet_group: StrictStr | None = None
    daemon_phases: dict[int, LegacyPhase] | None = None
    wallet_phases: dict[int, LegacyPhase] | None = None

    @classmethod
    def _extra_key(cls, key: Any) -> bool:
        return isinstance(key, str) and _PHASE_KEY.match(key) is not None

    @model_validator(mode="before")
    @classmethod
    def _gather_phases(cls, data: Any) -> Any:
        """Fold the flat ``daemon_0``, ``daemon_0_start``... keys into ``*_phases``."""
        if not isinstance(data, Mapping):
            return data
        out: dict[str, Any] = {}
        for key, value in data.items():
            match = _PHASE_KEY.match(key) if isinstance(key, str) else None
            if match is None:
                out[key] = value
                continue
            kind, number, part = match.group(1), int(match.group(2)), match.group(3)
            phases = out.setdefault(f"{kind}_phases", {})
            phases.setdefault(number, {})[_PHASE_FIELD[part]] = value
        return out

    @model_validator(mode="after")
    def _upstream_rules(self) -> LegacyAgent:
        _check_phases(self.daemon_phases or {}, "daemon")
        local = isinstance(self.daemon, str) or bool(self.daemon_phases)
        wallet = self.wallet is not None or bool(self.wallet_phases)
        if self.hashrate is not None and not local:
            raise _value_error(
                "a miner (it has hashrate) needs a local daemon", "daemon: monerod together with hashrate"
            )
        if self.hashrate is not None and not wallet:
            raise _value_error(
                "a miner (it has hashrate) needs a wallet for its rewards",
                "wallet: monero-wallet-rpc together with hashrate",
            )
        if not (self.daemon or wallet or self.script or self.daemon_phases):
            raise _value_error(
                "an agent needs at least one of daemon, wallet or script", "daemon, wallet and/or script"
            )
        if wallet and not local and not isinstance(self.daemon, RemoteDaemon):
            raise _value_error(
                "a wallet without a local daemon needs a remote daemon",
                "daemon: {address: auto} or daemon: {address: 'ip:port'}",
            )
        if self.is_public_node and not local:
            raise _value_error("attribute is_public_node needs a local daemon", "daemon: monerod")
        return self

    @property
    def is_public_node(self) -> bool:
        return (self.attributes or {}).get("is_public_node", "").lower() == "true"

    @property
    def role(self) -> str:
        """miner, user, relay, distributor, monitor, wallet-only or custom (upstream's tests)."""
        script = self.script or ""
        local = isinstance(self.daemon, str) or bool(self.daemon_phases)
        if self.hashrate is not None:
            return "miner"
        if script.endswith("miner_distributor"):
            return "distributor"
        if script.endswith("simulation_monitor"):
            return "monitor"
        if isinstance(self.daemon, RemoteDaemon):
            return "wallet-only"
        if script.endswith("regular_user"):
            return "user"
        if local and self.wallet is None and not self.wallet_phases and not script:
            return "relay"
        return "custom"


def _check_phases(phases: Mapping[int, LegacyPhase], kind: str) -> None:
    """Upstream's validate_daemon_phases: 0, 1, 2...; a path and start each; 30 s gaps."""
    numbers = sorted(phases)
    if numbers != list(range(len(numbers))):
        raise _value_error(f"{kind} phases are numbered {numbers}", f"{kind}_0, {kind}_1, ...")
    for n in numbers:
        phase = phases[n]
        if not phase.path:
            raise _value_error(f"{kind}_{n} has no binary", f"{kind}_{n}: <binary name>")
        if phase.start is None:
            raise _value_error(f"{kind}_{n} has no start time", f"{kind}_{n}_start: <duration>")
        if n + 1 not in phases:
            continue
        if phase.stop is None:
            raise _value_error(
                f"{kind}_{n} is followed by another phase but has no stop time",
                f"{kind}_{n}_stop: <duration>",
            )
        start = phases[n + 1].start
        if start != "auto" and start is not None and start < phase.stop + MIN_PHASE_GAP_S:
            raise _value_error(
                f"{kind}_{n + 1}_start {start:g}s is less than {MIN_PHASE_GAP_S:g}s after "
                f"{kind}_{n}_stop {phase.stop:g}s",
                "a start at least 30 s after the stop",
            )


class LegacyPerformance(_Model):
    model_unblocked_syscall_latency: StrictBool = True


class LegacyTiming(_Model):
    """Scenario-form ``timing`` overrides for upstream's automatic timeline."""

    user_spawn_start: Duration | None = None
    bootstrap_end_time: Duration | None = None
    md_start_time: Duration | None = None
    activity_start_time: Duration | None = None
    activity_batch_size: Annotated[StrictInt, Field(ge=1)] | None = None
    activity_batch_interval: Duration | None = None
    activity_batch_jitter: Fraction | None = None


class LegacyConfig(_Model):
    """A whole legacy config with one entry per agent (ranges already expanded).

    ``groups`` maps each range key of a scenario file (``relay-{001..800}``) to
    the agent ids it expanded to; ``form`` says which upstream form was read.
    """

    general: LegacyGeneral
    network: LegacyNetwork | None = None  # upstream default: 1_gbit_switch, Dynamic, Dag
    agents: dict[str, LegacyAgent] = Field(min_length=1)
    performance: LegacyPerformance | None = None
    timing: LegacyTiming | None = None
    groups: dict[str, list[str]] = Field(default_factory=dict)
    form: Literal["expanded", "scenario"] = "expanded"

    @field_validator("network", mode="before")
    @classmethod
    def _network_kind(cls, network: Any) -> Any:
        if isinstance(network, Mapping) and not ("type" in network) ^ ("path" in network):
            raise _value_error(
                "network needs exactly one of 'type' or 'path'",
                "type: 1_gbit_switch, or path: <file.gml>",
            )
        return network

    @classmethod
    def _accepted_keys(cls) -> list[str]:
        return list(TOP_LEVEL)  # groups and form are filled in by the loader

    def network_file(self, config_file: str | Path, base_dir: str | Path | None = None) -> Path | None:
        """The GML file of ``network.path``: absolute; else relative to ``base_dir`` if given;
        else the working directory's (where upstream resolves it) if it exists there, else
        the config's folder's."""
        if not isinstance(self.network, LegacyGmlNetwork):
            return None
        from .gml import resolve_network_path

        return resolve_network_path(self.network.path, config_file, base_dir)[0]

    @property
    def total_hashrate(self) -> int:
        """Sum of the miners' hashrates (upstream expects 100 and only warns otherwise)."""
        return sum(a.hashrate or 0 for a in self.agents.values())

    def by_role(self, role: str) -> dict[str, LegacyAgent]:
        return {name: agent for name, agent in self.agents.items() if agent.role == role}
