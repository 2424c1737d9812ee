"""A real regtest monerod: start, RPC, peering and sync, errors, death, stop."""

from __future__ import annotations

import json
import os
import signal
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from pytest_monerosim.backends.monerod import (
    MonerodNode,
    PortInUse,
    ProcessDied,
    RpcError,
)
from pytest_monerosim.backends.monerod.daemon import (
    wait_for_connections,
    wait_for_height,
    wait_for_same_tip,
)
from pytest_monerosim.backends.monerod.restart import restart

pytestmark = pytest.mark.monerod

MakeNode = Callable[..., MonerodNode]


def test_node_starts_and_answers_get_info(make_node: MakeNode) -> None:
    node = make_node("solo", offline=True)
    node.start()
    node.wait_ready(timeout=30)

    info = node.rpc.get_info()
    assert info["status"] == "OK"
    assert info["nettype"] == "fakechain"
    assert info["offline"] is True
    assert info["height"] == 1
    assert node.rpc.get_height() == 1
    assert node.health().ok

    assert node.process is not None
    record = json.loads(node.process.pid_file.read_text())
    assert record["pid"] == node.process.pid == record["pgid"]
    assert record["owner_pid"] == os.getpid()
    assert record["argv"] == node.command_line()


def test_two_exclusive_peers_connect_and_sync_mined_blocks(
    make_node: MakeNode, burn_address: str
) -> None:
    a = make_node("a")
    b = make_node("b", exclusive_peers=[a.p2p_address], out_peers=4)
    a.start()
    b.start()
    a.wait_ready(30)
    b.wait_ready(30)
    wait_for_connections(a, 1, timeout=30)
    a.wait_synchronized(timeout=30)

    outgoing = [c for c in b.rpc.get_connections() if not c["incoming"]]
    assert [c["address"] for c in outgoing] == [a.p2p_address]

    mined = a.rpc.generateblocks(10, burn_address)
    assert mined["height"] == 10
    assert len(mined["blocks"]) == 10
    wait_for_height([a, b], 11, timeout=30)
    tip = wait_for_same_tip([a, b], timeout=30)
    assert tip == mined["blocks"][-1]
    assert b.rpc.get_block_header_by_height(10)["hash"] == mined["blocks"][-1]
    assert b.rpc.get_last_block_header()["height"] == 10


def test_rpc_error_carries_code_method_and_url(make_node: MakeNode) -> None:
    node = make_node("err", offline=True)
    node.start()
    node.wait_ready(30)

    with pytest.raises(RpcError) as bad_height:
        node.rpc.get_block_header_by_height(999)
    assert bad_height.value.code == -2
    assert bad_height.value.method == "get_block_header_by_height"
    assert bad_height.value.url == f"http://127.0.0.1:{node.ports.rpc}/json_rpc"
    assert "999" in str(bad_height.value)

    with pytest.raises(RpcError) as unknown:
        node.rpc.call("no_such_method")
    assert unknown.value.code == -32601


def test_generateblocks_on_unsynchronized_node_explains_busy(
    make_node: MakeNode, burn_address: str
) -> None:
    node = make_node("lonely")  # not offline, no peers: never synchronized
    node.start()
    node.wait_ready(30)
    with pytest.raises(RpcError, match="not synchronized"):
        node.rpc.generateblocks(1, burn_address)


def test_taken_port_raises_port_in_use(make_node: MakeNode) -> None:
    node = make_node("clash")
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", node.ports.rpc))
        squatter.listen()
        with pytest.raises(PortInUse) as taken:
            node.start()
    assert taken.value.port == node.ports.rpc
    assert str(node.ports.rpc) in str(taken.value)
    assert node.process is None


def test_bad_flag_fails_fast_with_log_tail(make_node: MakeNode) -> None:
    node = make_node("badflag", extra_args=["--no-such-flag"])
    node.start()
    with pytest.raises(ProcessDied) as died:
        node.wait_ready(timeout=30)
    assert "no-such-flag" in died.value.log_tail
    assert died.value.returncode not in (None, 0)


def test_node_dying_mid_run_is_detected_with_log_tail(
    make_node: MakeNode, burn_address: str
) -> None:
    node = make_node("victim", offline=True)
    node.start()
    node.wait_ready(30)
    node.rpc.generateblocks(2, burn_address)
    assert node.process is not None and node.process.pid is not None

    os.kill(node.process.pid, signal.SIGKILL)
    with pytest.raises(ProcessDied) as died:
        wait_for_height([node], 100, timeout=30)
    assert died.value.returncode == -signal.SIGKILL
    assert "Monero" in died.value.log_tail  # the banner monerod prints at start
    assert str(node.stdout_path) in str(died.value)
    assert not node.health().alive


def test_stop_leaves_no_process(make_node: MakeNode) -> None:
    node = make_node("stopper", offline=True)
    node.start()
    node.wait_ready(30)
    assert node.process is not None
    pid = node.process.pid
    assert pid is not None

    assert node.stop() == 0
    assert not Path(f"/proc/{pid}").exists()
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)
    assert not node.process.pid_file.exists()
    assert not node.alive()


def test_daemon_rpc_surface(make_node: MakeNode, burn_address: str) -> None:
    node = make_node("surface", offline=True)
    node.start()
    node.wait_ready(30)
    rpc = node.rpc

    mined = rpc.generateblocks(3, burn_address)
    block = rpc.get_block(height=2)
    assert block["block_header"]["hash"] == mined["blocks"][1]
    assert rpc.get_block(block_hash=mined["blocks"][1])["block_header"]["height"] == 2
    assert rpc.pop_blocks(1) == 3
    assert rpc.get_height() == 3
    assert rpc.get_alternate_chains() == []
    assert rpc.get_connections() == []
    assert rpc.get_peer_list() == {
        "status": "OK", "untrusted": False, "white_list": [], "gray_list": [],
    }
    assert rpc.get_transaction_pool()["transactions"] == []
    assert rpc.out_peers(0)["out_peers"] == 0
    assert rpc.in_peers(3)["in_peers"] == 3
    rpc.ban("10.1.2.3", 60)
    assert [b["host"] for b in rpc.get_bans()] == ["10.1.2.3"]
    rpc.flush_txpool()
    with pytest.raises(RpcError) as unknown_tx:
        rpc.relay_tx(["00" * 32])
    assert unknown_tx.value.code == -5
    with pytest.raises(RpcError) as garbage:
        rpc.send_raw_transaction("00")
    assert garbage.value.response is not None
    assert garbage.value.response["status"] == "Failed"
    assert "sanity_check_failed" in str(garbage.value)


def test_sigterm_alone_ends_a_session_as_the_shadow_churn_config_expects(
        make_node: MakeNode, burn_address: str) -> None:
    """The Shadow writer ends each churn session of a daemon with SIGTERM at its downtime
    (``shutdown_time``) and expects ``{"exited": 0}``; the next session is a new process on the
    same data directory. monerod installs a handler for SIGTERM (``tools::signal_handler``,
    src/common/util.h; ``t_daemon::run`` stops the p2p server and returns), so this build should
    exit 0 on the signal alone, release its database and keep its chain."""
    node = make_node("churner", offline=True)
    node.start()
    node.wait_ready(30)
    node.rpc.generateblocks(3, burn_address)
    assert node.process is not None
    # no stop RPC: the signal Shadow sends, and nothing else
    assert node.process.stop(graceful=None, term_timeout=20.0, kill_timeout=5.0) == 0
    restart(node)  # the next session: a new process on the same data directory and ports
    node.wait_ready(30)
    assert node.rpc.get_height() == 4
