"""The docs' example plugin package installs with pip and its behaviour and attack run in real scenarios.

``docs/examples/monerosim-example-plugin`` is a complete third-party package
(pyproject with ``monerosim.behaviours`` / ``monerosim.attacks`` entry points).
It is pip-installed into a temporary target (no network: ``--no-index
--no-build-isolation``, with the setuptools and wheel of the ``test`` extra), and
its own test suite runs in a fresh pytest process that has that target on its
path, so pytest-monerosim finds the plugins through their entry points exactly
as it would in a user's environment.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "docs" / "examples" / "monerosim-example-plugin"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("example_plugin_site")
    build = tmp_path_factory.mktemp("example_plugin_src")
    src = build / EXAMPLE.name
    shutil.copytree(EXAMPLE, src)  # pip builds in place: keep build/ and egg-info out of the repo
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
         "--no-build-isolation", "--target", str(target), str(src)],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (target / "monerosim_example_plugin").is_dir()
    return target


def _env(target: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(target), str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def test_entry_points_register_the_plugins(installed: Path) -> None:
    code = ("from pytest_monerosim.registry import default_registry as d; r = d(); "
            "print(r.get('attack', 'isolation').name, r.get('behaviour', 'bursty_mining').name)")
    proc = subprocess.run([sys.executable, "-c", code], env=_env(installed), capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["isolation", "bursty_mining"]


def test_the_example_suite_runs_against_the_installed_package(installed: Path, tmp_path: Path) -> None:
    shutil.copy(EXAMPLE / "tests" / "test_example_plugin.py", tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "test_example_plugin.py"],
        cwd=tmp_path, env=_env(installed), capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "3 passed" in proc.stdout
    # the attack's id and the behaviour's id come from the installed plugins' names
    assert "isolation-victim=relays-3" in proc.stdout and "bursty_mining-group=miners" in proc.stdout


def test_without_the_package_the_names_are_unknown(tmp_path: Path) -> None:
    """The suite really depends on the installed entry points (not on something else in the repo)."""
    shutil.copy(EXAMPLE / "tests" / "test_example_plugin.py", tmp_path)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "test_example_plugin.py"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == pytest.ExitCode.USAGE_ERROR, proc.stdout + proc.stderr
    assert "unknown attack 'isolation'" in proc.stderr + proc.stdout
