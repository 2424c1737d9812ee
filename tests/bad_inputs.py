"""A table of bad inputs a user may give, and what each one produces.

Every entry is run as a real subprocess (the ``monerosim`` CLI, or pytest with
the plugin) and classified:

* ``clear``     -- the CLI exits 2 / pytest exits 4 (usage error), stderr holds one
  line (pytest: one ``ERROR:`` line), no traceback, and the line names the field;
* ``traceback`` -- a Python traceback reached the user;
* ``accepted``  -- the input ran (exit 0 or 1) as if it were fine;
* ``hung``      -- still running after :data:`TIMEOUT_S` seconds (killed);
* ``unclear``   -- anything else (several lines, the wrong exit code, no field named).

``tests/test_bad_inputs.py`` asserts every entry is ``clear``. Run this file
directly to count the outcomes of the package found on ``PYTHONPATH``::

    PYTHONPATH=/work/main python tests/bad_inputs.py     # before
    PYTHONPATH=$PWD python tests/bad_inputs.py           # after

Topology files, generator parameters, regions and migrate have their own
table (another issue); this one covers scenarios, durations, seeds, attacks,
behaviours, backends, CLI overrides, ``analyze`` and the report path.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

TIMEOUT_S = 30.0

TINY = """\
general: {name: tiny, seed: 1, duration: %(duration)s}
network: {topology: {name: mesh}}
nodes:
  - {group: miners, count: 2, role: miner, hashrate: 1.0}
  - {group: relays, count: 2, role: relay}
"""

ECLIPSE = """\
general: {name: ecl, seed: 1, duration: 2h}
p2p: {out_peers: 8}
nodes:
  - {group: seeds, count: 2, role: relay, seed_node: true}
  - {group: miners, count: 2, role: miner, hashrate: 1.0}
  - {group: victim, role: relay}
  - {group: relays, count: 6, role: relay}
attacks:
  - {name: eclipse, victim_anchors: 9}
