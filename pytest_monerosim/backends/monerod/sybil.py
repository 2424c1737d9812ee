"""The ``sybil`` attack on real daemons: Levin spies and the first-spy estimator.

``identities`` spy identities, each its own address with a listening socket,
live in one Python process (:mod:`pytest_monerosim.p2p`): on the namespaced
network, spare addresses of the run's bridge, each in a /16 of its own
(``network.attacker_addresses``, as the eclipse attacker's); on loopback,
``127.66.x.y`` (apart from the daemons' ``127.0.x.y``). At
``start`` each connects to ``out_peers`` daemons (the scenario's, default 12,
capped at the number of daemons) from its own address and handshakes; from
then on the ``spies`` among them log the wall time at which each transaction
first reaches them and from which daemon. They relay nothing (passive spies).

The estimator is the simulator's (:mod:`pytest_monerosim.attacks.sybil`,
Fanti et al., "Dandelion++", SIGMETRICS 2018): for each transaction an honest
node's wallet submitted, guess that its origin is the daemon from which the
earliest spy got it. Transactions are matched to their ids through the
daemons' own ``get_transactions`` (the blob a spy received is the blob the
daemon returns). The relay is monerod 0.18's own Dandelion++: stem to one of
two outgoing peers per epoch, fluff epochs, embargo timers, Poisson flushes,
all in wall-clock time.

On the namespaced network the spies are what the simulator's sybils are:
:data:`CONNECTORS` of them connect in to every daemon and every timed-sync
answer of theirs lists the spy addresses (``advertise_sybils``); daemons put
them on their gray lists and dial the others (monerod never dials a peer
already connected to it, ``is_peer_used``),
so spies hold outgoing slots of honest nodes (monerod fills its slots above
70% from the gray list first) and can be Dandelion++ stem peers; ``out_share``
measures how many.

What loopback allows: the backend's daemons dial only their exclusive peers
(``--add-exclusive-node``) and monerod never gossips or pings back loopback
addresses, so spies are *incoming* peers of every daemon they reach and hold
none of its outgoing slots (``out_share`` is 0 by construction, and no spy
can be a Dandelion++ stem peer: a daemon stems only to outgoing peers). The
simulator's spies also take outgoing slots. Taking outgoing slots needs the
namespaced network with routable, non-private attacker addresses (monerod
drops 10/8, 172.16/12 and 192.168/16 entries from gossip); a scenario without
wallets, which measures only connection shares, is therefore refused here.

Metrics: the simulator's names (``out_share``, ``all_share``, ``reach``,
``precision``, ``recall``, ``txs``, ``guessed``, ``stem_first``, ``relay``,
``attackers``, ``spies``, series ``out_share`` / ``all_share``) plus
``spy_connections`` (handshakes that succeeded), ``sightings`` (transactions
any spy saw) and ``spy_model``.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from ...attacks.sybil import Sybil, SybilParams
from ...p2p import BackgroundSwarm, PeerError, TxNote, blob_id
from .. import BackendUnavailable

if TYPE_CHECKING:
    from ...config.model import Scenario
    from ...result.model import Result
    from .actions import NetworkActions
    from .network import LoopbackNetwork

CONNECTORS = 2
"""On the namespaced network, spies that connect in to every daemon (the rest wait to be dialled),
unless the attack's ``connectors`` says how many."""
SETTLE_WALL_S = 60.0
"""At the end, wall seconds to wait for the spies to see the last transactions (monerod's
Dandelion++ embargo averages 39 s: CRYPTONOTE_DANDELIONPP_EMBARGO_AVERAGE)."""
SPY_MODEL = "incoming-only passive spies on loopback (daemons dial only their exclusive peers)"
SPY_MODEL_NETNS = ("passive spies on the namespaced network: they connect in and advertise each "
                   "other, and daemons dial them from their gray lists (outgoing slots, stem peers)")


def spy_address(index: int) -> str:
    """Loopback address of spy ``index``: 127.66.0.1, 127.66.0.2, ... (daemons use 127.0.x.y)."""
    return f"127.66.{index // 250}.{index % 250 + 1}"


def precheck(scenario: Scenario) -> None:
    """``BackendUnavailable`` for what this driver cannot measure (before any daemon starts)."""
    if not scenario.wallets:
        raise BackendUnavailable(
            "sybil on monerod: the scenario has no wallets, so no transaction reaches the spies; "
            "this driver measures first-spy precision (connection shares alone: the agreement "
            "suite's eclipse comparison, tests/agreement)")
    if scenario.transactions.relay != "dandelion":
        raise BackendUnavailable(
            f"sybil on monerod: transactions.relay={scenario.transactions.relay!r} has no real "
            "counterpart; monerod 0.18 always relays a wallet's transactions by Dandelion++")


