"""Built-in wallet strategies (registry kind ``wallet_strategy``).

Each factory takes its validated params and returns an object with
``start(wallet)``, written against :class:`~pytest_monerosim.agents.api.WalletAPI`
(plus the optional :class:`RosterWalletAPI` extras), so the same strategy runs
in the simulator and against real ``monero-wallet-rpc``.

* ``mining_wallet`` — receives its node's coinbase rewards (the miner pays the
  wallet placed on it); never spends.
* ``hodler`` — receives, never spends.
* ``transaction_bot`` — sends transfers at a fixed interval or as a Poisson
  process, amounts from a distribution, to recipients chosen by rule, only
  when it has the unlocked funds.
* ``distributor`` — upstream Monerosim's "miner distributor": waits for the
  miners' coinbase to unlock, funds a set of wallets in batches, then keeps
  topping them up.

Amounts are atomic units (1 XMR = 10**12) unless written with a unit:
``"0.5 XMR"``, ``"2 xmr"``, ``"1500000 atomic"``; a bare number is read in
the distribution's ``unit`` (``atomic`` by default).

:func:`~pytest_monerosim.config.wallets.validate_wallets` checks a
scenario's wallet section against its nodes and wallets before a run, calling
each strategy's ``check`` and ``funding`` hooks defined here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from pydantic import ConfigDict, Field, field_validator, model_validator

from ..config.model import ATOMIC_PER_XMR, Seconds
from ..config.wallets import WalletInfo, check_selector, placed_wallets, resolve_names, wallet_roster
from ..registry import NoParams, PluginSpec
from ..strict import StrictModel
from .api import InsufficientFunds, WalletAPI

if TYPE_CHECKING:
    from ..config.model import Scenario

MAX_DESTINATIONS = 15
"""A tx has at most 16 outputs (Bulletproofs+), one of them the change."""
BALANCE_POLL_S = 30.0
"""How often a waiting distributor looks at its sources' balances (upstream's 30 s)."""

# ----------------------------------------------------------------------------- amounts

_AMOUNT = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(xmr|atomic|piconero)?\s*$", re.IGNORECASE)
AMOUNT_ACCEPTED = ('an amount: a whole number of atomic units, or a string like "0.5 XMR" or '
                   '"1500000 atomic"')


def parse_amount(value: object, unit: str = "atomic") -> int:
    """Atomic units from ``value`` (see the module docs); ``ValueError`` naming what is wrong."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not an amount; expected {AMOUNT_ACCEPTED}")
    if isinstance(value, (int, float)):
        text, given = repr(value), None
    elif isinstance(value, str):
        m = _AMOUNT.match(value)
        if m is None:
            if value.strip().startswith("-"):
                raise ValueError(f"amount {value!r} is negative; amounts are >= 0")
            raise ValueError(f"{value!r} is not an amount; expected {AMOUNT_ACCEPTED}")
        text, given = m.group(1), (m.group(2) or None)
    else:
        raise ValueError(f"{value!r} is not an amount; expected {AMOUNT_ACCEPTED}")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{value!r} is not an amount; expected {AMOUNT_ACCEPTED}") from None
    if number < 0:
        raise ValueError(f"amount {value!r} is negative; amounts are >= 0")
    which = (given or unit).lower()
    atomic = number * ATOMIC_PER_XMR if which == "xmr" else number
    if atomic != atomic.to_integral_value():
        raise ValueError(f"amount {value!r} is not a whole number of atomic units; write it in XMR "
                         f"(\"{value} XMR\") or set unit: xmr")
    return int(atomic)


def format_xmr(atomic: int) -> str:
    return f"{Decimal(atomic) / ATOMIC_PER_XMR:f} XMR"


class _Params(StrictModel):
    model_config = ConfigDict(allow_inf_nan=False)


