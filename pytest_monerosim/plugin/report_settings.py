"""The reporting features' one settings object, read once from the options and ini keys."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from .options import option_flag, option_value


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




def xdist_controller(config: pytest.Config) -> bool:
    """True in the xdist controller of a distributed run (its workers run the tests)."""
    if hasattr(config, "workerinput"):
        return False
    return bool(getattr(config.option, "numprocesses", None)) and getattr(config.option, "dist", "no") != "no"


__all__ = ["ReportOptions", "read_report_options", "serve_port", "worker_id", "xdist_controller"]
