"""The monitor agent: polls every daemon and wallet and records what it sees.

Records (JSON lines, see :mod:`pytest_monerosim.backends.parse`):

* ``tip`` — a node's tip changed: ``node``, ``height``, ``id``;
* ``block`` — a block header the first time any node shows it (main chain or
  alternative): ``id``, ``height``, ``parent``, ``timestamp``, ``difficulty``,
  ``cumulative_difficulty``, ``reward`` (coinbase total, fees included),
  ``size``, ``weight``, ``tx_ids``, ``seen_by``;
* ``pool`` — transactions new in a node's pool since the last poll: ``node``, ``txs``;
* ``peers`` — a peer-graph snapshot: ``edges`` (directed, outgoing connections),
  ``peer_ids`` (peer id → host, learned from outgoing connections);
* ``tx`` — a transaction's details (final sweep): ``id``, ``fee``, ``weight``,
  ``key_images``, ``in_pool``, ``block_height``;
* ``final`` — the end of the final sweep: ``tips`` and ``pools`` (each node's pool).

Command line (see :mod:`._cli`)::

    python -m pytest_monerosim.agents.monitor --name monitor --host monitor \\
        --out DIR --shared DIR --t0 EPOCH --time-scale 120 --duration 3600 --seed 1 \\
        --options '{"poll_s": 30, "daemons": {"n0": "http://127.0.0.1:18081"},
                    "p2p": {"n0": "127.0.0.2:18080"}}'
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..atomic import atomic_write
from ..rpc import DaemonRpc
from ..rpc.errors import MonerodBackendError
from .runtime import EventLog, PeerNames, Scheduler

GENESIS_PARENT = "0" * 64
SETTLE_WALL_S = 15.0
"""At the end, wait up to this long (wall) for the nodes' tips to agree before the sweep (it
returns as soon as they do). 2 s was too short on a loaded machine: the quickstart's last
block took up to 5.7 s of wall time to reach all 9 daemons (load ~19), and the sweep caught
8 wallets' nodes one block behind the reference tip."""
MIN_POLL_WALL_S = 0.5
PEERS_EVERY_POLLS = 4
"""A peer snapshot every this many polls (tips and pools are polled every time)."""


