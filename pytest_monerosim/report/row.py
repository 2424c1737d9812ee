"""One network's row in the session's reports: what ran, how it ended, where its files are.

The plugin builds a :class:`NetworkRow` once per network, complete, when the
test's report is made; it travels on that report as :meth:`NetworkRow.as_dict`
(plain JSON, so pytest-xdist can send it to the controller), and that dict is
what the terminal summary, the JSON report and the baseline read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class NetworkRow:
    nodeid: str
    scenario: str
    backend: str
    seed: int
    params: dict[str, Any]
    """The sweep point (and ``behaviour``) of a parametrized test."""
    attack: dict[str, Any] | None
    """``{"name", "params"}`` of the test's ``monerosim_attack`` case."""
    status: str
    """finished, interrupted or failed (the run's own state)."""
    error: str | None
    summary: dict[str, Any]
    replay: str
    """The command that replays this network."""
    network: int = 0
    """Index of the network within its test."""
    outcome: str | None = None
    """The test's outcome (passed, failed, skipped), or interrupted."""
    duration_s: float | None = None
    worker: str | None = None
    """The xdist worker that ran it (None outside xdist)."""
    workdir: str | None = None
    files: list[str] | None = None
    """Plots written for it (``--monerosim-plots``)."""
    baseline: dict[str, Any] | None = None
    """``{"status": new|moved|ok, "moved": [...]}`` when a baseline is compared."""

    def as_dict(self) -> dict[str, Any]:
        """The JSON form (optional parts only when present)."""
        out: dict[str, Any] = {
            "nodeid": self.nodeid,
            "scenario": self.scenario,
            "backend": self.backend,
            "seed": self.seed,
            "params": self.params,
            "attack": self.attack,
            "status": self.status,
            "error": self.error,
            "summary": self.summary,
            "replay": self.replay,
            "network": self.network,
            "outcome": self.outcome,
            "duration_s": self.duration_s,
            "worker": self.worker,
        }
        if self.workdir is not None:
            out["workdir"] = self.workdir
        if self.files:
            out["files"] = self.files
        if self.baseline is not None:
            out["baseline"] = self.baseline
        return out


__all__ = ["NetworkRow"]
