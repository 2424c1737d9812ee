"""The one reporting plugin of pytest-monerosim: rows, JUnit properties, the terminal summary.

Registered by :func:`pytest_monerosim.plugin.entry.pytest_configure` as
``monerosim-reporting``, with one settings object (:class:`~.report_settings.ReportOptions`).
It owns the hooks; each optional feature (:mod:`.report_features`: progress,
live API, Allure, plot files, baseline, JSON report) is a small object created
only when its option is on, and called from here in a fixed order.

Each network's row (:class:`~pytest_monerosim.report.row.NetworkRow`) is built
once, complete, in the one ``pytest_runtest_makereport`` wrapper, and travels
on the test report as JSON, so every feature works the same under
pytest-xdist: workers run networks, compare baselines and attach to Allure;
the controller gathers rows, writes the report and the baseline, and prints
the one terminal summary.
"""

from __future__ import annotations

import time
from collections.abc import Generator, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .report_features import (
    ITEM_FILES,
    AllureSteps,
    BaselineCheck,
    JsonReport,
    LiveApi,
    PlotFiles,
    Progress,
    chain_progress,
)
from .report_settings import ReportOptions, read_report_options, worker_id
from .rows import (
    carries_networks,
    format_table,
    junit_properties,
    network_line,
    network_rows,
    sweep_tables,
)
from .state import ITEM_RUNS, session_state

if TYPE_CHECKING:
    from ..backends import RunOptions
    from ..observe.api import ApiServer
    from ..observe.observer import LiveSession
    from ..runner import NetworkRun


