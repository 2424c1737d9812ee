"""Double spend against a merchant who waits ``z`` confirmations (the race of Nakamoto §11).

The attack adds one miner with a share ``q`` of the network's hashrate and
runs *trials*, one after another in the same run:

1. **Pay.** The attacker first mines privately on the public tip a block
   holding a *conflicting* transaction: a spend of the output it is about to
   pay with (the same key image) back to itself. If an honest block comes
   first it simply starts again on the new tip (mining is memoryless, this
   costs nothing). The moment it has that block it pays the merchant; the
   honest network includes the payment in its next block, on the same parent.
   This one pre-mined block is the model of Rosenfeld (2014), whose success
   probability is the exact value below; with ``premine: false`` the attacker
   pays at once and starts the private branch at the same moment (Nakamoto's
   description), which needs one more block of luck (:func:`success_with_cutoff`).
2. **Wait.** The merchant's node accepts the payment when the payment's block
   has ``z`` confirmations on its main chain (the block itself counts).
3. **Release.** From then on, as soon as the private branch is heavier
   (cumulative difficulty) than the public chain the attacker sees, it
   publishes the branch; every node reorganises to it, the payment leaves
   the main chain and the conflicting spend replaces it.
4. **Give up.** After the merchant accepted, the attacker abandons the trial
   when the public chain leads its branch by ``give_up_deficit`` blocks (D).

``success`` = the merchant's node has the conflicting spend, and not the
payment, on its main chain ``settle_s`` after the release. Theory: while the
honest network finds the merchant's z blocks the attacker finds m more
(negative binomial, C(m+z−1, m) p^z q^m); with its pre-mined block it is
then ``d = z − m − 1`` behind and gets one block ahead with probability
``(q/p)^(d+1)`` (gambler's ruin). Summed, that is Rosenfeld's (2014) exact
probability, which Grunspan & Pérez-Marco (2017) wrote ``I_{4pq}(z, 1/2)``
(:func:`~pytest_monerosim.analysis.theory.double_spend_exact`). The cut-off
turns the gambler's ruin into one with an absorbing barrier at D
(:func:`success_with_cutoff`); it lowers the probability by less than
``(q/p)^(D+1)``, and the default D is the smallest with
``(q/p)^(D+1) <= 1e-4`` (100 when q >= 1/2), invisible at any sample size a
test can afford, while a losing trial ends after about ``D / (p − q)`` blocks
instead of running on for ever.

**Independence of the trials.** A trial starts with no private block, on the
current public tip (its pre-mining restarts on every honest block); mining
is a Poisson process, so who finds each following block is a fresh
Bernoulli(q) draw whatever happened before, and the trial's outcome is a
function of those draws only. Difficulty carries over, but the
race is decided by block *counts*: both branches start from the same block
and Monero's retarget ignores the newest 15 blocks (lag), so the attacker and
the honest miners face the same difficulty during a race. Consecutive
trials are separated by ``settle_s`` so a release has reached every node.

**Transactions.** The payment and the conflicting spend are real entries in
the blocks' ``tx_ids`` and are found there on the merchant's chain. The
transaction layer (outputs, key images, pools that refuse double spends)
plugs in through :class:`TxModel`; :class:`ChainLevelTxs` is the chain-level
model used until then: every honest miner includes the payment in its next
block unless the payment or its conflict is already on the chain it mines
on (what a pool that refuses double spends does), and only the attacker's
private branch carries the conflict.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import Field

from ..agents.api import InsufficientFunds
from ..analysis.theory import double_spend_exact
from ..config.model import Seconds
from ..registry import PluginSpec
from ..sim.chain import Block, TipChange
from ..sim.mining import EMPTY_SELECTION, MiningStrategy, TxSelection
from ._mining import LinkEveryone, add_attacker, check_attacker, check_share
from .base import Attack, AttackParams
from .double_spend_txs import ChainLevelTxs, LedgerTxs, TxModel, on_chain

if TYPE_CHECKING:
    from pydantic import BaseModel

    from ..config.model import Scenario
    from ..result.model import Result
    from ..sim.network import World
    from ..sim.node import Node

CUTOFF_BIAS = 1e-4
"""Default give-up deficit: the smallest D whose bias bound (q/p)^(D+1) is below this."""
MAX_AUTO_DEFICIT = 100
FUNDS_RETRY_S = 120.0
"""With real transactions: how long the attacker waits before looking for an unlocked output again."""


class DoubleSpendParams(AttackParams):
    q: float = 0.3
    """The attacker's share of the network's hashrate, in (0, 1)."""
    z: int = 2
    """Confirmations the merchant waits for (the payment's block counts), >= 1."""
    merchant: str | None = None
    """The merchant's node (default: the first honest non-miner of the scenario, else its
    first node)."""
    merchant_wallet: str | None = None
    """With wallets in the scenario (the tx layer runs): the wallet the payment goes to
    (default: the first wallet on the merchant's node)."""
    node: str = "ds-attacker"
    """Name of the attacker's node (added to the network by the attack)."""
    pay_at: Seconds = 600.0
    """When the first trial's payment is made."""
    trials: int | None = Field(default=None, ge=1)
    """Run this many trials and then END THE RUN (the scenario's duration is only an upper
    bound); default: as many trials as the duration allows, judged ones only."""
    give_up_deficit: int | None = None
    """D: after the merchant accepted, give up when the public chain leads by D blocks
    (default: smallest D with (q/p)^(D+1) <= 1e-4; 100 when q >= 1/2)."""
    premine: bool = True
    """Pay only once the first private block (with the conflicting spend) is found
    (Rosenfeld's model); false: pay at once and start the branch then."""
    settle_s: Seconds = 60.0
    """Time from a release to judging the trial (and from a trial's end to the next payment)."""
    payment_bytes: int = Field(default=1_500, gt=0)
    """Size of each of the two transactions in a block (chain-level model)."""


def auto_deficit(q: float, bias: float = CUTOFF_BIAS) -> int:
    """Smallest D >= 1 with (q/p)^(D+1) <= ``bias``; ``MAX_AUTO_DEFICIT`` when q >= 1/2."""
    p = 1.0 - q
    if q >= p:
        return MAX_AUTO_DEFICIT
    d = math.ceil(math.log(bias) / math.log(q / p)) - 1
    return max(1, min(MAX_AUTO_DEFICIT, d))


def catch_up_with_cutoff(q: float, deficit: int, cutoff: int) -> float:
    """P(the attacker gets 1 block ahead before falling ``cutoff`` behind), from ``deficit`` behind.

    Gambler's ruin: the attacker's lead moves +1 with probability q and −1
    with p per block; absorbing at +1 (win) and at −cutoff (give up). Without
    the cut-off this is (q/p)^(deficit+1).
    """
    if deficit < 0:
        return 1.0
    if deficit >= cutoff:
        return 0.0
    p = 1.0 - q
    if q == p:
        return (cutoff - deficit) / (cutoff + 1)
    if q < p:
        r = q / p
        top = r ** (cutoff + 1)
        return (r ** (deficit + 1) - top) / (1.0 - top)
    rho = p / q
    return (1.0 - rho ** (cutoff - deficit)) / (1.0 - rho ** (cutoff + 1))


def success_with_cutoff(q: float, z: int, cutoff: int, premined: int = 1) -> float:
    """Success probability of this attack (Rosenfeld's race with a give-up deficit).

    The attacker finds m blocks while the honest network finds the merchant's
    z (negative binomial: C(m+z−1, m) p^z q^m); with ``premined`` blocks of
    its own before the payment it is then ``z − m − premined`` behind and must
    get one block ahead (:func:`catch_up_with_cutoff`). With one pre-mined
    block this tends to :func:`~pytest_monerosim.analysis.theory.double_spend_exact`
    as ``cutoff`` grows.
    """
    if not 0.0 < q < 1.0 or z < 1 or cutoff < 1 or premined < 0:
        raise ValueError(f"need 0 < q < 1, z >= 1, cutoff >= 1, premined >= 0; got q={q}, z={z}, "
                         f"cutoff={cutoff}, premined={premined}")
    p = 1.0 - q
    total = 0.0
    below = 0.0
    for m in range(z + 1):
        nb = math.exp(math.lgamma(m + z) - math.lgamma(m + 1) - math.lgamma(z)
                      + z * math.log(p) + m * math.log(q))
        below += nb
        total += nb * catch_up_with_cutoff(q, z - m - premined, cutoff)
    return min(1.0, total + max(0.0, 1.0 - below))  # m > z: ahead at acceptance


def _check_params(p: DoubleSpendParams) -> None:
    check_share("q", p.q)
    if p.z < 1:
        raise ValueError(f"z={p.z!r}: the merchant must wait for at least 1 confirmation (the "
                         "payment's own block); accepted: an integer >= 1")
    if p.give_up_deficit is not None and p.give_up_deficit < 1:
        raise ValueError(f"give_up_deficit={p.give_up_deficit!r}: accepted: an integer >= 1 "
                         "(or leave it unset for the automatic choice)")


def merchant_wallet(params: DoubleSpendParams, scenario: Scenario, merchant: str | None = None) -> str:
    """The wallet the payment goes to (tx layer); ``ValueError`` if there is none."""
    placements = scenario.wallet_placements()
    names = [w for w, _, _ in placements]
    if params.merchant_wallet is not None:
        if params.merchant_wallet not in names:
            raise ValueError(f"merchant_wallet={params.merchant_wallet!r} is not a wallet of the "
                             f"scenario; wallets are {names[:8]}")
        return params.merchant_wallet
    node = merchant or params.merchant or default_merchant(scenario)
    for wallet, host, _ in placements:
        if host == node:
            return wallet
    raise ValueError(f"merchant={node!r} has no wallet, and with wallets in the scenario the "
                     f"attacker pays a real transaction to one: place a wallet on {node!r} "
                     f"(wallets: [{{name: shop, nodes: [{node}]}}]) or set merchant_wallet")


def default_merchant(scenario: Scenario) -> str:
    for g in scenario.nodes:
        if g.honest and g.role != "miner":
            return g.node_names()[0]
    return scenario.node_names()[0]


# -- trials and the strategy -----------------------------------------------------------------


@dataclass
class Trial:
    index: int
    started: float
    payment_id: str = ""
    conflict_id: str = ""
    phase: str = "premining"
    """premining → waiting (for the merchant) → accepted → released | gave_up → done."""
    paid_at: float | None = None
    payment_blocks: list[Block] = field(default_factory=list)
    conflict_blocks: list[Block] = field(default_factory=list)
    fork: Block | None = None
    """The attacker's fork point when it paid."""
    payment_delayed: bool = False
    """An honest block without the payment came first (the merchant's z blocks start later)."""
    accepted_at: float | None = None
    deficit_at_accept: int | None = None
    released_at: float | None = None
    reorg_depth: int = 0
    success: bool | None = None


class DoubleSpendStrategy(MiningStrategy):
    """Honest mining between trials; during one, a private branch on ``base``."""

    name = "double_spend"

    def __init__(self, attack: DoubleSpend) -> None:
        self.attack = attack
        self.base: Block | None = None
        """Fork point of the private branch (None: mining honestly)."""
        self.private: list[Block] = []

    def mining_parent(self, node: Node) -> Block:
        if self.base is None:
            return node.chain.tip
        return self.private[-1] if self.private else self.base

    def select_txs(self, node: Node, parent: Block) -> TxSelection:
        trial = self.attack.trial
        if self.base is None or trial is None:
            return node.world.select_txs(node, parent)
        if parent is self.base:
            return self.attack.txs.conflict_selection(trial)
        return EMPTY_SELECTION

    def on_block_found(self, node: Node, block: Block) -> None:
        if self.base is None:
            node.publish(block)
            return
        self.private.append(block)
        node.mining_changed()
        self.attack.private_block(node)

    def on_block_accepted(self, node: Node, block: Block, change: TipChange | None) -> None:
        if change is not None and self.base is not None:
            self.attack.public_moved(node)

    def deficit(self, node: Node) -> int:
        """Public blocks above the fork point minus private ones."""
        assert self.base is not None
        return node.chain.tip.height - self.base.height - len(self.private)


class DoubleSpend(Attack):
    name = "double_spend"
    Params = DoubleSpendParams

    def __init__(self, params: BaseModel, txs: TxModel | None = None) -> None:
        assert isinstance(params, DoubleSpendParams)
        _check_params(params)
        super().__init__(params)
        self.p: DoubleSpendParams = params
        self.cutoff = params.give_up_deficit or auto_deficit(params.q)
        self._given_txs = txs
        self.txs: TxModel = ChainLevelTxs(params.payment_bytes)
        self.strategy = DoubleSpendStrategy(self)
        self.node: Node | None = None
        self.merchant: Node | None = None
        self.world: World | None = None
        self.trial: Trial | None = None
        self.done: list[Trial] = []
        self.started = 0
        self.funds_waits = 0
        self.payments_refused = 0

    @classmethod
    def check(cls, params: BaseModel, scenario: Scenario) -> None:
        assert isinstance(params, DoubleSpendParams)
        _check_params(params)
        check_attacker(scenario, "node", params.node)
        if params.merchant is not None and params.merchant not in set(scenario.node_names()):
            names = scenario.node_names()
            raise ValueError(f"merchant={params.merchant!r} is not a node of the scenario; nodes "
                             f"include {names[:8]}")
        if params.merchant == params.node:
            raise ValueError(f"merchant={params.merchant!r} is the attacker's own node")
        if scenario.wallets:
            merchant_wallet(params, scenario)

    # -- component hooks -----------------------------------------------------------------------
    def setup(self, world: World) -> None:
        p = self.p
        self.world = world
        merchant = p.merchant or default_merchant(world.scenario)
        if merchant not in world.nodes:
            raise ValueError(f"merchant={merchant!r} is not a node of this network")
        self.merchant = world.nodes[merchant]
        node = add_attacker(world, p.node, p.q)
        node.set_strategy(self.strategy)
        self.node = node
        world.add_component(LinkEveryone(node))
        if self._given_txs is not None:
            self.txs = self._given_txs
        elif getattr(world, "tx", None) is not None:
            self.txs = LedgerTxs(merchant_wallet(p, world.scenario, merchant))
        self.txs.setup(self, world)
        world.add_component(self.txs)
        world.engine.at(max(p.pay_at, world.engine.now), self.start_trial)

    def on_block_found(self, node: Node, block: Block) -> None:
        trial = self.trial
        if trial is None or not block.tx_ids:
            return
        if trial.payment_id in block.tx_ids:
            trial.payment_blocks.append(block)
        if trial.conflict_id in block.tx_ids:
            trial.conflict_blocks.append(block)

    def on_tip_changed(self, node: Node, change: TipChange) -> None:
        trial = self.trial
        if trial is None or node is not self.merchant:
            return
        if change.reorg is not None and on_chain(change.new, trial.conflict_blocks):
            trial.reorg_depth = max(trial.reorg_depth, change.reorg.depth)
        if trial.phase != "waiting":
            return
        paid = on_chain(change.new, trial.payment_blocks)
        if paid is not None and change.new.height - paid.height + 1 >= self.p.z:
            assert self.node is not None
            trial.phase = "accepted"
            trial.accepted_at = self.now()
            trial.payment_delayed = paid.parent is not trial.fork
            trial.deficit_at_accept = self.strategy.deficit(self.node)
            self.decide()

    # -- trials --------------------------------------------------------------------------------
    def now(self) -> float:
        assert self.world is not None
        return self.world.engine.now

    def start_trial(self) -> None:
        node = self.node
        assert node is not None
        if self.p.trials is not None and self.started >= self.p.trials:
            return
        trial = Trial(self.started, self.now())
        if not self.txs.prepare(trial):
            self.funds_waits += 1  # nothing to pay with yet: look again in a while
            self.schedule(FUNDS_RETRY_S, self.start_trial)
            return
        self.started += 1
        self.trial = trial
        self.strategy.base = node.chain.tip
        self.strategy.private = []
        if not self.p.premine and not self.pay(trial):
            return
        node.mining_changed()

    def pay(self, trial: Trial) -> bool:
        """Send the payment; if the attacker's node refuses it, drop the trial and retry later."""
        try:
            self.txs.broadcast(trial)
        except InsufficientFunds as exc:  # includes the tx layer's TransferRejected
            assert self.world is not None and self.node is not None
            self.world.log(self.node.name, "double_spend_payment_refused", reason=str(exc))
            self.payments_refused += 1
            self.txs.done(trial)
            self.trial = None
            self.started -= 1
            self.strategy.base, self.strategy.private = None, []
            self.node.mining_changed()
            self.schedule(FUNDS_RETRY_S, self.start_trial)
            return False
        trial.phase = "waiting"
        trial.paid_at = self.now()
        trial.fork = self.strategy.base
        return True

    def public_moved(self, node: Node) -> None:
        """The public chain the attacker sees moved (an honest block)."""
        trial = self.trial
        strategy = self.strategy
        if trial is None or trial.phase not in ("premining", "waiting", "accepted"):
            return
        if not strategy.private:
            # No private block yet: fork at the payment's parent (or the tip if unpaid).
            # While pre-mining this restarts on every honest block.
            tip = node.chain.tip
            paid = on_chain(tip, trial.payment_blocks)
            base = paid.parent if paid is not None else tip
            if base is not strategy.base and base is not None:
                strategy.base = base
                node.mining_changed()
        self.decide()

    def private_block(self, node: Node) -> None:
        trial = self.trial
        if trial is not None and trial.phase == "premining" and not self.pay(trial):
            return  # the conflicting spend is mined: now pay the merchant (refused: retry later)
        self.decide()

    def decide(self) -> None:
        """Release when heavier after the merchant accepted; give up past the cut-off."""
        trial = self.trial
        node = self.node
        strategy = self.strategy
        if trial is None or node is None or trial.phase != "accepted":
            return
        private = strategy.private
        if private and private[-1].cum > node.chain.tip.cum:
            trial.phase = "released"
            trial.released_at = self.now()
            blocks = list(private)
            strategy.base, strategy.private = None, []
            for b in blocks:
                node.publish(b)
            node.mining_changed()
            self.schedule(self.p.settle_s, self.conclude, trial)
        elif strategy.deficit(node) >= self.cutoff:
            trial.phase = "gave_up"
            strategy.base, strategy.private = None, []
            node.mining_changed()
            self.conclude(trial)

    def conclude(self, trial: Trial) -> None:
        merchant = self.merchant
        assert merchant is not None
        tip = merchant.chain.tip
        trial.success = (trial.phase == "released" and on_chain(tip, trial.conflict_blocks) is not None
                         and on_chain(tip, trial.payment_blocks) is None)
        trial.phase = "done"
        self.txs.done(trial)
        self.done.append(trial)
        self.trial = None
        if self.p.trials is not None and len(self.done) >= self.p.trials:
            assert self.world is not None
            self.world.engine.stop()  # the requested sample is complete
            return
        delay = 0.0 if trial.released_at is not None else self.p.settle_s
        self.schedule(delay, self.start_trial)

    def schedule(self, delay: float, fn: Any, *args: Any) -> None:
        assert self.world is not None
        self.world.engine.schedule(delay, fn, *args)

    # -- results ---------------------------------------------------------------------------------
    def finish(self, world: World, result: Result) -> None:
        p = self.p
        node, merchant = self.node, self.merchant
        assert node is not None and merchant is not None
        trials = self.done
        wins = sum(1 for t in trials if t.success)
        success: bool | float | None
        if len(trials) == 1:
            success = bool(trials[0].success)
        else:
            success = wins / len(trials) if trials else None
        deficits = [t.deficit_at_accept for t in trials if t.deficit_at_accept is not None]
        self.report(
            result,
            attackers=[node.name],
            merchant=merchant.name,
            tx_model="ledger" if isinstance(self.txs, LedgerTxs) else "chain",
            success=success,
            successes=wins,
            trials=len(trials),
            gave_up=sum(1 for t in trials if t.released_at is None),
            released=sum(1 for t in trials if t.released_at is not None),
            give_up_deficit=self.cutoff,
            payment_delayed=sum(1 for t in trials if t.payment_delayed),
            payments_refused=self.payments_refused,
            mean_deficit_at_accept=sum(deficits) / len(deficits) if deficits else None,
            max_reorg_depth=max((t.reorg_depth for t in trials), default=0),
            theory_exact=double_spend_exact(p.q, p.z),
            theory_with_cutoff=success_with_cutoff(p.q, p.z, self.cutoff, int(p.premine)),
            series={"outcomes": [[t.started, int(bool(t.success))] for t in trials]},
        )


SPEC: PluginSpec[DoubleSpendParams] = PluginSpec(
    "attack", "double_spend", DoubleSpendParams, DoubleSpend,
    "Double spend by an added miner with hash share q against a merchant waiting z "
    "confirmations; repeated trials; reports success (rate), trials, gave_up",
    default_sweep=({"q": 0.1, "z": 2}, {"q": 0.3, "z": 2}),
)

PLUGINS = [SPEC]
