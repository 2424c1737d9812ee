"""The ``eclipse`` attack on real daemons, by Levin peers (Heilman et al., USENIX Security 2015).

NEEDS THE NAMESPACED NETWORK. The attacker's addresses must be ones monerod
keeps in its peer lists and dials: not loopback (never listed, never pinged
back: ``is_host_allowed`` in ``src/p2p/net_peerlist.h``) and not private
(10/8, 172.16/12 and 192.168/16 entries are dropped from every handshake and
timed-sync list: ``sanitize_peerlist`` in ``src/p2p/net_node.inl``), and the
victim must pick its outgoing peers from its lists (not ``--add-exclusive-node``,
which the loopback network uses). The network the driver runs on provides
them through one method::

    network.attacker_addresses(count: int) -> list[str]
        # IPv4 addresses this process can bind, that the daemons reach, that
        # monerod treats as public; released when the network closes

On a network without it (:class:`~.network.LoopbackNetwork`) the driver is
refused before any daemon starts (``BackendUnavailable`` with this reason).

What the attacker does, as in the simulator (:mod:`pytest_monerosim.attacks.eclipse`):

1. **Poison the lists.** From ``start`` every attacker address listens and
   ``connectors`` of them connect in to the victim with ``my_port`` set: the
   victim pings each back and puts it on its white list; every handshake and
   timed-sync answer of ours lists all attacker addresses (gray list). Each
   timed-sync period of the victim (60 s of wall time, monerod's
   ``P2P_DEFAULT_HANDSHAKE_INTERVAL``) the connectors reconnect, so their
   white-list entries stay the newest.
2. **Take the incoming slots** with those connections.
3. **Restart the victim** at ``restart_at`` (``stop_daemon``, which saves its
   peer lists and anchors, then the same command line after
   ``restart_downtime``); the attacker stays off for ``hold_s`` so that its
   addresses are free for the victim's outgoing picks.

Metrics, from the victim's ``get_connections`` (attacker = a connection whose
host is an attacker address) and heights: ``out_fraction``, ``all_fraction``,
``eclipsed`` (every outgoing slot held at a sample after ``start``),
``time_to_eclipse_s`` (from the restart, else from ``start``), ``honest_out``,
``height_lag``, ``victim_chain`` (``honest`` or ``stalled``), ``isolated_at_end``,
series ``out_fraction``, ``all_fraction``, ``honest_out``, ``height_lag``.
monerod 0.18 always keeps anchors (2 slots, no option; a restart reconnects one), so
``victim_anchors`` other than None or 2 is refused.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ...attacks.eclipse import STALLED_LAG, Eclipse, EclipseParams, default_victim, eclipse_held_s, peak_share
from ...p2p import BackgroundSwarm, Identity, PeerError
from .. import BackendUnavailable
from .netns import NEEDS_NAMESPACES

if TYPE_CHECKING:
    from ...config.model import Scenario
    from ...result.model import Result
    from .actions import NetworkActions
    from .network import LoopbackNetwork

TIMED_SYNC_WALL_S = 60.0
"""monerod's timed-sync period (P2P_DEFAULT_HANDSHAKE_INTERVAL, src/cryptonote_config.h), wall seconds."""
MONEROD_ANCHORS = 2
"""P2P_DEFAULT_ANCHOR_CONNECTIONS_COUNT in monerod 0.18: not configurable."""
RECONNECT_PAUSES_S = (0.01, 0.02, 0.05, 0.1)
"""A re-handshake dials again right after closing; if the victim refuses (it has not yet
processed the close: ``max_connections_per_ip`` 1), it retries after these pauses."""