class AmountDist(_Params):
    """An amount distribution: ``fixed`` (``value``), ``uniform`` (``min``..``max``) or
    ``lognormal`` (``median``, ``sigma``). A bare amount is shorthand for ``fixed``."""

    dist: Literal["fixed", "uniform", "lognormal"] = "fixed"
    unit: Literal["atomic", "xmr"] = "atomic"
    value: int | float | str | None = None
    min: int | float | str | None = None
    max: int | float | str | None = None
    median: int | float | str | None = None
    sigma: float = Field(default=1.0, gt=0)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, (int, float, str)) and not isinstance(data, bool):
            return {"dist": "fixed", "value": data}
        return data

    @model_validator(mode="after")
    def _complete(self) -> AmountDist:
        need = {"fixed": ("value",), "uniform": ("min", "max"), "lognormal": ("median",)}[self.dist]
        for key in need:
            if getattr(self, key) is None:
                raise ValueError(f"dist {self.dist} needs {' and '.join(need)}; {key} is missing")
        for key in ("value", "min", "max", "median"):
            raw = getattr(self, key)
            if raw is not None:
                try:
                    parse_amount(raw, self.unit)
                except ValueError as exc:
                    raise ValueError(str(exc) if key == "value" else f"{key}: {exc}") from None
        if self.dist == "uniform" and self.atomic("min") > self.atomic("max"):
            raise ValueError(f"min {self.min} is above max {self.max}")
        if self.dist != "uniform" and self.atomic(need[0]) == 0:
            raise ValueError(f"{need[0]} is 0; a transfer needs a positive amount")
        return self

    def atomic(self, key: str) -> int:
        return parse_amount(getattr(self, key), self.unit)

    def sample(self, rng: Any) -> int:
        if self.dist == "fixed":
            return self.atomic("value")
        if self.dist == "uniform":
            return int(rng.randint(self.atomic("min"), self.atomic("max")))
        value = self.atomic("median") * math.exp(self.sigma * rng.gauss(0.0, 1.0))
        return max(1, int(value))

    def mean(self) -> float:
        if self.dist == "fixed":
            return float(self.atomic("value"))
        if self.dist == "uniform":
            return (self.atomic("min") + self.atomic("max")) / 2
        return self.atomic("median") * math.exp(self.sigma**2 / 2)


# ----------------------------------------------------------------------------- roster


@runtime_checkable
class RosterWalletAPI(WalletAPI, Protocol):
    """Extras the simulator's wallets offer (recipient rules by group, funding sources)."""

    def roster(self) -> list[WalletInfo]:
        """Every wallet of the run."""

    def wallet(self, name: str) -> WalletAPI:
        """A handle on another wallet (the distributor pays from the miners' wallets)."""


def roster_of(wallet: WalletAPI) -> list[WalletInfo] | None:
    fn = getattr(wallet, "roster", None)
    return list(fn()) if callable(fn) else None


# ----------------------------------------------------------------------------- strategies


def _after(wallet: WalletAPI, begun: float, interval: float) -> float:
    """The delay that puts the next action ``interval`` after ``begun``, the start of this one.

    On real daemons a transfer's RPCs take wall time, which the time scale multiplies
    (0.5 s at 120x is a simulated minute): counted from the end, a 120 s schedule
    would drift to ~180 s. In the simulator no time passes during an action, so
    the delay is ``interval`` itself, to the bit."""
    spent = wallet.now() - begun
    return interval if spent <= 0 else max(0.0, interval - spent)


class MiningWallet:
    """Receives its node's coinbase rewards; never spends."""

    def __init__(self, params: NoParams) -> None:
        self.params = params

    def start(self, wallet: WalletAPI) -> None:
        wallet.log("wallet_started", strategy="mining_wallet")


class Hodler:
    """Receives, never spends."""

    def __init__(self, params: NoParams) -> None:
        self.params = params

    def start(self, wallet: WalletAPI) -> None:
        wallet.log("wallet_started", strategy="hodler")


class TransactionBotParams(_Params):
    interval_s: Seconds = Field(default=120.0, gt=0)
    """Seconds between transfers (the mean, for ``schedule: poisson``)."""
    schedule: Literal["fixed", "poisson"] = "fixed"
    start_time: Seconds = 0.0
    """Simulated time of the first attempt (at the earliest)."""
    stop_time: Seconds | None = None
    amount: AmountDist = Field(default_factory=lambda: AmountDist(
        dist="uniform", min="0.1 XMR", max="1 XMR"))
    recipients: Literal["random"] | list[str] = "random"
    """``random``: any other wallet; or a list of wallet and wallet-group names."""
    priority: int = Field(default=0, ge=0, le=4)
    """monero-wallet-rpc priority: 0 default (= 1 unimportant), 1..4."""
    max_txs: int | None = Field(default=None, ge=1)

    @field_validator("recipients")
    @classmethod
    def _listed(cls, value: Any) -> Any:
        if isinstance(value, list) and not value:
            raise ValueError("recipients is an empty list; give wallet or group names, or 'random'")
        return value

    @model_validator(mode="after")
    def _window(self) -> TransactionBotParams:
        if self.stop_time is not None and self.stop_time <= self.start_time:
            raise ValueError(f"stop_time {self.stop_time} is not after start_time {self.start_time}")
        return self


