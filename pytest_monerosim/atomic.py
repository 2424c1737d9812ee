"""Atomic file writes: a reader (or an interrupted run) never sees half a file.

The one helper every layer uses for the files a run leaves behind (scenario,
plan, manifests, summaries, reports): write a temporary file in the target's
directory, then rename it over the target. A failure removes the temporary
file and re-raises, so nothing is left behind.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

__all__ = ["atomic_write"]

_UMASK = os.umask(0o022)
os.umask(_UMASK)
"""The process's umask (read once): the written file gets the mode ``open()`` would give it."""


def atomic_write(path: str | Path, data: str | bytes, *, encoding: str = "utf-8") -> Path:
    """Write ``data`` to ``path`` atomically (temp file + rename); returns the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)
        with os.fdopen(fd, "wb") as out:
            out.write(data.encode(encoding) if isinstance(data, str) else data)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return target
