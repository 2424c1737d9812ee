"""The documentation builds with warnings as errors, and its marked examples run.

Examples in ``docs/*.md`` are marked with a MyST comment line right above the
fence, ``% docs-test: KIND``:

``pytest``    a Python test file: run by pytest (pytester) with the repository's
              ``fixtures/`` folder beside it and the page's ``conftest`` blocks as its
              ``conftest.py``; every test in it must pass
``conftest``  a ``conftest.py`` for the page's ``pytest`` blocks
``scenario``  scenario YAML: loaded, every plugin and attack validated at its own duration
              (and on every backend section it has), then simulated for 15 minutes
``legacy``    a config of the existing Monerosim: loaded through the same loader and simulated
``ini``       a ``[pytest]`` ini file: a session with it must accept every key (unknown keys
              are errors here) and run a network
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
MARK = re.compile(r"^% docs-test: (\w+)\n```(\w+)\n(.*?)^```", re.M | re.S)
KINDS = {"pytest", "conftest", "scenario", "legacy", "ini"}


@dataclass(frozen=True)
class Example:
    page: str
    line: int
    kind: str
    language: str
    code: str

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"


def examples() -> list[Example]:
    found = []
    for page in sorted(DOCS.glob("*.md")):
        text = page.read_text(encoding="utf-8")
        for match in MARK.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.append(Example(page.name, line, match.group(1), match.group(2), match.group(3)))
    return found


EXAMPLES = examples()


def of_kind(*kinds: str) -> list[Example]:
    return [e for e in EXAMPLES if e.kind in kinds]


def test_the_docs_have_runnable_examples() -> None:
    kinds = {e.kind for e in EXAMPLES}
    assert kinds <= KINDS, f"unknown docs-test kinds: {kinds - KINDS}"
    assert {"pytest", "scenario", "legacy", "ini", "conftest"} <= kinds
    assert len(of_kind("pytest")) >= 6
    for e in EXAMPLES:  # a marker must sit on the right kind of block
        expected = {"pytest": "python", "conftest": "python", "scenario": "yaml", "legacy": "yaml",
                    "ini": "ini"}[e.kind]
        assert e.language == expected, f"{e.id}: docs-test {e.kind} on a {e.language} block"


# -- the build -----------------------------------------------------------------------------
def test_docs_build_with_warnings_as_errors(tmp_path: Path) -> None:
    pytest.importorskip("sphinx")
    pytest.importorskip("myst_parser")
    out = tmp_path / "html"
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html", "-q", "-d",
         str(tmp_path / "doctrees"), str(DOCS), str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-6000:]
    pages = {p.stem: p.read_text(encoding="utf-8") for p in out.glob("*.html")}
    assert {"index", "getting-started", "scenarios", "pytest-api", "attacks", "backends", "rest-api",
            "plugins", "migrating", "troubleshooting", "performance"} <= set(pages)
    # generated from the code at build time: a field, an option, an ini key, an endpoint, a plugin param
    from pytest_monerosim.config.model import P2P
    from pytest_monerosim.plugin.options import OPTIONS

    for name in P2P.model_fields:
        assert name in pages["scenarios"], name
    for opt in OPTIONS:
        assert opt.flag in pages["pytest-api"] and opt.dest in pages["pytest-api"], opt.flag
    assert "/api/events" in pages["rest-api"]
    assert "victim_anchors" in pages["attacks"] and "restart_at" in pages["attacks"]
    assert "PORT+1+N" in pages["pytest-api"]


# -- the examples --------------------------------------------------------------------------
def _link_fixtures(where: Path) -> None:
    (where / "fixtures").symlink_to(ROOT / "fixtures", target_is_directory=True)


@pytest.mark.parametrize("example", of_kind("pytest"), ids=lambda e: e.id)
def test_python_example_passes(pytester: pytest.Pytester, example: Example) -> None:
    conftests = [c.code for c in of_kind("conftest") if c.page == example.page and c.line < example.line]
    if conftests:
        pytester.makeconftest("\n\n".join(conftests))
    _link_fixtures(pytester.path)
    pytester.makepyfile(**{f"test_doc_{example.page.split('.')[0].replace('-', '_')}": example.code})
    result = pytester.runpytest("-p", "no:cacheprovider", "-q")  # in process: no interpreter start-up
    outcomes = result.parseoutcomes()
    assert result.ret == 0 and outcomes.get("passed", 0) >= 1, result.stdout.str()[-4000:]
    assert not outcomes.get("skipped") and not outcomes.get("failed"), result.stdout.str()[-4000:]


def _validate_and_run(path: Path, short_s: float = 900.0) -> None:
    from pytest_monerosim.backends import RunOptions
    from pytest_monerosim.config.loader import load_scenario, scenario_from_dict
    from pytest_monerosim.registry import default_registry
    from pytest_monerosim.runner import for_backend, prepare, run_scenario

    registry = default_registry()
    scenario = load_scenario(path)
    prepare(scenario, registry, str(path))  # plugins, wallets, every attack's check, at full length
    for backend in scenario.backends:  # each backend section's overrides give a valid scenario too
        prepare(for_backend(scenario, backend, RunOptions(), str(path)), registry, str(path))
    data = scenario.model_dump(mode="json")
    data["attacks"] = []  # attacks are timed for runs of an hour or more: checked above, not run
    short = scenario_from_dict(data, overrides={"duration": min(scenario.general.duration, short_s)})
    run = run_scenario(short, backend="sim", registry=registry)
    assert run.summary["sim_seconds"] == short.general.duration
    assert run.summary["nodes"] == scenario.total_nodes()


@pytest.mark.parametrize("example", of_kind("scenario", "legacy"), ids=lambda e: e.id)
def test_yaml_example_loads_and_runs(tmp_path: Path, example: Example) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text(textwrap.dedent(example.code), encoding="utf-8")
    if example.kind == "legacy":
        from pytest_monerosim.config.loader import load_scenario

        assert load_scenario(path).general.seed == 12345  # translated on the way in
    _validate_and_run(path)


@pytest.mark.parametrize("example", of_kind("ini"), ids=lambda e: e.id)
def test_ini_example_is_accepted(pytester: pytest.Pytester, example: Example) -> None:
    pytester.makeini(example.code)
    pytester.makepyfile(test_ini=textwrap.dedent("""
        import pytest

        @pytest.mark.monerosim({"general": {"name": "ini", "duration": "1h"},
                                "network": {"topology": {"name": "mesh"}},
                                "nodes": [{"group": "miners", "count": 2, "role": "miner", "hashrate": 1}]})
        def test_ini(monero_network):
            assert monero_network.seed == 11
            assert monero_network.summary["sim_seconds"] == 1800
    """))
    # an unknown ini key is a PytestConfigWarning: an error here
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-W", "error::pytest.PytestConfigWarning")
    result.assert_outcomes(passed=1)


# -- troubleshooting covers every error class -------------------------------------------------
INTERNAL_ERRORS = {
    # raised and handled inside the simulator; a user never sees them
    # sim/tx/decoys: no decoys on a chain younger than the spendable age; a wallet has no spendable
    # output before that either, so a run never reaches it
    "NotEnoughOutputs",
    # sim/emission: caught by the tx layer's block template, which leaves out a tx that would make
    # the block too heavy (sim/tx/component.py)
    "BlockTooHeavy",
}


def test_troubleshooting_names_every_error_class() -> None:
    """A new exception class in the package is either documented on the troubleshooting page or
    listed above as internal, with the reason."""
    import importlib
    import inspect
    import pkgutil

    import pytest_monerosim

    found: set[str] = set()
    for info in pkgutil.walk_packages(pytest_monerosim.__path__, "pytest_monerosim."):
        if info.name.endswith("__main__"):  # running it is the command itself
            continue
        try:
            module = importlib.import_module(info.name)
        except ImportError:  # an optional dependency (e.g. an extra) is missing
            continue
        for name, obj in inspect.getmembers(module, inspect.isclass):
            if (issubclass(obj, BaseException) and obj.__module__ == module.__name__
                    and not name.startswith("_")):
                found.add(name)
    page = (DOCS / "troubleshooting.md").read_text(encoding="utf-8")
    missing = sorted(n for n in found - INTERNAL_ERRORS if n not in page)
    assert not missing, f"error classes not on docs/troubleshooting.md: {missing}"
    assert INTERNAL_ERRORS <= found, "an internal error class was renamed or removed: update the list"
