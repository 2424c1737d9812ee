"""Reporting hooks of pytest-monerosim: JSON report, baseline, Allure, plots, progress, live API.

Registered by :func:`pytest_monerosim.plugin.plugin.pytest_configure` as
``monerosim-reporting``. Each feature is off unless its option is given
(Allure: unless allure-pytest writes results), and its module is imported only
then. Data a feature needs at the end of the session travels on the test
reports (``report.monerosim`` rows, extended here), so every feature works the
same under pytest-xdist: workers run networks, compare baselines and attach
to Allure; the controller gathers rows, writes the report and the baseline,
and prints the summary.
"""

from __future__ import annotations

import time
from collections.abc import Generator, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ..atomic import atomic_write
from .options import option_flag, option_value
from .reporting import JUNIT_METRICS, dig, scalar_metrics, sweep_tables
from .state import ITEM_IN_CALL, ITEM_RUNS, session_state

if TYPE_CHECKING:
    from ..backends import RunOptions
    from ..observe.api import ApiServer
    from ..observe.observer import Observer
    from ..report.baseline import Baseline, Deviation
    from ..runner import NetworkRun

ITEM_DEVIATIONS = pytest.StashKey["dict[int, list[dict[str, Any]]]"]()
ITEM_FILES = pytest.StashKey["dict[int, list[str]]"]()
ITEM_TIMINGS = pytest.StashKey["list[Any]"]()  # allure_support.RunTiming per successful run


@dataclass(frozen=True)
class ReportOptions:
    report: Path | None = None
    baseline: Path | None = None
    baseline_update: bool = False
    serve_port: int | None = None
    plots: bool = False
    progress: str = "auto"


def read_report_options(config: pytest.Config) -> ReportOptions:
    """Options and ini keys of the reporting features; a bad value is one ``UsageError``."""
    report = option_value(config, "monerosim_report")
    if report and Path(report).is_dir():
        raise pytest.UsageError(
            f"--monerosim-report={report!r} is a directory; accepted: a file path such as "
            f"{Path(report) / 'report.json'}"
        )
    baseline = option_value(config, "monerosim_baseline")
    update = option_flag(config, "monerosim_baseline_update")
    if update and not baseline:
        raise pytest.UsageError(
            "--monerosim-baseline-update needs --monerosim-baseline=PATH (the file to write)"
        )
    serve = option_value(config, "monerosim_serve")
    port = None
    if serve is not None:
        try:
            port = int(serve)
            if not 0 <= port <= 65535:
                raise ValueError
        except ValueError:
            raise pytest.UsageError(
                f"--monerosim-serve={serve!r} is not a port; accepted: --monerosim-serve or "
                "--monerosim-serve=PORT (0..65535, 0 = any free port)"
            ) from None
    progress = str(option_value(config, "monerosim_progress") or "auto")
    if progress not in ("auto", "on", "off"):
        raise pytest.UsageError(f"--monerosim-progress={progress!r}; accepted: auto, on, off")
    return ReportOptions(
        report=Path(report) if report else None,
        baseline=Path(baseline) if baseline else None,
        baseline_update=update,
        serve_port=port,
        plots=option_flag(config, "monerosim_plots"),
        progress=progress,
    )


def serve_port(base: int, worker: str | None) -> int:
    """The port the live API of ``worker`` (``gwN``, or None outside xdist) serves on.

    Under pytest-xdist each worker runs networks and serves its own API: worker
    ``gwN`` on ``base + 1 + N``; ``base`` 0 means any free port everywhere.
    """
    if not base or worker is None:
        return base
    return base + 1 + int("".join(c for c in worker if c.isdigit()) or 0)


def worker_id(config: pytest.Config) -> str | None:
    workerinput = getattr(config, "workerinput", None)
    return None if workerinput is None else str(workerinput.get("workerid"))


