"""The real-``monerod`` backend: regtest daemons and wallet RPCs, each daemon its own host
(a network namespace, :mod:`.netns`) as root, else on loopback."""

from ...rpc import Balance, DaemonRpc, WalletRpc
from .daemon import (
    MonerodNode,
    NodeHealth,
    check_version,
    find_binary,
    stop_nodes,
    wait_for_connections,
    wait_for_height,
    wait_for_same_tip,
)
from .errors import (
    BinaryNotFound,
    BinaryVersionError,
    MonerodBackendError,
    PortInUse,
    ProcessDied,
    RpcConnectionError,
    RpcError,
    RpcTimeout,
)
from .ports import NodePorts, PortAllocator, allocate_node_ports
from .process import ManagedProcess, reap_stale
from .wallet import WalletRpcNode

__all__ = [
    "Balance",
    "BinaryNotFound",
    "BinaryVersionError",
    "DaemonRpc",
    "ManagedProcess",
    "MonerodBackendError",
    "MonerodNode",
    "NodeHealth",
    "NodePorts",
    "PortAllocator",
    "PortInUse",
    "ProcessDied",
    "RpcConnectionError",
    "RpcError",
    "RpcTimeout",
    "WalletRpc",
    "WalletRpcNode",
    "allocate_node_ports",
    "check_version",
    "find_binary",
    "reap_stale",
    "stop_nodes",
    "wait_for_connections",
    "wait_for_height",
    "wait_for_same_tip",
]
