"""Drawing each wallet tx's number of inputs and outputs (``transactions.shape``).

The distributions are the scenario's (``"mainnet"``: research-lab#100's tabulation of five
years of txs for inputs, see :data:`~pytest_monerosim.config.model.MAINNET_INPUTS`). The
drawn input count is a floor (the wallet still spends as many outputs as the amount needs);
the drawn output count includes the change, and a count above destinations + change splits
the first payment (:func:`~.builder.split_outputs`). The byte size and weight follow from
the counts (:mod:`.weights`), and with them the fee (:mod:`.fees`) and the transfer time on
links (:mod:`.bandwidth`).
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from ...topology.latency import weighted_pick

if TYPE_CHECKING:
    from ...config.model import TxShape


class _Discrete:
    def __init__(self, shares: dict[int, float]) -> None:
        items = sorted(shares.items())
        self.values = [k for k, _ in items]
        self.weights = [w for _, w in items]

    def draw(self, rng: random.Random) -> int:
        return self.values[weighted_pick(self.weights, rng.random())]


class ShapeDraw:
    def __init__(self, shape: TxShape, rng: random.Random) -> None:
        self.rng = rng
        self.inputs = _Discrete(shape.inputs) if shape.inputs else None
        self.outputs = _Discrete(shape.outputs) if shape.outputs else None

    def draw(self) -> tuple[int, int]:
        """(at least this many inputs, this many outputs or 0 for the wallet's own)."""
        n_in = self.inputs.draw(self.rng) if self.inputs is not None else 1
        n_out = self.outputs.draw(self.rng) if self.outputs is not None else 0
        return n_in, n_out
