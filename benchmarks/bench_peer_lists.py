"""Memory of a node's peer lists (prints figures): a book with a full white list and a full
gray list, by tracemalloc.

    python benchmarks/bench_peer_lists.py          # 50 books
    python benchmarks/bench_peer_lists.py 200      # another count
    python benchmarks/bench_peer_lists.py --merges # CPU of a merge into a full list, pure and compiled

Each book takes 3,000 white additions (monerod's limit is 1,000, so a full list evicts on
every new address, as a mainnet node's does), every seventh followed by a last-seen write
(some raised, some lowered), and 8,000 gray merges of 250-address answers trimmed to 5,000
(monerod's limits). The books share one world's address table, which is not counted: a
world numbers each address once however many books list it, and the mainnet twin's gray
lists cover its addresses from the first hour. The index of both lists (one slot per
address of the world, 40 KB here) is counted once per book, in the phase that allocates it.

``--merges`` times what dominates the mainnet twin once its gray lists are full: a book
(1,000 white and 5,000 gray entries out of the twin's 33,047 addresses) merges 5,000 answers
of 250 addresses drawn from all of them (about four fifths unknown, so each merge pushes about
200 and trims as many), with a gray-to-white move after each, once with the pure pushes and trim
and once with the compiled merge (:mod:`pytest_monerosim.sim.gray_kernel`; skipped without
numba). Both books must end equal. Then the merge's first step alone, picking an answer's
unknown ids, in 8,000 books' indexes spread over memory (one book stays in the cache; in a run
each read is a miss), by the comprehension and compiled.
"""

from __future__ import annotations

import random
import sys
import time
import tracemalloc

import _checkout  # noqa: F401  (this checkout's package first)
import history

from pytest_monerosim.sim.gray_kernel import ListKernels
from pytest_monerosim.sim.peers import Gossip, PeerBook

ADDRESSES = 20_000


def merges() -> None:
    from pytest_monerosim.sim import gray_kernel, peers
    from pytest_monerosim.sim.stream_twin import LazyTwin

    kernel = gray_kernel.load()
    figures: dict[str, float] = {}
    ends = []
    for name, use in (("pure", None), ("compiled", kernel)):
        if name == "compiled" and use is None:
            print("    compiled: not available (numba missing or the self-check failed)")
            break
        pinned: LazyTwin[object] = LazyTwin()
        pinned.set(use)
        peers.MERGES = pinned  # type: ignore[assignment]
        rng = random.Random(5)
        shared = Gossip()
        twin_addresses = 33_047
        pool = [f"{rng.randrange(1, 255)}.{rng.randrange(256)}.{i // 256 % 256}.{i % 256}:18080"
                for i in range(twin_addresses)]
        ids = [shared.ids.register(a) for a in pool]
        book = PeerBook(1000, 5000, shared)
        for a in rng.sample(pool, 1000):
            book.insert_white(a, rng.uniform(0, 1000))
        for a in rng.sample(pool, 6000):
            book.add_gray(a)
        answers = [rng.sample(ids, 250) for _ in range(5300)]
        moves = [rng.choice(pool) for _ in range(5300)]
        for k in range(300):  # (warm: the list's arrays at their size)
            book.merge_ids(answers[k], 5000.0)
        t0 = time.process_time()
        for k in range(300, 5300):
            book.merge_ids(answers[k], 5000.0)
            book.take_gray(moves[k])
        figures[f"{name}_us"] = round((time.process_time() - t0) / 5000 * 1e6, 1)
        ends.append((book.gray.order.tolist(), book.gray.fifo[book.gray.head:book.gray.end].tolist(),
                     book.forgets))
        print(f"    {name}: {figures[name + '_us']} us a merge of 250 addresses into a full list "
              f"(and a gray-to-white move)")
    if kernel is not None:
        assert ends[0] == ends[1], "the compiled merge left another list than the pure one"
        print(f"    speed-up x{figures['pure_us'] / figures['compiled_us']:.1f}; both lists equal")
        figures.update(unknown_filter(kernel))
    history.record("bench_peer_lists", "merges", figures)


