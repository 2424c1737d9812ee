"""The scenario's wallets as data: who is placed where, who the coinbase pays, and the checks before a run.

Strategies (``agents.wallets``) and the backends both read the wallets of a
run through :class:`WalletInfo`; :func:`validate_wallets` checks the wallet
section against the nodes and the registered strategies: bad parameters,
unknown recipients or sources, and wallets nothing can ever fund are errors
naming the field. A strategy takes part in these checks through two optional
attributes of its registered factory: ``check(params, scenario, group)``
(raises ``ValueError``) and ``funding(params, name, roster)`` returning the
wallet names it spends from and the names it pays to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from .errors import ScenarioError
from .loader import dotted, error_from_validation

if TYPE_CHECKING:
    from ..registry import Registry
    from .model import Scenario


@dataclass(frozen=True)
class WalletInfo:
    """One wallet of the run, as strategies that pick recipients or sources see it."""

    name: str
    group: str
    """The wallet group (``wallets[].name``)."""
    node: str
    role: str
    """Role of the node it is placed on (miner, relay, user, observer, attacker)."""
    strategy: str


def resolve_names(selector: Sequence[str], roster: Sequence[WalletInfo]) -> list[str]:
    """Wallet names for a list of wallet or wallet-group names (in roster order)."""
    wanted = set(selector)
    return [w.name for w in roster if w.name in wanted or w.group in wanted]


def wallet_roster(scenario: Scenario) -> list[WalletInfo]:
    """Every wallet of the scenario, in placement order."""
    group_of = scenario.group_of()
    return [WalletInfo(name, g.name, node, group_of[node].role, g.strategy.name)
            for name, node, g in scenario.wallet_placements()]


COINBASE_PREFERENCE = ("mining_wallet", "distributor")


def coinbase_wallet(roster: Sequence[WalletInfo], node: str) -> str | None:
    """The wallet a node's coinbase pays: its ``mining_wallet``, else its ``distributor``,
    else the first wallet placed on it; None if it has no wallet."""
    here = [w for w in roster if w.node == node]
    for strategy in COINBASE_PREFERENCE:
        for w in here:
            if w.strategy == strategy:
                return w.name
    return here[0].name if here else None


def placed_wallets(scenario: Scenario) -> tuple[dict[str, tuple[str, str, str]], dict[str, int]]:
    """wallet name → (group, node, strategy); group → index in ``scenario.wallets``."""
    placed = {name: (group.name, node, group.strategy.name)
              for name, node, group in scenario.wallet_placements()}
    index = {g.name: i for i, g in enumerate(scenario.wallets)}
    return placed, index


def check_selector(names: Sequence[str], placed: dict[str, tuple[str, str, str]],
                   groups: dict[str, int], path: str, self_group: str) -> None:
    """Every name is a wallet or a wallet group of the scenario."""
    known = set(placed) | set(groups)
    for n in names:
        if n not in known:
            sample = sorted(known)
            shown = ", ".join(sample[:10]) + (f", ... ({len(sample)} in all)" if len(sample) > 10 else "")
            raise ValueError(f"{path}: unknown wallet or wallet group {n!r}; wallets and groups "
                             f"are {shown}")


def validate_wallets(scenario: Scenario, registry: Registry) -> dict[str, BaseModel]:
    """Check every wallet group's strategy against the scenario; returns validated params by group.

    Raises :class:`~pytest_monerosim.config.errors.ScenarioError` naming the
    field: bad parameters, unknown recipients or sources, a ``mining_wallet``
    on a node that does not mine, or a spending wallet nothing can ever fund.
    """
    params: dict[str, BaseModel] = {}
    factories: dict[str, Any] = {}
    for i, group in enumerate(scenario.wallets):
        here = f"wallets[{i}].strategy"
        try:
            spec = registry.get("wallet_strategy", group.strategy.name)
        except LookupError as exc:
            raise ScenarioError(str(exc), path=f"{here}.name") from None
        try:
            p = spec.validate(group.strategy.params)
        except ValidationError as exc:
            err = error_from_validation(exc, prefix=("wallets", i, "strategy"))
            raise ScenarioError(err.message, path=err.path) from None
        params[group.name] = p
        factories[group.name] = spec.factory
        check = getattr(spec.factory, "check", None)
        if callable(check):
            try:
                check(p, scenario, group.name)
            except ValueError as exc:
                raise ScenarioError(str(exc), path=here) from None
    _check_funding(scenario, params, factories)
    return params


def _check_funding(scenario: Scenario, params: dict[str, BaseModel], factories: dict[str, Any]) -> None:
    """Every spending wallet must be reachable by money: coinbase → payers → recipients."""
    roster = wallet_roster(scenario)
    funded = {w.name for w in roster
              if w.role == "miner" and coinbase_wallet(roster, w.node) == w.name}
    pays_to: dict[str, list[str]] = {}
    sources_of: dict[str, list[str]] = {}
    for w in roster:
        funding = getattr(factories[w.group], "funding", None)
        if callable(funding):
            sources_of[w.name], pays_to[w.name] = funding(params[w.group], w.name, roster)

    def can_pay(name: str) -> bool:
        return name in funded or any(s in funded for s in sources_of.get(name, ()))

    changed = True
    while changed:
        changed = False
        for payer, recipients in pays_to.items():
            if can_pay(payer):
                for r in recipients:
                    if r not in funded:
                        funded.add(r)
                        changed = True
    index = {g.name: i for i, g in enumerate(scenario.wallets)}
    for w in roster:
        if w.name in pays_to and not can_pay(w.name):
            raise ScenarioError(
                f"{w.strategy} wallet {w.name!r} (on {w.node}) can never be funded: no miner pays "
                f"it and no distributor or funded wallet sends to it; add a distributor (strategy: "
                f"distributor) or place a mining wallet on a miner",
                path=dotted(("wallets", index[w.group], "strategy")))


__all__ = [
    "COINBASE_PREFERENCE",
    "WalletInfo",
    "check_selector",
    "coinbase_wallet",
    "placed_wallets",
    "resolve_names",
    "validate_wallets",
    "wallet_roster",
]
