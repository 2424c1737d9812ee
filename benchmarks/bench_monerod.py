"""Speed and scale of real regtest monerod networks on this machine.

    python benchmarks/bench_monerod.py [--nodes 5] [--blocks 100] [--scales 10,25]

Prints figures; asserts nothing about time. Every node is stopped at the end
(and by the process registry if the script is interrupted).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import _checkout  # noqa: F401  (this checkout's package first)

from pytest_monerosim.backends.monerod import MonerodNode, PortAllocator
from pytest_monerosim.backends.monerod.daemon import (
    stop_nodes,
    wait_for_connections,
    wait_for_height,
    wait_for_same_tip,
)

#: a valid mainnet-format address (the Monero project's donation address)
BURN_ADDRESS = (
    "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A"
)


def ring(n: int, workdir: Path, alloc: PortAllocator, tag: str) -> list[MonerodNode]:
    """n nodes, node i keeping an exclusive connection to node i+1 (mod n)."""
    ports = [alloc.node_ports() for _ in range(n)]
    return [
        MonerodNode(
            f"{tag}{i}",
            workdir / tag / f"n{i}",
            ports[i],
            exclusive_peers=[f"127.0.0.1:{ports[(i + 1) % n].p2p}"] if n > 1 else [],
        )
        for i in range(n)
    ]


def rss_mib(nodes: list[MonerodNode]) -> float:
    total_kib = 0
    for node in nodes:
        assert node.process is not None
        status = Path(f"/proc/{node.process.pid}/status").read_text()
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total_kib += int(line.split()[1])
    return total_kib / 1024


@contextmanager
def running(nodes: list[MonerodNode]) -> Iterator[list[MonerodNode]]:
    try:
        yield nodes
    finally:
        began = time.monotonic()
        stop_nodes(nodes)
        print(f"  stopped {len(nodes)} nodes (stop_nodes) in {time.monotonic() - began:.2f} s")


def bench_network(n: int, blocks: int, workdir: Path, alloc: PortAllocator) -> None:
    print(f"\n== {n}-node ring, nodes started one after another ==")
    nodes = ring(n, workdir, alloc, "net")
    with running(nodes):
        began = time.monotonic()
        for node in nodes:
            node.start()
            print(f"  {node.name}: start -> RPC ready {node.wait_ready(60):.2f} s")
        for node in nodes:
            wait_for_connections(node, 2, timeout=120)
        nodes[0].wait_synchronized(60)
        print(f"  network up and connected (2 peers each): {time.monotonic() - began:.2f} s "
              "from first start")
        began = time.monotonic()
        mined = nodes[0].rpc.generateblocks(blocks, BURN_ADDRESS)
        mined_s = time.monotonic() - began
        wait_for_height(nodes, int(mined["height"]) + 1, timeout=300)
        wait_for_same_tip(nodes, timeout=60)
        print(f"  {blocks} blocks: mined in {mined_s:.2f} s "
              f"({1000 * mined_s / blocks:.0f} ms/block), on all {n} nodes after "
              f"{time.monotonic() - began:.2f} s")
        print(f"  total RSS {rss_mib(nodes):.0f} MiB")


def bench_scale(n: int, workdir: Path, alloc: PortAllocator) -> None:
    print(f"\n== {n} nodes started together (ring) ==")
    nodes = ring(n, workdir, alloc, f"s{n}-")
    with running(nodes):
        began = time.monotonic()
        for node in nodes:
            node.start()
        ready = [node.wait_ready(180) for node in nodes]
        up = time.monotonic() - began
        print(f"  all RPC ready after {up:.2f} s")
        for node in nodes:
            wait_for_connections(node, 2, timeout=300)
        print(f"  all connected after {time.monotonic() - began:.2f} s")
        nodes[0].wait_synchronized(120)
        began = time.monotonic()
        mined = nodes[0].rpc.generateblocks(10, BURN_ADDRESS)
        wait_for_height(nodes, int(mined["height"]) + 1, timeout=300)
        print(f"  10 blocks around a ring of {n}: {time.monotonic() - began:.2f} s")
        time.sleep(2)
        total = rss_mib(nodes)
        print(f"  total RSS {total:.0f} MiB ({total / n:.0f} MiB per node); "
              f"slowest wait after starting all {max(ready):.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=5)
    parser.add_argument("--blocks", type=int, default=100)
    parser.add_argument("--scales", default="10,25", help="comma-separated node counts")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    scales = [int(s) for s in args.scales.split(",") if s.strip()]
    with tempfile.TemporaryDirectory(prefix="bench-monerod-") as tmp, PortAllocator() as alloc:
        workdir = args.workdir or Path(tmp)
        bench_network(args.nodes, args.blocks, workdir, alloc)
        for n in scales:
            bench_scale(n, workdir, alloc)


if __name__ == "__main__":
    main()