class TransactionBot:
    """Sends a transfer every ``interval_s`` (or at Poisson times) when it can pay."""

    def __init__(self, params: TransactionBotParams) -> None:
        self.params = params
        self.sent = 0
        self.skipped = 0

    def start(self, wallet: WalletAPI) -> None:
        delay = max(0.0, self.params.start_time - wallet.now())
        wallet.schedule(delay, lambda: self._tick(wallet))

    def _next_delay(self, wallet: WalletAPI) -> float:
        p = self.params
        if p.schedule == "poisson":
            return wallet.rng.expovariate(1.0 / p.interval_s)
        return p.interval_s

    def recipients(self, wallet: WalletAPI) -> list[str]:
        p = self.params
        roster = roster_of(wallet)
        if p.recipients == "random":
            names = [w.name for w in roster] if roster is not None else sorted(wallet.directory())
        elif roster is not None:
            names = resolve_names(p.recipients, roster)
        else:
            names = list(p.recipients)
        return [n for n in names if n != wallet.name]

    def _tick(self, wallet: WalletAPI) -> None:
        p = self.params
        now = wallet.now()
        if p.stop_time is not None and now >= p.stop_time:
            return
        if p.max_txs is not None and self.sent >= p.max_txs:
            return
        self.try_send(wallet)
        wallet.schedule(_after(wallet, now, self._next_delay(wallet)), lambda: self._tick(wallet))

    def try_send(self, wallet: WalletAPI) -> str | None:
        names = self.recipients(wallet)
        if not names:
            return None
        to = names[wallet.rng.randrange(len(names))]
        amount = self.params.amount.sample(wallet.rng)
        directory = wallet.directory()
        _, unlocked = wallet.balance()
        if unlocked <= amount:
            self.skipped += 1
            wallet.log("tx_skipped", reason="not enough unlocked funds", unlocked=unlocked, amount=amount)
            return None
        try:
            tx = wallet.transfer({directory[to]: amount}, priority=self.params.priority)
        except InsufficientFunds as exc:
            self.skipped += 1
            wallet.log("tx_skipped", reason=str(exc), amount=amount)
            return None
        self.sent += 1
        return tx


