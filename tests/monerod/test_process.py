"""Process hygiene: the stop ladder, death with the owner, reaping stale groups."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from pytest_monerosim.backends.monerod import (
    ManagedProcess,
    MonerodNode,
    PortAllocator,
    reap_stale,
)
from pytest_monerosim.backends.monerod.process import proc_start_ticks

#: a separate "pytest worker" that starts one node, reports its pid and sleeps
OWNER_SCRIPT = """
import json, sys, time
from pathlib import Path
from pytest_monerosim.backends.monerod import ManagedProcess, MonerodNode, NodePorts
run_dir, p2p, rpc, arm = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
node = MonerodNode("orphan", run_dir / "orphan", NodePorts(p2p, rpc, 0, 0), offline=True)
proc = ManagedProcess(node.command_line(), name="orphan", run_dir=run_dir / "orphan",
                      log_path=node.stdout_path, die_with_parent=(arm == "arm"))
proc.start()
print(json.dumps({"pid": proc.pid}), flush=True)
time.sleep(600)
"""


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while _running(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _spawn_owner(tmp_path: Path, allocator: PortAllocator, arm: bool) -> tuple[int, int]:
    """Start an owner process with a node; SIGKILL the owner; return (owner, node) pids."""
    p2p, rpc = allocator.allocate_many(2)
    owner = subprocess.Popen(
        [sys.executable, "-c", OWNER_SCRIPT, str(tmp_path), str(p2p), str(rpc),
         "arm" if arm else "no"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert owner.stdout is not None
        line = owner.stdout.readline()
        node_pid = int(json.loads(line)["pid"])
    finally:
        owner.kill()
        owner.wait()
    return owner.pid, node_pid


@pytest.mark.monerod
def test_reap_stale_kills_group_whose_owner_died(
    monero_binaries: dict[str, Path], port_allocator: PortAllocator, tmp_path: Path
) -> None:
    owner_pid, node_pid = _spawn_owner(tmp_path, port_allocator, arm=False)
    try:
        assert _running(node_pid), "without PDEATHSIG the node outlives its owner"
        pid_file = tmp_path / "orphan" / "orphan.pid.json"
        assert json.loads(pid_file.read_text())["owner_pid"] == owner_pid

        assert reap_stale(tmp_path) == [node_pid]
        assert _wait_gone(node_pid, 5)
        assert not pid_file.exists()
        assert reap_stale(tmp_path) == []
    finally:
        if _running(node_pid):
            os.killpg(node_pid, signal.SIGKILL)


@pytest.mark.monerod
def test_node_dies_with_its_owner(
    monero_binaries: dict[str, Path], port_allocator: PortAllocator, tmp_path: Path
) -> None:
    _, node_pid = _spawn_owner(tmp_path, port_allocator, arm=True)
    try:
        assert _wait_gone(node_pid, 5), "PR_SET_PDEATHSIG should kill the node with its owner"
    finally:
        if _running(node_pid):
            os.killpg(node_pid, signal.SIGKILL)


@pytest.mark.monerod
def test_reap_stale_spares_live_owners_and_reused_pids(
    make_node: Callable[..., MonerodNode], tmp_path: Path
) -> None:
    node = make_node("kept", offline=True)
    node.start()
    node.wait_ready(30)
    assert node.process is not None and node.process.pid is not None
    assert reap_stale(tmp_path) == []  # the owner (this process) is alive
    assert node.alive()

    # a pid file of a dead owner whose pid now belongs to another program
    stale = tmp_path / "fake" / "x.pid.json"
    stale.parent.mkdir()
    stale.write_text(json.dumps({
        "pid": node.process.pid, "pgid": node.process.pid, "owner_pid": 2**22 + 7,
        "argv": ["monerod", "--something-else"], "start_ticks": None,
    }))
    assert reap_stale(tmp_path) == []
    assert node.alive()
    assert not stale.exists()


def test_stop_escalates_to_sigkill_for_the_whole_group(tmp_path: Path) -> None:
    # a shell that ignores SIGTERM and has a child (which inherits the ignore)
    proc = ManagedProcess(
        ["sh", "-c", "trap '' TERM; sleep 60 & echo child $!; wait"],
        name="stubborn",
        run_dir=tmp_path,
    )
    proc.start()
    deadline = time.monotonic() + 5
    while "child" not in proc.log_tail() and time.monotonic() < deadline:
        time.sleep(0.05)
    child = int(proc.log_tail().split("child")[1].split()[0])
    assert _running(child)
    assert proc.pid is not None and proc_start_ticks(proc.pid) is not None

    began = time.monotonic()
    code = proc.stop(term_timeout=0.5, kill_timeout=5)
    assert code == -signal.SIGKILL
    assert time.monotonic() - began < 5
    assert _wait_gone(child, 5)
    assert not proc.pid_file.exists()
    assert not proc.alive()
