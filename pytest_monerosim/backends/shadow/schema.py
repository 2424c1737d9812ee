"""A pydantic mirror of Shadow 3.x's configuration file.

Field set, types and defaults follow Shadow's ``src/main/core/configuration.rs``
(``ConfigFileOptions`` and the structs under it, all ``deny_unknown_fields``);
the cross-field rules follow ``src/main/core/sim_config.rs`` and the graph
loader. Writing a config through these models means a mistake surfaces here,
with the YAML path of the bad field, rather than minutes into a Shadow run.

Two rules are stricter than Shadow: a host must have at least one process, and
duplicate GML node ids are refused (see :mod:`.gml`).

Fields left unset take Shadow's defaults (noted per field);
:meth:`ShadowConfig.to_dict` writes only what was set.
"""

from __future__ import annotations

import difflib
import ipaddress
import lzma
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic_core import PydanticCustomError

from ...shadow_units import UnitError, parse_bandwidth, parse_bytes, parse_time_ns
from ...strict import StrictModel
from .gml import GmlDocument, GmlSyntaxError, parse_shadow_gml, validate_gml_document

__all__ = [
    "SIGNALS",
    "Experimental",
    "General",
    "GmlGraph",
    "GraphFile",
    "Host",
    "HostOptions",
    "Network",
    "Process",
    "ShadowConfig",
    "ShadowConfigError",
    "SwitchGraph",
    "validate_shadow_config",
]

# Linux signals as nix's Signal::from_str spells them; numbers 1-31 are accepted too.
SIGNALS: dict[str, int] = {
    name: number
    for number, name in enumerate(
        "SIGHUP SIGINT SIGQUIT SIGILL SIGTRAP SIGABRT SIGBUS SIGFPE SIGKILL SIGUSR1 SIGSEGV "
        "SIGUSR2 SIGPIPE SIGALRM SIGTERM SIGSTKFLT SIGCHLD SIGCONT SIGSTOP SIGTSTP SIGTTIN "
        "SIGTTOU SIGURG SIGXCPU SIGXFSZ SIGVTALRM SIGPROF SIGWINCH SIGIO SIGPWR SIGSYS".split(),
        start=1,
    )
}
_SIGNAL_ACCEPTED = "a signal name such as SIGTERM, SIGINT or SIGKILL (capitals, SIG prefix) or 1-31"
_HOST_ACCEPTED = (
    "1-253 characters of lowercase a-z, 0-9, '-' and '.', not starting with '-' "
    "(no underscores or capitals)"
)
_SWITCH_BANDWIDTH_BPS = 10**9  # the built-in 1_gbit_switch graph: one node 0, 1 Gbit both ways


# --------------------------------------------------------------------------- errors