class ReportingPlugin:
    def __init__(self, config: pytest.Config, options: ReportOptions) -> None:
        self.config = config
        self.options = options
        self.worker = worker_id(config)
        self.allure = False
        self.baseline: Baseline | None = None
        self.observer: Observer | None = None
        self.server: ApiServer | None = None
        self.collected: list[str] = []
        self.started_wall = time.time()
        self.started_clock = time.perf_counter()
        self.started_iso = ""
        self.log_file: Path | None = None
        self._in_call: pytest.Item | None = None

    # -- session ---------------------------------------------------------------------
    def setup(self, config: pytest.Config) -> None:
        from ..report.json_report import log_path, now_iso

        self.started_iso = now_iso()
        if config.pluginmanager.hasplugin("allure_pytest") and getattr(
            config.option, "allure_report_dir", None
        ):
            self.allure = True
        opts = self.options
        if opts.baseline is not None:
            from ..report.baseline import Baseline, BaselineError

            try:
                self.baseline = Baseline.load(opts.baseline, missing_ok=opts.baseline_update)
            except BaselineError as exc:
                raise pytest.UsageError(str(exc)) from None
        live = opts.serve_port is not None
        from ..observe.observer import Observer

        # always observed: each run's events.jsonl lands in its output folder (monerosim serve --replay)
        self.observer = Observer(watch=live)
        if opts.report is not None:
            self.log_file = log_path(opts.report, self.worker) if self.worker else log_path(opts.report)
            if self.log_file.exists() and not self.worker:
                self.log_file.unlink()
            self.observer.log_to(self.log_file, worker=self.worker)
        if live and _xdist_controller(config):
            import os

            from ..observe.api import TOKEN_ENV, new_token

            os.environ[TOKEN_ENV] = new_token()  # the workers inherit it: one token for every gwN
        if live and (self.worker is not None or not _xdist_controller(config)):
            self._start_server()

    def _start_server(self) -> None:
        from ..observe.api import ApiServer

        assert self.observer is not None and self.options.serve_port is not None
        port = serve_port(self.options.serve_port, self.worker)
        try:
            self.server = ApiServer(self.observer, port).start()
        except OSError as exc:
            raise pytest.UsageError(f"--monerosim-serve: {exc}") from None

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None
        if self.observer is not None:
            self.observer.close()

    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        lines = []
        if self.server is not None:
            lines.append(f"monerosim: live dashboard and API at {self.server.dashboard_url} (loopback only)")
        elif self.options.serve_port is not None and _xdist_controller(config):
            base = self.options.serve_port
            import os

            from ..observe.api import TOKEN_ENV

            token = os.environ.get(TOKEN_ENV, "")
            query = f"?token={token}" if token else ""
            workers = int(getattr(config.option, "numprocesses", 0) or 0)
            if base and workers:
                where = ", ".join(
                    f"gw{i} http://127.0.0.1:{serve_port(base, f'gw{i}')}/{query}" for i in range(workers)
                )
            elif base:
                where = f"gwN at http://127.0.0.1:{base}+1+N/{query}"
            else:
                where = "each on a free port"
            lines.append(f"monerosim: live API on each xdist worker (they run the networks): {where}")
        if self.options.report is not None:
            lines.append(f"monerosim: report {self.options.report}")
        return lines

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.collected = [item.nodeid for item in session.items]

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        if not self.collected:
            self.collected = list(ids)

    # -- one network run (hook called by the monerosim_run fixture) ----------------------
    def pytest_monerosim_run_context(
        self, item: pytest.Item, scenario: Any, backend: str, options: RunOptions
    ) -> Any:
        return self._run_context(item, scenario, backend, options)

    @contextmanager
    def _run_context(
        self, item: pytest.Item, scenario: Any, backend: str, options: RunOptions
    ) -> Iterator[None]:
        with ExitStack() as stack:
            line = self._progress_line(item)
            if line is not None:
                _chain_progress(options, line)
                stack.callback(self._quietly, line.close)
            if self.observer is not None:
                stack.enter_context(
                    self.observer.run(scenario=scenario, backend=backend, options=options, test=item.nodeid)
                )
            if self.allure:
                from ..report.allure_support import run_steps

                # a run in fixture set-up gets live steps there (allure shows set-up apart); every
                # run also gets a step in the test itself, with its figures, after the body
                timings = item.stash.setdefault(ITEM_TIMINGS, [])
                live = self._in_call is not item and not item.stash.get(ITEM_IN_CALL, False)
                stack.enter_context(run_steps(scenario, backend, options, timings, live=live))
            yield

    def pytest_monerosim_network_done(self, item: pytest.Item, run: NetworkRun) -> None:
        if self.observer is not None:
            self.observer.run_done(run.result, run.summary)

    def _progress_line(self, item: pytest.Item) -> Any:
        mode = self.options.progress
        if mode == "off" or self.worker is not None:
            return None
        verbosity = (
            self.config.get_verbosity()
            if hasattr(self.config, "get_verbosity")
            else self.config.getoption("verbose", 0)
        )
        if verbosity < 0 and mode != "on":
            return None
        terminal = self.config.pluginmanager.get_plugin("terminalreporter")
        if terminal is None:
            return None
        from ..report.progress import ProgressLine

        line = ProgressLine(_Quiet(terminal, self), item.nodeid.rsplit("/", 1)[-1])
        if mode == "on":
            line.delay = 0.0
        return line

    def _quietly(self, fn: Any, *args: Any) -> Any:
        capman = self.config.pluginmanager.get_plugin("capturemanager")
        if capman is None:
            return fn(*args)
        with capman.global_and_fixture_disabled():
            return fn(*args)

    # -- the test body: checks as steps/events, then plots, Allure, baseline -------------
    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, None, None]:
        from ..checks.observed import listening

        with ExitStack() as stack:
            if self.allure:
                from ..report.allure_support import CheckSteps

                stack.enter_context(listening(CheckSteps()))
            if self.observer is not None:
                stack.enter_context(listening(_CheckEvents(self.observer)))
            outcome_error: BaseException | None = None
            self._in_call = item
            try:
                yield
            except BaseException as exc:
                outcome_error = exc
            finally:
                self._in_call = None
        runs = item.stash.get(ITEM_RUNS, None)
        if runs:
            self._after_networks(item, runs)
            if outcome_error is None:
                self._enforce_baseline(item, runs)
        if outcome_error is not None:
            raise outcome_error
        return None

    def _after_networks(self, item: pytest.Item, runs: list[NetworkRun]) -> None:
        plots: dict[int, dict[str, bytes]] = {}
        files: dict[int, list[str]] = {}
        if self.allure or self.options.plots:
            from ..report import plots as plotting

            if plotting.available():
                for i, run in enumerate(runs):
                    plots[i] = plotting.all_plots(run.result)
            if self.options.plots:
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
        item.stash[ITEM_FILES] = files
        if self.allure:
            from ..report.allure_support import label_and_attach
            from .reporting import rows_for

            state = session_state(item.config)
            rows = rows_for(item, runs, state.settings.backend_explicit)
            label_and_attach(item, runs, rows, plots, item.stash.get(ITEM_TIMINGS, []))

    def _enforce_baseline(self, item: pytest.Item, runs: list[NetworkRun]) -> None:
        if self.baseline is None or self.options.baseline_update:
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
                f"{self.options.baseline}:\n{table}\n(refresh with --monerosim-baseline-update if intended)",
                pytrace=False,
            )

    # -- the report of each test: extend the rows that travel to the controller ---------
    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, Any, Any]:
        report = yield
        rows = getattr(report, "monerosim", None)
        if not rows or not (report.when == "call" or (report.when == "setup" and report.failed)):
            return report
        deviations = item.stash.get(ITEM_DEVIATIONS, {})
        files = item.stash.get(ITEM_FILES, {})
        workdir = item.funcargs.get("monerosim_workdir") if hasattr(item, "funcargs") else None
        for i, row in enumerate(rows):
            row["network"] = i
            row["outcome"] = report.outcome
            row["duration_s"] = round(report.duration, 3)
            row["worker"] = self.worker
            if workdir is not None:
                row["workdir"] = str(Path(workdir) / f"net{i}" if i else workdir)
            if files.get(i):
                row["files"] = files[i]
            if self.baseline is not None and not self.options.baseline_update:
                devs = deviations.get(i)
                row["baseline"] = {
                    "status": "new" if devs is None else ("moved" if devs else "ok"),
                    "moved": devs or [],
                }
        extra = extra_junit_properties(rows)
        report.user_properties.extend(extra)
        # junitxml writes the properties of the *teardown* report, which pytest builds from
        # item.user_properties: copy the call report's there so --junitxml shows them.
        item.user_properties.extend(p for p in report.user_properties if p not in item.user_properties)
        return report

    # -- the end: report file, baseline file, terminal summary ---------------------------
    def _rows(self) -> list[dict[str, Any]]:
        from ..report.json_report import order_rows

        return order_rows(session_state(self.config).network_rows, self.collected)

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> Generator[None, None, None]:
        # Written after every other plugin's sessionfinish (fixture teardown included), and
        # written even when one of them raises: an interrupted session still leaves its report.
        try:
            return (yield)
        finally:
            self._finish(session, int(exitstatus))

    def _finish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.observer is not None:
            self.observer.close()
        if self.worker is not None:
            return
        rows = self._rows()
        if self.options.baseline_update and self.baseline is not None and self.options.baseline is not None:
            from ..report.baseline import network_key
            from ..report.json_report import atomic_write

            for row in rows:
                self.baseline.refresh(network_key(row["nodeid"], row.get("network", 0)), row["summary"])
            atomic_write(self.options.baseline, self.baseline.dumps())
        if self.options.report is not None:
            self._write_report(rows, int(exitstatus))

    def _write_report(self, rows: list[dict[str, Any]], exitstatus: int) -> None:
        from ..report import json_report as jr

        assert self.options.report is not None
        state = session_state(self.config)
        settings = dict(vars(state.settings))
        settings["attacks"] = list(settings.get("attacks") or ())
        opts = {
            "settings": settings,
            "report": str(self.options.report),
            "baseline": str(self.options.baseline) if self.options.baseline else None,
            "baseline_update": self.options.baseline_update,
            "plots": self.options.plots,
        }
        workers = (
            int(getattr(self.config.option, "numprocesses", 0) or 0) if _xdist_controller(self.config) else 0
        )
        session = jr.session_info(
            opts,
            self.started_iso,
            jr.now_iso(),
            time.perf_counter() - self.started_clock,
            exitstatus=exitstatus,
            workers=workers,
            rootdir=str(self.config.rootpath),
        )
        baseline = None
        if self.baseline is not None:
            baseline = {
                "path": str(self.options.baseline),
                "updated": self.options.baseline_update,
                "moved": [d for r in rows for d in (r.get("baseline") or {}).get("moved", [])],
            }
        report = jr.build_report(rows, session=session, sweeps=report_sweeps(rows), baseline=baseline)
        jr.write_report(self.options.report, report)
        if report["sweeps"]:
            jr.atomic_write(jr.sweep_csv_path(self.options.report), jr.sweep_csv(report["sweeps"]))
        self._merge_worker_logs()

    def _merge_worker_logs(self) -> None:
        """Append the workers' JSON-lines logs to the session's (one file next to the report)."""
        from ..report.json_report import log_path

        assert self.options.report is not None
        target = log_path(self.options.report)
        parts = sorted(target.parent.glob(target.name.replace(".log.jsonl", ".log.gw*.jsonl")))
        if not parts:
            return
        with target.open("a", encoding="utf-8") as out:
            for part in parts:
                out.write(part.read_text(encoding="utf-8"))
                part.unlink()

    def pytest_terminal_summary(self, terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
        if self.worker is not None:
            return
        tr = terminalreporter
        rows = self._rows()
        moved = [(r, d) for r in rows for d in (r.get("baseline") or {}).get("moved", [])]
        if moved:
            from ..report.baseline import Deviation, format_deviations

            tr.write_sep("-", f"monerosim baseline: {len(moved)} metric(s) moved", red=True)
            devs = [Deviation(**d) for _, d in moved]
            for line in format_deviations(devs, with_key=True):
                tr.write_line(line)
        new = [r["nodeid"] for r in rows if (r.get("baseline") or {}).get("status") == "new"]
        if new and self.baseline is not None:
            tr.write_line(
                f"monerosim baseline: {len(new)} network(s) not in {self.options.baseline} "
                "(add them with --monerosim-baseline-update)"
            )
        if rows and config.get_verbosity() >= 0:
            sim = sum(float(r["summary"].get("sim_seconds") or 0) for r in rows)
            events = sum(int(r["summary"].get("events") or 0) for r in rows)
            wall = sum(float(r["summary"].get("wall_seconds") or 0) for r in rows)
            workers = len({r.get("worker") for r in rows if r.get("worker")})
            speed = f", {events / wall:,.0f} events/s" if wall > 0 else ""
            on = f" on {workers} workers" if workers > 1 else ""
            tr.write_line(
                f"monerosim: {len(rows)} network(s){on}: {sim / 3600:.1f}h simulated, "
                f"{events:,} events in {wall:.1f}s of simulation{speed}"
            )
        if self.options.baseline_update and self.options.baseline is not None:
            tr.write_line(f"monerosim baseline: wrote {len(rows)} network(s) to {self.options.baseline}")
        if self.options.report is not None:
            tr.write_line(f"monerosim report: {self.options.report}")


def report_sweeps(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The terminal's sweep tables plus each point's outcome and key metrics (for the report and CSV)."""
    tables = sweep_tables(rows)
    seen: dict[str, int] = {}
    for row in rows:
        if not row["params"] and not row["attack"]:
            continue
        func = row["nodeid"].split("[", 1)[0]
        index = seen.get(func, 0)
        seen[func] = index + 1
        cells = tables[func][index]
        cells["outcome"] = row.get("outcome")
        for path, name in JUNIT_METRICS:
            value = dig(row["summary"], path)
            if value is not None:
                cells.setdefault(name, value)
    return tables


def extra_junit_properties(rows: list[dict[str, Any]]) -> list[tuple[str, object]]:
    """Properties beyond the key metrics: attack scalars, propagation p50, baseline status."""
    props: list[tuple[str, object]] = []
    shown = {name for _, name in JUNIT_METRICS}
    for i, row in enumerate(rows):
        prefix = "monerosim" if len(rows) == 1 else f"monerosim{i}"
        if "propagation_p50_s" not in shown:
            value = dig(row["summary"], "propagation.p50_s")
            if value is not None:
                props.append((f"{prefix}_propagation_p50_s", value))
        for key, value in scalar_metrics(row["summary"]).items():
            props.append((f"{prefix}_attack.{key}", value))
        if row.get("baseline"):
            props.append((f"{prefix}_baseline", row["baseline"]["status"]))
    return props


class _CheckEvents:
    """Check listener that publishes a ``check`` event per check on the observer's bus."""

    def __init__(self, observer: Observer) -> None:
        self.observer = observer

    def check_started(self, name: str, args: dict[str, str]) -> Any:
        return time.perf_counter()

    def check_finished(self, token: Any, name: str, error: BaseException | None) -> None:
        from ..observe.bus import CHECK

        run = self.observer.finished[-1] if self.observer.finished else {}
        self.observer.bus.publish(
            CHECK,
            time=run.get("sim_time"),
            name=name,
            passed=error is None,
            message=None if error is None else str(error)[:500],
            test=run.get("test"),
            wall_s=round(time.perf_counter() - token, 6),
        )


class _Quiet:
    """The terminal reporter, written to with output capture suspended (progress mid-test)."""

    def __init__(self, terminal: Any, plugin: ReportingPlugin) -> None:
        self._terminal = terminal
        self._plugin = plugin
        self._tw = getattr(terminal, "_tw", None)

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._terminal, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            return self._plugin._quietly(lambda: attr(*args, **kwargs))

        return call

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            object.__setattr__(self, name, value)
        else:
            setattr(self._terminal, name, value)


def _chain_progress(options: RunOptions, fn: Any) -> None:
    previous = options.progress

    def progress(sim_time: float, duration: float, events: int) -> None:
        fn(sim_time, duration, events)
        if previous is not None:
            previous(sim_time, duration, events)

    options.progress = progress


def _xdist_controller(config: pytest.Config) -> bool:
    """True in the xdist controller of a distributed run (its workers run the tests)."""
    if hasattr(config, "workerinput"):
        return False
    return bool(getattr(config.option, "numprocesses", None)) and getattr(config.option, "dist", "no") != "no"


def register(config: pytest.Config) -> None:
    """Called from the plugin's ``pytest_configure``: read the options, register the hooks."""
    plugin = ReportingPlugin(config, read_report_options(config))
    plugin.setup(config)
    config.pluginmanager.register(plugin, "monerosim-reporting")