def precheck(scenario: Scenario, network_kind: type | None = None) -> None:
    """Refuse (``BackendUnavailable``) what cannot run, before any daemon starts if possible.

    ``network_kind``: the network class the run uses, when known; without it
    the check is whether the namespaced network exists in this installation
    at all (``backends/monerod/netns.py``); the driver checks the instance.
    """
    if network_kind is not None and not hasattr(network_kind, "attacker_addresses"):
        raise BackendUnavailable(NEEDS_NAMESPACES)
    for ref in scenario.attacks:
        anchors = ref.params.get("victim_anchors") if ref.name == "eclipse" else None
        if anchors not in (None, MONEROD_ANCHORS):
            raise BackendUnavailable(
                f"eclipse on monerod: victim_anchors={anchors!r}; monerod 0.18 always keeps "
                f"{MONEROD_ANCHORS} anchor peers (P2P_DEFAULT_ANCHOR_CONNECTIONS_COUNT, not "
                f"configurable) (accepted: null or {MONEROD_ANCHORS})")


def victim_shares(connections: Iterable[dict[str, Any]],
                  attackers: set[str]) -> tuple[float, float, int, int]:
    """(out_fraction, all_fraction, honest_out, outgoing) of one ``get_connections`` answer."""
    out = held_out = total = held = 0
    for c in connections:
        mine = str(c.get("host", "")) in attackers
        total += 1
        held += mine
        if not c.get("incoming"):
            out += 1
            held_out += mine
    return (held_out / out if out else 0.0, held / total if total else 0.0, out - held_out, out)


class EclipseRig:
    """The attacker's side: listening identities, connections into victims, re-handshakes.

    Needs only addresses to bind and ``(host, port)`` of the victims, so it runs
    unchanged on loopback (where it can take incoming slots but never enter
    peer lists) and inside namespaces.
    """

    def __init__(self, hosts: list[str], *, connectors: int | None = None, seed: int = 0) -> None:
        self.bg = BackgroundSwarm(seed=seed)
        self.hosts = list(hosts)
        self.connectors = len(hosts) if connectors is None else min(connectors, len(hosts))
        self.identities: list[Identity] = []
        self.rng = random.Random(seed)

    def listen(self) -> list[Identity]:
        swarm = self.bg.swarm

        async def serve_all() -> list[Identity]:
            return [await swarm.serve(h) for h in self.hosts]

        self.identities = self.bg.call(serve_all())
        swarm.advertise(list(self.identities))
        return self.identities

    def connect_in(self, victims: list[tuple[str, int]], spread_s: float = 0.0,
                   one_by_one_s: float = 0.0) -> list[str]:
        """Connectors (re)connect to every victim; returns the failures (e.g. slots full).

        All at once (each after a random delay up to ``spread_s``), or with
        ``one_by_one_s`` one after another that far apart. monerod 0.18
        recounts its incoming connections once a second (a thread in
        ``node_server::run``), so a simultaneous burst of handshakes can get
        past ``--in-peers``; one by one, the limit holds exactly.
        """
        swarm = self.bg.swarm
        connectors = self.identities[:self.connectors]

        async def one(ident: Identity, victim: tuple[str, int]) -> str:
            # Wait first, then close and dial at once, as the simulator's attacker does (a
            # round trip between the two). Closing every connection first and dialling after
            # the delay left each address off the victim for up to ``spread_s``; monerod's
            # connection maker (connections_maker, once a second, src/p2p/net_node.inl) then
            # found the attacker's gray entries no longer in use (is_peer_used) and dialled up
            # to 9 of the 12 before the restart, which whitelisted them (measured 2026-12-05:
            # victim log at net.p2p:DEBUG, 9 "Selected peer ... [peer_list=2]" within the gap).
            if spread_s:
                await asyncio.sleep(self.rng.uniform(0, spread_s))
            open_ = [c for c in ident.connections if c.outgoing and c.remote == victim]
            for conn in open_:
                await conn.close()
            pauses = list(RECONNECT_PAUSES_S) if open_ else []
            while True:
                try:
                    await swarm.connect(victim, source=ident, timeout=10.0)
                    return ""
                except PeerError as exc:
                    if not pauses:
                        return f"{ident.host} -> {victim[0]}:{victim[1]}: {exc}"
                    # the victim may not have seen the close yet (one connection per IP)
                    await asyncio.sleep(pauses.pop(0))

        async def all_of() -> list[str]:
            pairs = [(i, v) for i in connectors for v in victims]
            if not one_by_one_s:
                return list(await asyncio.gather(*(one(i, v) for i, v in pairs)))
            out = []
            for i, v in pairs:
                out.append(await one(i, v))
                await asyncio.sleep(one_by_one_s)
            return out

        return [r for r in self.bg.call(all_of(), timeout=120.0) if r]

    def disconnect(self) -> None:
        async def close_all() -> None:
            for ident in self.identities:
                for conn in list(ident.connections):
                    await conn.close()

        self.bg.call(close_all())

    def close(self) -> None:
        self.bg.close()


