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

Supported: ``partition`` (with namespaces the parts' links are cut, and
``set_bans`` between the parts at ``start``, lifted at ``heal``) and
``double_spend`` (trials one after another: the attacker's node is isolated,
pays the merchant and itself with one output, both sides mine at rates
(1-q):q on a Poisson schedule, release once the payment has ``z``
confirmations and the private chain is longer). Other attacks raise
``BackendUnavailable``.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ...analysis.theory import double_spend_exact
from ...attacks.double_spend import DoubleSpend, DoubleSpendParams, auto_deficit, default_merchant
from ...attacks.partition import REGION_PREFIX, REST, Partition, PartitionParams, outcome_metrics
from .. import BackendUnavailable
from ..plan import BURN_ADDRESS
from .actions import DoubleSpend as Spends
from .actions import NetworkActions
from .errors import MonerodBackendError

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
        self.attack.report(
            result,
            **outcome_metrics(
                after=after, mined_until_settled=mined_until_settled, heavier=heavier, winner=winner,
                lighter_blocks=lighter_blocks, orphaned=orphaned, main_txs=main_txs,
                have_txs=have_txs, healed_at=self.healed_at, reconverged_at=self.reconverged_at,
            ),
            blocks=blocks,
            parts={name: sorted(n for n in self.actions.nodes() if self.part(n) == name)
                   for name in self.names},
            healed_at=None if self.healed_at is None else round(self.healed_at, 3),
            # monerod's own timers (reconnects, failed-address cache) run in wall seconds
            reconverge_wall_s=None if self.reconverged_at is None or self.healed_at is None
            else round((self.reconverged_at - self.healed_at) / self.network.time_scale, 3),
            cut_at=None if self.cut_at is None else round(self.cut_at, 3),
            series={"distinct_tips": self.series},
        )


BLOCK_MEAN_S = 120.0
"""Mean simulated seconds between blocks of the double-spend race (Monero's target)."""


