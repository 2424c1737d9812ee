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


def test_bad_marker_under_xdist_fails_its_test_with_one_line(pytester: pytest.Pytester) -> None:
    """Under ``-n`` a usage error cannot end the session from a worker (xdist would report an
    INTERNALERROR): the test with the bad input errors with the usage error's one line, the
    others run."""
    pytester.makepyfile(test_bad="""
        import pytest

        @pytest.mark.monerosim_attack("nosuch")
        def test_x(monero_network):
            pass

        def test_ok():
            pass
    """)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2")
    result.assert_outcomes(passed=1, errors=1)
    out = result.stdout.str() + result.stderr.str()
    assert "INTERNALERROR" not in out and "Traceback" not in out
    result.stdout.fnmatch_lines(["usage error: test_bad.py::test_x: @pytest.mark.monerosim_attack('nosuch'): "
                                 "'nosuch' is not a registered attack; accepted: *"])
