"""The ``shadow`` backend: write the plan as a Shadow directory, run ``shadow``, parse the data.

``run(scenario, registry, options)`` is the backend protocol
(:mod:`pytest_monerosim.backends`). It

1. writes ``<workdir>/shadow/`` (:func:`~.writer.write_shadow_dir`): the config,
   the GML, the agents' wrappers;
2. finds the ``shadow`` binary (``RunOptions.shadow_bin``, the plugin's
   ``--monerosim-shadow-bin``, else ``PATH``) and the Monero binaries — if one is
   missing it raises :class:`~pytest_monerosim.backends.BackendUnavailable`
   saying so and where the config was written (it can be run elsewhere);
3. runs ``shadow shadow.yaml`` in that directory (output in ``shadow.log``),
   and checks it: exit status 0 and ``** Shadow completed successfully``; a
   process in an unexpected final state is reported with the tail of its
   ``<exe>.<pid>.stderr``;
4. parses ``shadow.data/hosts/<host>/`` — monerod's log and the agents' JSON
   lines — with the real backends' parser (:mod:`pytest_monerosim.backends.parse`)
   into the common :class:`~pytest_monerosim.result.model.Result` (backend ``shadow``).

``RunOptions.extra`` keys read here: ``shadow`` (config sections merged into the
generated config: ``general``, ``experimental``, ``host_option_defaults``;
e.g. a migration's :attr:`~pytest_monerosim.legacy.migrate.Migration.shadow_options`),
``shadow_timeout_s`` (wall seconds before the run is killed; default none) and
``shadow_settings`` (a whole :class:`~.writer.ShadowSettings`).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import BackendUnavailable, RunOptions
from ..parse import build_result
from ..plan import build_plan
from .writer import CONFIG_FILE, ShadowDirectory, ShadowSettings, write_shadow_dir

if TYPE_CHECKING:
    from ...config.model import Scenario
    from ...layout import NetworkLayout
    from ...registry import Registry
    from ...result.model import Result

__all__ = [
    "SHADOW_LOG",
    "SUCCESS_LINE",
    "ShadowRunError",
    "check_completion",
    "find_shadow",
    "output_files",
    "parse_shadow_data",
    "run",
    "run_shadow",
    "run_with_layout",
    "settings_from_options",
]

SUCCESS_LINE = "** Shadow completed successfully"
SHADOW_LOG = "shadow.log"
SHADOW_REPO = "https://github.com/shadow/shadow"
_OUTPUT = re.compile(r"^(?P<exe>.+)\.(?P<pid>\d+)\.(?P<kind>stdout|stderr)$")
_UNEXPECTED = re.compile(r"process '(?P<name>[^']+)' exited with status (?P<status>.+?); "
                         r"expected end state was (?P<expected>.+?) but was (?P<actual>.+?)\s*$",
                         re.MULTILINE)


class ShadowRunError(RuntimeError):
    """Shadow ran but did not complete successfully; the message says what went wrong."""


# --------------------------------------------------------------------------- binaries


def find_shadow(configured: str | os.PathLike[str] | None = None) -> str | None:
    """The ``shadow`` executable: ``configured`` (a path or a name on PATH), else ``shadow`` on PATH."""
    if configured:
        text = os.fspath(configured)
        if os.sep in text:
            path = Path(text).expanduser()
            return str(path) if path.is_file() and os.access(path, os.X_OK) else None
        return shutil.which(text)
    return shutil.which("shadow")


def settings_from_options(options: RunOptions) -> ShadowSettings:
    base = options.extra.get("shadow_settings")
    settings = base if isinstance(base, ShadowSettings) else ShadowSettings()
    changes: dict[str, Any] = {}
    if options.monerod_bin:
        changes["monerod_bin"] = options.monerod_bin
    if options.wallet_rpc_bin:
        changes["wallet_rpc_bin"] = options.wallet_rpc_bin
    overrides = options.extra.get("shadow")
    if overrides is not None:
        if not isinstance(overrides, Mapping):
            raise ValueError(f"RunOptions.extra['shadow'] must map config sections to settings, "
                             f"not {overrides!r}")
        changes["overrides"] = {**settings.overrides, **overrides}
    return replace(settings, **changes) if changes else settings


def _missing_binaries(settings: ShadowSettings) -> list[str]:
    out = []
    for what, name in (("monerod", settings.monerod_bin), ("monero-wallet-rpc", settings.wallet_rpc_bin)):
        found = Path(name).is_file() if os.sep in name else shutil.which(name) is not None
        if not found:
            out.append(f"{what} ({name})")
    return out


# --------------------------------------------------------------------------- running


def run(scenario: Scenario, registry: Registry, options: RunOptions,
        layout: NetworkLayout | None = None) -> Result:
    """Backend protocol entry point (``layout``: the scenario's expansion, when already built)."""
    return run_with_layout(scenario, registry, options, network_layout=layout)[0]


def run_with_layout(
    scenario: Scenario, registry: Registry, options: RunOptions, *,
    network_layout: NetworkLayout | None = None,
) -> tuple[Result, ShadowDirectory]:
    """:func:`run`, also handing back the written directory (plan, addresses, settings)."""
    settings = settings_from_options(options)
    workdir = Path(options.workdir) if options.workdir is not None else Path(
        tempfile.mkdtemp(prefix="monerosim-shadow-"))
    plan = None if network_layout is None else build_plan(
        scenario, registry, layout=network_layout, options=settings.plan_options)
    layout = write_shadow_dir(scenario, registry, workdir / "shadow", settings, plan=plan)
    for note in layout.notes:
        print(f"monerosim: shadow: {note}", flush=True)
    binary = find_shadow(options.shadow_bin)
    if binary is None:
        asked = f" ({options.shadow_bin} is not an executable)" if options.shadow_bin else ""
        raise BackendUnavailable(
            f"the shadow backend needs the Shadow simulator, which is not installed here{asked}: "
            f"Shadow is built from source ({SHADOW_REPO}); put 'shadow' on PATH or give its path "
            f"(pytest --monerosim-shadow-bin, RunOptions.shadow_bin). The generated config is in "
            f"{layout.directory} (run it there with: shadow {CONFIG_FILE})")
    missing = _missing_binaries(settings)
    if missing:
        raise BackendUnavailable(
            f"the shadow backend runs real Monero binaries, and {' and '.join(missing)} "
            f"cannot be found (Debian/Ubuntu package 'monero'); the generated config is in "
            f"{layout.directory}")
    timeout = options.extra.get("shadow_timeout_s")
    started = time.perf_counter()
    status, log_text = run_shadow(binary, layout,
                                  timeout=float(timeout) if timeout is not None else None)  # type: ignore[arg-type]
    wall = time.perf_counter() - started
    check_completion(status, log_text, layout)
    result = parse_shadow_data(layout, wall_seconds=wall)
    result.extra["shadow"] = {
        "directory": str(layout.directory), "binary": binary, "log": str(layout.directory / SHADOW_LOG),
        "addresses": dict(layout.addresses), "compact_network": layout.compact,
    }
    return result, layout


def run_shadow(binary: str, layout: ShadowDirectory, *, timeout: float | None = None) -> tuple[int, str]:
    """Run ``shadow shadow.yaml`` in the directory; (exit status, the log's text).

    A stale ``shadow.data`` is removed first (Shadow refuses to start over one).
    Shadow and everything it started run in their own process group, which is
    killed if the run times out or this process is interrupted: nothing
    outlives the call.
    """
    shutil.rmtree(layout.data_directory, ignore_errors=True)
    log_path = layout.directory / SHADOW_LOG
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([binary, CONFIG_FILE], cwd=layout.directory, stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
        try:
            status = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise ShadowRunError(
                f"shadow did not finish within {timeout:g} s and was stopped; its log is "
                f"{log_path}") from None
        except BaseException:
            _kill_group(proc)
            raise
    return status, log_path.read_text(errors="replace")


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


def check_completion(status: int, log_text: str, layout: ShadowDirectory) -> None:
    """Raise :class:`ShadowRunError` unless Shadow exited 0 and said it completed successfully."""
    if status == 0 and SUCCESS_LINE in log_text:
        return
    lines = [line for line in log_text.splitlines() if line.strip()]
    problems = []
    for match in _UNEXPECTED.finditer(log_text):
        problems.append(f"process {match['name']} ended {match['actual']} "
                        f"(expected {match['expected']}, status {match['status']})")
    tails = _stderr_tails(layout, limit=3)
    summary = next((line for line in reversed(lines) if line.startswith("**")), None)
    text = f"shadow exited with status {status}"
    if SUCCESS_LINE not in log_text:
        text += f" without '{SUCCESS_LINE}'"
    if summary:
        text += f": {summary.strip('* ').strip()}"
    if problems:
        text += "\n  " + "\n  ".join(problems[:10])
        if len(problems) > 10:
            text += f"\n  ... ({len(problems)} processes in all)"
    for name, tail in tails:
        text += f"\n--- {name} (last lines) ---\n{tail}"
    if not problems and not tails:
        text += "\n--- shadow.log (last lines) ---\n" + "\n".join(lines[-15:])
    text += f"\n(config and data in {layout.directory})"
    raise ShadowRunError(text)


# --------------------------------------------------------------------------- output


def output_files(host_dir: Path) -> list[tuple[str, int, str, Path]]:
    """Shadow's per-process output in a host directory: (exe, pid, stdout|stderr, path).

    The names are ``<exe>.<pid>.stdout`` / ``.stderr``; pids are not
    predictable, so they are found by globbing and sorted by pid (start order).
    """
    out = []
    for path in Path(host_dir).glob("*.std*"):
        match = _OUTPUT.match(path.name)
        if match:
            out.append((match["exe"], int(match["pid"]), match["kind"], path))
    return sorted(out, key=lambda item: (item[1], item[2]))


def _stderr_tails(layout: ShadowDirectory, *, limit: int, lines: int = 8) -> list[tuple[str, str]]:
    """The last lines of non-empty stderr files, the hosts' processes in plan order."""
    found: list[tuple[str, str]] = []
    for host in layout.plan.hosts:
        directory = layout.host_directory(host)
        if not directory.is_dir():
            continue
        for exe, pid, kind, path in output_files(directory):
            if kind != "stderr":
                continue
            text = path.read_text(errors="replace").strip()
            if text:
                tail = "\n".join(text.splitlines()[-lines:])
                found.append((f"{host}/{exe}.{pid}.stderr", tail))
            if len(found) >= limit:
                return found
    return found


def parse_shadow_data(layout: ShadowDirectory, *, wall_seconds: float = 0.0) -> Result:
    """The :class:`Result` of a finished run from ``shadow.data/hosts/<host>/``.

    Uses the real backends' parser; adds, per host, which processes Shadow ran
    (``Result.extra['shadow_processes']``: host → ``exe.pid`` names, in start
    order) and the stdout/stderr files to ``Result.logs``.
    """
    settings = layout.settings
    hosts_dir = layout.data_directory / "hosts"
    host_dirs = {name: hosts_dir / name for name in layout.plan.hosts}
    result = build_result(layout.plan, host_dirs, t0=settings.t0, time_scale=settings.time_scale,
                          backend="shadow", wall_seconds=wall_seconds)
    processes: dict[str, list[str]] = {}
    for name, directory in host_dirs.items():
        if not directory.is_dir():
            continue
        files = output_files(directory)
        processes[name] = [f"{exe}.{pid}" for exe, pid, kind, _ in files if kind == "stdout"]
        for exe, pid, kind, path in files:
            if path.stat().st_size:
                result.logs[f"{name}/{exe}.{pid}.{kind}"] = str(path)
    result.extra["shadow_processes"] = processes
    return result
