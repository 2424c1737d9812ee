"""The consensus and connectivity suites pass on real monerod too (5 daemons, 2 wallets).

Runs the user-facing suites exactly as a user would, with
``--monerosim-backend=monerod``; their scenario's ``backends.monerod`` section
shrinks the network, and tests that need the simulator are skipped with a reason.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = [
    pytest.mark.monerod,
    pytest.mark.skipif(shutil.which("monerod") is None,
                       reason="needs monerod: apt-get install -y monero (Debian package 'monero')"),
]


def test_consensus_and_connectivity_suites_on_real_daemons(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess(
        str(ROOT / "scenarios" / "test_consensus.py"),
        str(ROOT / "scenarios" / "test_connectivity.py"),
        "--monerosim-backend=monerod", "-p", "no:cacheprovider", "-rs",
        timeout=1500,
    )
    result.assert_outcomes(passed=4, skipped=10)
    result.stdout.fnmatch_lines([
        "*small-network ?monerod? 5 nodes*consensus agreed*",
        "*this test runs on backend(s) sim, not monerod*",
    ])


def test_partition_suite_slice_on_namespaced_daemons(pytester: pytest.Pytester) -> None:
    """The partition suite's heavier-side test on 7 real daemons (its ``backends.monerod``
    section): as root each daemon is its own host and the cut is a cut of the links.

    At 120x (the default, set explicitly): this test asserts which side wins, not how
    fast the parts reconverge."""
    from pytest_monerosim.backends.monerod.netns import netns_support

    namespaced, why = netns_support()
    result = pytester.runpytest_subprocess(
        str(ROOT / "scenarios" / "test_partition.py"), "-k", "heavier_side",
        "--monerosim-backend=monerod", "--monerosim-time-scale=120", "-p", "no:cacheprovider",
        "-rs", "-s",
        timeout=900,
    )
    result.assert_outcomes(passed=1, deselected=5)
    mode = "netns" if namespaced else "loopback"
    said = [line for line in result.stdout.lines + result.stderr.lines if "monerod hosts:" in line]
    assert said and all(f"monerod hosts: {mode} ({why})" in line for line in said), said


def test_selfish_mining_suite_slice_on_real_daemons(pytester: pytest.Pytester) -> None:
    """The selfish-mining suite's real-daemon case: an offline attacker daemon mines privately
    and releases by Eyal-Sirer's rules over 360 real blocks; its revenue, measured from the real
    chain, follows R(alpha, gamma) and pays. About 3 minutes (164 s alone on a 2-core machine)."""
    result = pytester.runpytest_subprocess(
        str(ROOT / "scenarios" / "test_selfish_mining.py"), "-k", "real_daemons",
        "--monerosim-backend=monerod", "-p", "no:cacheprovider", "-rs",
        timeout=1200,
    )
    result.assert_outcomes(passed=1, deselected=10)


@pytest.mark.monerod_long
def test_transactions_suite_on_real_daemons(pytester: pytest.Pytester) -> None:
    """Issue #12's done-when run for transactions (the partition and selfish-mining slices are
    above, in CI): wallets on a warm chain pass the quickstart's bar over 6 simulated hours
    (one 9-daemon run shared by the suite's tests, about 7 minutes alone)."""
    result = pytester.runpytest_subprocess(
        str(ROOT / "scenarios" / "test_transactions.py"),
        "--monerosim-backend=monerod", "-p", "no:cacheprovider", "-rs",
        timeout=3600,
    )
    outcomes = result.parseoutcomes()
    assert not outcomes.get("failed") and not outcomes.get("errors"), outcomes
    # the bar, confirmations, money, coinbase unlock; relay timing may xfail (monerod's
    # wall-time Dandelion++ timers)
    assert outcomes.get("passed", 0) + outcomes.get("xfailed", 0) == 4, outcomes
    result.stdout.fnmatch_lines(["*this test runs on backend(s) sim, not monerod*"])
