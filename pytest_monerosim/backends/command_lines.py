"""Rendering a process plan's processes into command lines (pure functions).

:func:`monerod_command` is the one ``monerod`` command line of the project
(the plan's daemons through :func:`monerod_argv`, the test harness's
:class:`~pytest_monerosim.backends.monerod.daemon.MonerodNode` directly);
:func:`wallet_rpc_argv` and :func:`agent_argv` render wallets and agents.
Addresses, directories and the interpreter are given here, never in the plan,
so the same plan runs on 127.0.0.1 with allocated ports and under Shadow with
one IP per host.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..layout.conditions import ban_networks

if TYPE_CHECKING:
    from .plan import AgentSpec, DaemonSpec, ProcessPlan, WalletSpec

DAEMON_LOG_LEVEL = "0,blockchain:INFO"
"""Level 0 plus monerod's ``blockchain`` category at INFO: one timestamped record per
block a node adds (main chain or alternative) and per reorganisation, which the
parser (:mod:`pytest_monerosim.backends.parse`) turns into arrival times and reorgs."""

RPC_CONNECTION_LIMITS = (
    "--rpc-max-connections", "1000",
    "--rpc-max-connections-per-public-ip", "1000",
    "--rpc-max-connections-per-private-ip", "1000",
)
"""monerod and wallet-rpc allow 3 RPC connections per public IP (25 per private one):
under Shadow the monitor and agents reach daemons from other hosts' (public) IPs."""


def monerod_command(
    *,
    binary: str | os.PathLike[str],
    data_dir: str | os.PathLike[str],
    log_file: str | os.PathLike[str],
    address: str,
    p2p_port: int,
    rpc_port: int,
    rpc_address: str | None = None,
    log_level: int | str = DAEMON_LOG_LEVEL,
    fixed_difficulty: int = 1,
    keep_chain: bool = True,
    zmq_port: int | None = None,
    offline: bool = False,
    hide_my_port: bool = False,
    ban_list_file: str | os.PathLike[str] | None = None,
    max_connections_per_ip: int | None = None,
    out_peers: int | None = None,
    in_peers: int | None = None,
    exclusive: Sequence[str] = (),
    priority: Sequence[str] = (),
    seeds: Sequence[str] = (),
    add_peers: Sequence[str] = (),
    extra_args: Sequence[str] = (),
) -> list[str]:
    """THE regtest ``monerod`` command line (every daemon this project starts is built here).

    Peers are ``"ip:port"``; ``rpc_address`` binds the RPC elsewhere than P2P
    (default: ``address``); ``max_connections_per_ip`` must be raised when every
    host shares one IP (loopback: all connections come from 127.0.0.1);
    ``None`` limits keep monerod's defaults. Flags checked against Debian's
    monero 0.18.0.0.
    """
    argv = [os.fspath(binary), "--regtest"]
    if keep_chain:
        argv.append("--keep-fakechain")
    argv += ["--fixed-difficulty", str(fixed_difficulty), "--non-interactive", "--no-igd"]
    if zmq_port is None:
        argv.append("--no-zmq")
    else:
        argv += ["--zmq-rpc-bind-ip", rpc_address or address, "--zmq-rpc-bind-port", str(zmq_port)]
    argv += [
        "--data-dir", os.fspath(data_dir),
        "--log-file", os.fspath(log_file),
        "--log-level", str(log_level),
        "--p2p-bind-ip", address,
        "--p2p-bind-port", str(p2p_port),
        "--rpc-bind-ip", rpc_address or address,
        "--rpc-bind-port", str(rpc_port),
        "--rpc-ssl", "disabled",
        "--disable-rpc-ban",
        *RPC_CONNECTION_LIMITS,
        "--allow-local-ip",
        "--disable-dns-checkpoints",
        "--check-updates", "disabled",
    ]
    if rpc_address is None and not address.startswith("127."):
        argv.append("--confirm-external-bind")
    if offline:
        argv.append("--offline")
    if hide_my_port:
        argv.append("--hide-my-port")
    if ban_list_file is not None:
        argv += ["--ban-list", os.fspath(ban_list_file)]
    if max_connections_per_ip is not None:
        argv += ["--max-connections-per-ip", str(max_connections_per_ip)]
    if out_peers is not None:
        argv += ["--out-peers", str(out_peers)]
    if in_peers is not None:
        argv += ["--in-peers", str(in_peers)]
    for flag, peers in (("--add-exclusive-node", exclusive), ("--add-priority-node", priority),
                        ("--seed-node", seeds), ("--add-peer", add_peers)):
        for peer in peers:
            argv += [flag, peer]
    return argv + list(extra_args)


