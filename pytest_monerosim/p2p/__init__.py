"""Monero's P2P wire: Levin framing, epee portable storage, and a many-identity peer.

The "p2p wire" layer of the design: it knows nothing of pytest or the
simulator. Public API::

    swarm = Swarm("regtest")
    spy = await swarm.serve("127.66.0.1")            # an identity with a listening socket
    conn = await swarm.connect(("127.0.0.2", 18080), source=spy)   # handshake from that address
    swarm.advertise([spy, ("127.66.0.2", 18080)])     # peer lists we hand out
    swarm.on_tx(lambda note: ...)                     # NEW_TRANSACTIONS received
    swarm.on_block(lambda event: ...)                 # NEW_(FLUFFY_)BLOCK received
    swarm.relay("tx") / swarm.withhold("tx")          # forward what we receive, or keep it
    graph = await crawl([("127.0.0.2", 18080)], source="127.66.0.9")

:class:`BackgroundSwarm` runs a swarm on its own thread for synchronous code.
"""

from .background import BackgroundSwarm
from .crawler import CrawlResult, crawl, crawl_sync
from .messages import GENESIS_SYNC, NETWORK_IDS, CoreSync, NodeData, PeerEntry
from .peer import BlockEvent, Connection, Identity, PeerError, Swarm, TxNote, blob_id

__all__ = ["BackgroundSwarm", "BlockEvent", "Connection", "CoreSync", "CrawlResult", "GENESIS_SYNC",
           "Identity", "NETWORK_IDS", "NodeData", "PeerEntry", "PeerError", "Swarm", "TxNote", "blob_id",
           "crawl", "crawl_sync"]