class Monitor:
    """Polls daemons: tips, new blocks, pools, peers; a final sweep at the end.

    It never calls a wallet: monero-wallet-rpc must not serve two clients at
    once (a refresh during a transfer can hang both), so each wallet's own
    agent reports its final state (:func:`~.runtime.write_wallet_state`).
    """

    def __init__(
        self,
        *,
        daemons: Mapping[str, DaemonRpc],
        p2p: Mapping[str, str],
        log: EventLog,
        shared_dir: Path | None = None,
        poll_s: float = 30.0,
    ) -> None:
        self.daemons = dict(daemons)
        self.log = log
        self.poll_s = poll_s
        self.shared_dir = shared_dir
        self.names = PeerNames(p2p)
        self.known_blocks: set[str] = set()
        self.tips: dict[str, str] = {}
        self.pools: dict[str, set[str]] = {}
        self.seen_txs: set[str] = set()
        self.seen_by: dict[str, set[str]] = {}
        self.polls = 0

    # -- periodic -------------------------------------------------------------------
    def start(self, scheduler: Scheduler) -> None:
        """Poll every ``poll_s`` simulated seconds, but at most every :data:`MIN_POLL_WALL_S`
        wall seconds: on a fast time scale, polling 25 daemons would eat a core."""
        every = max(self.poll_s, MIN_POLL_WALL_S * scheduler.clock.scale)

        def tick() -> None:
            try:
                self.poll()
            finally:
                scheduler.schedule(every, tick)
        scheduler.schedule(0.0, tick)

    def poll(self) -> None:
        self.polls += 1
        for node, rpc in self.daemons.items():
            with contextlib.suppress(MonerodBackendError):  # a node being started or cut off
                self._poll_tip(node, rpc)
                self._poll_pool(node, rpc)
        if self.polls % PEERS_EVERY_POLLS == 1:
            self.snapshot_peers()

    def _poll_tip(self, node: str, rpc: DaemonRpc) -> None:
        info = rpc.get_info()
        tip = str(info["top_block_hash"])
        if self.tips.get(node) == tip:
            return
        self.tips[node] = tip
        self.log.write("tip", node=node, height=int(info["height"]) - 1, id=tip)
        self.fetch_chain(node, rpc, tip)

    def _poll_pool(self, node: str, rpc: DaemonRpc) -> None:
        txs = set(rpc.get_transaction_pool_hashes())
        new = sorted(txs - self.pools.get(node, set()))
        self.pools[node] = txs
        self.seen_by.setdefault(node, set()).update(txs)
        if new:
            self.seen_txs.update(new)
            self.log.write("pool", node=node, txs=new)

    def fetch_chain(self, node: str, rpc: DaemonRpc, tip: str) -> None:
        """Record every block from ``tip`` back to the first one already recorded."""
        block_hash = tip
        while block_hash and block_hash != GENESIS_PARENT and block_hash not in self.known_blocks:
            header = rpc.get_block_header_by_hash(block_hash)
            self.record_block(node, rpc, header)
            block_hash = str(header.get("prev_hash", ""))
            if int(header["height"]) == 0:
                break

    def record_block(self, node: str, rpc: DaemonRpc, header: Mapping[str, Any]) -> None:
        block_id = str(header["hash"])
        tx_ids: list[str] = []
        if int(header.get("num_txes", 0)) > 0:
            tx_ids = [str(t) for t in rpc.get_block(block_hash=block_id).get("tx_hashes", [])]
            self.seen_txs.update(tx_ids)
            self.seen_by.setdefault(node, set()).update(tx_ids)
        self.known_blocks.add(block_id)
        height = int(header["height"])
        self.log.write(
            "block", id=block_id, height=height,
            parent=str(header["prev_hash"]) if height > 0 else None,
            timestamp=int(header.get("timestamp", 0)),
            difficulty=int(header.get("difficulty", 1)),
            cumulative_difficulty=int(header.get("cumulative_difficulty", height + 1)),
            reward=int(header.get("reward", 0)), size=int(header.get("block_size", 0)),
            weight=int(header.get("block_weight", 0)), miner_tx=header.get("miner_tx_hash"),
            tx_ids=tx_ids, seen_by=node,
        )

    def snapshot_peers(self) -> None:
        edges: list[list[str]] = []
        for node, rpc in self.daemons.items():
            try:
                connections = rpc.get_connections()
            except MonerodBackendError:
                continue
            self.names.learn(connections)
            for c in connections:
                if c.get("incoming"):
                    continue
                other = self.names.name(c)
                if other is not None:
                    edges.append([node, other])
        ids = dict(sorted(self.names.by_peer_id.items()))
        self.log.write("peers", edges=sorted(edges), peer_ids=ids)
        if self.shared_dir is not None:
            with contextlib.suppress(OSError):
                atomic_write(self.shared_dir / "peer_ids.json", json.dumps(ids))

    # -- final sweep ----------------------------------------------------------------
    def settle(self, timeout_wall: float = SETTLE_WALL_S) -> None:
        """Give blocks still in flight a moment to arrive: wait until the tips agree."""
        deadline = time.monotonic() + timeout_wall
        while time.monotonic() < deadline:
            tips = set()
            for rpc in self.daemons.values():
                with contextlib.suppress(MonerodBackendError):
                    tips.add(str(rpc.get_info()["top_block_hash"]))
            if len(tips) <= 1:
                return
            time.sleep(0.05)

    def sweep(self) -> None:
        """Everything at the end: tips, every chain and alternative chain, txs, peers.

        Called once the other agents have stopped (their ``<shared>/stopped/``
        marks, see :mod:`.hosting`); :meth:`settle` first lets blocks still
        propagating arrive (at most :data:`SETTLE_WALL_S` wall seconds).
        """
        self.settle()
        for node, rpc in self.daemons.items():
            try:
                self._poll_tip(node, rpc)
                self._poll_pool(node, rpc)
                for chain in rpc.get_alternate_chains():
                    for block_hash in chain.get("block_hashes", []):
                        if block_hash not in self.known_blocks:
                            self.record_block(node, rpc, rpc.get_block_header_by_hash(block_hash))
            except MonerodBackendError as exc:
                self.log.write("error", error=type(exc).__name__, message=str(exc), fatal=False,
                               node=node)
        self.snapshot_peers()
        self._sweep_txs()
        self.log.write("final", tips=self.tips,
                       pools={n: sorted(p) for n, p in self.pools.items()})

    def _sweep_txs(self) -> None:
        """Details of every tx seen, asked of a node that has it (a stem tx is in one pool)."""
        todo = set(self.seen_txs)
        for node, rpc in self.daemons.items():
            ids = sorted(todo & self.seen_by.get(node, set())) + sorted(todo - self.seen_by.get(
                node, set()))
            for i in range(0, len(ids), 100):
                try:
                    answer = rpc.get_transactions(ids[i:i + 100], decode_as_json=True)
                except MonerodBackendError:
                    continue
                for tx in answer.get("txs", []):
                    self.log.write("tx", **tx_details(tx))
                    todo.discard(str(tx.get("tx_hash")))
            if not todo:
                return


def tx_details(tx: Mapping[str, Any]) -> dict[str, Any]:
    """The parts of a ``get_transactions`` entry the result needs."""
    decoded: dict[str, Any] = {}
    with contextlib.suppress(ValueError, TypeError):
        decoded = json.loads(tx.get("as_json") or "{}")
    key_images = [str(v["key"]["k_image"]) for v in decoded.get("vin", []) if "key" in v]
    fee = int(decoded.get("rct_signatures", {}).get("txnFee", 0))
    hex_blob = tx.get("as_hex") or ""
    return {
        "id": str(tx.get("tx_hash")), "fee": fee, "key_images": key_images,
        "size": len(hex_blob) // 2, "in_pool": bool(tx.get("in_pool")),
        "block_height": int(tx["block_height"]) if not tx.get("in_pool") and "block_height" in tx
        else None,
    }


def main(argv: list[str] | None = None) -> int:
    from ._cli import main as cli_main

    return cli_main("monitor", argv)


if __name__ == "__main__":
    raise SystemExit(main())
