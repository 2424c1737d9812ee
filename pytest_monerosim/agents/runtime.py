"""The agent API over real ``monerod`` / ``monero-wallet-rpc`` RPC, in scaled real time.

The same behaviour and wallet-strategy objects the simulator runs (registry
kinds ``behaviour`` and ``wallet_strategy``) run here unchanged:

* :class:`~.realtime.Clock` maps the process clock to simulated seconds: ``now() =
  (time.time() - t0) * time_scale`` (120 simulated seconds per wall second by
  default; 1 under Shadow, whose clock is already simulated).
* :class:`~.realtime.Scheduler` runs one agent's callbacks on one thread at their scaled
  due times, so a slow ``transfer`` delays only its own agent.
* :class:`RpcNode` (``NodeAPI``) and :class:`RpcWallet` (``WalletAPI``) call the
  RPC clients of :mod:`pytest_monerosim.rpc`.
* Mining: one Poisson timer per miner (``set_hashrate`` redraws it, exactly,
  since exponential clocks are memoryless). With fixed difficulty (regtest),
  a miner of relative hashrate ``h`` in a run whose miners started with a total
  of ``H`` finds a block every ``target_s * H / h`` seconds on average; each
  "find" is ``generateblocks`` of one block paying the miner's wallet. The
  independent timers are the same process as one network-wide timer that
  picks a miner by hashrate.
* :class:`~.realtime.EventLog` writes what an agent does and sees as JSON lines
  (``<out>/<agent>.jsonl``); :mod:`pytest_monerosim.backends.parse` turns
  those files, monerod's logs and the monitor's records into the common
  ``Result``.

In-process (the ``monerod`` backend's default) each agent gets a thread; the
agent scripts (:mod:`.miner`, :mod:`.user`, :mod:`.distributor`,
:mod:`.monitor`) host the same objects in their own process.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..atomic import atomic_write
from ..rng import derive_rng
from ..rpc import DaemonRpc, WalletRpc
from ..rpc.errors import MonerodBackendError, RpcError
from .api import InsufficientFunds
from .realtime import Clock, EventLog, Scheduler  # also imported from here by backends/monerod, monitor

BURN_ADDRESS = (
    "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A"
)
"""A valid mainnet-format address nobody in a run owns: the coinbase destination of a
miner without a wallet (regtest accepts mainnet-style addresses)."""

# monero-wallet-rpc error codes (src/wallet/wallet_rpc_server_error_codes.h)
WALLET_NOT_ENOUGH_MONEY = -17
WALLET_NOT_ENOUGH_UNLOCKED_MONEY = -37
WALLET_NOT_ENOUGH_OUTS_TO_MIX = -19
WALLET_TX_NOT_POSSIBLE = -16
_CANNOT_PAY_CODES = frozenset(
    {WALLET_NOT_ENOUGH_MONEY, WALLET_NOT_ENOUGH_UNLOCKED_MONEY, WALLET_NOT_ENOUGH_OUTS_TO_MIX}
)
_CANNOT_PAY_TEXT = re.compile(r"(?i)not enough (unlocked )?(money|outs|outputs)|no unlocked balance")

REFRESH_MIN_WALL_S = 0.05
"""A wallet refreshes at most this often (wall seconds) before reading its balance."""


class _Context:
    """The ``AgentContext`` part shared by nodes and wallets."""

    def __init__(self, name: str, rng: random.Random, scheduler: Scheduler, log: EventLog) -> None:
        self.name = name
        self.rng = rng
        self._scheduler = scheduler
        self._log = log

    def now(self) -> float:
        return self._scheduler.clock.now()

    def schedule(self, delay: float, callback: Callable[[], None]) -> None:
        self._scheduler.schedule(delay, callback)

    def log(self, event: str, **fields: object) -> None:
        """A ``log`` record: ``event``, ``ctx`` (this agent's node or wallet) and ``fields``."""
        self._log.write("log", event=event, ctx=self.name, fields=fields)


class PeerNames:
    """Turns ``get_connections`` entries into host names.

    By exact ``ip:port`` (outgoing connections), then by the peer id other
    nodes have seen at that address (incoming connections on loopback come
    from 127.0.0.1 with an ephemeral port), then by IP when only one host has
    it (Shadow: one IP per host). ``peer_ids`` is read from
    ``<shared>/peer_ids.json`` when given a directory (the monitor writes it).
    """

    def __init__(self, addresses: Mapping[str, str], shared_dir: Path | None = None) -> None:
        self.by_address = {addr: host for host, addr in addresses.items()}
        ips: dict[str, list[str]] = {}
        for host, addr in addresses.items():
            ips.setdefault(addr.rsplit(":", 1)[0], []).append(host)
        self.by_ip = {ip: hosts[0] for ip, hosts in ips.items() if len(hosts) == 1}
        self.shared_dir = shared_dir
        self.by_peer_id: dict[str, str] = {}

    def learn(self, connections: list[dict[str, Any]]) -> None:
        for c in connections:
            host = self.by_address.get(str(c.get("address")))
            if host is not None and not c.get("incoming") and c.get("peer_id"):
                self.by_peer_id[str(c["peer_id"])] = host

    def name(self, connection: Mapping[str, Any]) -> str | None:
        addr = str(connection.get("address", ""))
        if addr in self.by_address:
            return self.by_address[addr]
        pid = str(connection.get("peer_id", ""))
        if pid and pid not in self.by_peer_id and self.shared_dir is not None:
            self._load()
        if pid in self.by_peer_id:
            return self.by_peer_id[pid]
        return self.by_ip.get(str(connection.get("host", addr.rsplit(":", 1)[0])))

    def _load(self) -> None:
        assert self.shared_dir is not None
        try:
            data = json.loads((self.shared_dir / "peer_ids.json").read_text())
        except (OSError, ValueError):
            return
        if isinstance(data, dict):
            self.by_peer_id.update({str(k): str(v) for k, v in data.items()})


class RpcNode(_Context):
    """``NodeAPI`` over a monerod RPC port."""

    def __init__(
        self,
        *,
        name: str,
        group: str,
        role: str,
        rpc: DaemonRpc,
        scheduler: Scheduler,
        log: EventLog,
        seed: int,
        hashrate: float,
        total_hashrate: float,
        target_s: float,
        mining_address: str,
        peer_names: PeerNames,
        out_peers: int,
        in_peers: int | None = None,
    ) -> None:
        super().__init__(name, derive_rng(seed, f"behaviour:{name}"), scheduler, log)
        self.group = group
        self.role = role
        self.rpc = rpc
        self._hashrate = hashrate
        self._total = total_hashrate if total_hashrate > 0 else 1.0
        self._target = target_s
        self._mining_rng = derive_rng(seed, f"mining:{name}")
        self._generation = 0
        self.mining_address = mining_address
        self._peer_names = peer_names
        self._limits = (out_peers, in_peers)
        self.blocks_mined = 0

    # -- NodeAPI ----------------------------------------------------------------------
    def height(self) -> int:
        return int(self.rpc.get_info()["height"]) - 1

    def hashrate(self) -> float:
        return self._hashrate

    def set_hashrate(self, hashrate: float) -> None:
        if hashrate < 0:
            raise ValueError(f"hashrate {hashrate} must be >= 0")
        self._hashrate = hashrate
        self._generation += 1
        self._arm(self._generation)

    def mine_block(self) -> None:
        answer = self.rpc.generateblocks(1, self.mining_address)
        blocks = answer.get("blocks") or []
        self.blocks_mined += 1
        self._log.write("mined", node=self.name, block=blocks[-1] if blocks else None,
                        height=int(answer.get("height", 0)))

    def set_relaying(self, relay: bool) -> None:
        """monerod cannot receive without relaying: not relaying isolates the node.

        ``False`` sets ``out_peers`` and ``in_peers`` to 0 (monerod drops its
        connections); ``True`` restores the plan's limits.
        """
        out_peers, in_peers = self._limits
        if relay:
            self.rpc.out_peers(out_peers)
            self.rpc.in_peers(in_peers if in_peers is not None else 2**31 - 1)
        else:
            self.rpc.out_peers(0)
            self.rpc.in_peers(0)
        self._log.write("relaying", node=self.name, relay=relay)

    def peers(self) -> list[str]:
        connections = self.rpc.get_connections()
        self._peer_names.learn(connections)
        names = {self._peer_names.name(c) for c in connections}
        return sorted(n for n in names if n)

    # -- mining timer ------------------------------------------------------------------
    def _arm(self, generation: int) -> None:
        if self._hashrate <= 0:
            return
        rate = self._hashrate / (self._total * self._target)
        delay = self._mining_rng.expovariate(rate)
        self.schedule(delay, lambda: self._found(generation))

    def _found(self, generation: int) -> None:
        if generation != self._generation:
            return  # the hashrate changed since this timer was drawn
        try:
            self.mine_block()
        finally:
            self._arm(generation)


class WalletDirectory:
    """Wallet name → address, shared through ``<shared>/wallets/<name>.json``."""

    def __init__(self, shared_dir: Path) -> None:
        self.dir = Path(shared_dir) / "wallets"
        self._cache: dict[str, str] = {}

    def publish(self, name: str, address: str, node: str) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        atomic_write(self.dir / f"{name}.json", json.dumps({"name": name, "address": address, "node": node}))
        self._cache[name] = address

    def addresses(self) -> dict[str, str]:
        if self.dir.is_dir():
            for path in self.dir.glob("*.json"):
                if path.stem not in self._cache:
                    try:
                        data = json.loads(path.read_text())
                    except (OSError, ValueError):
                        continue
                    self._cache[path.stem] = str(data["address"])
        return dict(sorted(self._cache.items()))

    def wait_for(self, name: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while True:
            found = self.addresses().get(name)
            if found is not None:
                return found
            if time.monotonic() >= deadline:
                raise MonerodBackendError(f"wallet {name!r} published no address in {timeout:g} s "
                                          f"(looked in {self.dir})")
            time.sleep(0.05)


class RpcWallet(_Context):
    """``WalletAPI`` over a monero-wallet-rpc port (and its node's daemon for the height)."""

    def __init__(
        self,
        *,
        name: str,
        node: str,
        address: str,
        wallet: WalletRpc,
        daemon: DaemonRpc,
        scheduler: Scheduler,
        log: EventLog,
        seed: int,
        directory: WalletDirectory,
        roster: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        super().__init__(name, derive_rng(seed, f"wallet:{name}"), scheduler, log)
        self.node = node
        self.address = address
        self.client = wallet
        self.daemon = daemon
        self._directory = directory
        self._refreshed = 0.0
        self._seed = seed
        self._roster = [dict(r) for r in roster or ()]
        self._handles: dict[str, RpcWallet] = {name: self}

    def _refresh(self) -> None:
        if time.monotonic() - self._refreshed >= REFRESH_MIN_WALL_S:
            self.client.refresh()
            self._refreshed = time.monotonic()

    def balance(self) -> tuple[int, int]:
        self._refresh()
        bal = self.client.get_balance()
        return bal.balance, bal.unlocked_balance

    def transfer(self, destinations: dict[str, int], priority: int = 1) -> str:
        return self.transfer_outputs(list(destinations.items()), priority=priority)

    def transfer_outputs(self, outputs: Sequence[tuple[str, int]], priority: int = 1) -> str:
        """Send several outputs in one tx (an address may appear more than once)."""
        if not outputs:
            raise ValueError("transfer needs at least one destination")
        self._refresh()
        try:
            answer = self.client.transfer(list(outputs), priority=priority)
        except RpcError as exc:
            if exc.code in _CANNOT_PAY_CODES or _CANNOT_PAY_TEXT.search(exc.message):
                self._log.write("tx_failed", wallet=self.name, node=self.node,
                                reason=exc.message, outputs=list(outputs))
                raise InsufficientFunds(f"{self.name}: {exc.message}") from exc
            raise
        txid = str(answer["tx_hash"])
        totals: dict[str, int] = {}
        for address, amount in outputs:
            totals[address] = totals.get(address, 0) + int(amount)
        self._log.write(
            "tx_sent", wallet=self.name, node=self.node, tx=txid, fee=int(answer.get("fee", 0)),
            amount=int(answer.get("amount", sum(totals.values()))),
            weight=int(answer.get("weight", 0)), destinations=totals,
            recipients=self._names_of(totals),
        )
        self._refreshed = 0.0
        return txid

    # -- RosterWalletAPI extras (the distributor pays from other wallets) ----------------
    def roster(self) -> list[Any]:
        from ..config.wallets import WalletInfo

        return [WalletInfo(str(r["name"]), str(r.get("group", r["name"])), str(r["node"]),
                           str(r.get("role", "")), str(r.get("strategy", "")))
                for r in self._roster]

    def wallet(self, name: str) -> RpcWallet:
        """Another wallet of the run, driven from this agent's thread."""
        if name not in self._handles:
            entry = next((r for r in self._roster if r["name"] == name), None)
            if entry is None or not entry.get("url") or not entry.get("daemon"):
                raise KeyError(f"wallet {name!r} is not in this agent's roster")
            wallet = wallet_client(str(entry["url"]))
            address = self._directory.addresses().get(name) or wallet.get_address()
            self._handles[name] = RpcWallet(
                name=name, node=str(entry["node"]), address=address, wallet=wallet,
                daemon=daemon_client(str(entry["daemon"])), scheduler=self._scheduler,
                log=self._log, seed=self._seed, directory=self._directory, roster=self._roster,
            )
        return self._handles[name]

    def directory(self) -> dict[str, str]:
        return self._directory.addresses()

    def height(self) -> int:
        return int(self.daemon.get_info()["height"]) - 1

    def _names_of(self, destinations: Mapping[str, int]) -> dict[str, int]:
        by_address = {a: n for n, a in self._directory.addresses().items()}
        return {by_address.get(a, a): v for a, v in destinations.items()}


class AgentErrors:
    """Errors agents hit: RPC trouble (recorded) and bugs (fatal for the run)."""

    def __init__(self, on_fatal: Callable[[], None] | None = None) -> None:
        self.fatal: list[str] = []
        self.rpc: list[str] = []
        self.on_fatal = on_fatal
        """Called after a fatal error (an agent process stops at once)."""
        self._lock = threading.Lock()

    def handler(self, agent: str, log: EventLog) -> Callable[[BaseException], None]:
        def on_error(exc: BaseException) -> None:
            text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            fatal = not isinstance(exc, (MonerodBackendError, InsufficientFunds))
            log.write("error", error=type(exc).__name__, message=str(exc), fatal=fatal,
                      traceback=text if fatal else None)
            with self._lock:
                (self.fatal if fatal else self.rpc).append(f"{agent}: {type(exc).__name__}: {exc}")
            if fatal and self.on_fatal is not None:
                self.on_fatal()
        return on_error


def write_wallet_state(log: EventLog, name: str, node: str, client: WalletRpc) -> None:
    """A ``wallet`` record: the wallet's final ``address``, ``balance``, ``unlocked`` and its
    ``incoming`` (confirmed) / ``outgoing`` (confirmed and pending) / ``pool_in`` transfers
    (``txid``, ``amount``, ``fee``, ``height``, ``type``). Written by the wallet's own
    agent, its only client."""
    try:
        client.refresh()
        bal = client.get_balance()
        transfers = client.get_transfers(failed=False)
        address = client.get_address()
    except MonerodBackendError as exc:
        log.write("error", error=type(exc).__name__, message=str(exc), fatal=False, wallet=name)
        return
    log.write(
        "wallet", name=name, node=node, address=address, balance=bal.balance,
        unlocked=bal.unlocked_balance,
        incoming=[_transfer(t) for t in transfers.get("in", [])],
        outgoing=[_transfer(t) for t in [*transfers.get("out", []), *transfers.get("pending", [])]],
        pool_in=[_transfer(t) for t in transfers.get("pool", [])],
    )


def _transfer(t: Mapping[str, Any]) -> dict[str, Any]:
    return {"txid": str(t.get("txid", "")), "amount": int(t.get("amount", 0)),
            "fee": int(t.get("fee", 0)), "height": int(t.get("height", 0)),
            "type": str(t.get("type", ""))}


def _split_url(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    if not parts.hostname or not parts.port:
        raise ValueError(f"RPC URL {url!r} must look like http://ip:port")
    return parts.hostname, parts.port


def daemon_client(url: str, timeout: float = 30.0) -> DaemonRpc:
    """A monerod RPC client for ``http://ip:port``."""
    host, port = _split_url(url)
    return DaemonRpc(host, port, timeout=timeout)


def wallet_client(url: str, timeout: float = 60.0) -> WalletRpc:
    """A monero-wallet-rpc client for ``http://ip:port``."""
    host, port = _split_url(url)
    return WalletRpc(host, port, timeout=timeout)


def wait_rpc(call: Callable[[], object], what: str, timeout: float = 60.0) -> None:
    """Retry ``call`` until it answers (a late daemon or wallet coming up)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            call()
            return
        except MonerodBackendError as exc:
            if time.monotonic() >= deadline:
                raise MonerodBackendError(f"{what} did not answer within {timeout:g} s: {exc}") \
                    from exc
            time.sleep(0.1)


def wallet_address(wallet: WalletRpc, filename: str) -> str:
    """The address of the open wallet; opens (or creates) ``filename`` when none is open."""
    try:
        return wallet.get_address()
    except RpcError:
        pass
    try:
        wallet.open_wallet(filename)
    except RpcError:
        wallet.create_wallet(filename)
    return wallet.get_address()


__all__ = [
    "BURN_ADDRESS",
    "AgentErrors",
    "Clock",
    "EventLog",
    "PeerNames",
    "RpcNode",
    "RpcWallet",
    "Scheduler",
    "WalletDirectory",
    "daemon_client",
    "wait_rpc",
    "wallet_client",
    "wallet_address",
    "write_wallet_state",
]