def unknown_filter(kernels: ListKernels) -> dict[str, float]:
    """An answer's unknown ids picked in books spread over memory, as in a run: 8,000 books'
    indexes of 33,047 ids (2 bytes each, 6,000 listed), 20,000 answers of 250 ids each read
    in a random book, by the comprehension and compiled (conversion included)."""
    from array import array

    from pytest_monerosim.sim.gray import GrayList
    rng = random.Random(7)
    n = 33_047
    books = []
    for _ in range(8000):
        gray = GrayList.__new__(GrayList)  # (only the index: 66 KB a book, 528 MB in all)
        pos = array("H", bytes(2 * n))
        for i in rng.sample(range(1, n), 6000):
            pos[i] = 1
        gray.pos = pos
        books.append(gray)
    answers = [[rng.randrange(1, n) for _ in range(250)] for _ in range(2000)]
    visits = [(books[rng.randrange(len(books))], answers[k % 2000]) for k in range(20_000)]
    t0 = time.process_time()
    for gray, ids in visits:
        pos = gray.pos
        m = len(pos)
        [i for i in ids if i >= m or not pos[i]]
    t1 = time.process_time()
    for gray, ids in visits:
        gray.unknown_ids(ids, kernels.unknown)
    t2 = time.process_time()
    out = {"filter_pure_us": round((t1 - t0) / len(visits) * 1e6, 1),
           "filter_compiled_us": round((t2 - t1) / len(visits) * 1e6, 1)}
    print(f"    an answer's unknown ids, 250 read in one of 8,000 books: {out['filter_pure_us']} us "
          f"by the comprehension, {out['filter_compiled_us']} us compiled (cache misses: the "
          f"compiled loop overlaps them)")
    return out


def main(argv: list[str]) -> None:
    if argv[:1] == ["--merges"]:
        print("gray-list merges (CPU):")
        merges()
        return
    books_n = int(argv[0]) if argv else 50
    rng = random.Random(1)
    shared = Gossip()
    pool = [f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}:18080" for i in range(ADDRESSES)]
    for a in pool:  # the world's table, numbered before the books (not counted)
        shared.ids.register(a)
    t0 = time.process_time()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    books = []
    for _ in range(books_n):
        book = PeerBook(shared=shared)
        t = 0.0
        for k in range(3000):
            t += rng.random()
            book.add_white(pool[rng.randrange(ADDRESSES)], t)
            if k % 7 == 0:
                a = pool[rng.randrange(ADDRESSES)]
                if a in book.white:
                    book.set_seen(a, t - rng.random() * 100)
        books.append(book)
    after_white = tracemalloc.take_snapshot()
    for book in books:
        for _ in range(40):
            book.merge([pool[rng.randrange(ADDRESSES)] for _ in range(250)], "1.1.1.1:18080", 0.0)
    after_gray = tracemalloc.take_snapshot()
    tracemalloc.stop()
    cpu = time.process_time() - t0
    white_n = sum(len(b.white) for b in books)
    gray_n = sum(len(b.gray) for b in books)
    white_b = sum(s.size_diff for s in after_white.compare_to(before, "filename"))
    gray_b = sum(s.size_diff for s in after_gray.compare_to(after_white, "filename"))
    per_book = (white_b + gray_b) / books_n
    print(f"peer lists: {books_n} books, {ADDRESSES:,} addresses, "
          f"CPU {cpu:.1f} s (under tracemalloc: not a speed figure)")
    print(f"    both lists full: {per_book / 1024:.0f} KB a book ({white_n / books_n:,.0f} white and "
          f"{gray_n / books_n:,.0f} gray entries)")
    print(f"    of which the white phase {white_b / books_n / 1024:.0f} KB (the list, its journal and views, "
          f"and whatever index the list allocates: {white_b / white_n:.1f} bytes a white entry), the gray "
          f"phase {gray_b / books_n / 1024:.0f} KB ({gray_b / gray_n:.1f} bytes a gray entry)")
    history.record("bench_peer_lists", str(books_n),
                   {"kb_per_book": round(per_book / 1024, 1),
                    "white_phase_kb": round(white_b / books_n / 1024, 1),
                    "gray_phase_kb": round(gray_b / books_n / 1024, 1)})


if __name__ == "__main__":
    main(sys.argv[1:])
