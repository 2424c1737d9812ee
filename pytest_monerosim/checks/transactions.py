"""Transaction checks: relay, confirmation, double spends, money, latency.

Each takes a ``Result`` or a ``NetworkRun`` and raises ``AssertionError``
naming the txs, nodes, blocks and heights involved. Txs that the network
refused (status ``rejected``, e.g. the losing half of a double spend) or that
a reorg reversed are not held to the relay and confirmation bounds;
:func:`no_double_spend_on_chain` and :func:`money_conserved` cover them.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Any

from ..result.model import Result, TxRecord
from ..result.summary import percentile
from ._common import as_result, listing
from .observed import observed

LIVE = ("confirmed", "pending")


def _live(result: Result) -> list[TxRecord]:
    return [t for t in result.txs.values() if t.status in LIVE]


@observed
def all_txs_relayed(run: Any, within_s: float, nodes: list[str] | None = None) -> float:
    """Every tx reached every honest node (or ``nodes``) within ``within_s`` of its creation.

    Txs created less than ``within_s`` before the end are not judged. Returns
    the worst delay seen.
    """
    result = as_result(run)
    names = list(result.nodes)
    targets = nodes or result.honest_nodes()
    horizon = result.sim_seconds - within_s
    worst = 0.0
    late: list[tuple[TxRecord, list[str], float]] = []
    judged = 0
    for tx in _live(result):
        if tx.created_at > horizon:
            continue
        judged += 1
        seen = _seen_at(tx, names, targets)
        missing = [n for n in targets if n not in seen or seen[n] - tx.created_at > within_s]
        delays = [seen[n] - tx.created_at for n in targets if n in seen]
        if delays:
            worst = max(worst, max(delays))
        if missing:
            slowest = max((seen[n] - tx.created_at for n in missing if n in seen), default=float("inf"))
            late.append((tx, missing, slowest))
    if late:
        late.sort(key=lambda x: (-len(x[1]), x[0].id))
        detail = "; ".join(
            f"{tx.id} (from {tx.sender or '?'} at {tx.origin}, t={tx.created_at:.0f}s, {tx.status}) "
            f"missing at {listing(miss, 4)}"
            + (f" (slowest {slow:.1f}s)" if slow != float("inf") else " (never)")
            for tx, miss, slow in late[:3])
        raise AssertionError(
            f"{len(late)} of {judged} txs did not reach all {len(targets)} target nodes within "
            f"{within_s}s: {detail}"
            + ("; check the nodes' connections (are they partitioned or offline?)"
               if any(s == float("inf") for _, _, s in late) else ""))
    return worst


def _seen_at(tx: TxRecord, names: list[str], targets: list[str]) -> dict[str, float]:
    """Target → first-seen time; for a sparse record (a huge run's settled tx) a target
    outside the watched nodes that saw it counts at the tx's last time (it had it by then)."""
    seen = tx.seen_by(names)
    if not tx.seen_sparse or tx.seen_last is None:
        return seen
    never = set(tx.unseen or ())
    return {n: seen.get(n, tx.seen_last) for n in targets if n in seen or n not in never}


def _height_at(result: Result) -> Any:
    """Height of the reference main chain at a time (blocks found at or before it)."""
    main = result.main_chain()
    times = [b.found_at for b in main[1:]]

    def height(t: float) -> int:
        return bisect_right(times, t)

    return height


@observed
def all_txs_confirmed(run: Any, within_blocks: int) -> None:
    """Every tx is on the reference chain within ``within_blocks`` blocks of its creation.

    A tx created when fewer than ``within_blocks`` blocks were still to come is
    judged only if it is confirmed.
    """
    result = as_result(run)
    height_at = _height_at(result)
    top = result.height()
    bad: list[str] = []
    judged = 0
    for tx in _live(result):
        start = height_at(tx.created_at)
        if tx.block is not None:
            depth = result.blocks[tx.block].height - start
            judged += 1
            if depth > within_blocks:
                bad.append(f"{tx.id} (t={tx.created_at:.0f}s at height {start}) confirmed only at "
                           f"height {result.blocks[tx.block].height} ({depth} blocks)")
        elif top - start >= within_blocks:
            judged += 1
            bad.append(f"{tx.id} (t={tx.created_at:.0f}s at height {start}, from {tx.sender or '?'} "
                       f"at {tx.origin}) still {tx.status} at height {top}, seen by {tx.reached} nodes")
    if bad:
        raise AssertionError(
            f"{len(bad)} of {judged} txs not confirmed within {within_blocks} blocks: "
            + "; ".join(bad[:4]) + (" ..." if len(bad) > 4 else "")
            + "; are blocks full (fees too low) or did the tx never reach a miner?")


@observed
def no_double_spend_on_chain(run: Any) -> None:
    """No key image appears twice on any node's main chain."""
    result = as_result(run)
    key_images = {t.id: t.key_images for t in result.txs.values()}
    checked: set[str] = set()
    for tip in sorted(set(result.tips.values())):
        if tip in checked:
            continue
        checked.add(tip)
        first: dict[str, tuple[str, str, int]] = {}
        for block in result.chain(tip):
            for tid in block.tx_ids:
                for ki in key_images.get(tid, ()):
                    prior = first.get(ki)
                    if prior is not None:
                        ptx, pblock, pheight = prior
                        holders = sorted(n for n, t in result.tips.items() if t == tip)
                        raise AssertionError(
                            f"key image {ki} spent twice on the main chain of {listing(holders, 4)}: "
                            f"by {ptx} in block {pblock} (height {pheight}) and by {tid} in block "
                            f"{block.id} (height {block.height}); a block with a double spend was "
                            f"accepted (block validation let it through)")
                    first[ki] = (tid, block.id, block.height)


@observed
def money_conserved(run: Any) -> dict[str, int]:
    """Sum of wallet balances + fees paid = coinbase paid to wallets, on the reference chain.

    Coinbase paid to wallets: reward plus fees of every block (genesis excluded)
    mined by a node that hosts a wallet. Balances are those on the reference
    chain (the sim backend records them); without them every wallet's node
    must be on the reference tip.
    """
    result = as_result(run)
    main = result.main_chain()
    hosts = {w.node for w in result.wallets.values()}
    issued = sum(b.reward + b.fees for b in main[1:] if b.miner in hosts)
    on_chain = {tid for b in main for tid in b.tx_ids}
    fees = sum(t.fee for tid, t in result.txs.items() if tid in on_chain)
    extra = result.extra.get("transactions", {})
    balances: dict[str, int] | None = extra.get("reference_balances")
    if balances is None:
        ref = result.reference_tip()
        off = sorted(w.name for w in result.wallets.values() if result.tips.get(w.node) != ref)
        if off:
            raise AssertionError(
                f"cannot check money: wallets {listing(off, 4)} sit on nodes off the reference tip "
                f"and the result has no reference-chain balances")
        balances = {w.name: w.balance for w in result.wallets.values()}
    total = sum(balances.values())
    if total + fees != issued:
        diff = total + fees - issued
        top = sorted(balances.items(), key=lambda kv: -kv[1])[:4]
        raise AssertionError(
            f"money not conserved on the reference chain (height {main[-1].height}): balances "
            f"{total} + fees {fees} = {total + fees}, but wallets were paid {issued} in coinbase "
            f"({'+' if diff > 0 else ''}{diff} atomic units); largest balances: "
            + ", ".join(f"{n}={v}" for n, v in top))
    return {"issued": issued, "fees": fees, "balances": total}


@observed
def confirmation_latency(run: Any, p50_max_s: float | None = None,
                         p90_max_s: float | None = None) -> dict[str, float]:
    """Percentiles of creation → inclusion time over confirmed txs, bounded."""
    result = as_result(run)
    confirmed = [t for t in result.txs.values() if t.confirmed_at is not None]
    if not confirmed:
        raise AssertionError(f"no confirmed txs out of {len(result.txs)} created; nothing to measure")
    lat = [t.confirmed_at - t.created_at for t in confirmed]  # type: ignore[operator]
    got = {"p50_s": percentile(lat, 50) or 0.0, "p90_s": percentile(lat, 90) or 0.0,
           "max_s": max(lat)}
    bad = [f"{k}={got[k]:.1f}s > {bound}s" for k, bound in (("p50_s", p50_max_s), ("p90_s", p90_max_s))
           if bound is not None and got[k] > bound]
    if bad:
        slow = sorted(confirmed, key=lambda t: t.created_at - (t.confirmed_at or 0.0))[:3]
        raise AssertionError(
            f"confirmation latency over {len(confirmed)} txs too high: " + ", ".join(bad)
            + "; slowest: " + ", ".join(
                f"{t.id} {t.confirmed_at - t.created_at:.0f}s (block {t.block})"  # type: ignore[operator]
                for t in slow))
    return got
