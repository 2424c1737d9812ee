"""Turn a real run's files into the common :class:`~pytest_monerosim.result.model.Result`.

Both real backends leave the same files per host directory (the ``monerod``
backend's ``<workdir>/hosts/<host>/``, Shadow's ``shadow.data/hosts/<host>/``):

* ``monerod.log`` — monerod's own log at ``0,blockchain:INFO``
  (:data:`~pytest_monerosim.backends.plan.DAEMON_LOG_LEVEL`): a timestamped
  record (1 ms) of every block the node adds to its main chain or as an
  alternative, and of every reorganisation. Arrival times, tip histories and
  reorgs come from here.
* ``*.jsonl`` — the agents' records (:mod:`pytest_monerosim.agents.runtime`):
  ``mined`` (who mined which block, when), ``tx_sent``, and the monitor's
  ``block`` headers (parents, difficulty, rewards, tx ids), ``tip``, ``pool``,
  ``peers``, ``tx`` and ``wallet`` records. Any record of type ``attack``
  (``name``, ``metrics``) becomes ``Result.attacks[name]``.

Times: log timestamps (UTC) and records' ``wall`` are epoch seconds, mapped to
simulated seconds with the run's ``t0`` and ``time_scale`` (Shadow: its
simulated epoch and 1). Records also carry ``t`` as their writer computed it.

Entry points: :func:`build_result` (a whole run), :func:`parse_monerod_log`
(one node's log), :func:`read_records` (one directory's JSON lines).
"""

from __future__ import annotations

import calendar
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..result.model import (
    BlockRecord,
    NodeInfo,
    PeerSnapshot,
    ReorgRecord,
    Result,
    TipSeries,
    TxRecord,
    WalletRecord,
)
from .plan import ProcessPlan

MONEROD_LOG = "monerod.log"
UNKNOWN_MINER = "unknown"

_ADDED = "+++++ BLOCK SUCCESSFULLY ADDED"
_ALT = re.compile(r"----- BLOCK ADDED AS ALTERNATIVE ON HEIGHT (\d+)")
_ID = re.compile(r"^id:\s*<([0-9a-f]{64})>")
_HEIGHT = re.compile(r"^HEIGHT (\d+)")
_REORG = re.compile(r"###### REORGANIZE on height: (\d+) of (\d+)")
_REORG_OK = re.compile(r"REORGANIZE SUCCESS! on height: (\d+), new blockchain size: (\d+)")
_REORG_FAIL = re.compile(r"REORGANIZE FAILED|reorganization failed", re.IGNORECASE)


# -- monerod logs ----------------------------------------------------------------------


@dataclass
class LogReorg:
    wall: float
    split_height: int
    """First height whose block changed."""
    old_height: int
    new_height: int
    old_tip: str
    new_tip: str


@dataclass
class NodeLog:
    """What one monerod log says about blocks, in epoch seconds."""

    node: str
    arrivals: dict[str, float] = field(default_factory=dict)
    """Block id → when the node first added it (main chain or alternative)."""
    heights: dict[str, int] = field(default_factory=dict)
    tips: list[tuple[float, int, str]] = field(default_factory=list)
    """(wall, height, id) each time the node's main-chain tip changed."""
    reorgs: list[LogReorg] = field(default_factory=list)


def parse_log_time(stamp: str) -> float:
    """``2026-11-25 13:13:51.945`` (monerod logs in UTC) → epoch seconds."""
    date, _, frac = stamp.partition(".")
    seconds = calendar.timegm(_strptime(date))
    return seconds + (int(frac) / 10 ** len(frac) if frac else 0.0)


def _strptime(text: str) -> tuple[int, int, int, int, int, int, int, int, int]:
    d, t = text.split(" ")
    year, month, day = (int(x) for x in d.split("-"))
    hour, minute, second = (int(x) for x in t.split(":"))
    return (year, month, day, hour, minute, second, 0, 0, 0)


