"""Cost of the Levin peer (prints figures): codec throughput, identities and handshakes per second.

    python benchmarks/bench_levin.py              # 500 identities
    python benchmarks/bench_levin.py 2000         # another count

An attacker's cost model: how many identities (each its own loopback address
and listening socket) one Python process opens, how fast they handshake with
a listening peer, and the process's memory growth per identity. Everything
runs on loopback between two swarms of this process (no daemon), so the
figures are the peer's own overhead; monerod answers a handshake in well
under a millisecond.
"""

from __future__ import annotations

import asyncio
import resource
import sys
import time

import _checkout  # noqa: F401  (this checkout's package first)

from pytest_monerosim.p2p import Swarm, messages
from pytest_monerosim.p2p.storage import dumps, loads


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_codec(rounds: int = 2000) -> None:
    entries = [messages.PeerEntry(f"203.0.{i // 250}.{i % 250 + 1}", 18080, i, last_seen=i)
               for i in range(250)]
    body = messages.handshake_response(messages.NodeData(peer_id=1, my_port=18080), messages.GENESIS_SYNC,
                                       entries)
    data = dumps(body)
    t = time.perf_counter()
    for _ in range(rounds // 10):
        dumps(body)
    enc = (time.perf_counter() - t) / (rounds // 10)
    t = time.perf_counter()
    for _ in range(rounds // 10):
        loads(data)
    dec = (time.perf_counter() - t) / (rounds // 10)
    print(f"codec: a handshake answer with 250 peers is {len(data)} bytes; "
          f"encode {enc * 1e3:.2f} ms, decode {dec * 1e3:.2f} ms")


async def bench_identities(n: int) -> None:
    target, attacker = Swarm(seed=1), Swarm(seed=2)
    try:
        server = await target.serve("127.88.0.1")
        before = rss_mb()
        t = time.perf_counter()
        idents = [await attacker.serve(f"127.88.{1 + i // 250}.{i % 250 + 1}") for i in range(n)]
        opened = time.perf_counter() - t
        t = time.perf_counter()
        sem = asyncio.Semaphore(64)

        async def one(ident):  # type: ignore[no-untyped-def]
            async with sem:
                return await attacker.connect(server.address, source=ident, sync_after=False)

        conns = await asyncio.gather(*(one(i) for i in idents))
        shook = time.perf_counter() - t
        grown = rss_mb() - before
        print(f"identities: {n} listening identities opened in {opened:.2f} s; {len(conns)} handshakes "
              f"in {shook:.2f} s ({len(conns) / shook:.0f}/s, 64 in flight); max RSS grew "
              f"{grown:.1f} MB ({grown * 1024 / n:.0f} kB per identity with its connection, both ends)")
    finally:
        await attacker.close()
        await target.close()


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    bench_codec()
    asyncio.run(bench_identities(n))


if __name__ == "__main__":
    main()
