"""Port allocation: disjoint across xdist workers, sessions and processes."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_monerosim.backends.monerod.errors import MonerodBackendError
from pytest_monerosim.backends.monerod.ports import (
    BLOCK_SIZE,
    PortAllocator,
    port_range,
    worker_slot,
)


def test_worker_slot_parses_xdist_ids() -> None:
    assert worker_slot("gw0") == 0
    assert worker_slot("gw12") == 12
    assert worker_slot("") == 0
    assert worker_slot("master") == 0


def test_two_workers_never_share_a_port(tmp_path: Path) -> None:
    with PortAllocator("gw0", lock_dir=tmp_path) as w0, PortAllocator(
        "gw1", lock_dir=tmp_path
    ) as w1:
        ports0 = {p for _ in range(30) for p in w0.node_ports().as_dict().values()}
        ports1 = {p for _ in range(30) for p in w1.node_ports().as_dict().values()}
        assert len(ports0) == len(ports1) == 120
        assert not ports0 & ports1
        assert not set(w0.held_blocks) & set(w1.held_blocks)


def test_two_sessions_with_the_same_worker_id_never_share_a_port(tmp_path: Path) -> None:
    with PortAllocator("gw0", lock_dir=tmp_path) as first, PortAllocator(
        "gw0", lock_dir=tmp_path
    ) as second:
        a = set(first.allocate_many(BLOCK_SIZE + 5))
        b = set(second.allocate_many(BLOCK_SIZE + 5))
        assert not a & b


def test_a_block_held_by_another_process_is_skipped(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys\n"
         "from pathlib import Path\n"
         "from pytest_monerosim.backends.monerod.ports import PortAllocator\n"
         "a = PortAllocator('gw3', lock_dir=Path(sys.argv[1]))\n"
         "print(a.allocate(), flush=True)\n"
         "sys.stdin.read()\n",
         str(tmp_path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None
        theirs = int(holder.stdout.readline())
        with PortAllocator("gw3", lock_dir=tmp_path) as mine:
            ours = mine.allocate_many(BLOCK_SIZE)
            assert theirs not in ours
            assert all(abs(p - theirs) >= 1 for p in ours)
            assert min(ours) >= theirs + BLOCK_SIZE - 1 or max(ours) < theirs
    finally:
        holder.kill()
        holder.wait()
    # the dead holder's lock is gone with it: its block is free again
    with PortAllocator("gw3", lock_dir=tmp_path) as again:
        assert again.allocate() == theirs


def test_ports_in_use_are_skipped_and_never_reused(tmp_path: Path) -> None:
    with PortAllocator("gw5", lock_dir=tmp_path) as alloc:
        first = alloc.allocate()
        with socket.socket() as squatter:
            squatter.bind(("127.0.0.1", first + 1))
            squatter.listen()
            second = alloc.allocate()
        assert second == first + 2
        assert len(set(alloc.allocate_many(100)) | {first, second}) == 102


def test_bad_port_range_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONEROSIM_PORT_RANGE", "20000-10")
    with pytest.raises(MonerodBackendError, match="MONEROSIM_PORT_RANGE"):
        port_range()
    monkeypatch.setenv("MONEROSIM_PORT_RANGE", "20000-21000")
    assert port_range() == (20000, 21000)
