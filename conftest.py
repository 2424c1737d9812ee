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