def parse_monerod_log(path: Path, node: str) -> NodeLog:
    """Arrivals, tip changes and reorgs from a monerod log (``blockchain`` at INFO)."""
    out = NodeLog(node)
    pending: tuple[str, float, int] | None = None  # (kind, wall, alt height)
    pending_id: str | None = None
    reorg: tuple[float, int, int, str] | None = None  # (wall, split, old height, old tip)
    last_main: str | None = None
    height = -1
    try:
        handle = open(path, encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return out
    with handle:
        for line in handle:
            parts = line.rstrip("\n").split("\t", 5)
            if len(parts) < 6:
                continue
            message = parts[5].strip()
            if message.startswith(_ADDED):
                pending, pending_id = ("main", _stamp(parts[0]), 0), None
                continue
            alt = _ALT.search(message)
            if alt:
                pending, pending_id = ("alt", _stamp(parts[0]), int(alt.group(1))), None
                continue
            if pending is not None:
                found = _ID.match(message)
                if found:
                    pending_id = found.group(1)
                    if pending[0] == "alt":
                        _arrive(out, pending_id, pending[1], pending[2])
                        pending, pending_id = None, None
                    continue
                got = _HEIGHT.match(message)
                if got and pending_id is not None:
                    wall, h = pending[1], int(got.group(1))
                    _arrive(out, pending_id, wall, h)
                    last_main, height = pending_id, h
                    if reorg is None:
                        out.tips.append((wall, h, pending_id))
                    pending, pending_id = None, None
                    continue
            started = _REORG.search(message)
            if started:
                reorg = (_stamp(parts[0]), int(started.group(1)), height, last_main or "")
                continue
            done = _REORG_OK.search(message)
            if done and reorg is not None:
                wall = _stamp(parts[0])
                new_height = int(done.group(2)) - 1
                out.reorgs.append(LogReorg(wall, reorg[1], reorg[2], new_height, reorg[3],
                                           last_main or ""))
                out.tips.append((wall, new_height, last_main or ""))
                height = new_height
                reorg = None
                continue
            if reorg is not None and _REORG_FAIL.search(message):
                reorg = None
    return out


def _stamp(text: str) -> float:
    return parse_log_time(text.strip())


def _arrive(out: NodeLog, block: str, wall: float, height: int) -> None:
    if block not in out.arrivals:
        out.arrivals[block] = wall
        out.heights[block] = height


# -- agent records ---------------------------------------------------------------------


def read_records(directory: Path) -> Iterator[dict[str, Any]]:
    """Every JSON-lines record in ``directory/*.jsonl`` (a torn last line is skipped)."""
    for path in sorted(Path(directory).glob("*.jsonl")):
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                line = line.strip()
                if not line:
                    continue
                try:
                    record = json.loads(line)
                except ValueError:
                    continue  # a process killed mid-write
                if isinstance(record, dict):
                    yield record


# -- the whole run ---------------------------------------------------------------------


def host_directories(plan: ProcessPlan, hosts_dir: Path) -> dict[str, Path]:
    """``hosts_dir/<host>`` for every host of the plan (Shadow's and the backend's layout)."""
    return {name: Path(hosts_dir) / name for name in plan.hosts}


def build_result(
    plan: ProcessPlan,
    host_dirs: Mapping[str, Path],
    *,
    t0: float,
    time_scale: float,
    backend: str,
    sim_seconds: float | None = None,
    wall_seconds: float = 0.0,
    extra_records: Iterable[dict[str, Any]] = (),
    history: tuple[str, int] | None = None,
) -> Result:
    """Assemble the run's :class:`Result` from its host directories.

    ``history`` = (block id, height): the tip of a chain the run started from
    (the monerod backend's warm chain, :mod:`.monerod.warmchain`). That block
    becomes the result's genesis at height 0, blocks below it are left out,
    and every height (blocks, tips, reorgs, wallets' transfers) is counted
    from it, as the simulator counts from its genesis.
    """
    def sim(wall: float) -> float:
        return (wall - t0) * time_scale

    records = [r for d in host_dirs.values() if Path(d).is_dir() for r in read_records(Path(d))]
    records += list(extra_records)
    for r in records:  # one clock for every writer: the run's t0 and scale
        if "wall" in r:
            r["t"] = sim(float(r["wall"]))
    records.sort(key=lambda r: float(r.get("t", 0.0)))
    node_hosts = [h for h in plan.daemon_hosts() if h.node is not None]
    result = Result(
        scenario=plan.scenario, backend=backend, seed=plan.seed,
        sim_seconds=plan.duration if sim_seconds is None else sim_seconds,
        wall_seconds=wall_seconds, events=len(records), target_s=plan.target_s,
    )
    for host in node_hosts:
        assert host.node is not None
        result.nodes[host.node] = NodeInfo(host.node, host.group, host.role, host.honest,
                                           host.hashrate, host.region)
    logs: dict[str, NodeLog] = {}
    for host in node_hosts:
        assert host.node is not None
        path = Path(host_dirs[host.name]) / MONEROD_LOG
        logs[host.node] = parse_monerod_log(path, host.node)
        if path.exists():
            result.logs[host.node] = str(path)
    for name, directory in host_dirs.items():
        for path in sorted(Path(directory).glob("*.jsonl")):
            result.logs[f"{name}/{path.stem}"] = str(path)

    by_type: dict[str, list[dict[str, Any]]] = {}
    for r in records:
        by_type.setdefault(str(r.get("type")), []).append(r)
    if history is not None:
        _count_from(history, by_type, logs)

    tx_info = {str(r["id"]): r for r in by_type.get("tx", [])}
    _blocks(result, by_type, logs, tx_info, sim)
    _tips(result, by_type, logs, sim)
    _reorgs(result, logs, sim)
    result.peer_snapshots = [
        PeerSnapshot(float(r["t"]), [(str(a), str(b)) for a, b in r.get("edges", [])])
        for r in by_type.get("peers", [])
    ]
    _txs(result, by_type, tx_info, sim)
    _wallets(result, plan, by_type)
    main = result.main_chain() if result.blocks else []
    result.coinbase_issued = sum(b.reward for b in main[1:])
    result.double_spends_rejected = sum(
        1 for r in by_type.get("double_spend", []) if r.get("rejected"))
    for r in by_type.get("attack", []):
        result.attacks.setdefault(str(r["name"]), {}).update(r.get("metrics", {}))
    errors = by_type.get("error", [])
    result.extra.update({
        "t0": t0, "time_scale": time_scale,
        "arrival_resolution_s": 0.001 * time_scale,
        "arrival_source": "monerod log, blockchain category (1 ms timestamps)",
        "agent_errors": [f"{r.get('agent')}: {r.get('error')}: {r.get('message')}" for r in errors],
    })
    return result


def _count_from(history: tuple[str, int], by_type: dict[str, list[dict[str, Any]]],
                logs: Mapping[str, NodeLog]) -> None:
    """Heights counted from ``history``'s block (see :func:`build_result`), in place."""
    tip, base = history
    blocks = by_type.get("block", [])
    tip_cd = next((int(r.get("cumulative_difficulty", base + 1)) for r in blocks
                   if str(r["id"]) == tip), base + 1)
    below = {str(r["id"]) for r in blocks if int(r["height"]) <= base}
    kept = []
    for r in blocks:
        if int(r["height"]) < base or (int(r["height"]) == base and str(r["id"]) != tip):
            continue
        r = dict(r, height=int(r["height"]) - base)
        r["cumulative_difficulty"] = int(r.get("cumulative_difficulty", 0)) - tip_cd + 1
        if r["height"] == 0:
            r["parent"] = None
        kept.append(r)
    by_type["block"] = kept
    by_type["mined"] = [r for r in by_type.get("mined", []) if str(r.get("block")) not in below]
    by_type["tip"] = [dict(r, height=int(r["height"]) - base) for r in by_type.get("tip", [])
                      if int(r["height"]) >= base]
    for r in by_type.get("wallet", []):
        r["incoming"] = [dict(t, height=max(0, int(t["height"]) - base)) if "height" in t else t
                         for t in r.get("incoming", [])]
    for log in logs.values():
        log.tips = [(w, h - base, i) for w, h, i in log.tips if h >= base]
        for reorg in log.reorgs:
            reorg.split_height -= base
            reorg.old_height -= base
            reorg.new_height -= base


def _blocks(result: Result, by_type: Mapping[str, list[dict[str, Any]]],
            logs: Mapping[str, NodeLog], tx_info: Mapping[str, dict[str, Any]],
            sim: Any) -> None:
    mined = {str(r["block"]): r for r in by_type.get("mined", []) if r.get("block")}
    nodes = list(result.nodes)
    for r in by_type.get("block", []):
        block_id = str(r["id"])
        if block_id in result.blocks:
            continue
        height = int(r["height"])
        arrivals = {n: sim(log.arrivals[block_id]) for n, log in logs.items()
                    if block_id in log.arrivals}
        if height == 0:
            arrivals = dict.fromkeys(nodes, 0.0)
        who = mined.get(block_id)
        if who is not None:
            miner, found_at = str(who.get("node", UNKNOWN_MINER)), float(who["t"])
            found_at = min([found_at, *([arrivals[miner]] if miner in arrivals else [])])
            arrivals.setdefault(miner, found_at)
        else:
            miner = UNKNOWN_MINER if height else ""
            found_at = min(arrivals.values(), default=0.0) if height else 0.0
        tx_ids = [str(t) for t in r.get("tx_ids", [])]
        fees = sum(int(tx_info[t].get("fee", 0)) for t in tx_ids if t in tx_info)
        reward = int(r.get("reward", 0))
        result.blocks[block_id] = BlockRecord(
            id=block_id, height=height, parent=r.get("parent") if height else None,
            miner=miner, found_at=found_at, difficulty=int(r.get("difficulty", 1)),
            cumulative_difficulty=int(r.get("cumulative_difficulty", height + 1)),
            reward=reward - fees if height else reward, size_bytes=int(r.get("size", 0)),
            tx_ids=tx_ids, fees=fees, arrivals=arrivals,
            # header timestamps are whole wall seconds (120 simulated seconds at the default
            # scale): too coarse to time blocks, so intervals use found_at
            timestamp=None,
        )
        if height == 0:
            result.genesis = block_id
    # a block whose ancestry was not recorded cannot be placed in the tree: leave it out
    while True:
        orphans = [b.id for b in result.blocks.values()
                   if b.parent is not None and b.parent not in result.blocks]
        if not orphans:
            break
        for block_id in orphans:
            del result.blocks[block_id]
            result.extra.setdefault("unplaced_blocks", []).append(block_id)


def _tips(result: Result, by_type: Mapping[str, list[dict[str, Any]]],
          logs: Mapping[str, NodeLog], sim: Any) -> None:
    for r in by_type.get("tip", []):
        node, tip = str(r["node"]), str(r["id"])
        if node in result.nodes and tip in result.blocks:
            result.tips[node] = tip
    for node in result.nodes:
        series = TipSeries()
        log = logs.get(node)
        entries = [(sim(w), h) for w, h, _ in log.tips] if log and log.tips else [
            (float(r["t"]), int(r["height"])) for r in by_type.get("tip", []) if r["node"] == node]
        for t, h in entries:
            series.append(max(0.0, t), h)
        result.tip_history[node] = series
        if node not in result.tips and log and log.tips and log.tips[-1][2] in result.blocks:
            result.tips[node] = log.tips[-1][2]
        if node not in result.tips and result.genesis:
            result.tips[node] = result.genesis


def _reorgs(result: Result, logs: Mapping[str, NodeLog], sim: Any) -> None:
    for node, log in logs.items():
        for r in log.reorgs:
            result.reorgs.append(ReorgRecord(
                node=node, time=sim(r.wall), depth=max(0, r.old_height - r.split_height + 1),
                old_tip=r.old_tip, new_tip=r.new_tip, fork_height=r.split_height - 1,
            ))
    result.reorgs.sort(key=lambda r: (r.time, r.node))


def _txs(result: Result, by_type: Mapping[str, list[dict[str, Any]]],
         tx_info: Mapping[str, dict[str, Any]], sim: Any) -> None:
    for r in by_type.get("tx_sent", []):
        txid = str(r["tx"])
        result.txs[txid] = TxRecord(
            id=txid, origin=str(r.get("node", "")), sender=r.get("wallet"),
            recipients={str(k): int(v) for k, v in (r.get("recipients") or {}).items()},
            fee=int(r.get("fee", 0)), weight=int(r.get("weight", 0)), created_at=float(r["t"]),
        )
    for r in by_type.get("pool", []):
        for txid in r.get("txs", []):
            tx = result.txs.get(txid)
            if tx is None:
                tx = result.txs[txid] = TxRecord(id=txid, origin=str(r["node"]), sender=None,
                                                 recipients={}, fee=0, weight=0,
                                                 created_at=float(r["t"]))
            tx.first_seen.setdefault(str(r["node"]), float(r["t"]))
    main = {b.id for b in result.main_chain()} if result.blocks else set()
    double_spent = {str(r["tx"]) for r in by_type.get("double_spend", []) if r.get("rejected")}
    final_pools = {str(t) for r in by_type.get("final", [])
                   for txs in (r.get("pools") or {}).values() for t in txs}
    in_blocks: dict[str, list[BlockRecord]] = {}
    for block in result.blocks.values():
        for txid in block.tx_ids:
            in_blocks.setdefault(txid, []).append(block)
    for txid, blocks in in_blocks.items():
        if txid not in result.txs:
            first = min(blocks, key=lambda b: b.found_at)
            result.txs[txid] = TxRecord(id=txid, origin=first.miner, sender=None, recipients={},
                                        fee=0, weight=0, created_at=first.found_at)
    for txid, tx in result.txs.items():
        info = tx_info.get(txid)
        if info is not None:
            tx.key_images = [str(k) for k in info.get("key_images", [])]
            tx.fee = tx.fee or int(info.get("fee", 0))
            tx.weight = tx.weight or int(info.get("size", 0))
        blocks = in_blocks.get(txid, [])
        for block in blocks:
            for node, t in block.arrivals.items():
                if t < tx.first_seen.get(node, float("inf")):
                    tx.first_seen[node] = t
        tx.reached = len(tx.first_seen)
        on_main = [b for b in blocks if b.id in main]
        if on_main:
            tx.block, tx.confirmed_at, tx.status = on_main[0].id, on_main[0].found_at, "confirmed"
        elif txid in double_spent:
            tx.status = "rejected"  # another spend of its inputs is on the chain
        elif txid in final_pools:
            tx.status = "pending"  # back in the pool if its block lost
        elif blocks:
            tx.status = "reversed"
        elif not tx.first_seen and info is None:
            tx.status = "rejected"


def _wallets(result: Result, plan: ProcessPlan, by_type: Mapping[str, list[dict[str, Any]]]) -> None:
    final = {str(r["name"]): r for r in by_type.get("wallet", [])}
    sent_counts: dict[str, int] = {}
    for r in by_type.get("tx_sent", []):
        sent_counts[str(r.get("wallet"))] = sent_counts.get(str(r.get("wallet")), 0) + 1
    addresses = {str(r["wallet"]): str(r["address"]) for r in by_type.get("wallet_address", [])}
    main = result.main_chain() if result.blocks else []
    on_main = {t for b in main for t in b.tx_ids}
    reference: dict[str, int] = {}
    for _host, spec in plan.wallets():
        r = final.get(spec.name, {})
        incoming = r.get("incoming", [])
        outgoing = r.get("outgoing", [])
        heights = [int(t["height"]) for t in incoming if int(t.get("amount", 0)) > 0]
        funded_at = None
        if heights and main:
            h = min(heights)
            funded_at = main[h].found_at if h < len(main) else None
        result.wallets[spec.name] = WalletRecord(
            name=spec.name, node=spec.node, strategy=spec.strategy,
            address=str(r.get("address") or addresses.get(spec.name, "")),
            balance=int(r.get("balance", 0)), unlocked=int(r.get("unlocked", 0)),
            received=sum(int(t["amount"]) for t in incoming),
            sent=sum(int(t["amount"]) for t in outgoing),
            fees_paid=sum(int(t.get("fee", 0)) for t in outgoing),
            funded_at=funded_at, tx_count=max(len(outgoing), sent_counts.get(spec.name, 0)),
        )
        if r:
            # monero-wallet-rpc's balance (get_balance, not strict) counts the pool: it leaves
            # out what the wallet's own pool txs spent (amount and fee; their change stays in)
            # and adds the wallet's incoming payments still in the pool (wallet2::
            # balance_per_subaddress, m_unconfirmed_txs and m_unconfirmed_payments, monero
            # src/wallet/wallet2.cpp, 0.18.0.0). On the reference chain neither happened.
            reference[spec.name] = int(r.get("balance", 0)) + sum(
                int(t["amount"]) + int(t.get("fee", 0)) for t in outgoing
                if str(t.get("txid")) not in on_main) - sum(
                int(t["amount"]) for t in r.get("pool_in", []) if str(t.get("txid")) not in on_main)
    if reference:
        result.extra.setdefault("transactions", {})["reference_balances"] = reference


__all__ = [
    "MONEROD_LOG",
    "LogReorg",
    "NodeLog",
    "build_result",
    "host_directories",
    "parse_log_time",
    "parse_monerod_log",
    "read_records",
]
