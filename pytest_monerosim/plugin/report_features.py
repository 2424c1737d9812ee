"""The reporting features, one small object each, created only when its option is on.

:class:`~.reporting.ReportingPlugin` (the one registered reporting plugin)
calls them in a written-down order, so the terminal, the report header and the
wrapping of a run come out the same whatever order pluggy would pick:

* :class:`Progress` — a live progress line per network (``--monerosim-progress``);
* :class:`LiveApi` — the REST API and dashboard (``--monerosim-serve``);
* :class:`AllureSteps` — runs and checks as Allure steps, labels and attachments
  (when allure-pytest writes results);
* :class:`PlotFiles` — PNG plots next to each network's files (``--monerosim-plots``);
* :class:`BaselineCheck` — metric envelopes compared, and refreshed (``--monerosim-baseline``);
* :class:`JsonReport` — the session's JSON report, sweep CSV and event log (``--monerosim-report``).
"""

from __future__ import annotations

import os
import time
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ..atomic import atomic_write
from .report_settings import ReportOptions, serve_port, xdist_controller
from .rows import report_sweeps
from .state import ITEM_IN_CALL, session_state

if TYPE_CHECKING:
    from ..backends import RunOptions
    from ..observe.api import ApiServer
    from ..observe.observer import LiveSession
    from ..report.baseline import Baseline, Deviation
    from ..runner import NetworkRun

ITEM_DEVIATIONS = pytest.StashKey["dict[int, list[dict[str, Any]]]"]()
ITEM_FILES = pytest.StashKey["dict[int, list[str]]"]()
ITEM_TIMINGS = pytest.StashKey["list[Any]"]()  # allure_support.RunTiming per successful run


class Progress:
    """A progress line per network run, written with output capture suspended."""

    def __init__(self, config: pytest.Config, mode: str) -> None:
        self.config = config
        self.mode = mode

    def line(self, item: pytest.Item) -> Any:
        if self.mode == "off":
            return None
        verbosity = (
            self.config.get_verbosity()
            if hasattr(self.config, "get_verbosity")
            else self.config.getoption("verbose", 0)
        )
        if verbosity < 0 and self.mode != "on":
            return None
        terminal = self.config.pluginmanager.get_plugin("terminalreporter")
        if terminal is None:
            return None
        from ..report.progress import ProgressLine

        line = ProgressLine(_Quiet(terminal, self), item.nodeid.rsplit("/", 1)[-1])
        if self.mode == "on":
            line.delay = 0.0
        return line

    def quietly(self, fn: Any, *args: Any) -> Any:
        capman = self.config.pluginmanager.get_plugin("capturemanager")
        if capman is None:
            return fn(*args)
        with capman.global_and_fixture_disabled():
            return fn(*args)


class _Quiet:
    """The terminal reporter, written to with output capture suspended (progress mid-test)."""

    def __init__(self, terminal: Any, progress: Progress) -> None:
        self._terminal = terminal
        self._progress = progress
        self._tw = getattr(terminal, "_tw", None)

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._terminal, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            return self._progress.quietly(lambda: attr(*args, **kwargs))

        return call

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            object.__setattr__(self, name, value)
        else:
            setattr(self._terminal, name, value)


def chain_progress(options: RunOptions, fn: Any) -> None:
    previous = options.progress

    def progress(sim_time: float, duration: float, events: int) -> None:
        fn(sim_time, duration, events)
        if previous is not None:
            previous(sim_time, duration, events)

    options.progress = progress


