"""Imported first by every benchmark: this checkout's ``pytest_monerosim`` before an installed one.

A benchmark run as ``python benchmarks/bench_x.py`` has ``benchmarks/`` on its path, not the
checkout; without this it would measure whatever ``pytest_monerosim`` is installed (another
worktree's, or a release), and record the figure under this checkout's commit.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parent.parent)
if sys.path[:1] != [ROOT]:
    sys.path.insert(0, ROOT)