def monerod_argv(
    daemon: DaemonSpec,
    *,
    address: str,
    data_dir: str | os.PathLike[str],
    peer_addresses: Mapping[str, str],
    rpc_address: str | None = None,
    log_file: str | os.PathLike[str] | None = None,
    binary: str | os.PathLike[str] = "monerod",
    max_connections_per_ip: int | None = None,
    ban_list_file: str | os.PathLike[str] | None = None,
) -> list[str]:
    """:func:`monerod_command` for a planned ``daemon`` on a host with IP ``address``.

    ``peer_addresses`` maps host names to ``"ip:port"`` (see
    :meth:`ProcessPlan.peer_addresses`); ``ban_list_file`` holds the daemon's
    :func:`ban_list_lines` (written by the caller; without it the daemon bans nothing).
    """
    def addresses(hosts: Sequence[str]) -> list[str]:
        try:
            return [peer_addresses[host] for host in hosts]
        except KeyError as exc:
            raise ValueError(f"peer {exc.args[0]!r} has no address; known: "
                             f"{', '.join(sorted(peer_addresses))}") from None

    data_dir = os.fspath(data_dir)
    return monerod_command(
        binary=binary, data_dir=data_dir,
        log_file=log_file if log_file is not None else os.path.join(data_dir, "monerod.log"),
        address=address, p2p_port=daemon.p2p_port, rpc_port=daemon.rpc_port, rpc_address=rpc_address,
        log_level=daemon.log_level, fixed_difficulty=daemon.fixed_difficulty, offline=daemon.offline,
        hide_my_port=daemon.hidden, ban_list_file=ban_list_file if daemon.ban_list else None,
        max_connections_per_ip=max_connections_per_ip, out_peers=daemon.out_peers,
        in_peers=daemon.in_peers, exclusive=addresses(daemon.exclusive_peers),
        priority=addresses(daemon.priority_peers), seeds=addresses(daemon.seed_peers),
        extra_args=daemon.extra_args,
    )


def ban_list_lines(entries: Sequence[str], *, groups: Mapping[str, str],
                   addresses: Mapping[str, str], group_prefix: int = 24) -> list[str]:
    """The lines of monerod's ``--ban-list`` file for the layout's ``entries``.

    monerod reads one entry per line, an IPv4 subnet (``a.b.c.d/n``) or an
    address (``node_server::handle_command_line`` in ``src/p2p/net_node.inl``).
    The entries read as :func:`~pytest_monerosim.layout.conditions.ban_networks`
    reads them for every backend (``groups``: host -> group, ``addresses``: host -> IP).
    """
    def hosts(group: str) -> list[str]:
        return [addresses[h] for h, g in groups.items() if g == group and h in addresses]

    nets = ban_networks(entries, hosts, group_prefix=group_prefix)
    # a /32 as a plain address: monerod blocks it as a host (block_host), as the simulator does
    return list(dict.fromkeys(str(n).removesuffix("/32") for n in nets))


def wallet_rpc_argv(
    wallet: WalletSpec,
    *,
    address: str,
    daemon_address: str,
    wallet_dir: str | os.PathLike[str],
    log_file: str | os.PathLike[str] | None = None,
    binary: str | os.PathLike[str] = "monero-wallet-rpc",
) -> list[str]:
    """monero-wallet-rpc's command line (mainnet mode against the regtest daemon)."""
    wallet_dir = os.fspath(wallet_dir)
    log = os.fspath(log_file) if log_file is not None else os.path.join(wallet_dir, "wallet-rpc.log")
    argv = [
        os.fspath(binary),
        "--daemon-address", daemon_address,
        "--trusted-daemon",
        "--daemon-ssl", "disabled",
        "--disable-rpc-login",
        "--disable-rpc-ban",
        "--rpc-ssl", "disabled",  # else it makes a TLS key at every start: seconds of CPU
        *RPC_CONNECTION_LIMITS,
        "--rpc-bind-ip", address,
        "--rpc-bind-port", str(wallet.rpc_port),
        "--wallet-dir", wallet_dir,
        "--shared-ringdb-dir", os.path.join(wallet_dir, "ringdb"),
        "--log-file", log,
        "--log-level", "0",
        "--non-interactive",
        "--no-dns",
    ]
    if not address.startswith("127."):
        argv.append("--confirm-external-bind")
    return argv


