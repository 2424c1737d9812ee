"""Each host its own network namespace and address: :class:`NetnsNetwork`.

A run that may (root, ``ip netns`` works) puts every host in a network
namespace of its own, linked by a veth pair to one bridge of the run, with
one or many IPv4 addresses. The root namespace (the test process, its RPC
clients) has an address on the bridge too, and a route to the run's address
block through it, so it reaches every host's RPC directly.

Addresses: :mod:`.addressing` (a /7 of 240.0.0.0/4 per run, a /16 per honest host).

Traffic stays inside: namespaces have no default route (only the run's /7,
on-link), there is no NAT, and the root namespace routes only the run's /7
to the bridge.

Bandwidth is shaped with ``tbf`` (egress of the host's end = upload, egress
of the bridge's end = download). This kernel has no ``netem``: latency is NOT
emulated; every link has the bridge's (sub-millisecond) latency.

Names and cleanup
-----------------
Linux interface names have at most 15 characters. A run gets a token of 5
base-36 characters (the xdist worker's slot, then 4 random): bridge
``mb<tok>``, the bridge-side veth of host *i* ``mv<tok><i in base 36>``, its
namespace ``msim-<tok>-<i>`` (the host's end is renamed ``eth0`` inside).
A state file ``<state dir>/<tok>.json`` names everything the run created and
its owner (pid and start time), written before anything is created.
:meth:`NetnsNetwork.close` removes it all; :func:`reap_stale_networks` (called
by every new network) removes what a dead owner (SIGKILL, OOM, a killed xdist
worker) left behind: it kills the processes still in those namespaces, then
deletes namespaces, links and the bridge.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import fcntl
import ipaddress
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import threading
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ...atomic import atomic_write
from .addressing import (  # noqa: F401  (re-exported: the network's address plan)
    FIRST_OCTET,
    HOST_SUBNETS,
    SLOTS,
    HostAddressing,
    address_plan,
    subnet16,
    subnet_address,
)
from .errors import MonerodBackendError
from .ports import worker_slot
from .process import _is_running, on_terminate, proc_start_ticks

IFNAME_MAX = 15
_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"


NEEDS_NAMESPACES = (
    "eclipse on monerod needs the namespaced network: attacker addresses must be ones monerod "
    "lists and dials (not loopback, not 10/8, 172.16/12 or 192.168/16) and the victim must pick "
    "peers from its lists, not from --add-exclusive-node as on loopback")
"""Why an attack whose peers need public-looking addresses cannot run on loopback."""


class NetnsError(MonerodBackendError):
    """A namespace, link or address could not be set up."""


# -- availability -------------------------------------------------------------------


def netns_support() -> tuple[bool, str]:
    """``(True, reason)`` if this process can build namespaced networks, else ``(False, why)``.

    The reason is one line, meant for the run's record: which of root,
    ``ip``, ``tc`` or the kernel's namespace support is missing.
    """
    if os.environ.get("MONEROSIM_NETNS", "").lower() in ("0", "no", "off", "false"):
        return False, "MONEROSIM_NETNS=0 asks for loopback"
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return False, "not root: network namespaces need CAP_NET_ADMIN, so every daemon runs on loopback"
    if shutil.which("ip") is None:
        return False, "no 'ip' command (Debian package iproute2): daemons run on loopback"
    if shutil.which("tc") is None:
        return False, "no 'tc' command (Debian package iproute2): daemons run on loopback"
    probe = f"msim-probe-{os.getpid()}"
    link = f"mprobe{os.getpid() % 10_000_000}"
    try:
        run_ip("netns", "add", probe)
        run_ip("link", "add", link, "type", "veth", "peer", "name", f"{link}p", "netns", probe)
    except NetnsError as exc:
        return False, f"namespaces or veth links unavailable ({exc}): daemons run on loopback"
    finally:
        with contextlib.suppress(NetnsError):
            run_ip("link", "del", link, check=False)
            run_ip("netns", "del", probe, check=False)
    return True, "root and 'ip netns' work: each host has its own namespace and address"


# -- names ----------------------------------------------------------------------------


def b36(n: int) -> str:
    if n < 0:
        raise ValueError(n)
    digits = ""
    while True:
        n, r = divmod(n, 36)
        digits = _B36[r] + digits
        if n == 0:
            return digits


def run_token(worker_id: str | None = None) -> str:
    """5 characters: the xdist worker's slot, then 4 random ones (base 36)."""
    slot = worker_slot(worker_id)
    return _B36[slot % 36] + "".join(secrets.choice(_B36) for _ in range(4))


