"""Interrupted networks on xdist workers still reach the controller's report.

A network that is interrupted (Ctrl-C, SIGTERM) gets no test report: pytest
stops before the call phase reports. Outside xdist its rows go straight into
the session (:func:`pytest_monerosim.plugin.session.record_unreported`). On
an xdist worker that is not enough: the controller stops listening to its
workers as soon as it is interrupted, so nothing the worker says afterwards
arrives over execnet. Instead the controller hands every worker a spool
directory (``workerinput``); a worker writes the rows of each interrupted
network there, atomically, one file per network; after the workers are torn
down (xdist's own ``pytest_sessionfinish``) the controller reads the spool into
the session's rows, before the report and the terminal summary are written.

Remote workers (``--tx ssh=...``) do not share the controller's filesystem:
their interrupted networks are listed in the worker's own output folder only.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

import pytest

from ..atomic import atomic_write
from .state import session_state

SPOOL_KEY = "monerosim_spool"


def spool_rows(config: pytest.Config, rows: list[dict[str, Any]]) -> bool:
    """On an xdist worker: leave ``rows`` for the controller. False if there is no spool."""
    info = getattr(config, "workerinput", None) or {}
    folder = info.get(SPOOL_KEY)
    if not folder:
        return False
    name = f"{info.get('workerid', 'gw')}-{uuid.uuid4().hex}.json"
    try:
        atomic_write(Path(folder) / name, json.dumps(rows, default=str))
    except OSError:  # a remote worker: the controller's folder is not here
        return False
    return True


class InterruptedRowSpool:
    """The controller's side: hands out the spool folder, reads it back at the end."""

    def __init__(self) -> None:
        self.folder: Path | None = None

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        if self.folder is None:
            self.folder = Path(tempfile.mkdtemp(prefix="monerosim-spool-"))
        node.workerinput[SPOOL_KEY] = str(self.folder)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        # trylast: after xdist's own sessionfinish has torn the workers down, so every
        # interrupted worker has written its rows; before the report and terminal summary
        # (both run in hook wrappers, after every plain implementation).
        if self.folder is None:
            return
        rows = session_state(session.config).network_rows
        for path in sorted(self.folder.glob("*.json")):
            with contextlib.suppress(OSError, ValueError):
                rows.extend(json.loads(path.read_text()))
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder = None
