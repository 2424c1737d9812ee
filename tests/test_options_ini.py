"""Every ``--monerosim-*`` option is also an ini key, and the ini key takes effect."""

from __future__ import annotations

import json
import socket
import textwrap

import pytest

from pytest_monerosim.plugin.options import OPTIONS
from pytest_monerosim.plugin.report_settings import serve_port

NO_CACHE = ("-p", "no:cacheprovider")

TINY = """
import pytest

@pytest.mark.monerosim({"general": {"name": "tiny", "seed": 3, "duration": "20m"},
                        "network": {"topology": {"name": "mesh"}},
                        "nodes": [{"group": "miners", "count": 2, "role": "miner", "hashrate": 1}]})
def test_tiny(monero_network):
    assert monero_network.height() >= 0
"""


def _registered_options(config: pytest.Config) -> list[tuple[str, str]]:
    """(flag, dest) of every option in the plugin's option group, as pytest registered them."""
    group = config._parser.getgroup("monerosim")  # the group the plugin adds its options to
    found = []
    for option in group.options:
        for name in option.names():
            if name.startswith("--monerosim-"):
                found.append((name, option.dest))
    return found


def test_every_registered_option_has_an_ini_key(pytester: pytest.Pytester) -> None:
    config = pytester.parseconfig()
    registered = _registered_options(config)
    assert len(registered) >= 15, registered
    inikeys = config._parser._inidict  # name -> (help, type, default)
    missing = []
    for flag, dest in registered:
        key = flag[2:].replace("-", "_")
        assert dest == key, f"{flag} stores into {dest}, not {key}"
        if key not in inikeys:
            missing.append(key)
    assert not missing, f"options without an ini key: {missing}"
    # and the table the docs are generated from is the one that was registered
    assert sorted(f for f, _ in registered) == sorted(o.flag for o in OPTIONS)


def test_flags_are_bool_ini_keys(pytester: pytest.Pytester) -> None:
    config = pytester.parseconfig()
    for opt in OPTIONS:
        _help, ini_type, _default = config._parser._inidict[opt.dest]
        assert ini_type == ("bool" if opt.kind == "flag" else "string"), opt.name


def test_plots_as_an_ini_key_writes_pngs(pytester: pytest.Pytester) -> None:
    pytest.importorskip("matplotlib")
    pytester.makeini("[pytest]\nmonerosim_plots = true\nmonerosim_out = out\nmonerosim_report = r.json\n")
    pytester.makepyfile(test_tiny=textwrap.dedent(TINY))
    pytester.runpytest_subprocess(*NO_CACHE).assert_outcomes(passed=1)
    (row,) = json.loads((pytester.path / "r.json").read_text())["networks"]
    assert any(f.endswith(".png") for f in row["files"]), row.get("files")


def test_baseline_update_as_an_ini_key(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nmonerosim_baseline = base.json\nmonerosim_baseline_update = true\n")
    pytester.makepyfile(test_tiny=textwrap.dedent(TINY))
    result = pytester.runpytest_subprocess(*NO_CACHE)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["monerosim baseline: wrote 1 network(s) to base.json"])
    assert (pytester.path / "base.json").exists()


def test_serve_as_an_ini_key(pytester: pytest.Pytester) -> None:
    pytest.importorskip("uvicorn")
    pytester.makeini("[pytest]\nmonerosim_serve = 0\n")
    pytester.makepyfile(test_x="def test_x():\n    pass\n")
    result = pytester.runpytest_subprocess(*NO_CACHE)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["monerosim: live dashboard and API at http://127.0.0.1:*/?token=* (loopback only)"])


def test_bad_serve_ini_value_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nmonerosim_serve = http\n")
    pytester.makepyfile(test_x="def test_x():\n    pass\n")
    result = pytester.runpytest_subprocess(*NO_CACHE)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "is not a port" in result.stderr.str()


def test_worker_ports() -> None:
    assert serve_port(8765, None) == 8765
    assert serve_port(8765, "gw0") == 8766
    assert serve_port(8765, "gw3") == 8769
    assert serve_port(0, "gw1") == 0


def _free_base(count: int) -> int:
    """A port ``base`` with ``base .. base+count-1`` all free right now."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = s.getsockname()[1]
        if base + count > 65535:
            continue
        ok = True
        for port in range(base, base + count):
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    ok = False
                    break
        if ok:
            return base
    pytest.skip("no run of free ports on loopback")


def test_serve_ports_under_xdist_are_printed(pytester: pytest.Pytester) -> None:
    pytest.importorskip("uvicorn")
    base = _free_base(3)
    pytester.makepyfile(test_x="def test_a():\n    pass\n\ndef test_b():\n    pass\n")
    result = pytester.runpytest_subprocess(*NO_CACHE, "-n", "2", f"--monerosim-serve={base}")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines([
        f"monerosim: live API on each xdist worker (they run the networks): "
        f"gw0 http://127.0.0.1:{base + 1}/?token=*, gw1 http://127.0.0.1:{base + 2}/?token=*"
    ])


def test_help_documents_the_worker_ports(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(["*--monerosim-serve=?PORT?*"])
    assert "PORT+1+N" in result.stdout.str().replace("\n", " ").replace("  ", "")
