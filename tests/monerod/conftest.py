"""Fixtures for the real-monerod tests: binaries, ports, node and wallet factories.

Every node or wallet a test makes is stopped at teardown, and its log tail is
attached to the test report (pytest prints it when the test fails).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from pytest_monerosim.backends.monerod import (
    BinaryNotFound,
    MonerodNode,
    PortAllocator,
    WalletRpcNode,
    find_binary,
)
from pytest_monerosim.backends.monerod.process import live_processes

#: a valid mainnet-format address (the Monero project's donation address),
#: used as the coinbase destination when no wallet is needed
BURN_ADDRESS = (
    "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A"
)


@pytest.fixture(scope="session")
def monero_binaries() -> dict[str, Path]:
    """Paths of monerod and monero-wallet-rpc; skips (naming the package) when missing."""
    try:
        return {name: find_binary(name) for name in ("monerod", "monero-wallet-rpc")}
    except BinaryNotFound as exc:
        pytest.skip(f"real monerod tests need the Debian package 'monero': {exc}")


@pytest.fixture(scope="session")
def port_allocator() -> Iterator[PortAllocator]:
    """The worker-aware allocator (lock files in the shared temp dir)."""
    with PortAllocator() as allocator:
        yield allocator


@pytest.fixture
def burn_address() -> str:
    return BURN_ADDRESS


@pytest.fixture
def make_node(
    monero_binaries: dict[str, Path],
    port_allocator: PortAllocator,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> Iterator[Callable[..., MonerodNode]]:
    """Factory ``make_node(name, **MonerodNode kwargs)``; nodes are stopped at teardown."""
    made: list[MonerodNode] = []

    def make(name: str = "node", **kwargs: Any) -> MonerodNode:
        node = MonerodNode(name, tmp_path / name, port_allocator.node_ports(), **kwargs)
        made.append(node)
        return node

    yield make
    _stop_and_report(made, request)


@pytest.fixture
def make_wallet(
    monero_binaries: dict[str, Path],
    port_allocator: PortAllocator,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> Iterator[Callable[..., WalletRpcNode]]:
    """Factory ``make_wallet(name, daemon)``; wallets are stopped at teardown."""
    made: list[WalletRpcNode] = []

    def make(name: str, daemon: MonerodNode, **kwargs: Any) -> WalletRpcNode:
        wallet = WalletRpcNode(
            name, tmp_path / name, daemon.rpc_address, port_allocator.allocate(), **kwargs
        )
        made.append(wallet)
        return wallet

    yield make
    _stop_and_report(made, request)


def _stop_and_report(
    made: Sequence[MonerodNode | WalletRpcNode], request: pytest.FixtureRequest
) -> None:
    for item in reversed(made):
        item.stop()
    tails = [
        f"--- {item.name} ({item.stdout_path}) ---\n{item.log_tail(25)}"
        for item in made
        if item.process is not None
    ]
    if tails:
        request.node.add_report_section("teardown", "monerod logs", "\n".join(tails))
    leftovers = [p for p in live_processes() if any(p is i.process for i in made)]
    assert not leftovers, f"processes still running after stop(): {leftovers}"