"""


def tiny(duration: str = "10m") -> str:
    return TINY % {"duration": duration}


def test_file(body: str, marker: str = "", fixture: str = "monero_network") -> str:
    """A pytest file with one test using ``fixture``, decorated with ``marker``."""
    return (
        "import pytest\n\n"
        f"{marker}\n"
        f"def test_it({fixture}):\n"
        f"    {body}\n"
    )


PLAIN_TEST = "import pytest\n\ndef test_plain():\n    assert True\n"
TINY_MARK = '@pytest.mark.monerosim("tiny.yaml")'


@dataclass(frozen=True)
class BadInput:
    id: str
    kind: str  # "cli" or "pytest"
    args: tuple[str, ...]
    names: str
    """A word the one line must contain (the field or option)."""
    files: dict[str, str | bytes] = field(default_factory=dict)


def _cli(id: str, names: str, *args: str, **files: str | bytes) -> BadInput:
    return BadInput(id, "cli", args, names, {k.replace("__", "."): v for k, v in files.items()})


def _pytest(id: str, names: str, *args: str, **files: str | bytes) -> BadInput:
    return BadInput(id, "pytest", args, names, {k.replace("__", "."): v for k, v in files.items()})


BINARY = bytes(range(256)) * 4

CASES: tuple[BadInput, ...] = (
    # -- durations that would run forever, or not at all -------------------------------
    _cli("file-duration-huge", "duration", "run", "s.yaml", s__yaml=tiny("10000000d")),
    _cli("file-duration-inf", "duration", "run", "s.yaml", s__yaml=tiny("inf")),
    _cli("file-duration-nan", "duration", "run", "s.yaml", s__yaml=tiny(".nan")),
    _cli("file-duration-zero", "duration", "run", "s.yaml", s__yaml=tiny("0s")),
    _cli("cli-duration-huge", "duration", "run", "s.yaml", "--duration", "10000000d", s__yaml=tiny()),
    _cli("cli-duration-inf", "duration", "run", "s.yaml", "--duration", "inf", s__yaml=tiny()),
    _cli("cli-duration-1e400", "duration", "run", "s.yaml", "--duration", "1e400", s__yaml=tiny()),
    _cli("cli-duration-zero", "duration", "run", "s.yaml", "--duration", "0s", s__yaml=tiny()),
    _cli("set-duration-inf", "duration", "run", "s.yaml", "--set", "general.duration=inf",
         s__yaml=tiny()),
    _cli("validate-duration-huge", "duration", "validate", "s.yaml", s__yaml=tiny("10000000d")),
    _pytest("opt-duration-huge", "duration", "--monerosim-duration=10000000d",
            t__py=test_file("pass", TINY_MARK), tiny__yaml=tiny()),
    _pytest("opt-duration-inf", "duration", "--monerosim-duration=inf",
            t__py=test_file("pass", TINY_MARK), tiny__yaml=tiny()),
    _pytest("opt-duration-zero", "duration", "--monerosim-duration=0s",
            t__py=test_file("pass", TINY_MARK), tiny__yaml=tiny()),
    _pytest("marker-duration-huge", "duration",
            t__py=test_file("pass", '@pytest.mark.monerosim("tiny.yaml", duration="10000000d")'),
            tiny__yaml=tiny()),
    _pytest("marker-duration-zero", "duration",
            t__py=test_file("pass", '@pytest.mark.monerosim("tiny.yaml", duration=0)'),
            tiny__yaml=tiny()),
    # -- seeds ----------------------------------------------------------------------------
    _cli("cli-seed-negative", "seed", "run", "s.yaml", "--seed", "-1", s__yaml=tiny()),
    _cli("file-seed-negative", "seed", "run", "s.yaml",
         s__yaml=tiny().replace("seed: 1", "seed: -5")),
    _pytest("opt-seed-negative", "seed", "--monerosim-seed=-1",
            t__py=test_file("pass", TINY_MARK), tiny__yaml=tiny()),
    _pytest("marker-seed-negative", "seed",
            t__py=test_file("pass", '@pytest.mark.monerosim("tiny.yaml", seed=-3)'), tiny__yaml=tiny()),
    # -- attacks, behaviours, backends ----------------------------------------------------
    _cli("eclipse-anchors-over-out-peers", "victim_anchors", "run", "s.yaml", s__yaml=ECLIPSE),
    _pytest("marker-eclipse-anchors-over-out-peers", "victim_anchors",
            t__py=test_file("pass", '@pytest.mark.monerosim("e.yaml")'),
            e__yaml=ECLIPSE),
    _pytest("unknown-backend-marker", "monerosim_backends",
            t__py=test_file("pass", TINY_MARK + '\n@pytest.mark.monerosim_backends("simm")'),
            tiny__yaml=tiny()),
    _pytest("unknown-backend-marker-plain-test", "monerosim_backends",
            t__py='import pytest\n\n@pytest.mark.monerosim_backends("nope")\ndef test_x():\n    pass\n'),
    _pytest("unknown-attack-option-no-fixture", "--monerosim-attack", "--monerosim-attack=nope",
            t__py=PLAIN_TEST),
    _pytest("unknown-attack-option-with-fixture", "--monerosim-attack", "--monerosim-attack=nope",
            t__py=test_file("pass", TINY_MARK, "monero_network, monerosim_attack"), tiny__yaml=tiny()),
    _pytest("unknown-behaviour-marker-no-fixture", "monerosim_behaviour",
            t__py=test_file("pass", TINY_MARK + '\n@pytest.mark.monerosim_behaviour("nope")'),
            tiny__yaml=tiny()),
    _pytest("unknown-behaviour-marker-plain-test", "monerosim_behaviour",
            t__py='import pytest\n\n@pytest.mark.monerosim_behaviour("nope")\ndef test_x():\n    pass\n'),
    _pytest("unknown-attack-marker-plain-test", "monerosim_attack",
            t__py='import pytest\n\n@pytest.mark.monerosim_attack("nope")\ndef test_x():\n    pass\n'),
    # -- files ----------------------------------------------------------------------------
    _cli("binary-scenario-run", "s.yaml", "run", "s.yaml", s__yaml=BINARY),
    _cli("binary-scenario-validate", "s.yaml", "validate", "s.yaml", s__yaml=BINARY),
    _pytest("binary-scenario-marker", "b.yaml",
            t__py=test_file("pass", '@pytest.mark.monerosim("b.yaml")'), b__yaml=BINARY),
    _cli("scenario-is-directory", "d", "run", "d", d__keep=""),
    _cli("utf16-scenario", "s.yaml", "run", "s.yaml", s__yaml=tiny().encode("utf-16")),
    # -- --set ----------------------------------------------------------------------------
    _cli("set-no-path", "--set", "run", "s.yaml", "--set", "=3", s__yaml=tiny()),
    _cli("set-bad-yaml", "--set", "run", "s.yaml", "--set", "p2p.out_peers=[1,", s__yaml=tiny()),
    _cli("set-through-scalar", "general.seed", "run", "s.yaml", "--set", "general.seed.x=1",
         s__yaml=tiny()),
    _cli("set-empty-segment", "--set", "run", "s.yaml", "--set", "p2p..out_peers=3", s__yaml=tiny()),
    _cli("set-unknown-group", "nodes", "run", "s.yaml", "--set", "nodes.nosuch.count=3", s__yaml=tiny()),
    _cli("set-list-index-of-scalar", "general", "run", "s.yaml", "--set", "general.name.0=x",
         s__yaml=tiny()),
    # -- analyze --------------------------------------------------------------------------
    _cli("analyze-object", "r.json", "analyze", "r.json", r__json='{"hello": 1}'),
    _cli("analyze-list", "r.json", "analyze", "r.json", r__json="[1, 2, 3]"),
    _cli("analyze-string", "r.json", "analyze", "r.json", r__json='"text"'),
    _cli("analyze-networks-not-list", "r.json", "analyze", "r.json",
         r__json='{"schema": "monerosim.report/1", "networks": 5}'),
    _cli("analyze-binary", "r.json", "analyze", "r.json", r__json=BINARY),
    # -- the report path ------------------------------------------------------------------
    _pytest("report-is-directory", "--monerosim-report", "--monerosim-report=rdir",
            t__py=PLAIN_TEST, rdir__keep=""),
)


def _materialise(case: BadInput, where: Path) -> None:
    for name, content in case.files.items():
        if name.endswith(".keep"):
            (where / name[: -len(".keep")]).mkdir()
            continue
        path = where / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)


def command(case: BadInput) -> list[str]:
    if case.kind == "cli":
        return [sys.executable, "-m", "pytest_monerosim.cli", *case.args]
    return [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
            "-p", "no:randomly", "t.py", *case.args]


def classify(case: BadInput, returncode: int | None, stderr: str, stdout: str = "") -> str:
    if returncode is None:
        return "hung"
    both = stderr + stdout
    if "Traceback (most recent call last)" in both or "INTERNALERROR" in both:
        return "traceback"
    if case.kind == "pytest" and returncode == 3:  # pytest's "internal error"
        return "traceback"
    lines = [line for line in stderr.splitlines() if line.strip()]
    if case.kind == "cli":
        if returncode in (0, 1):
            return "accepted"
        ok = returncode == 2 and len(lines) == 1
    else:
        if returncode in (0, 1, 5):
            return "accepted"
        ok = returncode == 4 and len(lines) == 1 and lines[0].startswith("ERROR:")
    if ok and case.names.lower() in lines[0].lower():
        return "clear"
    return "unclear"


def run_case(case: BadInput, where: Path) -> tuple[str, str]:
    """(outcome, stderr) of ``case`` run in the fresh directory ``where``."""
    _materialise(case, where)
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "COLUMNS": "200"}
    env.pop("PYTEST_ADDOPTS", None)
    env.pop("PYTEST_XDIST_WORKER", None)
    proc = subprocess.Popen(command(case), cwd=where, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, errors="replace",
                            start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=TIMEOUT_S)
        code: int | None = proc.returncode
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        stdout, stderr = proc.communicate()
        code = None
    return classify(case, code, stderr, stdout), stderr


def main() -> int:
    only = sys.argv[1:]  # optional substrings of case ids
    counts: Counter[str] = Counter()
    for case in CASES:
        if only and not any(word in case.id for word in only):
            continue
        with tempfile.TemporaryDirectory() as tmp:
            outcome, stderr = run_case(case, Path(tmp))
            leftovers = [p.name for p in Path(tmp).rglob(".*.tmp")]
        if leftovers and outcome == "clear":
            outcome = "unclear"
        counts[outcome] += 1
        first = next((ln for ln in stderr.splitlines() if ln.strip()), "")
        print(f"{outcome:9} {case.id:42} {first[:150]}", flush=True)
    print(f"\n{sum(counts.values())} bad inputs: " + ", ".join(f"{n} {k}" for k, n in counts.most_common()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