def bridge_name(token: str) -> str:
    return _ifname(f"mb{token}")


def veth_name(token: str, index: int) -> str:
    return _ifname(f"mv{token}{b36(index)}")


def netns_name(token: str, index: int) -> str:
    return f"msim-{token}-{index}"


def _ifname(name: str) -> str:
    if len(name) > IFNAME_MAX:
        raise NetnsError(f"interface name {name!r} is longer than {IFNAME_MAX} characters")
    return name


# -- the network ----------------------------------------------------------------------


@dataclass
class NetHost:
    """One namespace: its name, addresses and the bridge-side end of its link."""

    name: str
    netns: str
    veth: str
    addresses: list[str]
    bandwidth_up_bps: float | None = None
    bandwidth_down_bps: float | None = None
    linked: bool = True

    @property
    def address(self) -> str:
        return self.addresses[0]

    def exec_prefix(self) -> list[str]:
        """Prepend to an argv to run it in this host (``ip netns exec`` execs in place)."""
        return ["ip", "netns", "exec", self.netns]


def default_state_dir() -> Path:
    return Path(tempfile.gettempdir()) / f"monerosim-netns-{os.getuid()}"


@dataclass
class _State:
    token: str
    slot: int
    bridge: str
    owner_pid: int = field(default_factory=os.getpid)
    owner_start_ticks: int | None = field(default_factory=lambda: proc_start_ticks(os.getpid()))
    hosts: dict[str, dict[str, Any]] = field(default_factory=dict)
    bridges: list[str] = field(default_factory=list)
    """Extra bridges of a partition (one per part beyond the first)."""


