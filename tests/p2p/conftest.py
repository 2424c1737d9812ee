"""Fixtures for the Levin peer's tests against real daemons.

Tests in this directory that use ``make_node`` need Debian's ``monero``
package and are marked ``monerod`` and skipped, naming the package, when the
binaries are missing. Every daemon a test starts is stopped at teardown and
is given exclusive peers, so it never dials the public seed nodes: test
traffic stays on loopback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
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

SKIP_REASON = "real monerod tests need Debian's package 'monero' (apt-get install -y monero)"
#: a valid mainnet-format address (the Monero project's donation address), for coinbases nobody spends
BURN_ADDRESS = (
    "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A"
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents and "make_node" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.monerod)


@pytest.fixture(scope="session")
def monero_binaries() -> dict[str, Path]:
    try:
        return {name: find_binary(name) for name in ("monerod", "monero-wallet-rpc")}
    except BinaryNotFound as exc:
        pytest.skip(f"{SKIP_REASON}: {exc}")


@pytest.fixture(scope="session")
def port_allocator() -> Iterator[PortAllocator]:
    with PortAllocator() as allocator:
        yield allocator


@pytest.fixture
def make_node(monero_binaries: dict[str, Path], port_allocator: PortAllocator, tmp_path: Path,
              request: pytest.FixtureRequest) -> Iterator[Callable[..., MonerodNode]]:
    """``make_node(name, exclusive_peers=[...], **kwargs)``: started, ready; stopped at teardown."""
    made: list[MonerodNode] = []

    def make(name: str, **kwargs: Any) -> MonerodNode:
        if not kwargs.get("exclusive_peers") and not kwargs.get("offline"):
            raise ValueError("give the daemon exclusive peers (or offline) so it never dials out to the internet")
        node = MonerodNode(name, tmp_path / name, port_allocator.node_ports(), **kwargs)
        made.append(node)
        node.start()
        node.wait_ready(60)
        return node

    yield make
    for node in reversed(made):
        node.stop()
    tails = [f"--- {n.name} ---\n{n.log_tail(30)}" for n in made if n.process is not None]
    if tails:
        request.node.add_report_section("teardown", "monerod logs", "\n".join(tails))


@pytest.fixture
def make_wallet(monero_binaries: dict[str, Path], port_allocator: PortAllocator, tmp_path: Path,
                ) -> Iterator[Callable[..., WalletRpcNode]]:
    made: list[WalletRpcNode] = []

    def make(name: str, daemon: MonerodNode) -> WalletRpcNode:
        wallet = WalletRpcNode(name, tmp_path / name, daemon.rpc_address, port_allocator.allocate())
        made.append(wallet)
        wallet.start()
        wallet.wait_ready(60)
        return wallet

    yield make
    for wallet in reversed(made):
        wallet.stop()


@pytest.fixture
def free_port(port_allocator: PortAllocator) -> Callable[[], int]:
    return port_allocator.allocate
