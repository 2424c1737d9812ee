"""Each host its own namespace: address plan, names, cleanup and monerod's gossip on it.

The unit tests run anywhere. The real ones need root and ``ip netns`` (they
skip naming what is missing); the gossip test also needs Debian's ``monero``.
"""

from __future__ import annotations

import ipaddress
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from pytest_monerosim.backends.monerod import netns
from pytest_monerosim.backends.monerod.errors import MonerodBackendError
from pytest_monerosim.backends.monerod.hosts import bootstrap_peers, choose_isolation
from pytest_monerosim.backends.monerod.netns import (
    HostAddressing,
    NetnsNetwork,
    address_plan,
    bridge_name,
    netns_name,
    reap_stale_networks,
    run_token,
    subnet16,
    veth_name,
)
from pytest_monerosim.backends.monerod.process import _same_command
from pytest_monerosim.backends.plan import DaemonSpec

# -- address plan and names (no root needed) ------------------------------------------


def test_honest_hosts_each_get_their_own_slash16_inside_the_run_block() -> None:
    hosts = [HostAddressing(f"n{i}", region=("eu" if i % 2 else "na"), group="g") for i in range(40)]
    plan = address_plan(hosts, first_octet=242)
    assert len(set(plan.values())) == 40
    assert len({subnet16(a) for a in plan.values()}) == 40
    block = ipaddress.ip_network("242.0.0.0/7")
    assert all(ipaddress.ip_address(a) in block for a in plan.values())
    # a region is a contiguous range of /16s: "eu" first (sorted), then "na"
    second = {n: int(a.split(".")[1]) for n, a in plan.items()}
    eu = sorted(second[h.name] for h in hosts if h.region == "eu")
    na = sorted(second[h.name] for h in hosts if h.region == "na")
    assert eu == list(range(0, 20)) and na == list(range(20, 40))


def test_a_dishonest_group_shares_one_slash16_as_one_provider_would() -> None:
    hosts = [HostAddressing(f"h{i}") for i in range(3)]
    hosts += [HostAddressing(f"s{i}", group="sybil", honest=False) for i in range(5)]
    plan = address_plan(hosts)
    sybil16 = {subnet16(plan[f"s{i}"]) for i in range(5)}
    assert len(sybil16) == 1
    assert len({plan[f"s{i}"] for i in range(5)}) == 5
    assert sybil16.isdisjoint({subnet16(plan[f"h{i}"]) for i in range(3)})


def test_more_hosts_than_slash16s_share_them_round_robin() -> None:
    plan = address_plan([HostAddressing(f"n{i}") for i in range(600)])
    assert len(set(plan.values())) == 600
    assert len({subnet16(a) for a in plan.values()}) == netns.HOST_SUBNETS


def test_interface_names_fit_linux_15_characters_and_carry_the_worker() -> None:
    token = run_token("gw7")
    assert len(token) == 5 and token[0] == "7"
    assert run_token("gw0") != run_token("gw0")
    for index in (0, 35, 36 ** 3 - 1):
        assert len(veth_name(token, index)) <= 15
    assert len(bridge_name(token)) <= 15
    assert netns_name(token, 3) == f"msim-{token}-3"
    with pytest.raises(netns.NetnsError, match="longer than 15"):
        veth_name(token, 36 ** 8)


def test_the_reaper_matches_a_process_that_exec_ed_past_ip_netns_exec() -> None:
    argv = ["ip", "netns", "exec", "msim-x-0", "monerod", "--regtest"]
    assert _same_command(["monerod", "--regtest"], argv)
    assert _same_command(argv, argv)
    assert not _same_command(["monerod", "--testnet"], argv)
    assert not _same_command(None, argv)


def test_isolation_choice_and_its_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    assert choose_isolation("loopback") == ("loopback", "loopback asked for (isolation=loopback)")
    monkeypatch.setenv("MONEROSIM_NETNS", "0")
    mode, reason = choose_isolation("auto")
    assert mode == "loopback" and "MONEROSIM_NETNS=0" in reason and "\n" not in reason
    with pytest.raises(MonerodBackendError, match="isolation=netns cannot be had"):
        choose_isolation("netns")
    with pytest.raises(MonerodBackendError, match="accepted: auto, netns, loopback"):
        choose_isolation("vlan")


def test_discovery_bootstrap_renders_the_layouts_add_peers() -> None:
    specs = {n: DaemonSpec(p2p_port=18080 + i, rpc_port=18081, out_peers=12, add_peers=tuple(known))
             for i, (n, known) in enumerate({"a": "", "b": "a", "c": "ab", "d": "ac"}.items())}
    ips = {n: f"240.{i}.0.2" for i, n in enumerate("abcd")}
    out = bootstrap_peers(specs, ips)
    assert out["a"].extra_args == ()
    assert out["b"].extra_args == ("--add-peer", "240.0.0.2:18080")
    assert out["d"].extra_args == ("--add-peer", "240.0.0.2:18080", "--add-peer", "240.2.0.2:18082")