class NetnsNetwork:
    """A run's bridge and host namespaces. Use as a context manager, or call :meth:`close`.

    >>> net = NetnsNetwork()                                  # doctest: +SKIP
    >>> a = net.add_host("node-0", [net.address_in(0)], bandwidth_up_bps=50e6)
    >>> argv = a.exec_prefix() + ["monerod", "--p2p-bind-ip", a.address]
    >>> attacker = net.add_host("attacker", net.spare_addresses(300))
    >>> net.close()
    """

    def __init__(self, *, worker_id: str | None = None, state_dir: Path | None = None) -> None:
        self.state_dir = state_dir or default_state_dir()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.reaped = reap_stale_networks(self.state_dir)
        self._lock = threading.Lock()
        self._slot_handle: IO[bytes] | None = None
        self.slot = self._claim_slot(worker_slot(worker_id))
        self.first_octet = FIRST_OCTET + 2 * self.slot
        for _ in range(20):
            token = run_token(worker_id)
            if not Path(f"/sys/class/net/{bridge_name(token)}").exists() and not (
                self.state_dir / f"{token}.json").exists():
                break
        else:  # pragma: no cover - 36^4 names
            raise NetnsError("could not find an unused bridge name")
        self.token = token
        self.bridge = bridge_name(token)
        self.root_address = subnet_address(self.first_octet, HOST_SUBNETS, 65533)
        self.hosts: dict[str, NetHost] = {}
        self._used: set[str] = set()
        self._closed = False
        self._parted: list[list[str]] = []
        self._state = _State(token=token, slot=self.slot, bridge=self.bridge)
        self._save()
        _open_networks.add(self)
        try:
            run_ip("link", "add", self.bridge, "type", "bridge")
            run_ip("link", "set", self.bridge, "up")
            run_ip("addr", "add", f"{self.root_address}/32", "dev", self.bridge)
            run_ip("route", "add", self.block, "dev", self.bridge, "scope", "link")
        except BaseException:
            self.close()
            raise

    # -- addresses -------------------------------------------------------------------
    @property
    def block(self) -> str:
        """The run's address block, ``X.0.0.0/7``."""
        return f"{self.first_octet}.0.0.0/7"

    def address_in(self, subnet: int, host: int = 1) -> str:
        """An address of this run: /16 number ``subnet`` (0..510), host number ``host`` in it."""
        if not 0 <= subnet < HOST_SUBNETS:
            raise ValueError(f"subnet {subnet} out of range 0..{HOST_SUBNETS - 1}")
        return subnet_address(self.first_octet, subnet, host)

    def spare_addresses(self, count: int, *, distinct_16: bool = True) -> list[str]:
        """``count`` addresses no host holds yet: in /16s no host uses, if ``distinct_16``.

        For an attacker host holding many addresses; raises :class:`NetnsError`
        when the run's /7 has not enough free /16s.
        """
        used16 = {subnet16(a) for a in self._used}
        out: list[str] = []
        for subnet in range(HOST_SUBNETS):
            for host in range(1, 65532 if not distinct_16 else 2):
                addr = self.address_in(subnet, host + 1)
                if addr in self._used or (distinct_16 and subnet16(addr) in used16):
                    continue
                out.append(addr)
                if len(out) == count:
                    return out
        raise NetnsError(f"only {len(out)} spare addresses in {self.block}; {count} wanted")

    def hold_in_this_process(self, count: int) -> list[str]:
        """``count`` spare addresses (each in a /16 of its own) held on the run's bridge.

        For in-process peers (the Levin attacker of :mod:`.eclipse`): sockets of
        this process can bind them, the hosts reach them over the bridge as they
        reach :attr:`root_address`, and they go with the bridge at :meth:`close`.
        """
        with self._lock:
            if self._closed:
                raise NetnsError("the network is closed")
            addresses = self.spare_addresses(count)
            self._used.update(addresses)
        batch = [f"addr add {a}/32 dev {self.bridge}" for a in addresses]
        run_ip("-batch", "-", stdin="\n".join(batch) + "\n")
        return addresses

    # -- hosts -----------------------------------------------------------------------
    def add_host(self, name: str, addresses: Sequence[str], *,
                 bandwidth_up_bps: float | None = None,
                 bandwidth_down_bps: float | None = None) -> NetHost:
        """A namespace holding ``addresses`` (all inside :attr:`block`), linked to the bridge."""
        if not addresses:
            raise ValueError(f"host {name!r}: at least one address")
        with self._lock:
            if self._closed:
                raise NetnsError("the network is closed")
            if name in self.hosts:
                raise ValueError(f"host {name!r} already exists")
            block = ipaddress.ip_network(self.block)
            for addr in addresses:
                if ipaddress.ip_address(addr) not in block or addr == self.root_address:
                    raise ValueError(f"host {name!r}: address {addr} is not a host address of "
                                     f"{self.block}")
                if addr in self._used:
                    raise ValueError(f"host {name!r}: address {addr} is already taken")
            index = len(self._state.hosts)
            host = NetHost(name, netns_name(self.token, index), veth_name(self.token, index),
                           list(addresses), bandwidth_up_bps, bandwidth_down_bps)
            self._state.hosts[name] = {"netns": host.netns, "veth": host.veth}
            self._save()  # recorded before it exists: a crash in between is still reaped
            self._used.update(addresses)
            self.hosts[name] = host
        peer = f"mp{self.token}{b36(index)}"
        ns = host.netns
        run_ip("netns", "add", ns)
        run_ip("link", "add", host.veth, "type", "veth", "peer", "name", _ifname(peer))
        run_ip("link", "set", peer, "netns", ns)
        run_ip("-n", ns, "link", "set", peer, "name", "eth0")
        run_ip("-n", ns, "link", "set", "lo", "up")
        batch = [f"addr add {a}/32 dev eth0" for a in addresses]
        run_ip("-n", ns, "-batch", "-", stdin="\n".join(batch) + "\n")
        run_ip("-n", ns, "link", "set", "eth0", "up")
        run_ip("-n", ns, "route", "add", self.block, "dev", "eth0", "scope", "link",
            "src", addresses[0])
        run_ip("link", "set", host.veth, "master", self.bridge)
        run_ip("link", "set", host.veth, "up")
        if bandwidth_up_bps:
            _shape(["-n", ns], "eth0", bandwidth_up_bps)
        if bandwidth_down_bps:
            _shape([], host.veth, bandwidth_down_bps)
        return host

    def host(self, name: str) -> NetHost:
        return self.hosts[name]

    def exec_prefix(self, name: str) -> list[str]:
        """The argv prefix running a program in host ``name``."""
        return self.hosts[name].exec_prefix()

    # -- links -----------------------------------------------------------------------
    def partition(self, parts: Sequence[Iterable[str]]) -> None:
        """Cut the L2 network into ``parts`` (host names; unlisted hosts stay with part 0).

        Part *k* > 0 moves to a bridge of its own: no frame crosses parts,
        while the root namespace keeps reaching every host (a /32 route per
        address of a moved host, through its part's bridge). TCP connections
        between parts are then aborted (:meth:`_abort_across`); the programs keep
        their peer lists and reconnect on their own after :meth:`heal`.
        """
        self.heal()
        for k, part in enumerate(parts):
            if k == 0:
                continue
            bridge = _ifname(f"{self.bridge}{b36(k)}")
            with self._lock:
                self._state.bridges.append(bridge)
                self._save()
            run_ip("link", "add", bridge, "type", "bridge")
            run_ip("link", "set", bridge, "up")
            batch = []
            for name in part:
                host = self.hosts[name]
                batch.append(f"link set {host.veth} master {bridge}")
                batch += [f"route replace {a}/32 dev {bridge} scope link" for a in host.addresses]
            run_ip("-batch", "-", stdin="\n".join(batch) + "\n")
        self._parted = [list(p) for p in parts[1:]]
        self._abort_across(parts)

    def _abort_across(self, parts: Sequence[Iterable[str]]) -> None:
        """Abort every TCP connection between parts (``ss -K``, as a middlebox's reset):
        with the cable cut they would otherwise stall until the programs' own timeouts."""
        side = {name: k for k, part in enumerate(parts) for name in part}
        for name, host in self.hosts.items():
            others = [a for other, h in self.hosts.items()
                      if side.get(other, 0) != side.get(name, 0) for a in h.addresses]
            if not others:
                continue
            for i in range(0, len(others), 64):  # one filter expression per 64 addresses
                expr: list[str] = []
                for addr in others[i:i + 64]:
                    expr += (["or"] if expr else []) + ["dst", addr]
                run_cmd([*host.exec_prefix(), "ss", "-K", "-n", "-t", "(", *expr, ")"], check=False)

    def heal(self) -> None:
        """Undo :meth:`partition`: every host back on the run's bridge."""
        parted = self._parted
        if not parted and not self._state.bridges:
            return
        batch = []
        for part in parted:
            for name in part:
                host = self.hosts[name]
                batch.append(f"link set {host.veth} master {self.bridge}")
                batch += [f"route del {a}/32" for a in host.addresses]
        if batch:
            run_ip("-batch", "-", stdin="\n".join(batch) + "\n", check=False)
        for bridge in self._state.bridges:
            run_ip("link", "del", bridge, check=False)
        with self._lock:
            self._state.bridges.clear()
            self._save()
        self._parted = []

    def cut(self, name: str) -> None:
        """Take host ``name``'s link down: nothing reaches it or leaves it (RPC neither)."""
        run_ip("link", "set", self.hosts[name].veth, "down")
        self.hosts[name].linked = False

    def restore(self, name: str) -> None:
        """Bring host ``name``'s link back up."""
        run_ip("link", "set", self.hosts[name].veth, "up")
        self.hosts[name].linked = True

    # -- end -------------------------------------------------------------------------
    def close(self) -> None:
        """Kill what still runs in the namespaces, delete them, their links and the bridge."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        _open_networks.discard(self)
        try:
            _teardown(self._state.bridge, [h["netns"] for h in self._state.hosts.values()],
                      [h["veth"] for h in self._state.hosts.values()], self._state.bridges)
            with contextlib.suppress(FileNotFoundError):
                (self.state_dir / f"{self.token}.json").unlink()
        finally:
            if self._slot_handle is not None:
                with contextlib.suppress(OSError):
                    fcntl.flock(self._slot_handle, fcntl.LOCK_UN)
                self._slot_handle.close()
                self._slot_handle = None

    def __enter__(self) -> NetnsNetwork:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def describe(self) -> dict[str, Any]:
        """What a run records: block, bridge, each host's namespace and addresses."""
        return {"block": self.block, "bridge": self.bridge, "root_address": self.root_address,
                "hosts": {n: {"netns": h.netns, "addresses": h.addresses[:8],
                              "n_addresses": len(h.addresses)} for n, h in self.hosts.items()}}

    # -- internals -------------------------------------------------------------------
    def _claim_slot(self, home: int) -> int:
        for k in range(SLOTS):
            slot = (home + k) % SLOTS
            locks = default_state_dir()  # one place for every run, whatever its state dir
            locks.mkdir(parents=True, exist_ok=True)
            handle = open(locks / f"slot-{slot}.lock", "ab")  # noqa: SIM115
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                handle.close()
                if exc.errno in (errno.EAGAIN, errno.EACCES):
                    continue
                raise
            if _route_exists(f"{FIRST_OCTET + 2 * slot}.0.0.0/7"):  # someone else's, not a run's
                fcntl.flock(handle, fcntl.LOCK_UN)
                handle.close()
                continue
            self._slot_handle = handle
            return slot
        raise NetnsError(f"all {SLOTS} address blocks 240-252.0.0.0/7 are in use by other runs")

    def _save(self) -> None:
        atomic_write(self.state_dir / f"{self.token}.json", json.dumps(self._state.__dict__, indent=1))


