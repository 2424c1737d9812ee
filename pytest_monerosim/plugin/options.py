"""Command-line options and ini keys, read once into :class:`Settings`."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from ..backends import BACKENDS

SERVE_DEFAULT_PORT = 8765


@dataclass(frozen=True)
class Option:
    """One ``--monerosim-NAME`` option and its ini key ``monerosim_NAME`` (same help text)."""

    name: str
    help: str
    kind: str = "value"
    """``value`` (``--opt=VALUE``, ini string), ``flag`` (``--opt``, ini bool) or ``optional``
    (``--opt`` or ``--opt=VALUE``, ini string)."""
    metavar: str | None = None
    const: str | None = None
    """The value of a bare ``--opt`` for kind ``optional``."""

    @property
    def dest(self) -> str:
        return "monerosim_" + self.name.replace("-", "_")

    @property
    def flag(self) -> str:
        return f"--monerosim-{self.name}"

    @property
    def ini_type(self) -> str:
        return "bool" if self.kind == "flag" else "string"


OPTIONS: tuple[Option, ...] = (
    Option("backend", f"backend to run networks on: {', '.join(BACKENDS)} (default: sim)"),
    Option("seed", "seed for every network (overrides the scenario's general.seed)"),
    Option("duration", 'simulated duration for every network, e.g. "2h" (overrides general.duration)'),
    Option("attack", "comma-separated attack names the monerosim_attack fixture runs (default: all)"),
    Option("out", "directory for each network's summary JSON, scenario and logs (default: the test's "
           "tmp dir)"),
    Option("monerod-bin", "path of monerod (default: found on PATH)"),
    Option("wallet-rpc-bin", "path of monero-wallet-rpc (default: found on PATH)"),
    Option("shadow-bin", "path of the shadow binary (default: found on PATH)"),
    Option("time-scale", "real backend: simulated seconds per wall-clock second (default 120)"),
    # reporting (read by plugin/report_settings.py)
    Option("report", "write one JSON report of the session to PATH.json (plus PATH.sweep.csv and the run "
           "log PATH.log.jsonl)"),
    Option("baseline", "fail networks whose summary metrics moved outside the envelopes stored in PATH "
           "(JSON)"),
    Option("progress", "progress of long runs on the terminal: auto (after 2 s, not under -q), on, off"),
    Option("baseline-update", "write or refresh the --monerosim-baseline file from this run", kind="flag"),
    Option("plots", "write PNG plots (chain height, propagation, peer graph, attack series) next to each "
           "network's summary", kind="flag"),
    Option("serve", f"serve the live dashboard and REST API on 127.0.0.1:PORT (default {SERVE_DEFAULT_PORT}; "
           "0 = any free port) while the session runs; under pytest-xdist worker gwN serves on "
           "PORT+1+N", kind="optional", metavar="PORT", const=str(SERVE_DEFAULT_PORT)),
)


def add_options(parser: pytest.Parser) -> None:
    """Register every option in :data:`OPTIONS` and its ini key (options override ini keys)."""
    group = parser.getgroup("monerosim", "Monero network simulation (pytest-monerosim)")
    for opt in OPTIONS:
        if opt.kind == "flag":
            # default None (not False): an absent flag falls back to the ini key
            group.addoption(opt.flag, dest=opt.dest, action="store_true", default=None, help=opt.help)
        elif opt.kind == "optional":
            group.addoption(opt.flag, dest=opt.dest, nargs="?", const=opt.const, default=None,
                            metavar=opt.metavar, help=opt.help)
        else:
            group.addoption(opt.flag, dest=opt.dest, default=None, metavar=opt.metavar, help=opt.help)
        parser.addini(opt.dest, opt.help, type=opt.ini_type, default=None)  # type: ignore[arg-type]


def option_value(config: pytest.Config, dest: str) -> str | None:
    """A value option: the command line, else the ini key, else ``None``."""
    value = config.getoption(dest, None)
    if value is None:
        try:
            value = config.getini(dest) or None
        except ValueError:  # not registered (a config built without this plugin)
            value = None
    return value


def option_flag(config: pytest.Config, dest: str) -> bool:
    """A flag: given on the command line, else the ini key (``true``/``false``), else off."""
    value = config.getoption(dest, None)
    if value is None:
        try:
            value = config.getini(dest)
        except ValueError:
            value = None
    return bool(value)


@dataclass(frozen=True)
class Settings:
    backend: str = "sim"
    backend_explicit: bool = False
    seed: int | None = None
    duration: float | None = None
    attacks: tuple[str, ...] = ()
    out: str | None = None
    monerod_bin: str | None = None
    wallet_rpc_bin: str | None = None
    shadow_bin: str | None = None
    time_scale: float | None = None


def _get(config: pytest.Config, name: str) -> str | None:
    return option_value(config, "monerosim_" + name.replace("-", "_"))


def read_settings(config: pytest.Config) -> Settings:
    """Options override ini keys; every bad value is one ``UsageError`` naming it."""
    backend = _get(config, "backend")
    if backend is not None and backend not in BACKENDS:
        raise pytest.UsageError(
            f"--monerosim-backend={backend!r} is not a backend; accepted: {', '.join(BACKENDS)}"
        )
    seed_text = _get(config, "seed")
    seed = None
    if seed_text is not None:
        try:
            seed = int(seed_text)
            if seed < 0:
                raise ValueError
        except ValueError:
            raise pytest.UsageError(
                f"--monerosim-seed={seed_text!r} is not a seed; accepted: an integer >= 0"
            ) from None
    from ..config.durations import parse_run_duration

    duration_text = _get(config, "duration")
    duration = None
    if duration_text is not None:
        try:
            duration = parse_run_duration(duration_text)
        except ValueError as exc:
            raise pytest.UsageError(f"--monerosim-duration: {exc}") from None
    scale_text = _get(config, "time-scale")
    time_scale = None
    if scale_text is not None:
        try:
            time_scale = float(scale_text)
            if time_scale <= 0:
                raise ValueError
        except ValueError:
            raise pytest.UsageError(
                f"--monerosim-time-scale={scale_text!r}; accepted: a number > 0 "
                "(simulated seconds per real second)"
            ) from None
    attacks_text = _get(config, "attack")
    attacks = tuple(a.strip() for a in attacks_text.split(",") if a.strip()) if attacks_text else ()
    return Settings(
        backend=backend or "sim",
        backend_explicit=backend is not None,
        seed=seed,
        duration=duration,
        attacks=attacks,
        out=_get(config, "out"),
        monerod_bin=_get(config, "monerod-bin"),
        wallet_rpc_bin=_get(config, "wallet-rpc-bin"),
        shadow_bin=_get(config, "shadow-bin"),
        time_scale=time_scale,
    )