class SybilDriver:
    """Spies on real daemons; the first-spy estimator against monerod's Dandelion++."""

    name = Sybil.name

    def __init__(self, params: SybilParams, scenario: Scenario, network: LoopbackNetwork,
                 actions: NetworkActions) -> None:
        precheck(scenario)
        self.p = params
        self.attack = Sybil(params)
        self.network = network
        self.actions = actions
        self.rng = random.Random(f"{scenario.general.seed}:sybil-monerod")
        self.out_peers = scenario.p2p.limits(params.out_peers).out_peers
        self.namespaced = getattr(network, "netns", None) is not None
        if self.namespaced:
            if params.subnets is not None and params.subnets != params.identities:
                raise BackendUnavailable(
                    f"sybil on monerod: subnets={params.subnets} with identities={params.identities}; "
                    "on the namespaced network each spy address is in a /16 of its own "
                    f"(accepted: null or {params.identities})")
            self.hosts = list(network.attacker_addresses(params.identities))
        else:
            self.hosts = [spy_address(i) for i in range(params.identities)]
        n_spies = params.identities if params.spies is None else params.spies
        self.spy_hosts = set(self.hosts[:n_spies])
        self.node_at: dict[tuple[str, int], str] = {}
        self.node_ip: dict[str, str] = {}
        """Daemon by IP, on the namespaced network (a connection a daemon opened to a spy
        comes from its own address and an ephemeral port)."""
        for node in actions.nodes():
            daemon = actions.daemon(node)
            self.node_at[(daemon.address, daemon.ports.p2p)] = node
            if self.namespaced:
                self.node_ip[daemon.address] = node
        self.first: dict[str, tuple[float, str, str, bool]] = {}
        self.lock = threading.Lock()
        self.bg: BackgroundSwarm | None = None
        self.links = 0
        self.failures: list[str] = []
        self.series_out: list[list[float]] = []
        self.series_all: list[list[float]] = []
        self.next_sample = params.start
        self.joined = False

    def events(self) -> list[tuple[float, Callable[[], None]]]:
        return [(self.p.start, self._join)]

    # -- joining ----------------------------------------------------------------------
    def _join(self) -> None:
        self.bg = BackgroundSwarm(seed=self.rng.getrandbits(32))
        swarm = self.bg.swarm
        swarm.on_tx(self._seen)
        nodes = [n for n in self.actions.nodes() if self.actions.daemon(n).process is not None]
        k = min(self.out_peers, len(nodes))
        plan = [(host, self.rng.sample(nodes, k)) for host in self.hosts]
        if self.namespaced:
            # monerod never dials a peer it already has a connection with (is_peer_used:
            # same peer id, incoming included), so only the first CONNECTORS spies connect
            # in; their timed-sync answers list every spy, and the daemons dial the others.
            plan = plan[:CONNECTORS if self.p.connectors is None else self.p.connectors]

        async def join_all() -> list[str]:
            import asyncio

            identities = {host: await swarm.serve(host) for host in self.hosts}
            if self.p.advertise_sybils:
                swarm.advertise(list(identities.values()))

            async def one(host: str, node: str) -> str:
                daemon = self.actions.daemon(node)
                try:
                    await swarm.connect((daemon.address, daemon.ports.p2p), source=identities[host])
                    return ""
                except PeerError as exc:
                    return f"{host} -> {node}: {exc}"

            results = await asyncio.gather(*(one(h, n) for h, targets in plan for n in targets))
            return list(results)

        results = self.bg.call(join_all(), timeout=120.0)
        self.failures = [r for r in results if r]
        self.links = len(results) - len(self.failures)
        self.joined = True

    def _seen(self, note: TxNote) -> None:
        if note.identity[0] not in self.spy_hosts:
            return
        node = self.node_at.get(note.remote) or self.node_ip.get(note.remote[0])
        if node is None:
            return
        with self.lock:
            for tx in note.txs:
                key = blob_id(tx)
                cur = self.first.get(key)
                if cur is None or note.time < cur[0]:
                    self.first[key] = (note.time, note.identity[0], node, note.fluff)

    # -- measuring --------------------------------------------------------------------
    def _shares(self) -> tuple[float, float, float]:
        out = held_out = total = held = reached = honest = 0
        for node in self.actions.nodes():
            daemon = self.actions.daemon(node)
            if not daemon.alive():
                continue
            honest += 1
            mine = 0
            for c in daemon.rpc.get_connections():
                is_spy = str(c.get("host", "")) in self.hosts
                mine += is_spy
                if not c.get("incoming"):
                    out += 1
                    held_out += is_spy
                total += 1
            held += mine
            reached += mine > 0
        return (held_out / out if out else 0.0, held / total if total else 0.0,
                reached / honest if honest else 0.0)

    def poll(self, now: float) -> None:
        if not self.joined or now < self.next_sample:
            return
        out_s, all_s, _ = self._shares()
        self.series_out.append([round(now, 3), round(out_s, 4)])
        self.series_all.append([round(now, 3), round(all_s, 4)])
        self.next_sample = now + self.p.sample_s

    def _blob_ids(self, txids: list[str]) -> dict[str, str]:
        """blob id → tx id, from the running daemons' ``get_transactions``.

        Every daemon is asked for the ids the ones before it did not know: a transaction
        still on a stem (its source's embargo not yet over: a spy that got it on the stem
        relays nothing) is known only to the daemons it passed. Asking one daemon lost
        those: 11 of 27 transactions of one run counted as never seen by a spy, although
        the spies had seen all 27."""
        out: dict[str, str] = {}
        daemons = [self.actions.daemon(n) for n in self.actions.nodes()]
        alive = [d for d in daemons if d.process is not None and d.process.alive()]
        missing = list(txids)
        for daemon in alive:
            if not missing:
                break
            found: set[str] = set()
            for i in range(0, len(missing), 100):
                answer = daemon.rpc.get_transactions(missing[i:i + 100])
                for tx in answer.get("txs", []) or []:
                    blob = tx.get("as_hex") or ""
                    if blob:
                        out[blob_id(bytes.fromhex(blob))] = str(tx["tx_hash"])
                        found.add(str(tx["tx_hash"]))
            missing = [t for t in missing if t not in found]
        return out

    def _wait_for_sightings(self, blobs: set[str]) -> None:
        """Give transactions still on a stem (embargo ~39 s of wall time) time to be fluffed."""
        deadline = time.monotonic() + SETTLE_WALL_S
        while time.monotonic() < deadline:
            with self.lock:
                if blobs <= self.first.keys():
                    return
            time.sleep(0.2)

    def finish(self, result: Result) -> None:
        try:
            out_s, all_s, reach = self._shares()
            honest = set(result.honest_nodes())
            mine = [t for t in result.txs.values() if t.origin in honest and t.created_at >= self.p.start]
            by_blob = self._blob_ids([t.id for t in mine])
            self._wait_for_sightings(set(by_blob))
            with self.lock:
                first = {by_blob[k]: v for k, v in self.first.items() if k in by_blob}
            txs = len(mine)
            guessed = correct = stem = 0
            for tx in mine:
                seen = first.get(tx.id)
                if seen is None or seen[2] not in honest:
                    continue
                guessed += 1
                correct += seen[2] == tx.origin
                stem += not seen[3]
            t0, scale = self.network.t0 or 0.0, self.network.time_scale
            self.attack.report(
                result,
                out_share=round(out_s, 4),
                precision=round(correct / guessed, 4) if guessed else None,
                recall=round(correct / txs, 4) if txs else None,
                relay="dandelion",
                all_share=round(all_s, 4),
                reach=round(reach, 4),
                txs=txs,
                guessed=guessed,
                stem_first=round(stem / guessed, 4) if guessed else None,
                attackers=list(self.hosts),
                spies=sorted(self.spy_hosts),
                spy_connections=self.links,
                spy_connection_failures=self.failures[:10],
                sightings=len(self.first),
                first_seen={tx: round((v[0] - t0) * scale, 3) for tx, v in sorted(first.items())},
                spy_model=SPY_MODEL_NETNS if self.namespaced else SPY_MODEL,
                series={"out_share": self.series_out, "all_share": self.series_all},
            )
        finally:
            self.close()

    def close(self) -> None:
        if self.bg is not None:
            bg, self.bg = self.bg, None
            bg.close()


__all__ = ["SPY_MODEL", "SPY_MODEL_NETNS", "SybilDriver", "precheck", "spy_address"]