class ShadowConfigError(ValueError):
    """A Shadow config that Shadow would refuse.

    ``str(error)`` names the YAML path of the first bad field, the bad value and
    what is accepted; ``problems`` lists every problem found, one line each.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        more = f"\n(and {len(problems) - 1} more problem(s):\n  " if len(problems) > 1 else ""
        tail = "\n  ".join(problems[1:]) + ")" if more else ""
        super().__init__(problems[0] + more + tail)


def _fail(problem: str, accepted: str, *, path: str | None = None, value: Any = None) -> Any:
    """A pydantic error carrying what is accepted (and, for cross-field rules, the path)."""
    ctx: dict[str, Any] = {"problem": problem, "accepted": accepted}
    if path is not None:
        ctx["path"] = path
        ctx["value"] = value
    return PydanticCustomError("shadow", "{problem}; accepted: {accepted}", ctx)


# --------------------------------------------------------------------------- scalar types


def _unit(parse: Any) -> Any:
    def check(value: Any) -> Any:
        try:
            parse(value)
        except UnitError as exc:
            raise _fail(exc.problem, exc.accepted) from None
        return value

    return check


ShadowTime = Annotated[StrictStr | StrictInt, BeforeValidator(_unit(parse_time_ns))]
"""A time as Shadow takes it: "25 ms", "6 h", or an integer number of seconds."""
ShadowBandwidth = Annotated[StrictStr | StrictInt, BeforeValidator(_unit(parse_bandwidth))]
"""A bandwidth: "100 Mbit", or an integer number of bits per second."""
ShadowBytes = Annotated[StrictStr | StrictInt, BeforeValidator(_unit(parse_bytes))]
"""A size: "64 KiB", or an integer number of bytes."""
U32 = Annotated[StrictInt, Field(ge=0, le=2**32 - 1)]
LogLevel = Literal["error", "warning", "info", "debug", "trace"]


def _signal(value: Any) -> Any:
    if isinstance(value, str) and value in SIGNALS:
        return value
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 31:
        return value
    raise _fail(f"{value!r} is not a signal", _SIGNAL_ACCEPTED)


Signal = Annotated[StrictStr | StrictInt, BeforeValidator(_signal)]


def _host_name(name: str) -> str:
    bad = next(
        (c for c in name if not (c.islower() and c.isascii() or c.isdigit() or c in "-.")), None
    )
    if bad is not None:
        raise _fail(f"invalid host name {name!r}: character {bad!r} is not allowed", _HOST_ACCEPTED)
    if not name:
        raise _fail("empty host name", _HOST_ACCEPTED)
    if name.startswith("-"):
        raise _fail(f"invalid host name {name!r}: it starts with '-'", _HOST_ACCEPTED)
    if len(name) > 253:
        raise _fail(f"invalid host name: {len(name)} characters is more than 253", _HOST_ACCEPTED)
    return name


HostName = Annotated[StrictStr, AfterValidator(_host_name)]


def _ipv4(value: Any) -> Any:
    try:
        ipaddress.IPv4Address(value if isinstance(value, str) else None)
    except ValueError:
        raise _fail(f"{value!r} is not an IPv4 address", "a dotted quad such as 11.0.0.1") from None
    return value


def _args(value: Any) -> Any:
    accepted = "a string (split like a shell command line) or a list of strings"
    if isinstance(value, str):
        try:
            shlex.split(value)
        except ValueError as exc:
            raise _fail(f"args {value!r} cannot be split into arguments: {exc}", accepted) from None
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    if isinstance(value, list):
        bad = next(v for v in value if not isinstance(v, str))
        raise _fail(f"argument {bad!r} is not a string (quote it)", accepted)
    raise _fail(f"args must be a string or a list, not {type(value).__name__}", accepted)


def _environment(value: Any) -> Any:
    accepted = "a map of variable name (without '=') to string value"
    if not isinstance(value, Mapping):
        raise _fail(f"environment must be a map, not {type(value).__name__}", accepted)
    for key, item in value.items():
        if not isinstance(key, str) or "=" in key:
            raise _fail(f"bad environment variable name {key!r}", accepted)
        if not isinstance(item, str):
            raise _fail(f"{key}={item!r} is not a string; quote it: {key}: '{item}'", accepted)
    return value


def _final_state(value: Any) -> Any:
    accepted = "{exited: <int>} (default {exited: 0}), {signaled: <signal>} or running"
    if value == "running":
        return value
    if isinstance(value, Mapping) and len(value) == 1:
        ((key, item),) = value.items()
        if key == "exited" and isinstance(item, int) and not isinstance(item, bool):
            if -(2**31) <= item < 2**31:
                return value
        if key == "signaled":
            _signal(item)
            return value
    raise _fail(f"{value!r} is not a process final state", accepted)


# --------------------------------------------------------------------------- models


class _Model(StrictModel):
    """Unknown keys are errors that list the accepted keys (Shadow: deny_unknown_fields)."""

    model_config = ConfigDict(validate_assignment=True)

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            accepted = list(cls.model_fields)
            for key in data:
                if key not in accepted:
                    raise PydanticCustomError(
                        "shadow_unknown_key",
                        "unknown key {key!r}; accepted: {accepted}",
                        {"key": key, "accepted": ", ".join(accepted)},
                    )
        return data


class General(_Model):
    """``general``: run-wide settings (defaults are Shadow's)."""

    stop_time: ShadowTime = Field(description='a time such as "6 h" (required)')
    seed: U32 | None = None  # 1
    parallelism: U32 | None = None  # 0: Shadow picks
    bootstrap_end_time: ShadowTime | None = None  # "0 sec"
    log_level: LogLevel | None = None  # info
    heartbeat_interval: ShadowTime | None = None  # "1 sec"; an explicit null disables it
    data_directory: StrictStr | None = None  # "shadow.data"
    template_directory: StrictStr | None = None
    progress: StrictBool | None = None  # false
    model_unblocked_syscall_latency: StrictBool | None = None  # false


class GraphFile(_Model):
    path: StrictStr = Field(description="the path of a GML file")
    compression: Literal["xz"] | None = None


class GmlGraph(_Model):
    """``type: gml`` with exactly one of ``inline`` (GML text) or ``file``."""

    type: Literal["gml"]
    inline: StrictStr | None = None
    file: GraphFile | None = None

    @model_validator(mode="after")
    def _one_source(self) -> GmlGraph:
        if (self.inline is None) == (self.file is None):
            both = "both" if self.inline is not None else "neither"
            raise _fail(
                f"a gml graph needs exactly one of 'inline' or 'file', found {both}",
                "inline: <GML text> or file: {path: <file>, compression: xz}",
            )
        return self


class SwitchGraph(_Model):
    """The built-in graph: one node (id 0), 1 Gbit up and down, 1 ms self-loop."""

    type: Literal["1_gbit_switch"]


class Network(_Model):
    graph: Annotated[GmlGraph | SwitchGraph, Field(discriminator="type")] = Field(
        description="type: gml (with inline or file) or type: 1_gbit_switch"
    )
    use_shortest_path: StrictBool | None = None  # true


class HostOptions(_Model):
    """``host_option_defaults`` and ``hosts.<name>.host_options``."""

    log_level: LogLevel | None = None
    pcap_enabled: StrictBool | None = None  # false
    pcap_capture_size: ShadowBytes | None = None  # "65535 B"


class ExitedState(_Model):
    exited: StrictInt


class SignaledState(_Model):
    signaled: Signal


class Process(_Model):
    """One process of a host. Its environment is all it gets: set PATH, HOME, PYTHONPATH."""

    path: Annotated[StrictStr, Field(min_length=1, description="the executable (required)")]
    args: Annotated[StrictStr | list[StrictStr], BeforeValidator(_args)] | None = None
    environment: Annotated[dict[str, StrictStr], BeforeValidator(_environment)] | None = None
    start_time: ShadowTime | None = None  # 0
    shutdown_time: ShadowTime | None = None
    shutdown_signal: Signal | None = None  # SIGTERM
    expected_final_state: (
        Annotated[Literal["running"] | ExitedState | SignaledState, BeforeValidator(_final_state)]
        | None
    ) = None  # {exited: 0}


class Host(_Model):
    network_node_id: U32 = Field(description="the id of a node of the network graph")
    processes: list[Process] = Field(min_length=1, description="a non-empty list of processes")
    ip_addr: Annotated[StrictStr, BeforeValidator(_ipv4)] | None = None
    bandwidth_down: ShadowBandwidth | None = None  # else the graph node's
    bandwidth_up: ShadowBandwidth | None = None
    host_options: HostOptions | None = None


class Experimental(_Model):
    """``experimental``: every key Shadow 3.x's ExperimentalOptions accepts."""

    use_sched_fifo: StrictBool | None = None
    use_syscall_counters: StrictBool | None = None
    use_object_counters: StrictBool | None = None
    use_preload_libc: StrictBool | None = None
    use_preload_openssl_rng: StrictBool | None = None
    use_preload_openssl_crypto: StrictBool | None = None
    use_memory_manager: StrictBool | None = None
    use_cpu_pinning: StrictBool | None = None
    use_worker_spinning: StrictBool | None = None
    runahead: ShadowTime | None = None  # "1 ms"; null: automatic
    use_dynamic_runahead: StrictBool | None = None
    socket_send_buffer: ShadowBytes | None = None
    socket_send_autotune: StrictBool | None = None
    socket_recv_buffer: ShadowBytes | None = None
    socket_recv_autotune: StrictBool | None = None
    interface_qdisc: Literal["fifo", "round-robin"] | None = None
    strace_logging_mode: Literal["off", "standard", "deterministic"] | None = None
    max_unapplied_cpu_latency: ShadowTime | None = None
    unblocked_syscall_latency: ShadowTime | None = None
    unblocked_vdso_latency: ShadowTime | None = None
    scheduler: Literal["thread-per-host", "thread-per-core"] | None = None
    report_errors_to_stderr: StrictBool | None = None
    use_new_tcp: StrictBool | None = None
    native_preemption_enabled: StrictBool | None = None
    native_preemption_native_interval: ShadowTime | None = None
    native_preemption_sim_interval: ShadowTime | None = None


class ShadowConfig(_Model):
    """A whole Shadow config file; cross-field rules are checked on construction.

    Pass ``context={"graph_dir": <dir>}`` to ``model_validate`` to have a
    ``network.graph.file`` read (relative to that directory) and checked too.
    """

    general: General = Field(description="a map with at least stop_time")
    network: Network = Field(description="a map with graph")
    hosts: dict[HostName, Host] = Field(min_length=1, description="a map of host name to host")
    host_option_defaults: HostOptions | None = None
    experimental: Experimental | None = None

    @model_validator(mode="after")
    def _cross_fields(self, info: ValidationInfo) -> ShadowConfig:
        graph_dir = (info.context or {}).get("graph_dir") if info is not None else None
        problems = _cross_field_problems(self, graph_dir)
        if problems:
            path, problem, value, accepted = problems[0]
            raise _fail(problem, accepted, path=path, value=value)
        return self

    def to_dict(self) -> dict[str, Any]:
        """The config as plain data for ``yaml.safe_dump``, with only the keys that were set."""
        return self.model_dump(mode="json", exclude_unset=True)


# --------------------------------------------------------------------------- cross-field rules

_Problem = tuple[str, str, Any, str]  # YAML path, what is wrong, the value, what is accepted


def _cross_field_problems(cfg: ShadowConfig, graph_dir: str | Path | None) -> list[_Problem]:
    return _process_problems(cfg) + _ip_problems(cfg) + _graph_problems(cfg, graph_dir)


def _process_problems(cfg: ShadowConfig) -> list[_Problem]:
    """sim_config.rs: start < stop_time; start < shutdown_time < stop_time."""
    out: list[_Problem] = []
    stop_text = cfg.general.stop_time
    stop = parse_time_ns(stop_text)
    for name, host in cfg.hosts.items():
        for i, proc in enumerate(host.processes):
            base = f"hosts.{name}.processes[{i}]"
            start = 0 if proc.start_time is None else parse_time_ns(proc.start_time)
            if start >= stop:
                out.append(
                    (
                        f"{base}.start_time",
                        f"start_time {proc.start_time!r} is not before general.stop_time "
                        f"{stop_text!r}",
                        proc.start_time,
                        "a time earlier than general.stop_time",
                    )
                )
            if proc.shutdown_time is None:
                continue
            shutdown = parse_time_ns(proc.shutdown_time)
            accepted = "a time after start_time and before general.stop_time"
            if shutdown <= start:
                out.append(
                    (
                        f"{base}.shutdown_time",
                        f"shutdown_time {proc.shutdown_time!r} is not after start_time "
                        f"{proc.start_time if proc.start_time is not None else 0!r}",
                        proc.shutdown_time,
                        accepted,
                    )
                )
            elif shutdown >= stop:
                out.append(
                    (
                        f"{base}.shutdown_time",
                        f"shutdown_time {proc.shutdown_time!r} is not before "
                        f"general.stop_time {stop_text!r}",
                        proc.shutdown_time,
                        accepted,
                    )
                )
    return out


def _ip_problems(cfg: ShadowConfig) -> list[_Problem]:
    out: list[_Problem] = []
    owners: dict[str, str] = {}
    for name, host in cfg.hosts.items():
        if host.ip_addr is None:
            continue
        if host.ip_addr in owners:
            out.append(
                (
                    f"hosts.{name}.ip_addr",
                    f"{host.ip_addr} is already the address of host {owners[host.ip_addr]!r}",
                    host.ip_addr,
                    "an IPv4 address no other host uses",
                )
            )
        owners.setdefault(host.ip_addr, name)
    return out


def _graph_text(graph: GmlGraph, graph_dir: str | Path | None) -> tuple[str | None, str, str]:
    """(GML text or None when it cannot be read here, its YAML path, a problem reading it)."""
    if graph.inline is not None:
        return graph.inline, "network.graph.inline", ""
    assert graph.file is not None
    if graph_dir is None:
        return None, "network.graph.file.path", ""
    path = Path(graph.file.path).expanduser()
    path = path if path.is_absolute() else Path(graph_dir) / path
    try:
        if graph.file.compression == "xz":
            with lzma.open(path, "rt") as handle:
                return handle.read(), "network.graph.file.path", ""
        return path.read_text(), "network.graph.file.path", ""
    except (OSError, lzma.LZMAError) as exc:
        return None, "network.graph.file.path", f"cannot read the graph file {str(path)!r}: {exc}"


def _graph_problems(cfg: ShadowConfig, graph_dir: str | Path | None) -> list[_Problem]:
    graph = cfg.network.graph
    if isinstance(graph, SwitchGraph):
        bandwidth = {0: (_SWITCH_BANDWIDTH_BPS, _SWITCH_BANDWIDTH_BPS)}
        return _attachment_problems(cfg, bandwidth, "the built-in 1_gbit_switch graph")
    text, where, unreadable = _graph_text(graph, graph_dir)
    if unreadable:
        return [(where, unreadable, graph.file.path if graph.file else None, "a readable file")]
    if text is None:
        return []
    try:
        doc = parse_shadow_gml(text)
    except GmlSyntaxError as exc:
        return [
            (
                where,
                f"GML line {exc.line}: {exc.message}",
                None,
                "GML as Shadow reads it (one key/value per line)",
            )
        ]
    out = _attachment_problems(cfg, _node_bandwidths(doc), "the network graph")
    ids = {n.attrs.get("id") for n in doc.nodes}
    attached = {h.network_node_id for h in cfg.hosts.values()} & ids
    issues = validate_gml_document(
        doc,
        attached=attached,
        complete=cfg.network.use_shortest_path is False,
        require_bandwidth=False,
    )
    for issue in issues:
        at = f" (GML line {issue.line})" if issue.line else ""
        out.append((where, f"{issue.where}{at}: {issue.message}", None, ""))
    return out


def _node_bandwidths(doc: GmlDocument) -> dict[Any, tuple[int | None, int | None]]:
    out: dict[Any, tuple[int | None, int | None]] = {}
    for node in doc.nodes:
        sides: list[int | None] = []
        for key in ("host_bandwidth_down", "host_bandwidth_up"):
            try:
                sides.append(parse_bandwidth(node.attrs[key]) if key in node.attrs else None)
            except UnitError:
                sides.append(None)  # reported by the GML checks
        out[node.attrs.get("id")] = (sides[0], sides[1])
    return out


def _attachment_problems(
    cfg: ShadowConfig, bandwidth: Mapping[Any, tuple[int | None, int | None]], graph_name: str
) -> list[_Problem]:
    """Every host's node exists; every host gets a bandwidth from itself or its node."""
    out: list[_Problem] = []
    ids = ", ".join(str(i) for i in sorted(i for i in bandwidth if isinstance(i, int)))
    for name, host in cfg.hosts.items():
        node = host.network_node_id
        if node not in bandwidth:
            out.append(
                (
                    f"hosts.{name}.network_node_id",
                    f"node {node} does not exist in {graph_name}",
                    node,
                    f"a node id of the graph: {ids}",
                )
            )
            continue
        for side, own, from_node in (
            ("down", host.bandwidth_down, bandwidth[node][0]),
            ("up", host.bandwidth_up, bandwidth[node][1]),
        ):
            if own is None and from_node is None:
                out.append(
                    (
                        f"hosts.{name}.bandwidth_{side}",
                        f"host has no bandwidth_{side} and graph node {node} has no "
                        f"host_bandwidth_{side}",
                        None,
                        f'a bandwidth such as "100 Mbit" here or on node {node}',
                    )
                )
    return out


# --------------------------------------------------------------------------- entry point


def _navigable(data: Any, loc: tuple[Any, ...], keep_last: bool) -> tuple[Any, ...]:
    """The parts of a pydantic ``loc`` that are real keys of ``data`` (drops union tags etc.)."""
    out: list[Any] = []
    cur = data
    for i, part in enumerate(loc):
        if isinstance(cur, Mapping) and part in cur:
            cur = cur[part]
            out.append(part)
        elif isinstance(cur, list) and isinstance(part, int) and 0 <= part < len(cur):
            cur = cur[part]
            out.append(part)
        elif keep_last and i == len(loc) - 1 and isinstance(part, str):
            out.append(part)
    return tuple(out)


def _dotted(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _description(loc: tuple[Any, ...]) -> str:
    """The ``description`` of the field at ``loc`` (used as "what is accepted")."""
    model: Any = ShadowConfig
    info = None
    map_key_next = False
    for part in loc:
        if isinstance(part, int) or map_key_next:
            map_key_next = False
            continue
        info = model.model_fields.get(part) if model is not None else None
        if info is None:
            return ""
        map_key_next = get_origin(info.annotation) is dict
        model = _inner_model(info.annotation)
    return (info.description or "") if info is not None else ""


def _inner_model(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _describe(err: Mapping[str, Any], data: Any) -> str:
    ctx = err.get("ctx") or {}
    kind = err["type"]
    loc = _navigable(data, tuple(err["loc"]), keep_last=kind == "missing")
    value = err.get("input")
    accepted = ""
    if "path" in ctx:
        path, value = ctx["path"], ctx.get("value")
    else:
        path = _dotted(loc + ((ctx["key"],) if kind == "shadow_unknown_key" else ()))
    if kind == "shadow":
        problem, accepted = ctx["problem"], ctx["accepted"]
    elif kind == "shadow_unknown_key":
        options = ctx["accepted"].split(", ")
        close = difflib.get_close_matches(str(ctx["key"]), options, n=1)
        problem = f"unknown key {ctx['key']!r}" + (
            f" (did you mean {close[0]!r}?)" if close else ""
        )
        accepted, value = ctx["accepted"], None
    elif kind == "missing":
        problem, value, accepted = "required key is missing", None, _description(loc)
    elif kind in ("union_tag_invalid", "union_tag_not_found"):
        path, value = _dotted(loc + ("type",)), ctx.get("tag")
        problem = "missing 'type'" if value is None else f"unknown graph type {value!r}"
        accepted = _description(loc)
    else:
        problem, accepted = str(err["msg"]), _description(loc)
    text = f"{path or '(top level)'}: {problem}"
    if value is not None and _short(value) not in problem:
        text += f" (got {_short(value)})"
    return text + (f"; accepted: {accepted}" if accepted else "")


def validate_shadow_config(
    data: Mapping[str, Any], *, graph_dir: str | Path | None = None
) -> ShadowConfig:
    """Validate a Shadow config (as loaded from YAML) or raise one :class:`ShadowConfigError`.

    The error's message starts with the YAML path of the first bad field, the
    bad value and what is accepted; ``error.problems`` has every problem.
    With ``graph_dir``, a ``network.graph.file`` is read from there and checked.
    """
    if not isinstance(data, Mapping):
        raise ShadowConfigError(
            [f"(top level): a Shadow config is a map, not {type(data).__name__}"]
        )
    try:
        return ShadowConfig.model_validate(data, context={"graph_dir": graph_dir})
    except ValidationError as exc:
        problems = [_describe(err, data) for err in exc.errors(include_url=False)]
        raise ShadowConfigError(problems) from None
