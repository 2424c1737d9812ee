"""The hosts of a :class:`~.network.LoopbackNetwork`: how they get addresses, and the
daemons and wallet-rpcs rendered from the process plan onto them.

:func:`choose_isolation` picks namespaces (each host its own, :mod:`.netns`)
or loopback, with a one-line reason; :class:`PlannedDaemon` and
:class:`PlannedWallet` are a node and a wallet-rpc whose command lines come
from the plan, run in their host's namespace when it has one.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ...atomic import atomic_write
from ...rpc import DaemonRpc, WalletRpc
from ..command_lines import ban_list_lines, monerod_argv, wallet_rpc_argv
from ..parse import MONEROD_LOG
from ..plan import DaemonSpec, HostPlan, WalletSpec
from .daemon import DEFAULT_MAX_CONNECTIONS_PER_IP, MonerodNode
from .errors import MonerodBackendError
from .netns import netns_support
from .ports import LOOPBACK, NodePorts
from .wallet import WalletRpcNode

ISOLATIONS = ("auto", "netns", "loopback")
TIE_BREAKS = 3
"""At most this many blocks mined at the end to break a tie between tips (:func:`settle_tips`)."""


def choose_isolation(wanted: str = "auto") -> tuple[str, str]:
    """``("netns" | "loopback", one-line reason)`` for a run asking for ``wanted``.

    ``auto`` takes namespaces when :func:`~.netns.netns_support` says they
    work; ``netns`` insists (raises :class:`MonerodBackendError` with the
    reason otherwise); ``loopback`` never uses them.
    """
    if wanted not in ISOLATIONS:
        raise MonerodBackendError(f"isolation={wanted!r}; accepted: {', '.join(ISOLATIONS)}")
    if wanted == "loopback":
        return "loopback", "loopback asked for (isolation=loopback)"
    ok, reason = netns_support()
    if ok:
        return "netns", reason
    if wanted == "netns":
        raise MonerodBackendError(f"isolation=netns cannot be had: {reason}")
    return "loopback", reason


def loopback_ip(index: int) -> str:
    """The P2P address of host ``index``: 127.0.0.2, 127.0.0.3, ... 127.0.1.2, ..."""
    return f"127.0.{index // 250}.{index % 250 + 2}"


class PlannedDaemon(MonerodNode):
    """A :class:`MonerodNode` whose command line is the plan's :func:`monerod_argv`."""

    def __init__(self, host: HostPlan, spec: DaemonSpec, *, address: str, host_dir: Path,
                 peer_addresses: dict[str, str], binary: str | None,
                 exec_prefix: Sequence[str] = (), ban_lines: Sequence[str] = ()) -> None:
        self.spec = spec
        self.ban_lines = list(ban_lines)
        """Its ``--ban-list`` file's lines (:func:`ban_list_lines` of the spec's ban list)."""
        self.address = address
        self.peer_addresses = peer_addresses
        super().__init__(host.name, host_dir / "chain",
                         NodePorts(p2p=spec.p2p_port, rpc=spec.rpc_port, zmq=0, wallet=0),
                         binary=binary, run_dir=host_dir)
        self.exec_prefix = list(exec_prefix)
        if self.exec_prefix:  # its own host: RPC on its own address
            self.host = address
            self.rpc = DaemonRpc(address, spec.rpc_port, timeout=self.rpc.timeout)

    @property
    def log_path(self) -> Path:
        return self.run_dir / MONEROD_LOG

    @property
    def stdout_path(self) -> Path:
        return self.run_dir / "monerod.out"

    @property
    def p2p_address(self) -> str:
        return f"{self.address}:{self.ports.p2p}"

    @property
    def ban_list_path(self) -> Path:
        return self.run_dir / "ban-list.txt"

    def command_line(self) -> list[str]:
        own_host = bool(self.exec_prefix)
        if self.spec.ban_list:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            atomic_write(self.ban_list_path, "".join(f"{line}\n" for line in self.ban_lines))
        return monerod_argv(
            self.spec, address=self.address, rpc_address=None if own_host else LOOPBACK,
            data_dir=self.data_dir, log_file=self.log_path, peer_addresses=self.peer_addresses,
            binary=self.binary, ban_list_file=self.ban_list_path,  # monerod_argv drops it without a ban list
            # one IP per host: monerod's own default (1), as on mainnet
            max_connections_per_ip=None if own_host else DEFAULT_MAX_CONNECTIONS_PER_IP,
        )


