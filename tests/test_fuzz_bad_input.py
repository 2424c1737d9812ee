"""Hypothesis fuzzing of the scenario loader and the ``monerosim`` CLI over bad documents.

The property: whatever a user writes, the loader either accepts it or raises
one :class:`ScenarioError` whose text is ONE line naming the field (or, for a
file that is not a scenario at all, the file); the CLI exits 0 or 2, and on 2
prints exactly one line on stderr naming the field. Any other exception fails
the test (it would be a traceback for the user).
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pytest_monerosim.cli import main
from pytest_monerosim.config.errors import ScenarioError
from pytest_monerosim.config.loader import load_scenario
from pytest_monerosim.registry import default_registry
from pytest_monerosim.runner import prepare

BASE: dict[str, Any] = {
    "general": {"name": "fuzz", "seed": 1, "duration": "10m"},
    "network": {"topology": {"name": "mesh"}, "latency": {"name": "constant", "latency_s": 0.05}},
    "p2p": {"out_peers": 8, "anchors": 2},
    "mining": {"target_s": 120},
    "transactions": {"relay": "dandelion"},
    "nodes": [
        {"group": "miners", "count": 2, "role": "miner", "hashrate": 1.0},
        {"group": "relays", "count": 2, "role": "relay"},
    ],
    "wallets": [{"name": "bank", "nodes": ["relays-0"], "strategy": "hodler"}],
    "attacks": [{"name": "partition", "start": "2m", "heal": "5m"}],
}

# (path, tokens one of which the error line must contain)
PATHS: list[tuple[tuple[Any, ...], tuple[str, ...]]] = [
    (("general", "seed"), ("seed",)),
    (("general", "duration"), ("duration",)),
    (("general", "name"), ("name",)),
    (("general", "backend"), ("backend",)),
    (("general",), ("general",)),
    (("network", "topology"), ("topology",)),
    (("network", "topology", "name"), ("topology",)),
    (("network", "latency", "latency_s"), ("latency",)),
    (("network", "bandwidth_bps"), ("bandwidth_bps",)),
    (("p2p", "out_peers"), ("out_peers",)),
    (("p2p", "anchors"), ("anchors",)),
    (("p2p", "timed_sync_s"), ("timed_sync_s",)),
    (("p2p",), ("p2p",)),
    (("mining", "target_s"), ("target_s",)),
    (("mining", "difficulty_window"), ("difficulty_window", "difficulty")),
    (("transactions", "relay"), ("relay",)),
    (("nodes",), ("nodes",)),
    (("nodes", 0), ("nodes",)),
    (("nodes", 0, "count"), ("count", "nodes")),
    (("nodes", 0, "role"), ("role", "nodes")),
    (("nodes", 0, "hashrate"), ("hashrate", "nodes")),
    (("nodes", 1, "group"), ("group", "nodes", "wallet")),
    (("nodes", 1, "behaviour"), ("behaviour", "nodes")),
    (("wallets",), ("wallets",)),
    (("wallets", 0, "nodes"), ("wallets", "nodes", "wallet")),
    (("wallets", 0, "strategy"), ("strategy", "wallets")),
    (("attacks",), ("attacks",)),
    (("attacks", 0, "name"), ("attacks",)),
    (("attacks", 0, "heal"), ("attacks", "heal")),
    (("backends",), ("backends",)),
    (("surprise",), ("surprise",)),
    (("p2p", "surprise"), ("surprise",)),
]

BAD_STRINGS = ["inf", "-inf", "nan", "1e400", "10000000d", "0s", "-1s", "", " ", "\x00", "2h", "x" * 300,
               "🙂", "{", "[", "1h30", "monero", "!!python/object"]

values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(BAD_STRINGS),
    st.text(max_size=12),
    st.lists(st.one_of(st.integers(-5, 5), st.text(max_size=4)), max_size=3),
    st.dictionaries(st.text(max_size=6), st.one_of(st.integers(-5, 5), st.text(max_size=4)), max_size=2),
)


def _set(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    target = doc
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return doc


def _yaml_safe(value: Any) -> bool:
    try:
        yaml.safe_dump(value)
    except yaml.YAMLError:
        return False
    return True


def assert_one_clear_line(text: str, tokens: tuple[str, ...], source: str) -> None:
    assert "\n" not in text.strip(), f"more than one line: {text!r}"
    assert "Traceback" not in text
    lowered = text.lower()
    assert any(t.lower() in lowered for t in tokens) or (
        source in text and not any(t in ("surprise",) for t in tokens)
    ), f"the line names none of {tokens}: {text!r}"


def _load_and_prepare(path: Path) -> None:
    scenario = load_scenario(path)
    prepare(scenario, REGISTRY, source=str(path))


REGISTRY = default_registry()
# CI runs a fixed set of 150 examples per test; MONEROSIM_FUZZ_EXAMPLES=N searches N fresh ones.
_EXAMPLES = os.environ.get("MONEROSIM_FUZZ_EXAMPLES")
SETTINGS = settings(max_examples=int(_EXAMPLES or 150), deadline=None, derandomize=not _EXAMPLES,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@SETTINGS
@given(where=st.sampled_from(PATHS), value=values, delete=st.booleans())
@example(where=(("general", "duration"), ("duration",)), value="10000000d", delete=False)
@example(where=(("nodes", 0, "count"), ("count", "nodes")), value=10**20, delete=False)
@example(where=(("general", "seed"), ("seed",)), value=-1, delete=False)
def test_loader_and_validate_give_one_line_naming_the_field(
    tmp_path_factory: pytest.TempPathFactory, where: tuple[tuple[Any, ...], tuple[str, ...]],
    value: Any, delete: bool, capsys: pytest.CaptureFixture[str],
) -> None:
    path_, tokens = where
    doc = copy.deepcopy(BASE)
    parent = doc
    for part in path_[:-1]:
        parent = parent[part]
    if delete and isinstance(parent, dict) and path_[-1] in parent:
        del parent[path_[-1]]
    else:
        if not _yaml_safe(value):
            return
        _set(doc, path_, value)
    path = tmp_path_factory.mktemp("fuzz") / "s.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True))
    try:
        _load_and_prepare(path)
        valid = True
    except ScenarioError as exc:
        assert_one_clear_line(str(exc), tokens, str(path))
        valid = False
    code = main(["validate", str(path)])
    out, err = capsys.readouterr()
    if valid:
        assert code == 0 and err == "", err
    else:
        assert code == 2
        assert err.startswith("monerosim: error: ") and err.count("\n") == 1, err
        assert_one_clear_line(err, tokens, str(path))


@SETTINGS
@given(data=st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode)))
@example(data=bytes(range(256)))
@example(data=b"general: [")
@example(data="\ufeffgeneral: {seed: 1}\n".encode("utf-16"))
def test_any_file_content_gives_one_line_naming_the_file(
    tmp_path_factory: pytest.TempPathFactory, data: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path_factory.mktemp("raw") / "s.yaml"
    path.write_bytes(data)
    code = main(["validate", str(path)])
    out, err = capsys.readouterr()
    assert code in (0, 2)
    if code == 2:
        assert err.startswith("monerosim: error: ") and err.count("\n") == 1, err
        assert str(path) in err and "Traceback" not in err


@pytest.fixture(scope="module")
def tiny_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    doc = copy.deepcopy(BASE)
    doc.pop("wallets")
    doc.pop("attacks")
    path = tmp_path_factory.mktemp("tiny") / "tiny.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


override_keys = st.one_of(
    st.sampled_from(["general.seed", "general.duration", "duration", "seed", "p2p.out_peers",
                     "nodes.miners.count", "nodes.0.role", "nodes.nosuch.count", "general.seed.x",
                     "general.name.0", "p2p..out_peers", ".", "", "network.topology.name", "p2p",
                     "nodes", "mining.target_s", "surprise", "general.surprise"]),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz._0123456789", max_size=20),
)
override_values = st.one_of(st.sampled_from(BAD_STRINGS + ["[1,", "{a: 1", "- x", "*ref", "&a b"]),
                            st.text(max_size=10))


@SETTINGS
@given(key=override_keys, value=override_values,
       duration=st.one_of(st.none(), st.sampled_from(BAD_STRINGS)),
       seed=st.one_of(st.none(), st.integers(-(10**6), -1).map(str), st.sampled_from(["x", "1.5", ""])))
@example(key="general.duration", value="inf", duration=None, seed=None)
@example(key="p2p.out_peers", value="[1,", duration=None, seed=None)
def test_run_overrides_give_one_line(
    tiny_file: Path, key: str, value: str, duration: str | None, seed: str | None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["run", str(tiny_file), "--set", f"{key}={value}", "--quiet"]
    if duration is not None:
        argv += ["--duration", duration]
    if seed is not None:
        argv += ["--seed", seed]
    code = main(argv)
    out, err = capsys.readouterr()
    assert code in (0, 2), err
    if code == 0:  # a valid override: it ran (10 simulated minutes of 4 nodes)
        assert json.loads(out)["schema"] == "monerosim.summary/1"
        return
    assert err.startswith("monerosim: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    lowered = err.lower()
    named = [key.lower(), "--set", "--duration", "--seed", "duration", "seed"]
    named += [part.lower() if not part.isdigit() else f"'{part}'" for part in key.split(".") if part]
    assert any(n and n in lowered for n in named), f"names neither the field nor the option: {err!r}"