class ReportingPlugin:
    def __init__(self, config: pytest.Config, options: ReportOptions) -> None:
        self.config = config
        self.options = options
        self.worker = worker_id(config)
        self.collected: list[str] = []
        self._in_call: pytest.Item | None = None
        self.observer: LiveSession | None = None
        self.progress: Progress | None = None
        self.live: LiveApi | None = None
        self.allure: AllureSteps | None = None
        self.plots: PlotFiles | None = None
        self.baseline: BaselineCheck | None = None
        self.report: JsonReport | None = None

    @property
    def server(self) -> ApiServer | None:
        """The live API server of this process (``--monerosim-serve``), if it serves one."""
        return self.live.server if self.live is not None else None

    # -- session ---------------------------------------------------------------------
    def setup(self, config: pytest.Config) -> None:
        """Create the features whose options are on (bad input: one ``UsageError``)."""
        opts = self.options
        if config.pluginmanager.hasplugin("allure_pytest") and getattr(
            config.option, "allure_report_dir", None
        ):
            self.allure = AllureSteps()
        if opts.baseline is not None:
            self.baseline = BaselineCheck(opts.baseline, opts.baseline_update)
        if opts.plots:
            self.plots = PlotFiles()
        if opts.progress != "off" and self.worker is None:
            self.progress = Progress(config, opts.progress)
        from ..observe.observer import LiveSession

        # always observed: each run's events.jsonl lands in its output folder (monerosim serve --replay)
        self.observer = LiveSession(watch=opts.serve_port is not None)
        if opts.report is not None:
            self.report = JsonReport(config, opts, self.worker, self.observer)
        if opts.serve_port is not None:
            self.live = LiveApi(config, opts.serve_port, self.worker, self.observer)

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        if self.live is not None:
            self.live.close()
        if self.observer is not None:
            self.observer.close()

    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        lines = self.live.header() if self.live is not None else []
        if self.report is not None:
            lines += self.report.header()
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
            line = self.progress.line(item) if self.progress is not None else None
            if line is not None:
                assert self.progress is not None
                chain_progress(options, line)
                stack.callback(self.progress.quietly, line.close)
            if self.observer is not None:
                stack.enter_context(
                    self.observer.run(scenario=scenario, backend=backend, options=options, test=item.nodeid)
                )
            if self.allure is not None:
                stack.enter_context(
                    self.allure.run_context(item, scenario, backend, options, in_call=self._in_call is item)
                )
            yield

    def pytest_monerosim_network_done(self, item: pytest.Item, run: NetworkRun) -> None:
        if self.observer is not None:
            self.observer.run_done(run.result, run.summary)

    # -- the test body: checks as steps/events, then plots, Allure, baseline -------------
    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, None, None]:
        from ..checks.observed import listening

        with ExitStack() as stack:
            if self.allure is not None:
                stack.enter_context(listening(self.allure.check_listener()))
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
            if outcome_error is None and self.baseline is not None:
                self.baseline.enforce(item, runs)
        if outcome_error is not None:
            raise outcome_error
        return None

    def _after_networks(self, item: pytest.Item, runs: list[NetworkRun]) -> None:
        plots: dict[int, dict[str, bytes]] = {}
        files: dict[int, list[str]] = {}
        if self.allure is not None or self.plots is not None:
            from ..report import plots as plotting

            if plotting.available():
                for i, run in enumerate(runs):
                    plots[i] = plotting.all_plots(run.result)
            if self.plots is not None:
                files = self.plots.write(item, plots)
        item.stash[ITEM_FILES] = files
        if self.allure is not None:
            self.allure.attach(item, runs, plots)

    # -- the report of each test: the rows that travel to the controller, JUnit, replay ---
    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, Any, Any]:
        """The one place a test's network rows are built: complete, then sent as JSON."""
        report = yield
        runs = item.stash.get(ITEM_RUNS, None)
        if not runs or not carries_networks(report):
            return report
        rows = network_rows(item, runs, session_state(item.config).settings.backend_explicit)
        files = item.stash.get(ITEM_FILES, {})
        workdir = item.funcargs.get("monerosim_workdir") if hasattr(item, "funcargs") else None
        for row in rows:
            i = row.network
            row.outcome = report.outcome
            row.duration_s = round(report.duration, 3)
            row.worker = self.worker
            if workdir is not None:
                row.workdir = str(Path(workdir) / f"net{i}" if i else workdir)
            row.files = files.get(i) or None
            if self.baseline is not None:
                row.baseline = self.baseline.row_status(item, i)
        report.monerosim = [row.as_dict() for row in rows]
        report.user_properties.extend(junit_properties(report.monerosim))
        if report.failed:
            lines = [f"seed {row.seed} on {row.backend}: replay with\n    {row.replay}" for row in rows]
            report.sections.append(("monerosim replay", "\n".join(lines)))
        # junitxml writes the properties of the *teardown* report, which pytest builds from
        # item.user_properties: copy the call report's there so --junitxml shows them.
        item.user_properties.extend(p for p in report.user_properties if p not in item.user_properties)
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Gather rows from test reports (local, or sent by xdist workers)."""
        rows = getattr(report, "monerosim", None)
        if rows and carries_networks(report):
            session_state(self.config).network_rows.extend(rows)

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
            self._finish(int(exitstatus))

    def _finish(self, exitstatus: int) -> None:
        if self.observer is not None:
            self.observer.close()
        if self.worker is not None:
            return
        rows = self._rows()
        if self.baseline is not None:
            self.baseline.refresh(rows)
        if self.report is not None:
            self.report.write(rows, exitstatus, self.baseline)

    def pytest_terminal_summary(self, terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
        if self.worker is not None:
            return
        tr = terminalreporter
        rows = self._rows()
        if self.baseline is not None:
            self.baseline.summary_before(tr, rows)
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
        if self.baseline is not None:
            self.baseline.summary_after(tr, rows)
        if self.report is not None:
            self.report.summary(tr)
        self._network_lines(tr, config)

    def _network_lines(self, tr: Any, config: pytest.Config) -> None:
        """Each network's line (in arrival order) and each sweep's table."""
        rows = session_state(config).network_rows
        if not rows:
            return
        tr.write_sep("=", f"monerosim: {len(rows)} network(s)")
        verbose = config.getoption("verbose", 0)
        shown = rows if verbose > 0 or len(rows) <= 20 else rows[:20]
        for row in shown:
            tr.write_line(network_line(row))
        if len(shown) < len(rows):
            tr.write_line(f"... {len(rows) - len(shown)} more (use -v to list all)")
        for func, cells in sweep_tables(rows).items():
            if len(cells) < 2:
                continue
            tr.write_sep("-", f"sweep {func}")
            for line in format_table(cells):
                tr.write_line(line)


class _CheckEvents:
    """Check listener that publishes a ``check`` event per check on the observer's bus."""

    def __init__(self, observer: LiveSession) -> None:
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


def register(config: pytest.Config) -> None:
    """Called from the plugin's ``pytest_configure``: read the settings once, register the hooks."""
    plugin = ReportingPlugin(config, read_report_options(config))
    plugin.setup(config)
    config.pluginmanager.register(plugin, "monerosim-reporting")