# -- helpers --------------------------------------------------------------------------


def run_ip(*args: str, check: bool = True, stdin: str | None = None) -> str:
    """``ip ARGS``: its output, or :class:`NetnsError` naming the command and its error."""
    return run_cmd(["ip", *args], check=check, stdin=stdin)


def run_cmd(argv: list[str], *, check: bool = True, stdin: str | None = None) -> str:
    """Run a network command (``ip``, ``tc``) with a 30 s limit: its output, or
    :class:`NetnsError` naming the command and its error (``check``: also on a non-zero exit)."""
    try:
        done = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise NetnsError(f"{' '.join(argv)}: {exc}") from exc
    if check and done.returncode != 0:
        raise NetnsError(f"{' '.join(argv)}: {done.stderr.strip() or done.returncode}")
    return done.stdout


def _shape(ns_args: list[str], dev: str, rate_bps: float) -> None:
    """Token bucket at ``rate_bps`` bits/s on the egress of ``dev`` (burst >= one timer tick)."""
    rate = max(8_000, int(rate_bps))
    burst = max(32 * 1024, rate // 8 // 100)
    run_cmd(["tc", *ns_args, "qdisc", "replace", "dev", dev, "root", "tbf",
          "rate", f"{rate}bit", "burst", str(burst), "latency", "100ms"])


def _route_exists(prefix: str) -> bool:
    out = run_ip("route", "show", "exact", prefix, check=False) if shutil.which("ip") else ""
    return bool(out.strip())


def _netns_pids(netns: str) -> list[int]:
    out = run_ip("netns", "pids", netns, check=False)
    return [int(p) for p in out.split() if p.isdigit()]


def _teardown(bridge: str, namespaces: Iterable[str], veths: Iterable[str],
              bridges: Iterable[str] = ()) -> None:
    """Kill processes in ``namespaces``, delete them, ``veths`` and ``bridge`` (all if present)."""
    namespaces = list(namespaces)
    existing = set(_existing_netns())
    for ns in namespaces:
        if ns in existing:
            for pid in _netns_pids(ns):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
    for ns in namespaces:
        if ns in existing:
            run_ip("netns", "del", ns, check=False)
    for veth in veths:  # normally gone with its namespace's end
        if Path(f"/sys/class/net/{veth}").exists():
            run_ip("link", "del", veth, check=False)
    for name in [bridge, *bridges]:
        if Path(f"/sys/class/net/{name}").exists():
            run_ip("link", "del", name, check=False)


def _existing_netns() -> list[str]:
    try:
        return sorted(os.listdir("/var/run/netns"))
    except OSError:
        return []


_TOKEN = re.compile(r"^[0-9a-z]{5}\.json$")
_open_networks: weakref.WeakSet[NetnsNetwork] = weakref.WeakSet()


def close_all() -> None:
    """Close every network of this process (at exit, and on SIGTERM after the processes)."""
    for net in list(_open_networks):
        with contextlib.suppress(Exception):
            net.close()


atexit.register(close_all)
on_terminate(close_all)


def reap_stale_networks(state_dir: Path | None = None) -> list[str]:
    """Remove the namespaces, links and bridges of runs whose owner process is gone.

    Returns the tokens of the runs reaped. Networks of live owners are left alone.
    """
    state_dir = state_dir or default_state_dir()
    reaped: list[str] = []
    if not state_dir.is_dir():
        return reaped
    for path in sorted(state_dir.iterdir()):
        if not _TOKEN.match(path.name):
            continue
        try:
            state = json.loads(path.read_text())
            owner = int(state["owner_pid"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if _is_running(owner, state.get("owner_start_ticks")):
            continue
        hosts = dict(state.get("hosts") or {})
        _teardown(str(state.get("bridge", "")) or "-",
                  [h["netns"] for h in hosts.values()], [h["veth"] for h in hosts.values()],
                  [str(b) for b in state.get("bridges") or []])
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        reaped.append(path.stem)
    return reaped


__all__ = [
    "FIRST_OCTET",
    "HostAddressing",
    "NetHost",
    "NetnsError",
    "NetnsNetwork",
    "address_plan",
    "bridge_name",
    "netns_name",
    "netns_support",
    "reap_stale_networks",
    "run_token",
    "subnet16",
    "veth_name",
]
