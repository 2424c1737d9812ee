"""The one error type for bad scenario input."""

from __future__ import annotations


class ScenarioError(ValueError):
    """A scenario (file, marker or override) that cannot be used.

    ``str(error)`` is one line a person can act on: where (file and line when
    known), which field (a dotted YAML path), the bad value and what is accepted.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        path: str | None = None,
        line: int | None = None,
    ) -> None:
        self.message = message
        self.source = source
        self.path = path
        self.line = line
        super().__init__(self.render())

    def render(self) -> str:
        where = ""
        if self.source:
            where = self.source + (f":{self.line}" if self.line else "")
        field = f"{self.path}: " if self.path else ""
        text = f"{where}: {field}{self.message}" if where else f"{field}{self.message}"
        return " ".join(line.strip() for line in text.splitlines() if line.strip())  # always one line
