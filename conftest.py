"""Root conftest: shared data paths for tests/ and scenarios/.

pytester (for the plugin's end-to-end tests) is enabled in pyproject's addopts.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).parent
FIXTURES = ROOT / "fixtures"


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """The repository's ``fixtures/`` folder (scenario YAML, topologies, legacy configs)."""
    return FIXTURES
