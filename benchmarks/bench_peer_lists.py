"""Memory of a node's peer lists (prints figures): a book with a full white list and a full
gray list, by tracemalloc.

    python benchmarks/bench_peer_lists.py          # 50 books
    python benchmarks/bench_peer_lists.py 200      # another count

Each book takes 3,000 white additions (monerod's limit is 1,000, so a full list evicts on
every new address, as a mainnet node's does), every seventh followed by a last-seen write
(some raised, some lowered), and 8,000 gray merges of 250-address answers trimmed to 5,000
(monerod's limits). The books share one world's address table, which is not counted: a
world numbers each address once however many books list it, and the mainnet twin's gray
lists cover its addresses from the first hour. The index of both lists (one slot per
address of the world, 40 KB here) is counted once per book, in the phase that allocates it.
"""

from __future__ import annotations

import random
import sys
import time
import tracemalloc

import _checkout  # noqa: F401  (this checkout's package first)
import history

from pytest_monerosim.sim.peers import Gossip, PeerBook

ADDRESSES = 20_000


def main(argv: list[str]) -> None:
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
