"""Root conftest: shared data paths for tests/ and scenarios/.

pytester (for the plugin's end-to-end tests) is enabled in pyproject's addopts.
"""

from __future__ import annotations

from pathlib import Path

import numpy  # noqa: F401  (see below)
import pytest

# pytester's in-process runs drop modules first imported inside them; numpy's C
# core cannot be imported twice in one process, so it is imported here, once.

ROOT = Path(__file__).parent
FIXTURES = ROOT / "fixtures"


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """The repository's ``fixtures/`` folder (scenario YAML, topologies, legacy configs)."""
    return FIXTURES


LONG = "monerod_long"
FULL = "mainnet_full"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Real-daemon tests marked ``monerod_long`` run only when asked for.

    They take minutes each (several double-spend trials, long partitions on
    real daemons); the README's test command (and CI) skips them with this
    reason. Run them with ``-m monerod_long`` or ``MONEROSIM_LONG=1``.
    """
    import os

    markexpr = config.getoption("markexpr") or ""
    if FULL not in markexpr:
        full = pytest.mark.skip(reason=f"the full mainnet twin takes hours: run with -m {FULL}")
        for item in items:
            if item.get_closest_marker(FULL) is not None:
                item.add_marker(full)
    if os.environ.get("MONEROSIM_LONG") == "1" or LONG in markexpr:
        return
    skip = pytest.mark.skip(reason=f"long real-daemon test: run with -m {LONG} or MONEROSIM_LONG=1")
    for item in items:
        if item.get_closest_marker(LONG) is not None:
            item.add_marker(skip)