class DistributorParams(_Params):
    wait_time: Seconds = 0.0
    """Do nothing before this simulated time."""
    sources: Literal["miners"] | list[str] = "miners"
    """Wallets that pay: ``miners`` (every ``mining_wallet``) or wallet/group names; the
    distributor's own wallet pays too when it holds funds."""
    recipients: Literal["users", "all"] | list[str] = "users"
    """``users``: wallets on user nodes; ``all``: every wallet that is not a source; or
    a list of wallet and wallet-group names."""
    initial_fund_amount: int = Field(default=10 * ATOMIC_PER_XMR, gt=0)
    """What each recipient gets in the first round (atomic units, or "10 XMR")."""
    outputs_per_recipient: int = Field(default=4, ge=1, le=MAX_DESTINATIONS)
    """The first round's amount is split into this many outputs, so a recipient can spend
    again before its change unlocks (upstream's ``md_out_per_tx``)."""
    batch_size: int = Field(default=8, ge=1)
    """Recipients per transaction (fewer if their outputs would pass 15)."""
    interval_s: Seconds | None = 300.0
    """Top-up rounds after the first, every so often (None: fund once); upstream's
    ``md_funding_cycle_interval``."""
    min_transaction_amount: int = Field(default=ATOMIC_PER_XMR // 10, gt=0)
    max_transaction_amount: int = Field(default=ATOMIC_PER_XMR, gt=0)
    """Each top-up is uniform in [min, max]."""
    priority: int = Field(default=0, ge=0, le=4)

    @field_validator("initial_fund_amount", "min_transaction_amount", "max_transaction_amount",
                     mode="before")
    @classmethod
    def _atomic(cls, value: object) -> int:
        return parse_amount(value)

    @field_validator("recipients", "sources")
    @classmethod
    def _listed(cls, value: Any) -> Any:
        if isinstance(value, list) and not value:
            raise ValueError("an empty list; give wallet or wallet-group names")
        return value

    @model_validator(mode="after")
    def _range(self) -> DistributorParams:
        if self.min_transaction_amount > self.max_transaction_amount:
            raise ValueError(f"min_transaction_amount {self.min_transaction_amount} is above "
                             f"max_transaction_amount {self.max_transaction_amount}")
        return self


class Distributor:
    """Funds recipients from the sources' unlocked coinbase, in batched transfers."""

    def __init__(self, params: DistributorParams) -> None:
        self.params = params
        self.funded: list[str] = []
        self.pending: list[str] = []
        self.cursor = 0
        self.txs: list[str] = []

    # who
    def sources(self, wallet: WalletAPI) -> list[WalletAPI]:
        roster = roster_of(wallet)
        get = getattr(wallet, "wallet", None)
        out: list[WalletAPI] = []
        if roster is not None and callable(get):
            p = self.params.sources
            names = ([w.name for w in roster if w.strategy == "mining_wallet"] if p == "miners"
                     else resolve_names(p, roster))
            out = [get(n) for n in names if n != wallet.name]
        return [wallet, *out]

    def recipients(self, wallet: WalletAPI) -> list[str]:
        roster = roster_of(wallet)
        p = self.params.recipients
        if roster is None:
            return [n for n in (p if isinstance(p, list) else sorted(wallet.directory()))
                    if n != wallet.name]
        source_names = {s.name for s in self.sources(wallet)}
        if p == "users":
            names = [w.name for w in roster if w.role == "user"]
        elif p == "all":
            names = [w.name for w in roster]
        else:
            names = resolve_names(p, roster)
        return [n for n in names if n not in source_names]

    # when
    def start(self, wallet: WalletAPI) -> None:
        self.pending = self.recipients(wallet)
        delay = max(0.0, self.params.wait_time - wallet.now())
        wallet.schedule(delay, lambda: self._initial(wallet))

    def _per_tx(self) -> int:
        return max(1, min(self.params.batch_size, MAX_DESTINATIONS // self.params.outputs_per_recipient))

    def _initial(self, wallet: WalletAPI) -> None:
        p = self.params
        begun = wallet.now()
        while self.pending:
            batch = self.pending[:self._per_tx()]
            share = p.initial_fund_amount // p.outputs_per_recipient
            outputs = [(name, share) for name in batch for _ in range(p.outputs_per_recipient)]
            if not self._pay(wallet, outputs):
                wallet.schedule(_after(wallet, begun, BALANCE_POLL_S), lambda: self._initial(wallet))
                return
            self.funded.extend(batch)
            del self.pending[:len(batch)]
        wallet.log("distributor_funded", recipients=len(self.funded))
        if p.interval_s:
            wallet.schedule(p.interval_s, lambda: self._top_up(wallet))

    def _top_up(self, wallet: WalletAPI) -> None:
        p = self.params
        begun = wallet.now()
        if self.funded:
            n = min(self._per_tx() * p.outputs_per_recipient, len(self.funded))
            batch = [self.funded[(self.cursor + i) % len(self.funded)] for i in range(n)]
            outputs = [(name, wallet.rng.randint(p.min_transaction_amount, p.max_transaction_amount))
                       for name in batch]
            if self._pay(wallet, outputs):
                self.cursor = (self.cursor + n) % len(self.funded)
        if p.interval_s:
            wallet.schedule(_after(wallet, begun, p.interval_s), lambda: self._top_up(wallet))

    # how
    def _pay(self, wallet: WalletAPI, outputs: list[tuple[str, int]]) -> bool:
        """Send ``outputs`` from the source with the most unlocked funds; False if none can."""
        directory = wallet.directory()
        need = sum(a for _, a in outputs)
        best: WalletAPI | None = None
        best_unlocked = 0
        for source in self.sources(wallet):
            _, unlocked = source.balance()
            if unlocked > need and unlocked > best_unlocked:
                best, best_unlocked = source, unlocked
        if best is None:
            return False
        dest: dict[str, int] = {}
        multi = getattr(best, "transfer_outputs", None)
        try:
            if callable(multi):
                tx = multi([(directory[n], a) for n, a in outputs], priority=self.params.priority)
            else:
                for n, a in outputs:
                    dest[directory[n]] = dest.get(directory[n], 0) + a
                tx = best.transfer(dest, priority=self.params.priority)
        except InsufficientFunds as exc:
            wallet.log("distribution_failed", reason=str(exc), amount=need)
            return False
        self.txs.append(tx)
        wallet.log("distributed", tx=tx, source=getattr(best, "name", "?"), outputs=len(outputs),
                   amount=need)
        return True


def _check_mining_wallet(params: NoParams, scenario: Scenario, group: str) -> None:
    wg = next(g for g in scenario.wallets if g.name == group)
    by_group = {g.group: g for g in scenario.nodes}
    group_of = scenario.group_of()
    nodes = by_group[wg.node_group].node_names() if wg.node_group else list(wg.nodes)
    idle = [n for n in nodes if group_of[n].role != "miner"]
    if idle:
        raise ValueError(f"mining_wallet {group!r} is placed on {', '.join(idle[:5])}, which "
                         f"do(es) not mine (role {group_of[idle[0]].role}); place it on miners "
                         f"or use strategy hodler")


def _check_bot(params: TransactionBotParams, scenario: Scenario, group: str) -> None:
    placed, groups = placed_wallets(scenario)
    if isinstance(params.recipients, list):
        check_selector(params.recipients, placed, groups, "params.recipients", group)
        targets = set(resolve_names(params.recipients, wallet_roster(scenario)))
        mine = {n for n, (g, _, _) in placed.items() if g == group}
        if len(mine) == 1 and targets <= mine:
            raise ValueError(f"params.recipients: {params.recipients} names only the wallet itself")


def _check_distributor(params: DistributorParams, scenario: Scenario, group: str) -> None:
    placed, groups = placed_wallets(scenario)
    if isinstance(params.recipients, list):
        check_selector(params.recipients, placed, groups, "params.recipients", group)
    if isinstance(params.sources, list):
        check_selector(params.sources, placed, groups, "params.sources", group)
    elif not any(s == "mining_wallet" for _, _, s in placed.values()):
        mine = [n for n, (g, _, _) in placed.items() if g == group]
        roles = scenario.group_of()
        if not any(roles[placed[n][1]].role == "miner" for n in mine):
            raise ValueError("params.sources: 'miners' but no wallet has strategy mining_wallet "
                             "and the distributor is not on a miner; add mining_wallet wallets "
                             "on the miners (wallets: {name: ..., node_group: <miners>, "
                             "strategy: mining_wallet})")


def _bot_funding(params: TransactionBotParams, name: str,
                 roster: list[WalletInfo]) -> tuple[list[str], list[str]]:
    """A bot spends only what it receives; it pays its recipients."""
    names = ([x.name for x in roster] if params.recipients == "random"
             else resolve_names(params.recipients, roster))
    return [], [n for n in names if n != name]


def _distributor_funding(params: DistributorParams, name: str,
                         roster: list[WalletInfo]) -> tuple[list[str], list[str]]:
    """A distributor spends from its sources (the miners' wallets) and pays its recipients."""
    dist = Distributor(params)
    view: Any = _RosterView(name, roster)
    return [s.name for s in dist.sources(view)], dist.recipients(view)


class _RosterView:
    """The bits of the wallet API the distributor's selection needs, for validation."""

    def __init__(self, name: str, roster: list[WalletInfo]) -> None:
        self.name = name
        self._roster = roster

    def roster(self) -> list[WalletInfo]:
        return self._roster

    def wallet(self, name: str) -> Any:
        return _RosterView(name, self._roster)

    def directory(self) -> dict[str, str]:
        return {w.name: w.name for w in self._roster}


def _with_check(cls: type, check: Callable[..., None],
                funding: Callable[..., tuple[list[str], list[str]]] | None = None) -> Callable[..., Any]:
    """The registered factory of ``cls`` with the hooks :func:`~..config.wallets.validate_wallets` calls."""
    def factory(params: Any) -> Any:
        return cls(params)
    factory.check = check  # type: ignore[attr-defined]
    if funding is not None:
        factory.funding = funding  # type: ignore[attr-defined]
    factory.__name__ = cls.__name__
    factory.__doc__ = cls.__doc__
    return factory


PLUGINS: list[PluginSpec[Any]] = [
    PluginSpec("wallet_strategy", "mining_wallet", NoParams,
               _with_check(MiningWallet, _check_mining_wallet),
               "receives its node's coinbase rewards; never spends"),
    PluginSpec("wallet_strategy", "hodler", NoParams, Hodler,
               "receives, never spends"),
    PluginSpec("wallet_strategy", "transaction_bot", TransactionBotParams,
               _with_check(TransactionBot, _check_bot, _bot_funding),
               "sends transfers at a fixed interval or Poisson rate when it has unlocked funds"),
    PluginSpec("wallet_strategy", "distributor", DistributorParams,
               _with_check(Distributor, _check_distributor, _distributor_funding),
               "waits for the miners' coinbase to unlock, then funds wallets in batches"),
]

__all__ = [
    "AmountDist",
    "Distributor",
    "DistributorParams",
    "Hodler",
    "MiningWallet",
    "PLUGINS",
    "RosterWalletAPI",
    "TransactionBot",
    "TransactionBotParams",
    "format_xmr",
    "parse_amount",
]
