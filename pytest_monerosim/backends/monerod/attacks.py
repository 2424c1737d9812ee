"""Attack plugins on real nodes: one driver per attack the monerod backend runs.

The scenario names an attack and its parameters exactly as for the simulator
(the same :class:`~pytest_monerosim.attacks.base.Attack` ``Params`` and
``check``); here a *driver* carries them out on a started
:class:`~.network.LoopbackNetwork` through :class:`~.actions.NetworkActions`
and measures, from what the real network did (live tips during the run, then
the :class:`~pytest_monerosim.result.model.Result` built from the logs), the
metrics the simulator reports under ``result.attacks[name]``.

A driver exposes ``events()`` (simulated times → actions), ``poll(now)``
(called every few wall milliseconds while the run goes on) and
``finish(result)``; :func:`run_with_attacks` interleaves them with
:meth:`LoopbackNetwork.run`. Simulated times become wall times through the
network's clock (``t0 + t / time_scale``).

Supported: ``partition`` (``set_bans`` between the parts at ``start``, lifted
at ``heal``). Other attacks raise ``BackendUnavailable``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from ...attacks.partition import REGION_PREFIX, REST, Partition, PartitionParams
from .. import BackendUnavailable
from .actions import NetworkActions

if TYPE_CHECKING:
    from ...config.model import Scenario
    from ...registry import Registry
    from ...result.model import BlockRecord, Result
    from .network import LoopbackNetwork

POLL_WALL_S = 0.1
"""How often (wall seconds) drivers look at the live network."""


class AttackDriver(Protocol):
    name: str

    def events(self) -> list[tuple[float, Callable[[], None]]]: ...

    def poll(self, now: float) -> None: ...

    def finish(self, result: Result) -> None: ...


class PartitionDriver:
    """The ``partition`` attack on real daemons: ban across parts at t1, lift at t2."""

    name = Partition.name

    def __init__(self, params: PartitionParams, scenario: Scenario, network: LoopbackNetwork,
                 actions: NetworkActions) -> None:
        self.p = params
        self.attack = Partition(params)
        self.network = network
        self.actions = actions
        nodes = actions.nodes()
        self.part_of = _assign(params, scenario, nodes)
        self.names = sorted(set(self.part_of.values()) | ({REST} if len(self.part_of) < len(nodes)
                                                           else set()))
        self.cut_at: float | None = None
        self.healed_at: float | None = None
        self.reconverged_at: float | None = None
        self.heal_tips: dict[str, str] = {}
        self.series: list[list[float]] = []
        self.next_sample = params.start

    def part(self, node: str) -> str:
        return self.part_of.get(node, REST)

    def events(self) -> list[tuple[float, Callable[[], None]]]:
        out: list[tuple[float, Callable[[], None]]] = [(self.p.start, self._cut)]
        if self.p.heal is not None:
            out.append((self.p.heal, self._heal))
        return out

    def _groups(self) -> list[list[str]]:
        return [sorted(n for n in self.actions.nodes() if self.part(n) == name)
                for name in self.names if name != REST]

    def _cut(self) -> None:
        self.cut_at = self.network.now()
        self.actions.partition(self._groups())

    def _heal(self) -> None:
        self.heal_tips = self._best_tips()
        self.healed_at = self.network.now()
        self.actions.heal()
        self.poll(self.network.now())

    def _infos(self) -> dict[str, dict[str, Any]]:
        return {n: self.actions.daemon(n).rpc.get_info() for n in self.actions.nodes()
                if self.actions.daemon(n).process is not None}

    def _best_tips(self) -> dict[str, str]:
        """Per part, the tip (hash) with the most cumulative difficulty among its nodes."""
        best: dict[str, tuple[int, int, str]] = {}
        for node, info in self._infos().items():
            key = (int(info.get("cumulative_difficulty", 0)), int(info.get("height", 0)),
                   str(info["top_block_hash"]))
            part = self.part(node)
            if part not in best or key[:2] > best[part][:2]:
                best[part] = key
        return {part: key[2] for part, key in best.items()}

    def poll(self, now: float) -> None:
        sampling = self.cut_at is not None and now >= self.next_sample
        converging = self.healed_at is not None and self.reconverged_at is None
        if not (sampling or converging):
            return
        tips = {str(i["top_block_hash"]) for i in self._infos().values()}
        if sampling:
            self.series.append([round(now, 3), len(tips)])
            self.next_sample = now + self.p.sample_s
        if converging and len(tips) == 1:
            self.reconverged_at = now

    def finish(self, result: Result) -> None:
        p = self.p
        start = self.cut_at if self.cut_at is not None else p.start
        end = self.healed_at if self.healed_at is not None else result.sim_seconds
        settled = self.reconverged_at if self.reconverged_at is not None else result.sim_seconds
        blocks = {name: 0 for name in self.names}
        mined_until_settled = {name: 0 for name in self.names}
        since_cut: list[BlockRecord] = []
        for block in result.blocks.values():
            if block.parent is None or block.found_at < start:
                continue
            part = self.part(block.miner)
            if block.found_at <= settled:
                since_cut.append(block)
                mined_until_settled[part] = mined_until_settled.get(part, 0) + 1
            if block.found_at < end:
                blocks[part] = blocks.get(part, 0) + 1
        heal_tips = {k: v for k, v in self.heal_tips.items() if v in result.blocks}

        def weight(b: str) -> tuple[int, int]:
            return result.blocks[b].cumulative_difficulty, result.blocks[b].height

        heavier = max(heal_tips, key=lambda k: weight(heal_tips[k])) if heal_tips else None
        if heavier is not None and sum(weight(t) == weight(heal_tips[heavier])
                                       for t in heal_tips.values()) > 1:
            heavier = None  # a tie: no side was heavier
        main = {b.id for b in result.chain(result.reference_tip())}
        winner = None
        for part, tip in sorted(heal_tips.items(), key=lambda kv: weight(kv[1]), reverse=True):
            if tip in main:
                winner = part
                break
        lighter_blocks = 0
        if heavier is not None:
            heavy_chain = {b.id for b in result.chain(heal_tips[heavier])}
            for part, tip in heal_tips.items():
                if part != heavier:
                    lighter_blocks = max(lighter_blocks, sum(
                        1 for b in result.chain(tip) if b.id not in heavy_chain))
        honest = set(result.honest_nodes()) or set(result.tips)
        after = [r for r in result.reorgs if self.healed_at is not None
                 and r.time >= self.healed_at - 1e-6 and r.node in honest]
        orphaned = [b for b in since_cut if b.id not in main]
        have_txs = bool(result.txs)
        main_txs = {t for b in result.chain(result.reference_tip()) for t in b.tx_ids}
        rolled = {t for b in orphaned for t in b.tx_ids}
        reconverge = (None if self.reconverged_at is None or self.healed_at is None
                      else round(self.reconverged_at - self.healed_at, 3))
        self.attack.report(
            result,
            reorg_depth=max((r.depth for r in after), default=0),
            lighter_mined=sum(n for part, n in mined_until_settled.items() if part != heavier),
            lighter_blocks=lighter_blocks,
            reconverge_s=reconverge,
            heavier_won=None if winner is None or heavier is None else winner == heavier,
            reconverged=self.reconverged_at is not None,
            heavier=heavier,
            winner=winner,
            orphaned=len(orphaned),
            reorged_nodes=len({r.node for r in after}),
            txs_reversed=len(rolled) if have_txs else None,
            txs_not_reconfirmed=len(rolled - main_txs) if have_txs else None,
            blocks=blocks,
            parts={name: sorted(n for n in self.actions.nodes() if self.part(n) == name)
                   for name in self.names},
            healed_at=None if self.healed_at is None else round(self.healed_at, 3),
            cut_at=None if self.cut_at is None else round(self.cut_at, 3),
            series={"distinct_tips": self.series},
        )


def _assign(p: PartitionParams, scenario: Scenario, nodes: list[str]) -> dict[str, str]:
    """Node → part, as the simulator assigns them (groups in scenario order, first ``split``)."""
    out: dict[str, str] = {}
    present = set(nodes)
    if p.parts is None:
        for group in scenario.nodes:
            names = [n for n in group.node_names() if n in present]
            k = max(1, min(len(names) - 1, round(len(names) * p.split))) if len(names) > 1 else 1
            for i, node in enumerate(names):
                out[node] = "a" if i < k else "b"
        return out
    groups = {g.group: [n for n in g.node_names() if n in present] for g in scenario.nodes}
    for part, entries in p.parts.items():
        for entry in entries:
            if entry.startswith(REGION_PREFIX):
                region = entry[len(REGION_PREFIX):]
                chosen = [n for g in scenario.nodes if g.region == region
                          for n in g.node_names() if n in present]
            elif entry in present:
                chosen = [entry]
            else:
                chosen = groups.get(entry, [])
            for node in chosen:
                out.setdefault(node, part)
    return out


DRIVERS: dict[str, Callable[..., AttackDriver]] = {
    "partition": PartitionDriver,
}
"""Attack name → driver factory ``(params, scenario, network, actions)``."""


def supported() -> list[str]:
    return sorted(DRIVERS)


def require_supported(scenario: Scenario) -> None:
    """``BackendUnavailable`` naming the attacks this backend runs, for any other."""
    missing = [a.name for a in scenario.attacks if a.name not in DRIVERS]
    if missing:
        raise BackendUnavailable(
            f"the monerod backend does not run the attack plugin(s) {', '.join(missing)}; it "
            f"runs {', '.join(supported())} (drive other attacks on real nodes with "
            "pytest_monerosim.backends.monerod.actions)")


def run_with_attacks(network: LoopbackNetwork, scenario: Scenario, registry: Registry) -> Result:
    """Run the started network with the scenario's attacks; collect and add their metrics."""
    require_supported(scenario)
    actions = NetworkActions(network)
    try:
        drivers: list[AttackDriver] = []
        for ref in scenario.attacks:
            params = registry.get("attack", ref.name).params.model_validate(ref.params)
            drivers.append(DRIVERS[ref.name](params, scenario, network, actions))
        events = sorted(((t, i, act) for i, d in enumerate(drivers) for t, act in d.events()),
                        key=lambda e: (e[0], e[1]))
        duration = float(network.plan.duration)
        todo = list(events)
        while True:
            now = network.now()
            if now >= duration:
                break
            while todo and now >= todo[0][0]:
                todo.pop(0)[2]()
                now = network.now()
            for driver in drivers:
                driver.poll(now)
            target = min(duration, now + POLL_WALL_S * network.time_scale)
            if todo:
                target = min(target, todo[0][0])
            network.run(duration=target)
            if target >= duration:
                break
        # events scheduled at (or past) the end still happen, e.g. a heal the run outlives
        while todo:
            todo.pop(0)[2]()
        for driver in drivers:
            driver.poll(network.now())
        result = network.collect()
        for driver in drivers:
            driver.finish(result)
        return result
    finally:
        actions.close()


__all__ = ["DRIVERS", "AttackDriver", "PartitionDriver", "require_supported", "run_with_attacks",
           "supported"]
