"""Sphinx configuration of the pytest-monerosim documentation.

Build (warnings are errors; the tests run the same command):

    sphinx-build -W --keep-going -b html docs docs/_build/html
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))
sys.path.insert(0, str(HERE.parent))  # document this checkout's package, not an installed copy

project = "pytest-monerosim"
author = "pytest-monerosim contributors"
copyright = "pytest-monerosim contributors"  # noqa: A001 (Sphinx's name)

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "monerosim_docs",
]

source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build", "examples", "README.md", "**/.pytest_cache"]
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

nitpicky = True

autodoc_typehints = "none"
autodoc_member_order = "bysource"

html_theme = "alabaster"
html_title = "pytest-monerosim"
html_theme_options = {
    "description": "Monero network simulations as pytest test suites",
    "page_width": "1240px",  # the generated reference tables are wide
}
smartquotes = False  # keep "--monerosim-..." and quotes in generated tables as written