def test_a_dead_owners_state_file_is_reaped(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    state = {"token": "zzzzz", "slot": 0, "bridge": "mbzzzzz", "owner_pid": int(dead.stdout),
             "owner_start_ticks": 1, "hosts": {"a": {"netns": "msim-zzzzz-0", "veth": "mvzzzzz0"}}}
    (tmp_path / "zzzzz.json").write_text(json.dumps(state))
    live = dict(state, token="yyyyy", owner_pid=os.getpid(), owner_start_ticks=None)
    (tmp_path / "yyyyy.json").write_text(json.dumps(live))
    assert reap_stale_networks(tmp_path) == ["zzzzz"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["yyyyy.json"]


# -- real namespaces ------------------------------------------------------------------

needs_netns = pytest.mark.skipif(not netns.netns_support()[0], reason=netns.netns_support()[1])


def _leftovers(token: str) -> list[str]:
    names = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    links = subprocess.run(["ip", "-br", "link"], capture_output=True, text=True).stdout
    return [line.split()[0] for line in (names + links).splitlines() if line and token in line]


@needs_netns
def test_hosts_reach_each_other_and_nothing_is_left_after_close(tmp_path: Path) -> None:
    with NetnsNetwork(state_dir=tmp_path) as net:
        a = net.add_host("a", [net.address_in(0, 2)], bandwidth_up_bps=20e6, bandwidth_down_bps=20e6)
        b = net.add_host("b", net.spare_addresses(50))
        assert len({subnet16(x) for x in b.addresses}) == 50
        assert subnet16(a.address) not in {subnet16(x) for x in b.addresses}
        server = subprocess.Popen(b.exec_prefix() + [
            sys.executable, "-c", textwrap.dedent(f"""
                import socket
                s = socket.socket(); s.bind(("{b.addresses[-1]}", 9999)); s.listen()
                c, peer = s.accept(); c.sendall(peer[0].encode()); c.close()
            """)])
        try:
            client = subprocess.run(a.exec_prefix() + [
                sys.executable, "-c", textwrap.dedent(f"""
                    import socket, time
                    for _ in range(50):
                        try:
                            s = socket.create_connection(("{b.addresses[-1]}", 9999), timeout=2); break
                        except OSError:
                            time.sleep(0.1)
                    print(s.recv(100).decode())
                """)], capture_output=True, text=True, timeout=30)
            assert client.stdout.strip() == a.address, client.stderr  # seen from a's own address
            outside = subprocess.run(a.exec_prefix() + ["ip", "route", "get", "8.8.8.8"],
                                     capture_output=True, text=True)
            assert outside.returncode != 0, "a host must have no route out of the run's block"
        finally:
            server.kill()
            server.wait()
        token = net.token
        assert _leftovers(token)
    assert _leftovers(token) == []
    assert not (tmp_path / f"{token}.json").exists()


@needs_netns
def test_a_sigkilled_owner_leaves_namespaces_the_next_run_reaps(tmp_path: Path) -> None:
    script = textwrap.dedent(f"""
        import subprocess, sys, time
        from pathlib import Path
        from pytest_monerosim.backends.monerod.netns import NetnsNetwork
        net = NetnsNetwork(state_dir=Path({str(tmp_path)!r}))
        host = net.add_host("h", [net.address_in(3, 2)])
        child = subprocess.Popen(host.exec_prefix() + ["sleep", "300"])
        print(net.token, child.pid, flush=True)
        time.sleep(300)
    """)
    owner = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert owner.stdout is not None
    token, child = owner.stdout.readline().split()
    owner.send_signal(signal.SIGKILL)
    owner.wait()
    assert _leftovers(token), "SIGKILL runs no cleanup: the namespace is still there"
    assert Path(f"/proc/{child}").exists()
    assert token in reap_stale_networks(tmp_path)
    assert _leftovers(token) == []
    deadline = time.monotonic() + 5
    while Path(f"/proc/{child}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    state = Path(f"/proc/{child}/stat")
    assert not state.exists() or state.read_text().rsplit(")", 1)[-1].split()[0] == "Z"


@needs_netns
def test_sigterm_to_the_owner_removes_its_namespaces(tmp_path: Path) -> None:
    script = textwrap.dedent(f"""
        import time
        from pathlib import Path
        from pytest_monerosim.backends.monerod.netns import NetnsNetwork
        from pytest_monerosim.backends.monerod.process import ManagedProcess
        net = NetnsNetwork(state_dir=Path({str(tmp_path)!r}))
        host = net.add_host("h", [net.address_in(4, 2)])
        proc = ManagedProcess(host.exec_prefix() + ["sleep", "300"], name="sleeper",
                              run_dir=Path({str(tmp_path)!r}))
        proc.start()
        print(net.token, proc.pid, flush=True)
        time.sleep(300)
    """)
    owner = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert owner.stdout is not None
    token, child = owner.stdout.readline().split()
    assert _leftovers(token)
    owner.send_signal(signal.SIGTERM)
    assert owner.wait(timeout=30) == -signal.SIGTERM
    assert _leftovers(token) == [], "SIGTERM stops the processes, then deletes the namespaces"
    assert not (tmp_path / f"{token}.json").exists()
    assert not Path(f"/proc/{child}").exists() or "Z" in Path(f"/proc/{child}/stat").read_text()


@needs_netns
def test_two_networks_at_once_never_share_an_address_block(tmp_path: Path) -> None:
    with NetnsNetwork(state_dir=tmp_path / "a") as a, NetnsNetwork(state_dir=tmp_path / "b") as b:
        assert a.block != b.block and a.bridge != b.bridge
        ha = a.add_host("x", [a.address_in(0, 2)])
        hb = b.add_host("x", [b.address_in(0, 2)])
        assert ha.netns != hb.netns and ha.veth != hb.veth
