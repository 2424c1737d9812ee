"""What the dashboard draws, kept up to date from the event bus: series, peer graph, block tree, txs.

:class:`RunViews` subscribes to the :class:`~.bus.EventBus` like the agent
registry does, so a live simulator run, a real backend's poller, a finished
result replayed onto the bus and a saved ``events.jsonl`` played back all fill
the same views. Every reader copies under a lock and is cheap: the API thread
never walks the run itself.

* **series**: one row per ``run.sample`` event (simulated time, honest heights
  min/median/max, the attackers' best height, mean peers, mempool size, txs
  created, stale blocks, reorgs, each victim's attacker share), plus each
  node's own height changes;
* **graph**: the peer connections (``peer.connect``/``peer.disconnect`` with a
  peer name, or whole ``peer.snapshot`` edge lists), attackers and victims marked;
* **blocks**: every block with its parent, miner and time, the main chain of
  the best tip, the reorgs;
* **transactions**: every tx with its sender, origin, fee, status and relay phase.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

from . import bus as ev

MAX_NODE_POINTS = 2000
"""Height changes kept per node (the oldest are dropped first)."""


class RunViews:
    def __init__(self, *, max_samples: int = 20_000, max_txs: int = 50_000) -> None:
        self._lock = threading.Lock()
        self.max_samples = max_samples
        self.max_txs = max_txs
        self.victims: set[str] = set()
        """Node names or group names under attack (from the scenario's attack parameters)."""
        self.clear()

    def attach(self, bus: ev.EventBus) -> None:
        bus.subscribe(self.apply)

    def clear(self) -> None:
        self.meta: dict[str, tuple[str, str, bool]] = {}
        """node -> (role, group, honest)"""
        self.adj: dict[str, set[str]] = {}
        self.samples: deque[dict[str, Any]] = deque(maxlen=self.max_samples)
        self.node_heights: dict[str, deque[tuple[float, int]]] = {}
        self.blocks: dict[str, dict[str, Any]] = {}
        self.reorgs: list[dict[str, Any]] = []
        self.txs: dict[str, dict[str, Any]] = {}
        self.best: str | None = None

    # -- writing (the bus's subscriber) ------------------------------------------------
    def apply(self, event: ev.Event) -> None:
        kind = event.kind
        if kind in (ev.RUN_PROGRESS, ev.COMMAND, ev.CHECK, "agent.log"):
            return
        data = event.data
        agent = event.agent
        with self._lock:
            if kind == ev.TIP_CHANGED and agent is not None:
                points = self.node_heights.get(agent)
                if points is None:
                    points = self.node_heights[agent] = deque(maxlen=MAX_NODE_POINTS)
                points.append((event.time or 0.0, int(data.get("height", 0))))
            elif kind == ev.PEER_CONNECT:
                peer = data.get("peer")
                if agent is not None and peer:
                    self.adj.setdefault(agent, set()).add(peer)
                    self.adj.setdefault(peer, set()).add(agent)
            elif kind == ev.PEER_DISCONNECT:
                peer = data.get("peer")
                if agent is not None and peer:
                    self.adj.get(agent, set()).discard(peer)
                    self.adj.get(peer, set()).discard(agent)
            elif kind == ev.PEER_SNAPSHOT:
                self.adj = {}
                for a, b in data.get("edges", ()):
                    self.adj.setdefault(a, set()).add(b)
                    self.adj.setdefault(b, set()).add(a)
            elif kind == ev.BLOCK_FOUND:
                self._block(event)
            elif kind == ev.REORG:
                self.reorgs.append({"time": event.time, "node": agent, **data})
                del self.reorgs[:-1000]
            elif kind == ev.TX:
                self._tx(event)
            elif kind == ev.TX_STATUS:
                tx = self.txs.get(str(data.get("id")))
                if tx is not None:
                    tx.update({k: v for k, v in data.items() if k != "id"})
                    tx["updated"] = event.time
            elif kind == ev.RUN_SAMPLE:
                self.samples.append({"time": event.time, **data})
            elif kind == ev.AGENT_UP and agent is not None and data.get("kind") == "node":
                self.meta[agent] = (str(data.get("role", "")), str(data.get("group", "")),
                                    bool(data.get("honest", True)))
            elif kind == ev.RUN_START:
                self.clear()
                if "victims" in data:  # saved with the run: a replay marks them too
                    self.victims = set(data["victims"] or ())
            elif kind == ev.RUN_REPLAY:
                self.blocks.clear()
                self.reorgs.clear()
                self.best = None

    def _block(self, event: ev.Event) -> None:
        data = event.data
        block_id = str(data.get("id"))
        known = self.blocks.get(block_id)
        miner = data.get("miner") or event.agent
        if known is not None:
            if miner and not known.get("miner"):
                known["miner"] = miner
            return
        height = int(data.get("height", 0))
        self.blocks[block_id] = {"id": block_id, "height": height, "parent": data.get("parent"),
                                 "miner": miner, "time": event.time}
        best = self.blocks.get(self.best) if self.best else None
        if best is None or height > best["height"]:
            self.best = block_id

    def _tx(self, event: ev.Event) -> None:
        data = event.data
        tx_id = str(data.get("id"))
        record = self.txs.get(tx_id)
        if record is None:
            if len(self.txs) >= self.max_txs:
                self.txs.pop(next(iter(self.txs)))
            record = self.txs[tx_id] = {"id": tx_id, "origin": event.agent, "sender": None, "fee": 0,
                                        "created": event.time, "status": "pending", "phase": None}
        record.update({k: v for k, v in data.items() if k != "id"})

    # -- the victims' share of attacker peers, stale blocks: read when a sample is taken -----------
    def is_victim(self, node: str) -> bool:
        meta = self.meta.get(node)
        return node in self.victims or (meta is not None and meta[1] in self.victims)

    def sample_fields(self) -> dict[str, Any]:
        """Fields of a ``run.sample`` the views know best (attacker shares, stale blocks, reorgs)."""
        with self._lock:
            shares = {}
            for node, peers in self.adj.items():
                if self.is_victim(node):
                    bad = sum(1 for p in peers if p in self.meta and not self.meta[p][2])
                    shares[node] = round(bad / len(peers), 4) if peers else 0.0
            best = self.blocks.get(self.best) if self.best else None
            stale = max(0, len(self.blocks) - (best["height"] if best else 0))
            return {"attacker_share": shares, "stale": stale, "blocks": len(self.blocks),
                    "reorgs": len(self.reorgs), "edges": sum(len(p) for p in self.adj.values()) // 2}

    # -- reading -------------------------------------------------------------------
    def series(self, since: float | None = None, nodes: list[str] | None = None) -> dict[str, Any]:
        with self._lock:
            rows = [s for s in self.samples if since is None or (s["time"] or 0.0) > since]
            per_node = {n: [list(p) for p in self.node_heights.get(n, ())] for n in nodes or ()}
        columns: dict[str, list[Any]] = {"time": [r["time"] for r in rows]}
        for key in ("height_min", "height_median", "height_max", "height_attacker", "peers_mean",
                    "mempool", "txs", "tx_rate", "stale", "reorgs", "blocks"):
            columns[key] = [r.get(key) for r in rows]
        victims = sorted({v for r in rows for v in r.get("attacker_share", {})})
        shares = {v: [r.get("attacker_share", {}).get(v) for r in rows] for v in victims}
        return {"count": len(rows), "columns": columns, "attacker_share": shares, "nodes": per_node}

    def peers_of(self, node: str) -> list[str]:
        with self._lock:
            return sorted(self.adj.get(node, ()))

    def graph(self, group: str | None = None, limit: int = 5000) -> dict[str, Any]:
        with self._lock:
            names = [n for n, m in self.meta.items() if group is None or m[1] == group][:limit]
            keep = set(names)
            nodes = [{"id": n, "role": self.meta[n][0], "group": self.meta[n][1], "honest": self.meta[n][2],
                      "victim": self.is_victim(n)} for n in names]
            edges = sorted({(a, b) if a < b else (b, a) for a, peers in self.adj.items() if a in keep
                            for b in peers if b in keep})
        return {"nodes": nodes, "edges": [list(e) for e in edges], "truncated": len(self.meta) > len(names)}

    def block_tree(self, last: int = 60) -> dict[str, Any]:
        with self._lock:
            main: set[str] = set()
            cur = self.best
            while cur is not None and cur in self.blocks and cur not in main:
                main.add(cur)
                cur = self.blocks[cur].get("parent")
            top = self.blocks[self.best]["height"] if self.best else 0
            shown = [dict(b, main=b["id"] in main) for b in self.blocks.values() if b["height"] > top - last]
            reorgs = [dict(r) for r in self.reorgs[-200:]]
            total, stale = len(self.blocks), len(self.blocks) - len(main)
        shown.sort(key=lambda b: (b["height"], b["time"] or 0.0))
        return {"best": self.best, "height": top, "total": total, "stale": max(0, stale),
                "blocks": shown, "reorgs": reorgs}

    def transactions(self, *, offset: int = 0, limit: int = 100, status: str | None = None,
                     wallet: str | None = None) -> dict[str, Any]:
        with self._lock:
            rows = [dict(t) for t in self.txs.values()
                    if (status is None or t.get("status") == status)
                    and (wallet is None or t.get("sender") == wallet)]
        rows.reverse()  # newest first
        counts: dict[str, int] = {}
        for t in rows:
            counts[str(t.get("status"))] = counts.get(str(t.get("status")), 0) + 1
        return {"total": len(rows), "offset": offset, "by_status": counts,
                "transactions": rows[offset:offset + limit]}