class DoubleSpendDriver:
    """``double_spend`` trials on real daemons, all blocks mined with ``generateblocks``.

    The attacker's node is ``node`` when it is a node of the scenario, else the
    node of the first wallet not on the merchant's node; its first wallet pays.
    At ``pay_at`` it is isolated, one output is spent to the merchant (sent to
    the merchant's node) and back to itself (kept on the isolated node); with
    ``premine`` the attacker's first private block (holding its spend) comes
    first (Rosenfeld's model). Then each block goes to the attacker with
    probability q, else to the merchant's node (holding the payment), at
    exponential intervals of simulated time. Once the payment has ``z``
    confirmations and the private chain is longer, the attacker rejoins; it
    gives up when the public chain leads by ``give_up_deficit`` (and rejoins,
    adopting the public chain). ``settle_s`` later the next trial pays with
    another output, until ``trials`` (default: as many as the duration allows;
    only finished trials are judged, from the final chain).
    """

    name = DoubleSpend.name

    def __init__(self, params: DoubleSpendParams, scenario: Scenario, network: LoopbackNetwork,
                 actions: NetworkActions) -> None:
        self.p = params
        self.attack = DoubleSpend(params)
        self.network = network
        self.actions = actions
        nodes = actions.nodes()
        placements = [(w, h) for w, h, _ in scenario.wallet_placements()]
        self.merchant = params.merchant or default_merchant(scenario)
        if params.node in nodes:
            self.attacker = params.node
        else:
            hosts = [h for _, h in placements if h in nodes and h != self.merchant]
            if not hosts:
                raise BackendUnavailable(
                    "double_spend on monerod: the attacker needs a node of the scenario with a "
                    f"funded wallet (node={params.node!r} is not a node, and no wallet sits on a "
                    "node other than the merchant's)")
            self.attacker = hosts[0]
        if self.merchant not in nodes or self.merchant == self.attacker:
            raise BackendUnavailable(f"double_spend on monerod: merchant {self.merchant!r} must be "
                                     f"a node other than the attacker's ({self.attacker!r})")
        mine = [w for w, h in placements if h == self.attacker]
        if not mine:
            raise BackendUnavailable(f"double_spend on monerod: {self.attacker!r} has no wallet")
        self.wallet = mine[0]
        shop = [w for w, h in placements if h == self.merchant]
        self.merchant_wallet = params.merchant_wallet or (shop[0] if shop else None)
        self.deficit = params.give_up_deficit or auto_deficit(params.q)
        self.rng = random.Random(scenario.general.seed)
        self.trials: list[_Trial] = []
        self.current: _Trial | None = None
        self.next_pay: float | None = None
        self.next_block: float | None = None

    def events(self) -> list[tuple[float, Callable[[], None]]]:
        return [(self.p.pay_at, self._pay)]

    def _address(self, wallet: str | None) -> str:
        if wallet is None or wallet not in self.network.wallets:
            return BURN_ADDRESS
        return self.network.wallets[wallet].rpc.get_address()

    def _isolate(self) -> None:
        self.actions.isolate(self.attacker)
        rpc = self.actions.daemon(self.attacker).rpc
        self.actions._wait(lambda: not rpc.get_connections(), 30.0,
                           f"{self.attacker} to drop its connections")

    def _pay(self) -> None:
        self.next_pay = None
        if self.p.trials is not None and len(self.trials) >= self.p.trials:
            return
        trial = _Trial(started=self.network.now())
        self.trials.append(trial)
        self.current = trial
        self.actions.wait_converged()
        # a daemon that is not "synchronized" answers the wallet's get_outs with BUSY, and
        # monero-wallet-rpc then retries forever: after a rejoin, wait for the flag first
        self.actions.daemon(self.attacker).wait_synchronized(timeout=60.0)
        self._isolate()
        to_merchant, to_self = self._address(self.merchant_wallet), self._address(self.wallet)
        try:
            trial.spends = self.actions.conflicting_transfers(
                self.wallet, [(self.merchant, to_merchant), (self.attacker, to_self)],
                key_image=self._fresh_output())
        except MonerodBackendError as exc:  # e.g. no unlocked output left: no more trials
            trial.error = str(exc).splitlines()[0]
        self._isolate()  # submitting restores out_peers: cut the attacker off again
        if trial.error is None and trial.spends is not None and not all(
                s["accepted"] for s in trial.spends.spends):
            trial.error = f"a spend was refused: {trial.spends.spends}"
        if trial.error is not None:
            self._end(trial, next_trial=False)
            return
        if self.p.premine:
            self.actions.mine(self.attacker, 1)
            trial.private = 1
        self.next_block = self.network.now() + self.rng.expovariate(1.0 / BLOCK_MEAN_S)

    def _fresh_output(self) -> str | None:
        """An unlocked output no earlier trial's transactions made (their change may be
        reorganised away); None: let the wallet's first unlocked one do (first trial)."""
        earlier = {t for trial in self.trials if trial.spends is not None
                   for t in trial.spends.txids()}
        if not earlier:
            return None
        rpc = self.network.wallets[self.wallet].rpc
        rpc.refresh()
        for out in rpc.incoming_transfers("available"):
            if out.get("unlocked", True) and str(out.get("tx_hash")) not in earlier:
                return str(out["key_image"])
        raise MonerodBackendError(f"wallet {self.wallet!r} has no unlocked output left that no "
                                  "earlier trial touched")

    def poll(self, now: float) -> None:
        if self.current is None and self.next_pay is not None and now >= self.next_pay:
            self._pay()
        trial = self.current
        while trial is not None and self.next_block is not None and now >= self.next_block:
            if self.rng.random() < self.p.q:
                self.actions.mine(self.attacker, 1)
                trial.private += 1
            else:
                self.actions.mine(self.merchant, 1)
                trial.honest += 1
            self.next_block += self.rng.expovariate(1.0 / BLOCK_MEAN_S)
            if trial.honest >= self.p.z and trial.private > trial.honest:
                self._release(trial)
            elif trial.honest >= self.p.z and trial.honest - trial.private >= self.deficit:
                trial.gave_up = True
                self._end(trial)

    def _release(self, trial: _Trial) -> None:
        assert trial.spends is not None
        trial.released_at = self.network.now()
        self._end(trial)
        pay, conflict = trial.spends.txids()
        rpc = self.actions.daemon(self.merchant).rpc
        found = {str(t["tx_hash"]): t for t in rpc.get_transactions([pay, conflict]).get("txs", [])}
        on_chain = {t for t, info in found.items() if not info.get("in_pool")}
        trial.live_success = conflict in on_chain and pay not in on_chain

    def _end(self, trial: _Trial, *, next_trial: bool = True) -> None:
        """The trial is over: the attacker rejoins (and adopts the heavier chain)."""
        self.next_block = None
        self.current = None
        trial.ended_at = self.network.now()
        self.actions.rejoin(self.attacker)
        self.actions.wait_converged(timeout=60.0)
        more = self.p.trials is None or len(self.trials) < self.p.trials
        if next_trial and more:
            self.next_pay = self.network.now() + self.p.settle_s

    def finish(self, result: Result) -> None:
        p = self.p
        main_txs = {t for b in result.chain(result.reference_tip()) for t in b.tx_ids}
        judged = [t for t in self.trials if t.ended_at is not None and t.error is None]
        outcomes: list[bool] = []
        for trial in judged:
            assert trial.spends is not None
            paid, spent_twice = trial.spends.txids()
            outcomes.append(bool(trial.released_at is not None and spent_twice in main_txs
                                 and paid not in main_txs))
        releases = [t.released_at for t in judged if t.released_at is not None]
        after = [r for r in result.reorgs if releases and r.node != self.attacker
                 and any(r.time >= t - 1e-6 for t in releases)]
        one = judged[0] if len(judged) == 1 else None
        pay: str | None = None
        conflict: str | None = None
        if one is not None and one.spends is not None:
            pay, conflict = one.spends.txids()
        errors = [t.error for t in self.trials if t.error is not None]
        self.attack.report(
            result,
            # one trial: as before (booleans); several: counts and the success rate, as the simulator
            success=outcomes[0] if one is not None else (
                sum(outcomes) / len(outcomes) if outcomes else None),
            trials=len(judged),
            successes=sum(outcomes),
            released=(one.released_at is not None) if one is not None else len(releases),
            gave_up=one.gave_up if one is not None else sum(1 for t in judged if t.gave_up),
            max_reorg_depth=max((r.depth for r in after), default=0),
            theory_exact=double_spend_exact(p.q, p.z),
            attacker=self.attacker,
            merchant=self.merchant,
            honest_blocks=sum(t.honest for t in judged),
            private_blocks=sum(t.private for t in judged),
            payment_tx=pay,
            conflict_tx=conflict,
            live_success=one.live_success if one is not None else None,
            released_at=None if one is None or one.released_at is None else round(one.released_at, 3),
            error=errors[0] if errors and not judged else None,
            errors=errors,
            series={"outcomes": [[round(t.started, 3), int(o)] for t, o in zip(judged, outcomes,
                                                                             strict=True)]},
        )


