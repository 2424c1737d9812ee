"""Every bad input of ``tests/bad_inputs.py`` gives one clear line (exit 2 in the CLI, a usage
error in pytest), naming the field, and no traceback, hang or silent acceptance."""

from __future__ import annotations

from pathlib import Path

import pytest
from bad_inputs import CASES, BadInput, run_case


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_gives_one_clear_line(case: BadInput, tmp_path: Path) -> None:
    outcome, stderr = run_case(case, tmp_path)
    assert outcome == "clear", f"{case.id}: {outcome}\n{stderr}"
    assert not list(tmp_path.rglob(".*.tmp")), "a temporary file was left behind"
