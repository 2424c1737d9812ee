"""The ``monerosim`` command line: exit codes and one-line messages for bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_monerosim.cli import main

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "fixtures" / "scenarios" / "small_network.yaml"


def test_validate_ok(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(SMALL)]) == 0
    assert "ok (small-network: 101 nodes" in capsys.readouterr().out


def test_validate_bad_file_exit_2_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("general: {name: x}\nnodes:\n  - {group: a, role: miner, hashrate: 1, color: red}\n")
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert f"{bad}:3: nodes[0].color: unknown field 'color'" in err


def test_validate_unknown_behaviour_lists_registered(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("nodes:\n  - {group: a, behaviour: dancing}\n")
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "nodes[0].behaviour.name: unknown behaviour 'dancing'; registered:" in err
    assert "standard_sync" in err


def test_run_prints_summary_and_writes_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "s.json"
    assert main(["run", str(SMALL), "--duration", "1h", "--seed", "3", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "scenario   small-network on sim (seed 3)" in text and "consensus" in text
    summary = json.loads(out.read_text())
    assert summary["seed"] == 3 and summary["sim_seconds"] == 3600


def test_run_set_override(tmp_path: Path) -> None:
    out = tmp_path / "s.json"
    assert main(["run", str(SMALL), "--duration", "30m", "--set", "general.name=renamed",
                 "--json", str(out), "-q"]) == 0
    assert json.loads(out.read_text())["scenario"] == "renamed"


@pytest.mark.parametrize(
    "argv,fragment",
    [
        (["run", "missing.yaml"], "cannot read scenario file"),
        (["run", str(SMALL), "--duration", "later"], "--duration"),
        (["run", str(SMALL), "--backend", "vm"], "accepted: sim, monerod, shadow"),
        (["run", str(SMALL), "--set", "nonsense"], "expected PATH=VALUE"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_run_bad_input_exit_2(argv: list[str], fragment: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert fragment in err and "Traceback" not in err


def test_console_script_entry_point() -> None:
    done = subprocess.run([sys.executable, "-m", "pytest_monerosim.cli", "validate", str(SMALL)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_validate_catches_wallet_errors_before_any_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "nodes:\n  - {group: m, role: miner, hashrate: 1}\n  - {group: u, role: user}\n"
        "wallets:\n  - {name: mw, node_group: m, strategy: mining_wallet}\n"
        "  - {name: uw, node_group: u, strategy: {name: transaction_bot, recipients: [nobody]}}\n"
    )
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "nobody" in err and "wallets" in err
