"""What a :class:`~.network.LoopbackNetwork` puts on the chain before time 0.

* the **warm chain** (:mod:`.warmchain`): a cached regtest chain every daemon
  starts from, so wallets find decoys for ring size 16 from the first block;
  its tip becomes the result's genesis (heights count from it);
* the **warm-up block**: one block every node adds before t0, so each builds
  its RandomX cache during setup rather than while relaying the run's first
  block (always mined on top of a warm chain, which nobody verified);
* the **premine**: blocks mined to named wallets before t0 (spendable coins at
  the start; their records have negative times);
* :func:`warm_pow`: one RandomX hash per daemon (its secondary cache).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ...agents.runtime import Clock, EventLog
from ..plan import BURN_ADDRESS
from .daemon import MonerodNode, wait_for_height
from .warmchain import seed_data_dir, snapshot

if TYPE_CHECKING:
    from .hosts import PlannedDaemon
    from .network import LoopbackNetwork

SYNC_TIMEOUT_S = 60.0
WARMUP_SETTLE_S = 1.0


def seed_warm_chain(net: LoopbackNetwork) -> dict[str, Any] | None:
    """Copy the cached warm chain (mined now if missing) into every daemon's data dir."""
    if net.warm_chain <= 0:
        return None
    begun = time.monotonic()
    path, source = snapshot(net.monerod_bin, height=net.warm_chain)
    for daemon in net.daemons.values():
        seed_data_dir(path, daemon.data_dir)
    return {"height": net.warm_chain, "source": source, "snapshot": str(path),
            "seconds": round(time.monotonic() - begun, 3)}


def history_tip(daemon: MonerodNode) -> tuple[str, int]:
    """(id, height) of ``daemon``'s tip: the block the run's heights count from."""
    info = daemon.rpc.get_info()
    return str(info["top_block_hash"]), int(info["height"]) - 1


def mine_warmup_block(net: LoopbackNetwork, daemons: Sequence[PlannedDaemon]) -> None:
    """One block (to a burn address) before t0, so every node sets up RandomX for the chain.

    The first block a node adds makes it build its main RandomX cache
    (``calc_pow`` only warms a secondary one): on 25 nodes that stalls the
    first block of a run for ~10 s of wall time.
    """
    miner = daemons[0]
    clock = Clock(time.time(), net.time_scale)
    log = EventLog(net.host_dir(miner.name) / "setup.jsonl", "setup", clock)
    try:
        answer = miner.rpc.generateblocks(1, BURN_ADDRESS)
        log.write("mined", node=miner.name, block=answer["blocks"][0],
                  height=int(answer["height"]), warmup=True)
    finally:
        log.close()
    wait_for_height(list(daemons), int(answer["height"]) + 1, timeout=SYNC_TIMEOUT_S)
    time.sleep(WARMUP_SETTLE_S)  # the cache is built on a background thread


def premine(net: LoopbackNetwork) -> None:
    """Blocks mined before t0 (``premine={wallet: blocks}``): history with spendable coins."""
    clock = Clock(time.time(), net.time_scale)  # records' t is recomputed from wall later
    for wallet_name, blocks in net.premine.items():
        wallet = net.wallets[wallet_name]
        daemon = net.daemons[net.plan.wallet(wallet_name)[0].name]
        records = EventLog(net.host_dir(daemon.name) / "setup.jsonl", "setup", clock)
        try:
            address = net.directory.wait_for(wallet_name, 1.0)
            answer = daemon.rpc.generateblocks(int(blocks), address)
            for i, block in enumerate(answer.get("blocks", [])):
                records.write("mined", node=daemon.name, block=block,
                              height=int(answer["height"]) - len(answer["blocks"]) + 1 + i,
                              premine=wallet.spec.name)
        finally:
            records.close()
        # every node has these blocks before the next wallet's are mined elsewhere
        running = [d for d in net.daemons.values() if d.process is not None]
        wait_for_height(running, int(answer["height"]) + 1, timeout=SYNC_TIMEOUT_S)


def warm_pow(daemon: MonerodNode) -> None:
    """Have ``daemon`` compute one RandomX hash (``calc_pow``) before the run starts.

    A node builds its RandomX cache (256 MiB, about half a CPU-second) the
    first time it checks a block; 25 nodes doing it at the first block of a
    run would stall propagation for seconds. A node that had been running
    would have done it long before, so it is done here, during setup.
    """
    genesis = daemon.rpc.get_block(height=0)
    body = {"jsonrpc": "2.0", "id": "0", "method": "calc_pow", "params": {
        "major_version": int(genesis["block_header"].get("major_version", 16)) or 16,
        "height": 1, "block_blob": genesis["blob"], "seed_hash": genesis["block_header"]["hash"]}}
    # calc_pow answers a bare string, which the RPC client's result check refuses
    with contextlib.suppress(Exception):
        daemon.rpc.session.post(f"{daemon.rpc.base_url}/json_rpc", json=body, timeout=60.0)


__all__ = ["history_tip", "mine_warmup_block", "premine", "seed_warm_chain", "warm_pow"]
