"""Attack mechanisms on real nodes: partitions, isolation, conflicting transfers.

These act through monerod's own controls, as Monero's functional tests do
(``tests/functional_tests/p2p.py`` cuts daemons apart with ``out_peers 0``,
mines competing chains, reconnects and checks the reorg):

* :meth:`NetworkActions.partition` — with namespaces, the parts' links are
  cut (each part beyond the first moves to a bridge of its own,
  :meth:`~.netns.NetnsNetwork.partition`: no packet crosses) and the
  connections across aborted; monerod keeps its peer lists and reconnects
  after the heal. On loopback, nodes in different groups ban each
  other's P2P address (``set_bans``). Every host has its own IP
  (:func:`~.network.loopback_ip`), and each connection is outgoing on one
  side, whose ban drops it and stops reconnection; connections inside a
  group stay. :meth:`heal` lifts the bans; exclusive/priority peers reconnect
  within a second or two.
* :meth:`NetworkActions.isolate` / :meth:`rejoin` — ``out_peers 0`` and
  ``in_peers 0`` cut one node off entirely, then the plan's limits come back.
* :meth:`NetworkActions.conflicting_transfers` — one output spent twice
  (``sweep_single`` of the same key image, not relayed), each spend handed to
  a node on a different side (``send_raw_transaction``): a double spend.
  :meth:`DoubleSpend.outcome` says which spend the converged chain kept.

Everything done is written as records (``mined``, ``action``,
``double_spend``, ``attack``) to ``<monitor host dir>/actions.jsonl``, so the
run's :class:`~pytest_monerosim.result.model.Result` attributes blocks mined
here to their node and carries the double-spend outcome in
``result.attacks["double_spend"]`` and ``result.double_spends_rejected``.
The attack plugins (:mod:`pytest_monerosim.attacks`) can drive real nodes
through these.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ...agents.runtime import Clock, EventLog, PeerNames
from ..plan import BURN_ADDRESS
from .errors import MonerodBackendError, RpcError
from .network import LoopbackNetwork, PlannedDaemon

BAN_SECONDS = 24 * 3600
"""Long enough to outlast any run; :meth:`NetworkActions.heal` lifts bans explicitly."""


class NetworkActions:
    """Drive a started :class:`LoopbackNetwork` (partitions, mining, double spends)."""

    def __init__(self, network: LoopbackNetwork) -> None:
        if network.t0 is None:
            raise MonerodBackendError("start the network before acting on it")
        self.network = network
        self.log = EventLog(network.host_dir(network.monitor_host) / "actions.jsonl", "actions",
                            Clock(network.t0, network.time_scale))
        self.names = PeerNames(network.plan.peer_addresses(network.ips.__getitem__))
        self.bans: dict[str, set[str]] = {}
        self.isolated: set[str] = set()

    # -- helpers ------------------------------------------------------------------------
    def daemon(self, node: str) -> PlannedDaemon:
        return self.network.node(node)

    def nodes(self) -> list[str]:
        return [h.node for h in self.network.plan.daemon_hosts() if h.node is not None]

    def links(self) -> set[tuple[str, str]]:
        """Directed (from, to) for every outgoing connection in the network now."""
        edges: set[tuple[str, str]] = set()
        for node in self.nodes():
            for c in self.daemon(node).rpc.get_connections():
                if not c.get("incoming"):
                    other = self.names.name(c)
                    if other is not None:
                        edges.add((node, other))
        return edges

    # -- partitions ---------------------------------------------------------------------
    def partition(self, groups: Sequence[Iterable[str]], *, timeout: float = 30.0) -> None:
        """Cut the network into ``groups`` of node names (unlisted nodes form one more group).

        Returns once no connection crosses groups.
        """
        side: dict[str, int] = {}
        for i, group in enumerate(groups):
            for node in group:
                if node not in self.nodes():
                    raise ValueError(f"partition: {node!r} is not a node; nodes are {self.nodes()}")
                if node in side:
                    raise ValueError(f"partition: {node!r} is in two groups")
                side[node] = i
        rest = len(groups)
        for node in self.nodes():
            side.setdefault(node, rest)
        parts = [[n for n in self.nodes() if side[n] == i] for i in sorted(set(side.values()))]
        if self.network.netns is not None:
            # a cut of the links, and the connections across it aborted; no bans: a ban
            # evicts the banned peers from monerod's peer lists, so after the heal the parts
            # would never find each other again (real nodes keep their lists across an outage)
            host = self.network.plan.host_of_node
            self.network.netns.partition([[host(n).name for n in part] for part in parts])
        else:
            for node in self.nodes():
                others = [n for n in self.nodes() if side[n] != side[node]]
                ips = {self.network.ips[self.network.plan.host_of_node(n).name] for n in others}
                if ips:
                    self.daemon(node).rpc.set_bans(
                        [{"host": ip, "ban": True, "seconds": BAN_SECONDS} for ip in sorted(ips)])
                    self.bans.setdefault(node, set()).update(ips)
        self.log.write("action", action="partition", groups=[sorted(part) for part in parts])
        self._wait(lambda: not any(side[a] != side[b] for a, b in self.links()), timeout,
                   "connections across the partition to drop")

    def heal(self, *, timeout: float = 30.0) -> None:
        """Relink cut namespaces, lift every ban and isolation; wait until each node has a
        connection again."""
        if self.network.netns is not None:
            self.network.netns.heal()
        for node, ips in self.bans.items():
            self.daemon(node).rpc.set_bans([{"host": ip, "ban": False} for ip in sorted(ips)])
        self.bans.clear()
        for node in list(self.isolated):
            self.rejoin(node)
        self.log.write("action", action="heal")
        self._wait(self._all_connected, timeout, "every node to reconnect")

    def isolate(self, node: str) -> None:
        """``out_peers 0`` and ``in_peers 0``: the node drops and refuses every connection."""
        rpc = self.daemon(node).rpc
        rpc.out_peers(0)
        rpc.in_peers(0)
        self.isolated.add(node)
        self.log.write("action", action="isolate", node=node)

    def rejoin(self, node: str) -> None:
        """Restore the plan's ``out_peers``/``in_peers`` for ``node``."""
        spec = self.daemon(node).spec
        rpc = self.daemon(node).rpc
        rpc.out_peers(spec.out_peers)
        rpc.in_peers(spec.in_peers if spec.in_peers is not None else 2**31 - 1)
        self.isolated.discard(node)
        self.log.write("action", action="rejoin", node=node)

    def _all_connected(self) -> bool:
        for node in self.nodes():
            d = self.daemon(node)
            if d.spec.offline:
                continue
            info = d.rpc.get_info()
            if int(info.get("outgoing_connections_count", 0)) + int(
                    info.get("incoming_connections_count", 0)) == 0:
                return False
        return True

    # -- mining and convergence -----------------------------------------------------------
    def mine(self, node: str, blocks: int = 1, address: str = BURN_ADDRESS) -> list[str]:
        """``generateblocks`` on ``node``; returns the block hashes (recorded as mined there)."""
        answer = self.daemon(node).rpc.generateblocks(blocks, address)
        hashes = [str(h) for h in answer.get("blocks", [])]
        top = int(answer.get("height", 0))
        for i, block in enumerate(hashes):
            self.log.write("mined", node=node, block=block, height=top - len(hashes) + 1 + i)
        return hashes

    def tips(self, nodes: Iterable[str] | None = None) -> dict[str, str]:
        return {n: str(self.daemon(n).rpc.get_info()["top_block_hash"])
                for n in (nodes if nodes is not None else self.nodes())}

    def wait_converged(self, nodes: Iterable[str] | None = None, timeout: float = 60.0) -> str:
        """Wait until ``nodes`` (default all) share one tip; return it."""
        names = list(nodes) if nodes is not None else self.nodes()
        seen: dict[str, str] = {}

        def same() -> bool:
            seen.clear()
            seen.update(self.tips(names))
            return len(set(seen.values())) == 1

        self._wait(same, timeout, f"{', '.join(names)} to agree on a tip", lambda: str(seen))
        return next(iter(seen.values()))

    def _wait(self, done: Any, timeout: float, what: str, state: Any = None) -> None:
        deadline = time.monotonic() + timeout
        while True:
            self.network.check_health()
            if done():
                return
            if time.monotonic() >= deadline:
                extra = f" (now: {state()})" if state is not None else ""
                raise MonerodBackendError(f"waited {timeout:g} s for {what}{extra}")
            time.sleep(0.1)

    # -- double spends ------------------------------------------------------------------
    def conflicting_transfers(
        self,
        wallet: str,
        spends: Sequence[tuple[str, str]],
        *,
        key_image: str | None = None,
        fluff: bool = True,
    ) -> DoubleSpend:
        """Spend one output of ``wallet`` once per ``(node, address)``, each sent to its node.

        Every spend sweeps the same output (``key_image``, default the
        wallet's first unlocked one) to its address without relaying it, then
        goes to its node with ``send_raw_transaction``: on two sides of a
        partition, both are accepted and mined; after healing, the chain keeps
        one. A spend its node refuses (the other one arrived first) is
        recorded as rejected.
        """
        if len(spends) < 2:
            raise ValueError("a double spend needs at least two (node, address) spends")
        rpc = self.network.wallets[wallet].rpc
        rpc.refresh()
        if key_image is None:
            available = [t for t in rpc.incoming_transfers("available") if t.get("unlocked", True)]
            if not available:
                raise MonerodBackendError(f"wallet {wallet!r} has no unlocked output to spend twice")
            key_image = str(min(available, key=lambda t: int(t.get("amount", 0)))["key_image"])
        attempt = DoubleSpend(wallet=wallet, key_image=key_image)
        for node, address in spends:
            made = rpc.request("sweep_single", {
                "address": address, "key_image": key_image, "do_not_relay": True,
                "get_tx_hex": True, "priority": 0,
            }, timeout=120.0)
            txid, blob = str(made["tx_hash"]), str(made["tx_blob"])
            fee, amount = int(made.get("fee", 0)), int(made.get("amount", 0))
            accepted, reason = self.submit(node, blob, fluff=fluff)
            attempt.spends.append({"node": node, "address": address, "tx": txid,
                                   "accepted": accepted, "reason": reason, "fee": fee})
            self.log.write("tx_sent", wallet=wallet, node=node, tx=txid, fee=fee, amount=amount,
                           weight=int(made.get("weight", 0)), destinations={address: amount},
                           recipients={address: amount}, double_spend=True)
            if not accepted:
                self.log.write("double_spend", tx=txid, node=node, rejected=True, stage="pool",
                               reason=reason)
        self.log.write("action", action="conflicting_transfers", wallet=wallet,
                       key_image=key_image, spends=attempt.spends)
        return attempt

    def submit(self, node: str, tx_blob: str, *, fluff: bool = True) -> tuple[bool, str]:
        """``send_raw_transaction`` on ``node``; returns (accepted, reason).

        monerod 0.18 keeps a locally submitted tx in Dandelion++'s stem, where
        no block template takes it, until its embargo (about 39 s of real time)
        runs out, unless the node has no outgoing connection: then it fluffs
        at once. With ``fluff`` the node's outgoing connections are dropped
        (``out_peers 0``) for the submission and restored after, so the tx can
        be mined right away, as it would be long after in a real network.
        """
        daemon = self.daemon(node)
        if fluff:
            daemon.rpc.out_peers(0)
            self._wait(lambda: int(daemon.rpc.get_info().get("outgoing_connections_count", 0)) == 0,
                       10.0, f"{node} to drop its outgoing connections")
        try:
            daemon.rpc.send_raw_transaction(tx_blob)
            return True, ""
        except RpcError as exc:
            return False, exc.message
        finally:
            if fluff:
                spec = daemon.spec
                daemon.rpc.out_peers(spec.out_peers)

    def close(self) -> None:
        self.log.close()


