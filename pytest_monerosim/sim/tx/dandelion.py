"""Dandelion++ stem routing, as monerod does it.

From ``src/cryptonote_protocol/levin_notify.cpp``, ``src/net/dandelionpp.cpp``
and ``src/cryptonote_config.h`` (monero-project/monero):

* Each node runs epochs of ``CRYPTONOTE_DANDELIONPP_MIN_EPOCH`` (10 min) plus a
  uniform 0..``EPOCH_RANGE`` (30 s). At the start of an epoch it decides
  once, with probability ``FLUFF_PROBABILITY`` (20 %), to be a *fluff* node
  for the whole epoch, and picks ``STEMS`` (2) of its outgoing connections as
  stem peers.
* Each source connection is mapped, for the epoch, to the least used stem
  (ties broken at random), so txs from one peer always take the same stem.
* A tx the node's own wallet submits always goes out on a stem, even in a
  fluff epoch (since monerod commit a7bf3aff2; Debian's 0.18.0.0 fluffs it:
  ``local_stem=False``); a stem tx received from a peer is fluffed by a fluff node and
  forwarded on the source's stem by a stem node. A node without any outgoing
  connection fluffs.
* A stem peer that disconnected is replaced by a current outgoing
  connection not already used as a stem (``connection_map::update``).

Because a node's state is fixed for an epoch, a stem's length (hops from the
origin to the first fluff node) is geometric with p = 0.2 when the nodes on
it are distinct; loops are detected by the pool (a stem tx already held as a
stem is fluffed).

The router is lazy: a node's epochs advance when it is asked, so idle nodes
cost nothing.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

EPOCH_RANGE_S = 30.0
LOCAL = None
"""Source of a tx the node's own wallet submitted."""


class EpochState:
    __slots__ = ("start", "end", "fluffing", "stems", "usage", "routes")

    def __init__(self, start: float, end: float, fluffing: bool, stems: list[str]) -> None:
        self.start = start
        self.end = end
        self.fluffing = fluffing
        self.stems = stems
        self.usage = [0] * len(stems)
        self.routes: dict[str | None, int] = {}


class DandelionRouter:
    def __init__(
        self,
        rng: random.Random,
        out_peers: Callable[[str], Sequence[str]],
        *,
        stems: int = 2,
        fluff_probability: float = 0.2,
        epoch_s: float = 600.0,
        epoch_range_s: float = EPOCH_RANGE_S,
        start_time: Callable[[str], float] | None = None,
        local_stem: bool = True,
    ) -> None:
        self.rng = rng
        self.local_stem = local_stem
        """False: a fluff-epoch node fluffs its own txs too (monerod 0.18.0.0, see
        ``transactions.local_stem``)."""
        self.out_peers = out_peers
        self.stems = stems
        self.fluff_probability = fluff_probability
        self.epoch_s = epoch_s
        self.epoch_range_s = epoch_range_s
        self.start_time = start_time
        self._states: dict[str, EpochState] = {}
        self.epochs_started = 0

    # -- epochs ----------------------------------------------------------------
    def _new_epoch(self, node: str, start: float) -> EpochState:
        rng = self.rng
        end = start + self.epoch_s + rng.uniform(0.0, self.epoch_range_s)
        fluffing = rng.random() < self.fluff_probability
        peers = list(self.out_peers(node))
        if len(peers) > self.stems:
            stems = rng.sample(peers, self.stems)
        else:
            stems = peers
            rng.shuffle(stems)
        self.epochs_started += 1
        return EpochState(start, end, fluffing, stems)

    def state(self, node: str, now: float) -> EpochState:
        st = self._states.get(node)
        if st is None:
            start = self.start_time(node) if self.start_time is not None else 0.0
            st = self._new_epoch(node, min(start, now))
        while now >= st.end:
            st = self._new_epoch(node, st.end)
        self._states[node] = st
        return st

    def fluffing(self, node: str, now: float) -> bool:
        return self.state(node, now).fluffing

    # -- stems -----------------------------------------------------------------
    def _refresh(self, node: str, st: EpochState) -> None:
        current = list(self.out_peers(node))
        live = set(current)
        if all(s in live for s in st.stems) and len(st.stems) >= min(self.stems, len(current)):
            return
        unused = [p for p in current if p not in st.stems]
        for i, s in enumerate(st.stems):
            if s not in live:
                if unused:
                    j = self.rng.randrange(len(unused))
                    st.stems[i] = unused.pop(j)
                else:
                    st.stems[i] = ""
        while len(st.stems) < self.stems and unused:
            st.stems.append(unused.pop(self.rng.randrange(len(unused))))
            st.usage.append(0)

    def stem_peer(self, node: str, source: str | None, now: float) -> str | None:
        """Where ``node`` sends a stem tx from ``source`` (None: nowhere; fluff instead)."""
        st = self.state(node, now)
        self._refresh(node, st)
        idx = st.routes.get(source)
        if idx is not None and st.stems[idx]:
            return st.stems[idx]
        choices = [i for i, s in enumerate(st.stems) if s]
        if not choices:
            return None
        low = min(st.usage[i] for i in choices)
        best = [i for i in choices if st.usage[i] == low]
        idx = best[0] if len(best) == 1 else best[self.rng.randrange(len(best))]
        st.routes[source] = idx
        st.usage[idx] += 1
        return st.stems[idx]

    def next_hop(self, node: str, source: str | None, now: float) -> str | None:
        """Stem peer to forward to, or None when ``node`` fluffs the tx.

        ``source`` is the peer the tx came from, :data:`LOCAL` for the node's own.
        """
        if (source is not LOCAL or not self.local_stem) and self.fluffing(node, now):
            return None
        return self.stem_peer(node, source, now)