@dataclass
class _Trial:
    """One payment and the race after it."""

    started: float
    spends: Spends | None = None
    honest: int = 0
    private: int = 0
    released_at: float | None = None
    ended_at: float | None = None
    gave_up: bool = False
    live_success: bool | None = None
    error: str | None = None


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


def _sybil(*args: Any) -> AttackDriver:
    from .sybil import SybilDriver  # the Levin peer (pytest_monerosim.p2p) only when asked for

    return SybilDriver(*args)


def _eclipse(*args: Any) -> AttackDriver:
    from .eclipse import EclipseDriver  # needs the namespaced network: see its module

    return EclipseDriver(*args)


DRIVERS: dict[str, Callable[..., AttackDriver]] = {
    "partition": PartitionDriver,
    "double_spend": DoubleSpendDriver,
    "sybil": _sybil,
    "eclipse": _eclipse,
}
"""Attack name → driver factory ``(params, scenario, network, actions)``."""


def _sybil_precheck(scenario: Scenario) -> None:
    from .sybil import precheck

    precheck(scenario)


def _eclipse_precheck(scenario: Scenario) -> None:
    from .eclipse import NEEDS_NAMESPACES, precheck
    from .netns import netns_support

    precheck(scenario)
    ok, why = netns_support()
    if not ok:
        raise BackendUnavailable(f"{NEEDS_NAMESPACES} ({why})")


PRECHECKS: dict[str, Callable[[Scenario], None]] = {"sybil": _sybil_precheck, "eclipse": _eclipse_precheck}
"""Attack name → a check that raises ``BackendUnavailable`` before any process starts."""


def _selfish_precheck(scenario: Scenario) -> None:
    from .netns import netns_support

    ok, why = netns_support()
    if not ok:
        raise BackendUnavailable(f"selfish_mining on monerod publishes from an address of the run's "
                                 f"bridge, which needs namespaces ({why})")
    if len(scenario.attacks) > 1:
        raise BackendUnavailable("selfish_mining on monerod drives the whole run (it draws every "
                                 "block); it does not combine with other attacks")


PRECHECKS["selfish_mining"] = _selfish_precheck
WHOLE_RUN = ("selfish_mining",)
"""Attacks that drive the whole run themselves (:mod:`.selfish`), not through a driver."""


def supported() -> list[str]:
    return sorted([*DRIVERS, *WHOLE_RUN])


def require_supported(scenario: Scenario) -> None:
    """``BackendUnavailable`` naming the attacks this backend runs, for any other."""
    missing = [a.name for a in scenario.attacks if a.name not in DRIVERS and a.name not in WHOLE_RUN]
    if missing:
        raise BackendUnavailable(
            f"the monerod backend does not run the attack plugin(s) {', '.join(missing)}; it "
            f"runs {', '.join(supported())} (drive other attacks on real nodes with "
            "pytest_monerosim.backends.monerod.actions)")
    for ref in scenario.attacks:
        if ref.name in PRECHECKS:
            PRECHECKS[ref.name](scenario)


def run_with_attacks(network: LoopbackNetwork, scenario: Scenario, registry: Registry) -> Result:
    """Run the started network with the scenario's attacks; collect and add their metrics."""
    require_supported(scenario)
    if any(a.name in WHOLE_RUN for a in scenario.attacks):
        from .selfish import run_selfish_mining

        return run_selfish_mining(network, scenario, registry)
    actions = NetworkActions(network)
    drivers: list[AttackDriver] = []
    try:
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
        for driver in drivers:  # drivers holding resources (the sybil driver's peers) let go
            close = getattr(driver, "close", None)
            if close is not None:
                close()
        actions.close()


__all__ = ["DRIVERS", "AttackDriver", "DoubleSpendDriver", "PartitionDriver", "require_supported",
           "run_with_attacks", "supported"]