@dataclass
class DoubleSpend:
    """Two or more spends of one output, and what became of them."""

    wallet: str
    key_image: str
    spends: list[dict[str, Any]] = field(default_factory=list)

    def txids(self) -> list[str]:
        return [s["tx"] for s in self.spends]

    def outcome(self, actions: NetworkActions, node: str | None = None) -> dict[str, Any]:
        """Which spend ``node``'s chain (default the first node's) kept, and the others' fate.

        A spend is *kept* when it is on the chain, *rejected* when another spend
        of its output is (monerod may leave it in a pool, flagged
        ``double_spend_seen``, where no block can take it), *pending* while the
        output is unspent on the chain. Writes a ``double_spend`` record per
        rejected spend (unless its pool refused it already) and an ``attack``
        record ``double_spend`` with these metrics.
        """
        rpc = actions.daemon(node or actions.nodes()[0]).rpc
        found = {str(t["tx_hash"]): t for t in rpc.get_transactions(self.txids()).get("txs", [])}
        kept = [t for t, info in found.items() if not info.get("in_pool")]
        status = rpc.post("/is_key_image_spent", {"key_images": [self.key_image]})
        spent_on_chain = list(status.get("spent_status", [0]))[0] == 1
        rejected = [t for t in self.txids() if t not in kept] if spent_on_chain else []
        pending = [t for t in self.txids() if t not in kept and t not in rejected]
        refused = {s["tx"] for s in self.spends if not s["accepted"]}
        for txid in rejected:
            if txid not in refused:
                actions.log.write("double_spend", tx=txid, rejected=True, stage="chain",
                                  lingering_in_pool=txid in found)
        metrics = {
            "wallet": self.wallet, "key_image": self.key_image, "spends": self.spends,
            "kept": kept, "rejected": rejected, "pending": pending,
            "resolved": spent_on_chain and len(kept) == 1,
        }
        actions.log.write("attack", name="double_spend", metrics=metrics)
        return metrics


__all__ = ["BAN_SECONDS", "DoubleSpend", "NetworkActions"]