@dataclass(frozen=True)
class AgentRuntimeArgs:
    """What an agent process needs besides its spec: where things are and the clock."""

    out_dir: str
    """Its host's directory: it writes ``<agent name>.jsonl`` there."""
    shared_dir: str
    """A directory every agent can read and write (wallet addresses)."""
    t0: float
    """Epoch seconds at simulated time 0."""
    time_scale: float
    """Simulated seconds per second of the process clock (1 under Shadow)."""
    duration: float
    seed: int
    plugin_modules: tuple[str, ...] = ()
    """Extra modules with a ``PLUGINS`` list to load into the agent's registry."""


def agent_argv(
    agent: AgentSpec,
    plan: ProcessPlan,
    runtime: AgentRuntimeArgs,
    *,
    address_of: Callable[[str], str],
    rpc_address_of: Callable[[str], str] | None = None,
    python: str = sys.executable,
) -> list[str]:
    """``python -m pytest_monerosim.agents.<script> ...`` for ``agent``.

    ``address_of(host)`` gives a host's IP; ``rpc_address_of`` (default the
    same) the IP its RPC servers bind to.
    """
    rpc_of = rpc_address_of or address_of
    argv = [python, "-m", agent.module,
            "--name", agent.name, "--host", agent.host,
            "--out", runtime.out_dir, "--shared", runtime.shared_dir,
            "--t0", repr(runtime.t0), "--time-scale", repr(runtime.time_scale),
            "--duration", repr(runtime.duration), "--seed", str(runtime.seed)]
    for module in runtime.plugin_modules:
        argv += ["--plugin-module", module]
    if agent.start_time:
        argv += ["--start", repr(agent.start_time)]
    if agent.node is not None:
        host = plan.host_of_node(agent.node)
        assert host.daemon is not None
        argv += ["--node", agent.node,
                 "--daemon", f"http://{rpc_of(host.name)}:{host.daemon.rpc_port}"]
    if agent.wallet is not None:
        whost, wspec = plan.wallet(agent.wallet)
        argv += ["--wallet-name", agent.wallet,
                 "--wallet", f"http://{rpc_of(whost.name)}:{wspec.rpc_port}"]
    if agent.plugin is not None:
        argv += ["--plugin", agent.plugin, "--params", json.dumps(dict(agent.params), sort_keys=True)]
    options = dict(agent.options)
    if agent.script == "miner" and agent.node is not None:
        daemon = plan.host_of_node(agent.node).daemon
        assert daemon is not None
        options.update(p2p=plan.peer_addresses(address_of), out_peers=daemon.out_peers,
                       in_peers=daemon.in_peers)
    if agent.script in ("user", "distributor"):
        options["roster"] = [
            {"name": w.name, "node": w.node, "group": w.group, "role": h.role,
             "strategy": w.strategy, "url": f"http://{rpc_of(h.name)}:{w.rpc_port}",
             "daemon": f"http://{rpc_of(h.name)}:{h.daemon.rpc_port}" if h.daemon else None}
            for h, w in plan.wallets()
        ]
    if agent.script == "monitor":
        options["agents"] = [a.name for a in plan.agents() if a.script != "monitor"]
        options["daemons"] = {h.name: f"http://{rpc_of(h.name)}:{h.daemon.rpc_port}"
                              for h in plan.daemon_hosts() if h.daemon is not None}
        options["p2p"] = plan.peer_addresses(address_of)
    if options:
        argv += ["--options", json.dumps(options, sort_keys=True)]
    return argv


def agent_env(
    *, home: str, pythonpath: Sequence[str] | None = None, path: str | None = None,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The complete environment of an agent process (Shadow passes nothing else on)."""
    if pythonpath is None:
        pythonpath = [p for p in sys.path if p and Path(p).is_dir()]
    env = {
        "PATH": path if path is not None else os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "HOME": home,
        "PYTHONPATH": os.pathsep.join(pythonpath),
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "TZ": "UTC",
        "LANG": "C.UTF-8",
    }
    env.update(extra or {})
    return env