class PlannedWallet(WalletRpcNode):
    """A :class:`WalletRpcNode` whose command line is the plan's :func:`wallet_rpc_argv`."""

    def __init__(self, spec: WalletSpec, *, host_dir: Path, daemon_address: str,
                 binary: str | None, address: str = LOOPBACK,
                 exec_prefix: Sequence[str] = ()) -> None:
        self.spec = spec
        super().__init__(f"wallet-{spec.name}", host_dir / "wallets" / spec.name, daemon_address,
                         spec.rpc_port, binary=binary, run_dir=host_dir)
        self.exec_prefix = list(exec_prefix)
        if address != LOOPBACK:
            self.host = address
            self.rpc = WalletRpc(address, spec.rpc_port, timeout=self.rpc.timeout)

    def command_line(self) -> list[str]:
        return wallet_rpc_argv(self.spec, address=self.host, daemon_address=self.daemon_address,
                               wallet_dir=self.wallet_dir, log_file=self.log_path,
                               binary=self.binary)


def ban_lines_of(specs: dict[str, DaemonSpec], hosts: Sequence[HostPlan], ips: dict[str, str],
                 *, namespaced: bool) -> dict[str, list[str]]:
    """Each banning daemon's ``--ban-list`` lines, ``group:<name>`` resolved to the hosts'
    addresses here: the /24s holding the group's hosts in namespaces (each group has its own
    /16: :mod:`.addressing`), single addresses on loopback (every host is in 127.0.0.0/24)."""
    groups = {h.name: h.group for h in hosts}
    addresses = {h.name: ips[h.name] for h in hosts}
    return {name: ban_list_lines(spec.ban_list, groups=groups, addresses=addresses,
                                 group_prefix=24 if namespaced else 32)
            for name, spec in specs.items() if spec.ban_list}


NO_SEEDS_PEER = "127.0.0.1:1"
"""The exclusive peer of a loopback daemon that has none of its own: a closed loopback port."""


def without_public_seeds(specs: dict[str, DaemonSpec]) -> dict[str, DaemonSpec]:
    """Loopback daemons that can never reach the public network's seed nodes.

    The P2P layer of a ``--regtest`` monerod runs as mainnet (``handle_command_line``
    sets ``m_nettype`` from ``--testnet``/``--stagenet`` only), so a daemon whose
    white list is empty and that has no exclusive peer calls ``connect_to_seed``:
    it resolves mainnet's DNS seeds and, failing that, dials the hard-coded
    mainnet seed IPs (``get_dns_seed_nodes`` / ``get_ip_seed_nodes`` in
    ``src/p2p/net_node.inl``). In a run's namespaces that traffic has no route;
    on loopback it would leave the machine. Any exclusive peer turns the seed
    lookup off (``get_dns_seed_nodes`` returns nothing, ``connect_to_seed``
    returns at once), so a loopback daemon without one (a static topology's node
    with only incoming edges, a dynamic node with no drawn peer) gets a closed
    loopback port as its exclusive peer: it still accepts incoming connections
    and dials nothing else, which is what it would do on the scenario's graph.
    """
    out: dict[str, DaemonSpec] = {}
    for name, spec in specs.items():
        if spec.exclusive_peers or spec.offline:
            out[name] = spec
        else:
            out[name] = dataclasses.replace(
                spec, extra_args=(*spec.extra_args, "--add-exclusive-node", NO_SEEDS_PEER))
    return out


def bootstrap_peers(specs: dict[str, DaemonSpec], ips: dict[str, str]) -> dict[str, DaemonSpec]:
    """Namespaced dynamic daemons: ``--add-peer`` of the layout's ``add_peers`` (their seeds
    and the daemon started before).

    Debian's monerod 0.18.0.0 applies the per-host connection limit to the connections it
    opens too (``p2p.outgoing_host_limit``): its back pings fail, so it never whitelists an
    incoming peer, and a seed answers every newcomer with an empty peer list; a network
    bootstrapped from seeds alone never spreads. Each daemon is given, as if from an earlier
    session's peer store, its seeds and the daemon started just before it; handshakes and
    timed syncs then carry every address to every node (monerod's own gossip, gray list to
    white list), which is what discovery is. The simulator starts the same way with
    ``p2p.add_peer``.
    """
    out: dict[str, DaemonSpec] = {}
    for name, spec in specs.items():
        extra: list[str] = []
        for peer in spec.add_peers:
            extra += ["--add-peer", f"{ips[peer]}:{specs[peer].p2p_port}"]
        out[name] = dataclasses.replace(spec, extra_args=tuple(spec.extra_args) + tuple(extra))
    return out


__all__ = [
    "ISOLATIONS", "PlannedDaemon", "PlannedWallet", "ban_lines_of", "bootstrap_peers", "choose_isolation",
    "loopback_ip", "run_parallel", "settle_tips", "wait_one_tip", "wait_synchronized",
]


