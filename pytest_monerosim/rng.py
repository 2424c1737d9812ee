"""Per-component random streams.

Every component of a run (the miner scheduler, one stream per node for P2P
choices, one per behaviour, ...) draws from its own ``random.Random`` seeded
from ``(scenario seed, component name)``. Adding a component or drawing more
in one of them leaves every other stream untouched, so runs stay comparable
across code changes, and nothing ever touches the global ``random``.

``blake2b`` rather than ``hash()``: string hashing is salted per process, and
the same seed must give the same run in every process (xdist workers too).
"""

from __future__ import annotations

import random
from hashlib import blake2b


def derive_seed(seed: int, name: str) -> int:
    """A 64-bit seed fixed by ``(seed, name)``."""
    digest = blake2b(f"{seed}\x1f{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def derive_rng(seed: int, name: str) -> random.Random:
    """The component ``name``'s own stream for scenario seed ``seed``."""
    return random.Random(derive_seed(seed, name))
