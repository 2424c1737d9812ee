"""Command-line options and ini keys, read once into :class:`Settings`."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from ..backends import BACKENDS

OPTIONS: tuple[tuple[str, str, str], ...] = (
    # (name without prefix, help, ini type)
    ("backend", f"backend to run networks on: {', '.join(BACKENDS)} (default: sim)", "string"),
    ("seed", "seed for every network (overrides the scenario's general.seed)", "string"),
    ("duration", 'simulated duration for every network, e.g. "2h" (overrides general.duration)', "string"),
    ("attack", "comma-separated attack names the monerosim_attack fixture runs (default: all)", "string"),
    ("out", "directory for each network's summary JSON, scenario and logs (default: the test's tmp dir)",
     "string"),
    ("monerod-bin", "path of monerod (default: found on PATH)", "string"),
    ("wallet-rpc-bin", "path of monero-wallet-rpc (default: found on PATH)", "string"),
    ("shadow-bin", "path of the shadow binary (default: found on PATH)", "string"),
    ("time-scale", "real backend: simulated seconds per wall-clock second (default 120)", "string"),
    # reporting (read by plugin/reporting_plugin.py)
    ("report", "write one JSON report of the session to PATH.json (plus PATH.sweep.csv and the run log "
     "PATH.log.jsonl)", "string"),
    ("baseline", "fail networks whose summary metrics moved outside the envelopes stored in PATH (JSON)",
     "string"),
    ("progress", "progress of long runs on the terminal: auto (after 2 s, not under -q), on, off", "string"),
)


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("monerosim", "Monero network simulation (pytest-monerosim)")
    for name, help_text, ini_type in OPTIONS:
        dest = "monerosim_" + name.replace("-", "_")
        group.addoption(f"--monerosim-{name}", dest=dest, default=None, help=help_text)
        parser.addini(dest, help_text, type=ini_type, default=None)  # type: ignore[arg-type]
    group.addoption("--monerosim-baseline-update", dest="monerosim_baseline_update", action="store_true",
                    default=False, help="write or refresh the --monerosim-baseline file from this run")
    group.addoption("--monerosim-plots", dest="monerosim_plots", action="store_true", default=False,
                    help="write PNG plots (chain height, propagation, peer graph, attack series) next to "
                    "each network's summary")
    group.addoption("--monerosim-serve", dest="monerosim_serve", nargs="?", const="8765", default=None,
                    metavar="PORT", help="serve the live dashboard and REST API on 127.0.0.1:PORT "
                    "(default 8765; 0 = any free port) while the session runs")


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
    extra: dict[str, str] = field(default_factory=dict)


def _get(config: pytest.Config, name: str) -> str | None:
    dest = "monerosim_" + name.replace("-", "_")
    value = config.getoption(dest, None)
    if value is None:
        value = config.getini(dest) or None
    return value


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
