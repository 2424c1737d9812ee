"""A warm regtest chain: history a run starts from, so wallets can build rings.

A Monero transaction (0.18, ring size 16) takes 15 decoys from the chain's
unlocked RingCT outputs. A fresh regtest chain has none: a coinbase output
unlocks 60 blocks after its block (``CRYPTONOTE_MINED_MONEY_UNLOCK_WINDOW``),
and each block adds one. Without history, monero-wallet-rpc answers "not
enough outputs to use" until the chain is 60 + 16 blocks high — long after
the simulator's wallets (which need no decoys) began to spend.

:func:`snapshot` mines :data:`DEFAULT_HEIGHT` blocks to a burn address once,
in a throwaway offline daemon, and keeps its LMDB file under a cache dir,
keyed by the monerod version, the height and the fixed difficulty;
:func:`seed_data_dir` copies it into a daemon's data dir before it starts.
The run then counts heights from the warm chain's tip (see
``build_result(history=...)``), so its blocks, heights and unlock windows
read as the simulator's, whose chain starts at its genesis at time 0: a
miner's own coinbase still unlocks 60 blocks after the block that paid it.

Cache dir: ``$MONEROSIM_CACHE_DIR``, else ``$XDG_CACHE_HOME/monerosim``,
else ``~/.cache/monerosim``. Concurrent builders (xdist workers) serialise
on a lock file; the snapshot appears by rename, whole or not at all.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
from pathlib import Path

from ..plan import BURN_ADDRESS
from .daemon import MonerodNode, check_version, find_binary
from .errors import MonerodBackendError

COINBASE_UNLOCK_BLOCKS = 60
"""``CRYPTONOTE_MINED_MONEY_UNLOCK_WINDOW`` (monero src/cryptonote_config.h)."""
RING_SIZE = 16
"""Mandatory ring size since the August 2022 hard fork (v15/v16, monero 0.18)."""
DEFAULT_HEIGHT = COINBASE_UNLOCK_BLOCKS + 2 * RING_SIZE + 8
"""100 blocks: 40 unlocked decoys at the run's start, twice a ring's worth (the wallet's
gamma picker draws more candidates than it keeps)."""
LMDB_SUBDIR = Path("fake") / "lmdb"
"""Where a ``--regtest`` daemon keeps its chain inside ``--data-dir``."""
READY_TIMEOUT_S = 60.0


def cache_root() -> Path:
    env = os.environ.get("MONEROSIM_CACHE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "monerosim"


def snapshot_key(version: str, height: int, fixed_difficulty: int = 1) -> str:
    safe = "".join(c if c.isalnum() or c in ".-_" else "_" for c in version)
    return f"regtest-{safe}-h{height}-d{fixed_difficulty}"


def snapshot(binary: str | os.PathLike[str] | None = None, *, height: int = DEFAULT_HEIGHT,
             fixed_difficulty: int = 1, root: Path | None = None) -> tuple[Path, str]:
    """The cached ``data.mdb`` of a chain ``height`` blocks high, and ``"cache"`` or
    ``"mined"`` (built now). Raises :class:`MonerodBackendError` if mining fails."""
    if height < 1:
        raise ValueError(f"warm chain height {height}; accepted: an integer >= 1")
    path = find_binary("monerod", binary)
    version = check_version(str(path))
    base = (root or cache_root()) / snapshot_key(version, height, fixed_difficulty)
    target = base / "data.mdb"
    if target.is_file():
        return target, "cache"
    base.parent.mkdir(parents=True, exist_ok=True)
    with open(base.parent / f"{base.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one builder; the others find it done
        if target.is_file():
            return target, "cache"
        work = Path(tempfile.mkdtemp(prefix=f".{base.name}-", dir=base.parent))
        try:
            _mine(path, work, height, fixed_difficulty)
            staged = work / "snapshot"
            staged.mkdir()
            os.replace(work / "chain" / LMDB_SUBDIR / "data.mdb", staged / "data.mdb")
            with contextlib.suppress(FileNotFoundError):
                shutil.rmtree(base)
            os.replace(staged, base)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return target, "mined"


def _mine(binary: Path, work: Path, height: int, fixed_difficulty: int) -> None:
    node = MonerodNode("warmchain", work / "chain", offline=True, binary=binary,
                       fixed_difficulty=fixed_difficulty, run_dir=work)
    try:
        node.start()
        node.wait_ready(READY_TIMEOUT_S)
        done = 0
        while done < height:  # in chunks: one RPC must not outlast its timeout
            answer = node.rpc.generateblocks(min(50, height - done), BURN_ADDRESS)
            done = int(answer["height"])
        top = int(node.rpc.get_info()["height"]) - 1
        if top != height:
            raise MonerodBackendError(f"warm chain: mined to height {top}, wanted {height}")
    finally:
        node.stop()


def seed_data_dir(snapshot_file: Path, data_dir: Path) -> None:
    """Put the warm chain into ``data_dir`` (a daemon not started yet, no chain of its own)."""
    lmdb = Path(data_dir) / LMDB_SUBDIR
    if (lmdb / "data.mdb").exists():
        return  # a restarted node keeps its own chain
    lmdb.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(snapshot_file, lmdb / "data.mdb")


__all__ = ["COINBASE_UNLOCK_BLOCKS", "DEFAULT_HEIGHT", "RING_SIZE", "cache_root", "seed_data_dir",
           "snapshot", "snapshot_key"]
