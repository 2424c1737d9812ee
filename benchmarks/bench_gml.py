"""Loading large GML topologies (prints figures; asserts nothing).

    python benchmarks/bench_gml.py                      # a generated CAIDA-sized file
    python benchmarks/bench_gml.py path/to/1200_nodes_caida_with_loops.gml

The existing Monerosim's configs nearly all use ``gml_processing/
1200_nodes_caida_with_loops.gml`` (1,200 nodes, directed, 17,782 edges plus
one self-loop per node, 1.7 MB). Without a path this script writes a file of
the same shape (same node, edge and loop counts, unit strings and layout; the
edges drawn from a seeded random graph) so it runs anywhere; with a path it
reads that file. It prints, best of ``--rounds``: the token-by-token parser
(the reference, which words the errors), the fast pass ``load_topology_file``
uses, the whole load into a ``DiGraph``, and the all-pairs shortest paths that
``migrate`` computes from it.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import _checkout  # noqa: F401  (this checkout's package first)

from pytest_monerosim.legacy.gml import shortest_path_matrix
from pytest_monerosim.topology.files import _parse_slowly, load_topology_file, parse_gml_tree

REGIONS = ["north_america", "europe", "asia", "south_america", "africa", "oceania"]


def caida_like(nodes: int = 1200, edges: int = 17782, seed: int = 1) -> str:
    """A directed GML shaped like the CAIDA file: symmetric pairs, loops, Shadow unit strings."""
    rng = random.Random(seed)
    out = ["graph [", "  directed 1", ""]
    for i in range(nodes):
        out += ["  node [", f"    id {i}", f'    AS "{i}"', f'    region "{REGIONS[i % len(REGIONS)]}"',
                f'    bandwidth "{rng.randint(100, 250)}Mbit"', "  ]", ""]
    pairs: set[tuple[int, int]] = set()
    for i in range(1, nodes):  # a spanning tree keeps it strongly connected
        j = rng.randrange(i)
        pairs.add((min(i, j), max(i, j)))
    while len(pairs) * 2 < edges:
        a, b = rng.sample(range(nodes), 2)
        pairs.add((min(a, b), max(a, b)))
    for a, b in sorted(pairs):
        lat, bw = rng.choice((25, 45, 60, 110)), rng.randint(100, 900)
        for u, v in ((a, b), (b, a)):
            out += ["  edge [", f"    source {u}", f"    target {v}", f'    latency "{lat}ms"',
                    f'    bandwidth "{bw}Mbit"', "  ]"]
    for i in range(nodes):
        out += ["  edge [", f"    source {i}", f"    target {i}", '    latency "1ms"',
                '    bandwidth "10Gbit"', "  ]"]
    out.append("]")
    return "\n".join(out) + "\n"


class Timing:
    """Best of several rounds: wall clock and this process's CPU time (the machine is shared)."""

    def __init__(self, fn, rounds: int) -> None:  # type: ignore[no-untyped-def]
        walls, cpus = [], []
        for _ in range(rounds):
            w, c = time.perf_counter(), time.process_time()
            fn()
            walls.append(time.perf_counter() - w)
            cpus.append(time.process_time() - c)
        self.wall, self.cpu = min(walls), min(cpus)

    def __str__(self) -> str:
        return f"{self.wall:.3f} s wall, {self.cpu:.3f} s CPU"


def best(fn, rounds: int) -> Timing:  # type: ignore[no-untyped-def]
    return Timing(fn, rounds)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("path", nargs="?", type=Path, help="a GML file (default: a generated CAIDA-sized one)")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    if args.path is None:
        tmp = Path(tempfile.mkdtemp(prefix="bench-gml-")) / "caida_like.gml"
        tmp.write_text(caida_like())
        path = tmp
    else:
        path = args.path
    text = path.read_text()
    print(f"file {path}: {len(text) / 1e6:.2f} MB")
    slow = best(lambda: _parse_slowly(text, str(path)), args.rounds)
    fast = best(lambda: parse_gml_tree(text, str(path)), args.rounds)
    load = best(lambda: load_topology_file(path), args.rounds)
    graph = load_topology_file(path)
    loops = len(graph.graph.get("self_loops", {}))
    print(f"graph {type(graph).__name__}: {graph.number_of_nodes()} nodes, {graph.number_of_edges()} "
          f"edges, {loops} self-loops")
    print(f"parse, token by token (reference):  {slow}")
    print(f"parse, fast pass:                   {fast}  ({slow.cpu / fast.cpu:.1f}x less CPU)")
    print(f"load_topology_file (parse + graph): {load}")
    nodes = list(graph.nodes)
    paths = best(lambda: shortest_path_matrix(graph, nodes), args.rounds)
    print(f"all-pairs shortest paths (migrate): {paths} for {len(nodes)} x {len(nodes)}")
    print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
