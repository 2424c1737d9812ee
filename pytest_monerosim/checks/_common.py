"""Helpers shared by the checks."""

from __future__ import annotations

from typing import Any

from ..result.model import Result


def as_result(obj: Any) -> Result:
    """Checks accept a ``Result`` or anything carrying one (``NetworkRun``)."""
    result = getattr(obj, "result", obj)
    if not isinstance(result, Result):
        raise TypeError(f"expected a Result or NetworkRun, got {type(obj).__name__}")
    return result


def listing(items: list[str], limit: int = 8) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" ... ({len(items)} in all)" if len(items) > limit else "")
