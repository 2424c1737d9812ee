"""The mining-strategy extension point: withholding and publishing a private chain."""

from __future__ import annotations

from pytest_monerosim.backends.sim import build_world
from pytest_monerosim.registry import Registry
from pytest_monerosim.sim.chain import Block, TipChange
from pytest_monerosim.sim.mining import MiningStrategy
from pytest_monerosim.sim.node import Node

from .conftest import scenario


class WithholdTwo(MiningStrategy):
    """Keep found blocks private; publish the private chain once it is two blocks long."""

    name = "withhold-two"

    def __init__(self) -> None:
        self.private: list[Block] = []
        self.published: list[tuple[float, str]] = []

    def mining_parent(self, node: Node) -> Block:
        if self.private and self.private[-1].cum >= node.chain.tip.cum:
            return self.private[-1]  # ahead or tied: keep racing on the private chain
        self.private.clear()  # the public chain overtook us: give up the private one
        return node.chain.tip

    def on_block_found(self, node: Node, block: Block) -> None:
        self.private.append(block)
        if len(self.private) >= 2:
            for b in self.private:
                node.publish(b)
                self.published.append((node.world.engine.now, b.id))
            self.private.clear()

    def on_block_accepted(self, node: Node, block: Block, change: TipChange | None) -> None:
        pass


def test_withheld_blocks_reach_peers_only_when_published(registry: Registry) -> None:
    sc = scenario(
        [{"group": "honest", "count": 3, "role": "miner", "hashrate": 1.0},
         {"group": "pool", "role": "miner", "hashrate": 2.0, "honest": False}],
        general={"duration": "12h", "seed": 8},
        network={"topology": "mesh", "latency": {"name": "constant", "latency_s": 0.05}},
    )
    world = build_world(sc, registry, snapshot_interval_s=None)
    strategy = WithholdTwo()
    world.node("pool").set_strategy(strategy)
    result = world.run()

    published = dict((b, t) for t, b in strategy.published)
    assert len(published) >= 20
    for block in result.blocks.values():
        if block.miner != "pool":
            continue
        others = [t for n, t in block.arrivals.items() if n != "pool"]
        if block.id in published:
            # first of a pair waited for the second; peers saw it only after publication
            assert all(t >= published[block.id] for t in others)
        else:
            assert others == [], "a block never published never left the pool"
    # after a tie, publishing two at once overrides the honest block: reorgs to the pool
    to_pool = [r for r in result.reorgs
               if r.node != "pool" and result.blocks[r.new_tip].miner == "pool"]
    assert to_pool and all(r.depth >= 1 for r in to_pool)
    assert result.nodes["pool"].honest is False
