"""A sweep on a remote pytest-xdist worker: execnet's socket server on loopback.

What a user does on a second machine (README, "Beyond one machine"): install
the package and start execnet's ``socketserver.py``; the controller then runs
``pytest --tx socket=HOST:PORT --rsyncdir DIR``. Here both ends are this machine: the worker process is a
separate interpreter with its own working directory, reached only through the
socket, and the sweep's table must still be merged on the controller.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

execnet = pytest.importorskip("execnet")
pytest.importorskip("xdist")

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def socket_worker(tmp_path: Path):
    """execnet's socket server on a loopback port, in its own process group; killed after."""
    script = Path(execnet.__file__).parent / "script" / "socketserver.py"
    port = free_port()
    workdir = tmp_path / "worker"
    workdir.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen([sys.executable, str(script), f"127.0.0.1:{port}"], cwd=workdir, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("execnet socket server did not start") from None
                time.sleep(0.1)
        # the probe above used up one accept; the server loops back to accepting
        yield port, workdir
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)


def test_sweep_runs_on_a_socket_worker(tmp_path: Path, socket_worker: tuple[int, Path]) -> None:
    port, workdir = socket_worker
    suite = tmp_path / "suite"
    suite.mkdir()
    scenario = ROOT / "fixtures" / "scenarios" / "small_network.yaml"
    (suite / "test_remote_sweep.py").write_text(textwrap.dedent(f"""
        import os
        import pytest

        @pytest.mark.monerosim({str(scenario)!r}, duration=900)
        @pytest.mark.monerosim_sweep(seed=[1, 2, 3])
        def test_blocks(monero_network):
            print("worker cwd", os.getcwd())
            assert monero_network.summary["blocks"]["mined"] > 0
        """))
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = subprocess.run(
        [sys.executable, "-m", "pytest", str(suite / "test_remote_sweep.py"), "-p", "xdist",
         "-d", f"--tx=socket=127.0.0.1:{port}", f"--rsyncdir={suite}", "-q", "-rA",
         "-W", "ignore::DeprecationWarning", "-p", "no:cacheprovider"],
        cwd=suite, env=env, capture_output=True, text=True, timeout=600)
    text = out.stdout + out.stderr
    assert out.returncode == 0, text[-3000:]
    assert "3 passed" in text, text[-3000:]
    # the sweep table is assembled on the controller from the worker's reports
    assert "sweep" in text and "seed" in text, text[-3000:]
    # the tests ran in the worker's directory (rsynced there), not the controller's
    assert f"worker cwd {workdir}" in text, text[-3000:]
