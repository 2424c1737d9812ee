"""When each node accepted a block, kept compact: a time per node in an array.

``Block.arrivals`` is read as a mapping of node name → time (what
:class:`~pytest_monerosim.result.model.BlockRecord` hands to checks and reports, in the
order the nodes accepted the block). A dict of floats costs about 64 bytes a node and
block; the mainnet twin's 33,047 nodes would hold 1.5 GB of them after a simulated day
(720 blocks). Here a block holds 8 bytes a node (the times, by node index, NaN where the
block has not arrived) and 4 bytes a node that has it (the order), about 400 kB a block
in the twin instead of 2.1 MB.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Mapping
from math import isnan

_NAN = array("d", [float("nan")])


class NodeNames:
    """A world's node names by index (``Node.index``), shared by its blocks' arrivals."""

    __slots__ = ("names", "index")

    def __init__(self) -> None:
        self.names: list[str] = []
        self.index: dict[str, int] = {}

    def add(self, name: str) -> int:
        """Number the next node (its index)."""
        i = self.index[name] = len(self.names)
        self.names.append(name)
        return i


class Arrivals(Mapping[str, float]):
    """Node name → the time it accepted the block, in the order of acceptance."""

    __slots__ = ("_nodes", "_times", "_order")

    def __init__(self, nodes: NodeNames) -> None:
        self._nodes = nodes
        self._times = array("d")
        """By node index: the time, NaN if not (yet)."""
        self._order = array("I")
        """Node indices in the order they accepted the block."""

    def first(self, index: int, time: float) -> None:
        """Node ``index`` accepted the block at ``time``, unless it had already."""
        times = self._times
        if index >= len(times):
            times.extend(_NAN * (len(self._nodes.names) - len(times)))
        if isnan(times[index]):
            times[index] = time
            self._order.append(index)

    def __getitem__(self, name: str) -> float:
        i = self._nodes.index[name]
        times = self._times
        if i < len(times):
            t = times[i]
            if not isnan(t):
                return t
        raise KeyError(name)

    def __contains__(self, name: object) -> bool:
        i = self._nodes.index.get(name)  # type: ignore[call-overload]
        return i is not None and i < len(self._times) and not isnan(self._times[i])

    def __iter__(self) -> Iterator[str]:
        names = self._nodes.names
        return (names[i] for i in self._order)

    def __len__(self) -> int:
        return len(self._order)

    def __repr__(self) -> str:
        return f"Arrivals({dict(self)!r})"


__all__ = ["Arrivals", "NodeNames"]
