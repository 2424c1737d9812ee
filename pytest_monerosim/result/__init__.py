"""The one result model every backend returns, and the summary JSON derived from it."""

from .model import (
    BlockRecord,
    NodeInfo,
    PeerSnapshot,
    ReorgRecord,
    Result,
    TipSeries,
    TxRecord,
    WalletRecord,
)
from .summary import SCHEMA, summarize, without_wall_clock

__all__ = [
    "SCHEMA",
    "BlockRecord",
    "NodeInfo",
    "PeerSnapshot",
    "ReorgRecord",
    "Result",
    "TipSeries",
    "TxRecord",
    "WalletRecord",
    "summarize",
    "without_wall_clock",
]
