"""The process plan shared by the real backends, its command lines, and the run parser.

No binaries needed: these check the plan's structure, the rendered argv, the
agent command line round trip and the monerod-log parser on a captured log.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from pytest_monerosim.agents.hosting import parse_agent_args, script_of
from pytest_monerosim.backends.command_lines import (
    AgentRuntimeArgs,
    agent_argv,
    agent_env,
    ban_list_lines,
    monerod_argv,
    wallet_rpc_argv,
)
from pytest_monerosim.backends.parse import build_result, parse_log_time, parse_monerod_log
from pytest_monerosim.backends.plan import (
    DAEMON_LOG_LEVEL,
    HOST_NAME,
    StandardPorts,
    build_plan,
    loopback_discovery,
)
from pytest_monerosim.config.model import Scenario
from pytest_monerosim.registry import Registry


@pytest.fixture(scope="module")
def registry() -> Registry:
    import importlib

    reg = Registry()
    for module in ("pytest_monerosim.topology.plugins", "pytest_monerosim.agents.behaviours",
                   "pytest_monerosim.agents.wallets"):
        reg.add_all(importlib.import_module(module).PLUGINS)
    return reg


def scenario(topology: object = "ring", **extra: object) -> Scenario:
    data: dict[str, Any] = {
        "general": {"name": "plan", "duration": 600, "seed": 4},
        "network": {"topology": topology, "latency": {"name": "constant", "latency_s": 0.03}},
        "nodes": [{"group": "m", "count": 2, "role": "miner", "hashrate": 3},
                  {"group": "r", "count": 3, "start_time": 60},
                  {"group": "u", "role": "user"}],
        "wallets": [{"name": "mw", "node_group": "m", "strategy": "mining_wallet"},
                    {"name": "bank", "nodes": ["m-0"], "strategy": "distributor"},
                    {"name": "bob", "nodes": ["u"],
                     "strategy": {"name": "transaction_bot", "recipients": ["mw"]}}],
    }
    data.update(extra)
    return Scenario.model_validate(data)


def test_static_topology_gives_exclusive_peers_along_edges(registry: Registry) -> None:
    plan = build_plan(scenario("ring"), registry)
    names = ["m-0", "m-1", "r-0", "r-1", "r-2", "u"]
    assert [h for h in plan.hosts if h != "monitor"] == names
    assert all(HOST_NAME.match(h) for h in plan.hosts)
    outgoing = {h.name: h.daemon.exclusive_peers for h in plan.daemon_hosts() if h.daemon}
    edges = {(a, b) for a, peers in outgoing.items() for b in peers}
    assert len(edges) == 6, "a ring of 6 has 6 links, each opened by one side"
    assert all((b, a) not in edges for a, b in edges)
    for host in plan.daemon_hosts():
        assert host.daemon is not None
        assert host.daemon.out_peers == len(host.daemon.exclusive_peers)
        assert not host.daemon.seed_peers and not host.daemon.offline
    assert plan.hosts["r-1"].daemon.start_time == 60  # type: ignore[union-attr]
    assert set(plan.graph.edges()) >= {tuple(sorted(e)) for e in edges} or all(
        plan.graph.has_edge(a, b) for a, b in edges)
    assert all(d["latency_s"] == 0.03 for a, b, d in plan.graph.edges(data=True)
               if "monitor" not in (a, b))


def test_monero_topology_uses_seed_nodes_and_out_in_limits(registry: Registry) -> None:
    sc = scenario({"name": "monero", "seeds": 2}, p2p={"out_peers": 3, "in_peers": 5})
    plan = build_plan(sc, registry)
    assert plan.dynamic
    seeds = [h.name for h in plan.daemon_hosts() if h.seed_node]
    assert seeds == ["m-0", "m-1"]
    for host in plan.daemon_hosts():
        d = host.daemon
        assert d is not None
        assert not d.exclusive_peers and d.out_peers == 3 and d.in_peers == 5
        assert set(d.seed_peers) == set(seeds) - {host.name}
    n = len(plan.daemon_hosts())
    assert plan.graph.subgraph([h.name for h in plan.daemon_hosts()]).number_of_edges() == n * (n - 1) // 2
    picks = loopback_discovery(plan)
    assert picks["u"][:2] == ("m-0", "m-1"), "seed peers first"
    assert all(len(p) <= 3 and h not in p for h, p in picks.items())
    assert "r-0" not in picks["m-0"], "nodes that start later are not known yet"


def test_agents_wallets_and_coinbase_wallet(registry: Registry) -> None:
    plan = build_plan(scenario(), registry)
    scripts = {a.name: (a.script, a.host, a.wallet) for a in plan.agents()}
    assert scripts["miner-m-0"] == ("miner", "m-0", "mw-0"), "coinbase pays the mining_wallet"
    assert scripts["miner-m-1"] == ("miner", "m-1", "mw-1")
    assert scripts["distributor-bank"] == ("distributor", "m-0", "bank")
    assert scripts["user-bob"] == ("user", "u", "bob")
    assert scripts["monitor"] == ("monitor", "monitor", None)
    assert not any(a.host.startswith("r-") for a in plan.agents()), "passive relays need no agent"
    ports = [w.rpc_port for _, w in plan.wallets()]
    assert ports == [18090, 18091, 18090, 18090], "per-host wallet ports from 18090"
    miner = next(a for a in plan.agents() if a.name == "miner-m-0")
    assert miner.options["total_hashrate"] == 6 and miner.options["hashrate"] == 3


def test_monerod_and_wallet_argv(registry: Registry) -> None:
    plan = build_plan(scenario(), registry)
    peers = plan.peer_addresses(lambda h: f"11.0.0.{list(plan.hosts).index(h) + 1}")
    host = plan.hosts["m-1"]
    assert host.daemon is not None
    argv = monerod_argv(host.daemon, address="11.0.0.2", data_dir="/data/m-1", peer_addresses=peers)
    assert argv[:3] == ["monerod", "--regtest", "--keep-fakechain"]
    joined = " ".join(argv)
    assert f"--log-level {DAEMON_LOG_LEVEL}" in joined
    assert "--p2p-bind-ip 11.0.0.2 --p2p-bind-port 18080" in joined
    assert "--rpc-bind-ip 11.0.0.2 --rpc-bind-port 18081" in joined
    assert "--confirm-external-bind" in argv and "--log-file /data/m-1/monerod.log" in joined
    for peer in host.daemon.exclusive_peers:
        assert f"--add-exclusive-node {peers[peer]}" in joined
    loop = monerod_argv(host.daemon, address="127.0.0.3", rpc_address="127.0.0.1", data_dir="/d",
                        peer_addresses=peers, max_connections_per_ip=256)
    assert "--confirm-external-bind" not in loop and "--max-connections-per-ip" in loop
    _, wallet = plan.wallet("bob")
    wargv = wallet_rpc_argv(wallet, address="11.0.0.6", daemon_address="11.0.0.6:18081",
                            wallet_dir="/w")
    assert "--rpc-ssl" in wargv and "--daemon-address" in wargv and "--regtest" not in wargv
    with pytest.raises(ValueError, match="no address"):
        monerod_argv(host.daemon, address="x", data_dir="/d", peer_addresses={})


def test_agent_argv_round_trips_through_the_scripts_parser(registry: Registry) -> None:
    plan = build_plan(scenario(), registry)
    runtime = AgentRuntimeArgs(out_dir="/run/hosts/m-0", shared_dir="/run/shared", t0=946684800.0,
                               time_scale=1.0, duration=600, seed=4)
    ip = {h: f"11.0.0.{i + 1}" for i, h in enumerate(plan.hosts)}
    for agent in plan.agents():
        argv = agent_argv(agent, plan, runtime, address_of=ip.__getitem__, python="/usr/bin/python3")
        assert argv[:3] == ["/usr/bin/python3", "-m", f"pytest_monerosim.agents.{agent.script}"]
        setup = parse_agent_args(script_of(argv), argv[3:])
        assert (setup.name, setup.host, setup.wallet, setup.plugin) == (
            agent.name, agent.host, agent.wallet, agent.plugin)
        assert setup.t0 == 946684800.0 and setup.time_scale == 1.0
        if agent.script == "miner":
            assert setup.daemon_url == f"http://{ip[agent.host]}:18081"
            assert setup.options["p2p"]["m-0"] == "11.0.0.1:18080"
        if agent.script in ("user", "distributor"):
            assert {w["name"] for w in setup.options["roster"]} == {"mw-0", "mw-1", "bank", "bob"}
        if agent.script == "monitor":
            assert set(setup.options["daemons"]) == set(plan.hosts) - {"monitor"}
            assert "monitor" not in setup.options["agents"]
    env = agent_env(home="/run", pythonpath=["/src"], path="/usr/bin")
    assert env == {"PATH": "/usr/bin", "HOME": "/run", "PYTHONPATH": "/src", "PYTHONUNBUFFERED": "1",
                   "PYTHONDONTWRITEBYTECODE": "1", "TZ": "UTC", "LANG": "C.UTF-8"}


def test_standard_ports_and_bad_host_names(registry: Registry) -> None:
    ports = StandardPorts()
    assert (ports("a", "p2p"), ports("a", "rpc"), ports("a", "wallet:x"), ports("a", "wallet:y"),
            ports("b", "wallet:z")) == (18080, 18081, 18090, 18091, 18090)
    assert not HOST_NAME.match("Bad_Name")
    plan = build_plan(scenario(), registry)
    assert json.loads(json.dumps(plan.to_json()))["hosts"][0]["name"] == "m-0"


LOG = """\
2026-11-25 13:13:49.100\t[P2P1]\tINFO\tblockchain\tsrc/cryptonote_core/blockchain.cpp:4524\t+++++ BLOCK SUCCESSFULLY ADDED
2026-11-25 13:13:49.100\t[P2P1]\tINFO\tblockchain\tsrc/cryptonote_core/blockchain.cpp:4524\tid:\t<{a3}>
2026-11-25 13:13:49.100\t[P2P1]\tINFO\tblockchain\tsrc/cryptonote_core/blockchain.cpp:4524\tPoW:\t<{pow}>
2026-11-25 13:13:49.100\t[P2P1]\tINFO\tblockchain\tsrc/cryptonote_core/blockchain.cpp:4524\tHEIGHT 3, difficulty:\t1
2026-11-25 13:13:49.200\t[P2P1]\tINFO\tblockchain\tsrc/cryptonote_core/blockchain.cpp:4524\t+++++ BLOCK SUCCESSFULLY ADDED
2026-11-25 13:13:49.200\t[P2P1]\tINFO\tblockchain\tsrc/cryptonote_core/blockchain.cpp:4524\tid:\t<{a4}>
2026-11-25 13:13:49.200\t[P2P1]\tINFO\tblockchain\tsrc/cryptonote_core/blockchain.cpp:4524\tHEIGHT 4, difficulty:\t1
2026-11-25 13:13:51.945\t[P2P2]\tINFO\tglobal\tsrc/cryptonote_core/blockchain.cpp:2116\t----- BLOCK ADDED AS ALTERNATIVE ON HEIGHT 3
2026-11-25 13:13:51.945\t[P2P2]\tINFO\tglobal\tsrc/cryptonote_core/blockchain.cpp:2116\tid:\t<{b3}>
2026-11-25 13:13:52.003\t[P2P2]\tINFO\tglobal\tsrc/cryptonote_core/blockchain.cpp:2116\t----- BLOCK ADDED AS ALTERNATIVE ON HEIGHT 4
2026-11-25 13:13:52.003\t[P2P2]\tINFO\tglobal\tsrc/cryptonote_core/blockchain.cpp:2116\tid:\t<{b4}>
2026-11-25 13:13:52.031\t[P2P2]\tINFO\tglobal\tsrc/cryptonote_core/blockchain.cpp:2105\t###### REORGANIZE on height: 3 of 4 with cum_difficulty 5
2026-11-25 13:13:52.040\t[P2P2]\tINFO\tblockchain\tsrc/cryptonote_core/blockchain.cpp:4524\t+++++ BLOCK SUCCESSFULLY ADDED
2026-11-25 13:13:52.040\t[P2P2]\tINFO\tblockchain\tsrc/cryptonote_core/blockchain.cpp:4524\tid:\t<{b3}>
2026-11-25 13:13:52.040\t[P2P2]\tINFO\tblockchain\tsrc/cryptonote_core/blockchain.cpp:4524\tHEIGHT 3, difficulty:\t1
2026-11-25 13:13:52.050\t[P2P2]\tINFO\tblockchain\tsrc/cryptonote_core/blockchain.cpp:4524\t+++++ BLOCK SUCCESSFULLY ADDED
2026-11-25 13:13:52.050\t[P2P2]\tINFO\tblockchain\tsrc/cryptonote_core/blockchain.cpp:4524\tid:\t<{b4}>
2026-11-25 13:13:52.050\t[P2P2]\tINFO\tblockchain\tsrc/cryptonote_core/blockchain.cpp:4524\tHEIGHT 4, difficulty:\t1
2026-11-25 13:13:52.060\t[P2P2]\tINFO\tblockchain\tsrc/cryptonote_core/blockchain.cpp:4524\t+++++ BLOCK SUCCESSFULLY ADDED
2026-11-25 13:13:52.060\t[P2P2]\tINFO\tblockchain\tsrc/cryptonote_core/blockchain.cpp:4524\tid:\t<{b5}>
2026-11-25 13:13:52.060\t[P2P2]\tINFO\tblockchain\tsrc/cryptonote_core/blockchain.cpp:4524\tHEIGHT 5, difficulty:\t1
2026-11-25 13:13:52.070\t[P2P2]\tINFO\tglobal\tsrc/cryptonote_core/blockchain.cpp:2116\t----- BLOCK ADDED AS ALTERNATIVE ON HEIGHT 3
2026-11-25 13:13:52.070\t[P2P2]\tINFO\tglobal\tsrc/cryptonote_core/blockchain.cpp:2116\tid:\t<{a3}>
2026-11-25 13:13:52.195\t[P2P2]\tINFO\tglobal\tsrc/cryptonote_core/blockchain.cpp:1265\tREORGANIZE SUCCESS! on height: 3, new blockchain size: 6
"""


def test_monerod_log_gives_arrivals_tips_and_reorgs(tmp_path: Path) -> None:
    ids = {k: (c * 64) for k, c in (("a3", "a"), ("a4", "c"), ("b3", "b"), ("b4", "d"),
                                     ("b5", "e"), ("pow", "f"))}
    path = tmp_path / "monerod.log"
    path.write_text(LOG.format(**ids))
    log = parse_monerod_log(path, "n0")
    t = parse_log_time
    assert t("2026-11-25 13:13:49.100") == pytest.approx(1795612429.1)
    assert log.arrivals[ids["a3"]] == t("2026-11-25 13:13:49.100"), "first sighting wins"
    assert log.arrivals[ids["b3"]] == t("2026-11-25 13:13:51.945"), "alternatives count"
    assert log.heights[ids["b5"]] == 5
    assert [(h, i) for _, h, i in log.tips] == [(3, ids["a3"]), (4, ids["a4"]), (5, ids["b5"])]
    (reorg,) = log.reorgs
    assert (reorg.split_height, reorg.old_height, reorg.new_height) == (3, 4, 5)
    assert (reorg.old_tip, reorg.new_tip) == (ids["a4"], ids["b5"])
    assert parse_monerod_log(tmp_path / "missing.log", "x").arrivals == {}


def test_build_result_from_records(registry: Registry, tmp_path: Path) -> None:
    sc = Scenario.model_validate({"general": {"duration": 240}, "network": {"topology": "mesh"},
                                  "nodes": [{"group": "n", "count": 2, "role": "miner",
                                             "hashrate": 1}]})
    plan = build_plan(sc, registry)
    t0, g, b1 = 1000.0, "0" * 63 + "1", "b" * 64
    hosts = {h: tmp_path / h for h in plan.hosts}
    for d in hosts.values():
        d.mkdir()
    records = [
        {"type": "block", "wall": 1000.5, "id": g, "height": 0, "parent": None, "reward": 17,
         "difficulty": 1, "cumulative_difficulty": 1, "tx_ids": []},
        {"type": "block", "wall": 1001.0, "id": b1, "height": 1, "parent": g, "reward": 35,
         "difficulty": 1, "cumulative_difficulty": 2, "tx_ids": []},
        {"type": "tip", "wall": 1001.0, "node": "n-0", "height": 1, "id": b1},
        {"type": "tip", "wall": 1001.0, "node": "n-1", "height": 1, "id": b1},
        {"type": "peers", "wall": 1001.0, "edges": [["n-0", "n-1"]]},
    ]
    (hosts["monitor"] / "monitor.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records)
                                                    + '{"torn": ')
    (hosts["n-0"] / "miner-n-0.jsonl").write_text(json.dumps(
        {"type": "mined", "wall": 1000.9, "node": "n-0", "block": b1, "height": 1}) + "\n")
    result = build_result(plan, hosts, t0=t0, time_scale=120.0, backend="monerod")
    assert result.backend == "monerod" and result.genesis == g
    block = result.blocks[b1]
    assert block.miner == "n-0" and block.found_at == pytest.approx(0.9 * 120)
    assert block.arrivals == {"n-0": pytest.approx(108.0)}
    assert result.tips == {"n-0": b1, "n-1": b1} and result.coinbase_issued == 35
    assert result.peer_snapshots[0].edges == [("n-0", "n-1")]


def test_per_node_conditions_reach_the_daemons_command_lines(registry: Registry) -> None:
    """``hidden`` -> ``--hide-my-port``; ``ban_list`` -> ``--ban-list`` with ``group:<name>``
    as the /24s of that group's hosts; ``reachable: 0`` is carried for the network to refuse
    inbound connections (not ``--in-peers 0``: 0.18.0.0 then drops its own dials too)."""
    plan = build_plan(scenario(nodes=[
        {"group": "m", "count": 2, "role": "miner", "hashrate": 1},
        {"group": "nat", "reachable": 0.0}, {"group": "quiet", "hidden": 1.0},
        {"group": "strict", "ban_list": ["group:m", "203.0.113.7", "198.51.100.0/24"]},
    ], wallets=[]), registry)
    daemons = {h.name: h.daemon for h in plan.daemon_hosts()}
    assert daemons["nat"].reachable is False and daemons["nat"].in_peers is None
    assert daemons["quiet"].hidden and not daemons["m-0"].hidden
    ips = {h: f"240.{i}.0.2" for i, h in enumerate(daemons)}
    peers = plan.peer_addresses(ips.__getitem__)
    quiet = monerod_argv(daemons["quiet"], address=ips["quiet"], data_dir="/d", peer_addresses=peers)
    assert "--hide-my-port" in quiet and "--ban-list" not in quiet
    lines = ban_list_lines(daemons["strict"].ban_list, groups={h.name: h.group for h in plan.daemon_hosts()},
                           addresses=ips)
    assert lines == ["240.0.0.0/24", "240.1.0.0/24", "203.0.113.7", "198.51.100.0/24"]
    strict = monerod_argv(daemons["strict"], address=ips["strict"], data_dir="/d",
                          peer_addresses=peers, ban_list_file="/d/ban-list.txt")
    assert strict[strict.index("--ban-list") + 1] == "/d/ban-list.txt"


def test_loopback_daemons_never_fall_back_to_mainnet_seeds(registry: Registry) -> None:
    """A loopback daemon with no exclusive peer would dial mainnet's seed nodes: it gets a dead one."""
    from pytest_monerosim.backends.monerod.hosts import NO_SEEDS_PEER, without_public_seeds

    daemon = build_plan(scenario(), registry).daemon_hosts()[0].daemon
    assert daemon is not None
    # a static topology's node with only incoming edges: no exclusive peer of its own
    sink = dataclasses.replace(daemon, exclusive_peers=(), offline=False)
    lone = dataclasses.replace(sink, offline=True)
    linked = dataclasses.replace(sink, exclusive_peers=("m-0",))
    out = without_public_seeds({"sink": sink, "lone": lone, "linked": linked})
    assert out["sink"].extra_args[-2:] == ("--add-exclusive-node", NO_SEEDS_PEER)
    assert out["lone"] == lone, "an offline daemon dials nobody anyway"
    assert out["linked"] == linked, "exclusive peers already turn the seed lookup off"