def wait_synchronized(daemons: Sequence[PlannedDaemon], *, alone: bool, timeout: float,
                      logs: Path) -> None:
    """Every daemon connected (unless offline or ``alone``) and synchronized, so it can mine."""
    todo = list(daemons)
    deadline = time.monotonic() + timeout
    while todo:
        waiting = []
        for d in todo:
            d.ensure_alive()
            with d.diagnose():
                info = d.rpc.get_info()
            peers = int(info.get("outgoing_connections_count", 0)) + int(
                info.get("incoming_connections_count", 0))
            if not info.get("synchronized") or (peers == 0 and not d.spec.offline and not alone):
                waiting.append((d, info, peers))
        if not waiting:
            return
        if time.monotonic() >= deadline:
            states = ", ".join(f"{d.name}: synchronized={i.get('synchronized')}, {p} peers"
                               for d, i, p in waiting)
            raise MonerodBackendError(
                f"daemons not connected and synchronized within {timeout:g} s ({states}); "
                f"see their logs under {logs}")
        todo = [d for d, _, _ in waiting]
        time.sleep(0.1)


def _tips(daemons: Sequence[MonerodNode]) -> dict[str, tuple[str, int]]:
    """Each answering daemon's (top block hash, height)."""
    tips: dict[str, tuple[str, int]] = {}
    for d in daemons:
        with contextlib.suppress(MonerodBackendError):
            info = d.rpc.get_info()
            tips[d.name] = (str(info["top_block_hash"]), int(info["height"]) - 1)
    return tips


def wait_one_tip(daemons: Sequence[MonerodNode], timeout: float) -> dict[str, tuple[str, int]]:
    """Wait until ``daemons`` all have the same tip or ``timeout`` s pass; their last tips."""
    deadline = time.monotonic() + timeout
    while True:
        tips = _tips(daemons)
        if len({h for h, _ in tips.values()}) <= 1 or time.monotonic() >= deadline:
            return tips
        time.sleep(0.1)


def settle_tips(daemons: Sequence[MonerodNode], timeout: float, *, burn_address: str,
                max_tie_breaks: int = TIE_BREAKS) -> dict[str, object]:
    """Bring ``daemons`` (mining stopped) onto one tip, bounded; what it took.

    Waiting is enough for a node that is only behind. Two tips of the same
    height never resolve by waiting on regtest: difficulty is fixed, so they
    carry the same cumulative difficulty and each node keeps the one it saw
    first. Then one block is mined (``generateblocks``) to ``burn_address`` on
    a daemon holding the tip most daemons hold; the others receive it, find
    its parent missing, sync and reorganize onto it. Its coinbase pays no
    wallet, so the ledger stays what the run made. At most ``max_tie_breaks``
    blocks, each followed by a wait of ``timeout`` s. Returns ``settled``,
    ``waited_s``, ``tie_break_blocks`` and, when not settled, ``tips``
    (node -> "hash@height").
    """
    start = time.monotonic()
    blocks: list[str] = []
    tips = wait_one_tip(daemons, timeout)
    while len({h for h, _ in tips.values()}) > 1 and len(blocks) < max_tie_breaks:
        holders: dict[str, list[str]] = {}
        for name, (tip, _) in tips.items():
            holders.setdefault(tip, []).append(name)
        top = max(height for _, height in tips.values())
        best = max(holders, key=lambda t: (tips[holders[t][0]][1] == top, len(holders[t]), t))
        by_name = {d.name: d for d in daemons}
        with contextlib.suppress(MonerodBackendError):
            answer = by_name[sorted(holders[best])[0]].rpc.generateblocks(1, burn_address)
            blocks += [str(b) for b in answer.get("blocks", [])]
        tips = wait_one_tip(daemons, timeout)
    settled = len({h for h, _ in tips.values()}) <= 1
    record: dict[str, object] = {"settled": settled, "waited_s": round(time.monotonic() - start, 1),
                                 "tie_break_blocks": blocks}
    if not settled:
        record["tips"] = {n: f"{h}@{height}" for n, (h, height) in sorted(tips.items())}
    return record


def run_parallel(fn: Callable[[Any], Any], items: Sequence[Any]) -> None:
    """Run ``fn`` over ``items`` on threads (waiting on RPC); re-raise the first error."""
    if not items:
        return
    if len(items) == 1:
        fn(items[0])
        return
    with ThreadPoolExecutor(max_workers=min(16, len(items))) as pool:
        futures = [pool.submit(fn, item) for item in items]
        errors = [f.exception() for f in futures]
    for error in errors:
        if error is not None:
            raise error