class LiveApi:
    """The live REST API and dashboard: on each xdist worker (they run the networks), else here."""

    def __init__(self, config: pytest.Config, base_port: int, worker: str | None,
                 observer: LiveSession) -> None:
        self.config = config
        self.base_port = base_port
        self.worker = worker
        self.server: ApiServer | None = None
        if xdist_controller(config):
            from ..observe.api import TOKEN_ENV, new_token

            os.environ[TOKEN_ENV] = new_token()  # the workers inherit it: one token for every gwN
        if worker is not None or not xdist_controller(config):
            from ..observe.api import ApiServer

            try:
                self.server = ApiServer(observer, serve_port(base_port, worker)).start()
            except OSError as exc:
                raise pytest.UsageError(f"--monerosim-serve: {exc}") from None

    def header(self) -> list[str]:
        if self.server is not None:
            return [f"monerosim: live dashboard and API at {self.server.dashboard_url} (loopback only)"]
        if not xdist_controller(self.config):
            return []
        from ..observe.api import TOKEN_ENV

        base = self.base_port
        token = os.environ.get(TOKEN_ENV, "")
        query = f"?token={token}" if token else ""
        workers = int(getattr(self.config.option, "numprocesses", 0) or 0)
        if base and workers:
            where = ", ".join(
                f"gw{i} http://127.0.0.1:{serve_port(base, f'gw{i}')}/{query}" for i in range(workers)
            )
        elif base:
            where = f"gwN at http://127.0.0.1:{base}+1+N/{query}"
        else:
            where = "each on a free port"
        return [f"monerosim: live API on each xdist worker (they run the networks): {where}"]

    def close(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None


class AllureSteps:
    """Runs and checks as Allure steps; labels, parameters, plots and logs on each test."""

    def run_context(self, item: pytest.Item, scenario: Any, backend: str, options: RunOptions,
                    in_call: bool) -> AbstractContextManager[None]:
        from ..report.allure_support import run_steps

        # a run in fixture set-up gets live steps there (allure shows set-up apart); every
        # run also gets a step in the test itself, with its figures, after the body
        timings = item.stash.setdefault(ITEM_TIMINGS, [])
        live = not in_call and not item.stash.get(ITEM_IN_CALL, False)
        return run_steps(scenario, backend, options, timings, live=live)

    def check_listener(self) -> Any:
        from ..report.allure_support import CheckSteps

        return CheckSteps()

    def attach(self, item: pytest.Item, runs: list[NetworkRun], plots: dict[int, dict[str, bytes]]) -> None:
        from ..report.allure_support import label_and_attach
        from .rows import network_rows

        state = session_state(item.config)
        rows = [r.as_dict() for r in network_rows(item, runs, state.settings.backend_explicit)]
        label_and_attach(item, runs, rows, plots, item.stash.get(ITEM_TIMINGS, []))


class PlotFiles:
    """Each network's plots as PNG files in its working directory."""

    def write(self, item: pytest.Item, plots: dict[int, dict[str, bytes]]) -> dict[int, list[str]]:
        files: dict[int, list[str]] = {}
        base = item.funcargs.get("monerosim_workdir") if hasattr(item, "funcargs") else None
        for i, pngs in plots.items():
            if base is None:
                continue
            where = Path(base) / f"net{i}" if i else Path(base)
            where.mkdir(parents=True, exist_ok=True)
            files[i] = []
            for stem, png in pngs.items():
                path = where / f"{stem}.png"
                atomic_write(path, png)
                files[i].append(str(path))
        return files


class BaselineCheck:
    """Compare each network's metrics with the baseline's envelopes (or refresh them)."""

    def __init__(self, path: Path, update: bool) -> None:
        from ..report.baseline import Baseline, BaselineError

        self.path = path
        self.update = update
        try:
            self.baseline: Baseline = Baseline.load(path, missing_ok=update)
        except BaselineError as exc:
            raise pytest.UsageError(str(exc)) from None

    def enforce(self, item: pytest.Item, runs: list[NetworkRun]) -> None:
        if self.update:
            return
        from ..report.baseline import format_deviations, network_key

        found: dict[int, list[dict[str, Any]]] = {}
        moved: list[Deviation] = []
        for i, run in enumerate(runs):
            devs = self.baseline.compare(network_key(item.nodeid, i), run.summary)
            if devs is None:
                continue
            found[i] = [d.as_dict() for d in devs]
            moved.extend(devs)
        item.stash[ITEM_DEVIATIONS] = found
        if moved:
            table = "\n".join(format_deviations(moved, with_key=len(runs) > 1))
            pytest.fail(
                f"monerosim baseline: {len(moved)} metric(s) moved outside the envelope in "
                f"{self.path}:\n{table}\n(refresh with --monerosim-baseline-update if intended)",
                pytrace=False,
            )

    def row_status(self, item: pytest.Item, network: int) -> dict[str, Any] | None:
        """The row's ``baseline`` part (None while refreshing)."""
        if self.update:
            return None
        devs = item.stash.get(ITEM_DEVIATIONS, {}).get(network)
        return {"status": "new" if devs is None else ("moved" if devs else "ok"), "moved": devs or []}

    def refresh(self, rows: list[dict[str, Any]]) -> None:
        if not self.update:
            return
        from ..report.baseline import network_key

        for row in rows:
            self.baseline.refresh(network_key(row["nodeid"], row.get("network", 0)), row["summary"])
        atomic_write(self.path, self.baseline.dumps())

    def report_part(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "updated": self.update,
            "moved": [d for r in rows for d in (r.get("baseline") or {}).get("moved", [])],
        }

    def summary_before(self, tr: Any, rows: list[dict[str, Any]]) -> None:
        """Moved metrics and networks the baseline does not know."""
        moved = [(r, d) for r in rows for d in (r.get("baseline") or {}).get("moved", [])]
        if moved:
            from ..report.baseline import Deviation, format_deviations

            tr.write_sep("-", f"monerosim baseline: {len(moved)} metric(s) moved", red=True)
            devs = [Deviation(**d) for _, d in moved]
            for line in format_deviations(devs, with_key=True):
                tr.write_line(line)
        new = [r["nodeid"] for r in rows if (r.get("baseline") or {}).get("status") == "new"]
        if new:
            tr.write_line(
                f"monerosim baseline: {len(new)} network(s) not in {self.path} "
                "(add them with --monerosim-baseline-update)"
            )

    def summary_after(self, tr: Any, rows: list[dict[str, Any]]) -> None:
        if self.update:
            tr.write_line(f"monerosim baseline: wrote {len(rows)} network(s) to {self.path}")


class JsonReport:
    """The session's JSON report (and sweep CSV), with every worker's event log merged beside it."""

    def __init__(self, config: pytest.Config, options: ReportOptions, worker: str | None,
                 observer: LiveSession) -> None:
        from ..report.json_report import log_path, now_iso

        assert options.report is not None
        self.config = config
        self.options = options
        self.path = options.report
        self.started_iso = now_iso()
        self.started_clock = time.perf_counter()
        self.log_file = log_path(self.path, worker) if worker else log_path(self.path)
        if self.log_file.exists() and not worker:
            self.log_file.unlink()
        observer.log_to(self.log_file, worker=worker)

    def header(self) -> list[str]:
        return [f"monerosim: report {self.path}"]

    def write(self, rows: list[dict[str, Any]], exitstatus: int, baseline: BaselineCheck | None) -> None:
        from ..report import json_report as jr

        opts = self.options
        settings = dict(vars(session_state(self.config).settings))
        settings["attacks"] = list(settings.get("attacks") or ())
        described = {
            "settings": settings,
            "report": str(self.path),
            "baseline": str(opts.baseline) if opts.baseline else None,
            "baseline_update": opts.baseline_update,
            "plots": opts.plots,
        }
        workers = (
            int(getattr(self.config.option, "numprocesses", 0) or 0) if xdist_controller(self.config) else 0
        )
        session = jr.session_info(
            described,
            self.started_iso,
            jr.now_iso(),
            time.perf_counter() - self.started_clock,
            exitstatus=exitstatus,
            workers=workers,
            rootdir=str(self.config.rootpath),
        )
        base = baseline.report_part(rows) if baseline is not None else None
        report = jr.build_report(rows, session=session, sweeps=report_sweeps(rows), baseline=base)
        jr.write_report(self.path, report)
        if report["sweeps"]:
            atomic_write(jr.sweep_csv_path(self.path), jr.sweep_csv(report["sweeps"]))
        self._merge_worker_logs()

    def _merge_worker_logs(self) -> None:
        """Append the workers' JSON-lines logs to the session's (one file next to the report)."""
        from ..report.json_report import log_path

        target = log_path(self.path)
        parts = sorted(target.parent.glob(target.name.replace(".log.jsonl", ".log.gw*.jsonl")))
        if not parts:
            return
        with target.open("a", encoding="utf-8") as out:
            for part in parts:
                out.write(part.read_text(encoding="utf-8"))
                part.unlink()

    def summary(self, tr: Any) -> None:
        tr.write_line(f"monerosim report: {self.path}")


__all__ = [
    "AllureSteps",
    "BaselineCheck",
    "ITEM_DEVIATIONS",
    "ITEM_FILES",
    "ITEM_TIMINGS",
    "JsonReport",
    "LiveApi",
    "PlotFiles",
    "Progress",
    "chain_progress",
]