class EclipseDriver:
    """Eclipse real daemons from attacker addresses the namespaced network provides."""

    name = Eclipse.name

    def __init__(self, params: EclipseParams, scenario: Scenario, network: LoopbackNetwork,
                 actions: NetworkActions) -> None:
        precheck(scenario, type(network))
        self.p = params
        self.attack = Eclipse(params)
        self.network = network
        self.actions = actions
        nodes = actions.nodes()
        wanted = params.victim or default_victim(scenario)
        groups = {g.group: [n for n in g.node_names() if n in nodes] for g in scenario.nodes}
        self.victims = [wanted] if wanted in nodes else groups.get(wanted or "", [])
        if not self.victims:
            raise BackendUnavailable(f"eclipse on monerod: victim {wanted!r} is not a node or group")
        self.hosts: list[str] = list(network.attacker_addresses(params.attackers))
        self.rig: EclipseRig | None = None
        self.started_at: float | None = None
        self.restarted_at: float | None = None
        self.hold_until: float | None = None
        self.next_cycle = 0.0
        self.next_sample = params.start
        self.eclipsed_at: dict[str, float | None] = {v: None for v in self.victims}
        self.series: dict[str, dict[str, list[list[float]]]] = {
            v: {"out_fraction": [], "all_fraction": [], "honest_out": [], "height_lag": []}
            for v in self.victims}
        self.failures: list[str] = []

    def events(self) -> list[tuple[float, Callable[[], None]]]:
        out: list[tuple[float, Callable[[], None]]] = [(self.p.start, self._begin)]
        if self.p.restart_at is not None:
            out.append((self.p.restart_at, self._restart))
        return out

    def _targets(self) -> list[tuple[str, int]]:
        return [(d.address, d.ports.p2p) for d in (self.actions.daemon(v) for v in self.victims)]

    def _begin(self) -> None:
        self.rig = EclipseRig(self.hosts, connectors=self.p.connectors,
                              seed=random.Random(str(self.p.model_dump())).getrandbits(32))
        self.rig.listen()
        self.failures += self.rig.connect_in(self._targets())
        self.started_at = self.network.now()
        self.next_cycle = time.monotonic() + TIMED_SYNC_WALL_S

    def _restart(self) -> None:
        from .restart import restart

        if self.rig is not None:
            self.rig.disconnect()
        for v in self.victims:
            daemon = self.actions.daemon(v)
            daemon.stop()
        time.sleep(self.p.restart_downtime / self.network.time_scale)
        for v in self.victims:
            daemon = self.actions.daemon(v)
            restart(daemon)
            daemon.wait_ready(60.0)
        self.restarted_at = self.network.now()
        self.hold_until = time.monotonic() + self.p.hold_s / self.network.time_scale

    def poll(self, now: float) -> None:
        if self.rig is None:
            return
        wall = time.monotonic()
        if self.hold_until is not None and wall >= self.hold_until:
            self.hold_until = None
            self.failures += self.rig.connect_in(self._targets())
            self.next_cycle = wall + TIMED_SYNC_WALL_S
        elif self.hold_until is None and wall >= self.next_cycle:
            # reconnect so the victim's white-list entries for us stay the newest
            self.failures += self.rig.connect_in(self._targets(), spread_s=self.p.rehandshake_delay_s
                                                 / self.network.time_scale)
            self.next_cycle = wall + TIMED_SYNC_WALL_S
        if now >= self.next_sample:
            self._sample(now)
            self.next_sample = now + self.p.sample_s

    def _heights(self) -> tuple[int, dict[str, int]]:
        honest, victims = [], {}
        for node in self.actions.nodes():
            daemon = self.actions.daemon(node)
            if not daemon.alive():
                continue
            height = int(daemon.rpc.get_info().get("height", 0))
            if node in self.victims:
                victims[node] = height
            else:
                honest.append(height)
        return (max(honest) if honest else 0), victims

    def _sample(self, now: float) -> None:
        top, heights = self._heights()
        attackers = set(self.hosts)
        for v in self.victims:
            daemon = self.actions.daemon(v)
            if not daemon.alive():
                continue
            out_f, all_f, honest, out = victim_shares(daemon.rpc.get_connections(), attackers)
            s = self.series[v]
            s["out_fraction"].append([round(now, 3), round(out_f, 4)])
            s["all_fraction"].append([round(now, 3), round(all_f, 4)])
            s["honest_out"].append([round(now, 3), honest])
            s["height_lag"].append([round(now, 3), top - heights.get(v, 0)])
            if out and honest == 0 and self.eclipsed_at[v] is None:
                self.eclipsed_at[v] = now

    def finish(self, result: Result) -> None:
        try:
            now = self.network.now()
            self._sample(now)
            top, heights = self._heights()
            origin = self.restarted_at if self.restarted_at is not None else self.p.start
            attackers = set(self.hosts)
            out_fs: list[float] = []
            all_fs: list[float] = []
            honest_outs: list[int] = []
            lags: list[int] = []
            times: list[float | None] = []
            isolated: list[bool] = []
            peaks: list[float] = []
            held: list[float | None] = []
            for v in self.victims:
                conns = self.actions.daemon(v).rpc.get_connections()
                out_f, all_f, honest, _ = victim_shares(conns, attackers)
                at = self.eclipsed_at[v]
                series_out = self.series[v]["out_fraction"]
                peaks.append(max(peak_share(series_out, origin), out_f))
                held.append(eclipse_held_s(series_out, at, now))
                out_fs.append(out_f)
                all_fs.append(all_f)
                honest_outs.append(honest)
                lags.append(top - heights.get(v, 0))
                times.append(None if at is None else round(max(0.0, at - origin), 3))
                isolated.append(bool(conns) and all(str(c.get("host")) in attackers for c in conns))
            n = len(self.victims)
            self.attack.report(
                result,
                out_fraction=round(sum(out_fs) / n, 4),
                peak_out_fraction=round(sum(peaks) / n, 4),
                eclipse_held_s=None if None in held else min(h for h in held if h is not None),
                eclipsed=None not in times,
                time_to_eclipse_s=None if None in times else max(t for t in times if t is not None),
                height_lag=max(lags),
                victim_chain="stalled" if max(lags) >= STALLED_LAG else "honest",
                all_fraction=round(sum(all_fs) / n, 4),
                honest_out=min(honest_outs),
                isolated_at_end=all(isolated),
                eclipsed_victims=sum(t is not None for t in times),
                restart_at=self.restarted_at,
                victim=list(self.victims),
                attackers=list(self.hosts),
                connection_failures=self.failures[:10],
                series=self.series[self.victims[0]],
            )
        finally:
            self.close()

    def close(self) -> None:
        if self.rig is not None:
            rig, self.rig = self.rig, None
            rig.close()


__all__ = ["NEEDS_NAMESPACES", "EclipseDriver", "EclipseRig", "precheck", "victim_shares"]
