"""JSON-RPC clients of real ``monerod`` and ``monero-wallet-rpc`` processes, and their errors.

Below the agents and the backends, which both talk to real daemons through
them; knows nothing of how the processes were started.
"""

from .client import Balance, DaemonRpc, RpcClient, WalletRpc
from .errors import MonerodBackendError, RpcConnectionError, RpcError, RpcTimeout

__all__ = [
    "Balance",
    "DaemonRpc",
    "MonerodBackendError",
    "RpcClient",
    "RpcConnectionError",
    "RpcError",
    "RpcTimeout",
    "WalletRpc",
]
