"""Per-node mainnet conditions drawn once, for every backend: NAT, hidden nodes, churn.

Streams (the ones the simulator drew them from since they were added, so results stay):

* ``reachability:<group>``: the group's nodes shuffled once; the first
  ``count - round(reachable * count)`` are behind NAT, the next
  ``round(hidden * count)`` run with ``--hide-my-port`` (the existing
  Monerosim's order).
* ``churn:<group>``: ``round(fraction * count)`` of the group's nodes churn. The
  same stream goes on to draw their sessions and downtimes during the run, so
  the layout keeps its state after this draw (:attr:`Drawn.churn_streams`).

A spy's addresses and a ban list's ``group:`` entries depend on the addresses a
backend assigns, so those are resolved by the backend (the simulator's
``sim/spies.py`` and ``sim/banlist.py``, the monerod backend's ``--ban-list``
file) with the addresses it gave; the layout carries each node's spy settings
and ban list, and :func:`ban_networks` is the one reading of a ban list.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..rng import derive_rng

if TYPE_CHECKING:
    from ..config.model import Churn, Scenario


@dataclass
class Drawn:
    nat: set[str] = field(default_factory=set)
    hidden: set[str] = field(default_factory=set)
    churn: dict[str, Churn] = field(default_factory=dict)
    """Churning node → its group's churn settings."""
    churn_streams: dict[str, Any] = field(default_factory=dict)
    """Group → ``random.Random.getstate()`` of its ``churn:<group>`` stream after the draw of
    which nodes churn (every group with ``churn`` set, even if no node was drawn)."""


def any_conditions(scenario: Scenario) -> bool:
    """Some group sets ``reachable`` < 1, ``hidden``, ``churn``, ``spy`` or ``ban_list``."""
    return any(g.reachable < 1 or g.hidden > 0 or g.churn is not None or g.spy is not None
               or g.ban_list for g in scenario.nodes)


def draw(scenario: Scenario, seed: int) -> Drawn:
    out = Drawn()
    for group in scenario.nodes:
        names = group.node_names()
        if group.reachable < 1 or group.hidden > 0:
            order = list(names)
            derive_rng(seed, f"reachability:{group.group}").shuffle(order)
            n_nat = group.count - round(group.reachable * group.count)
            n_hidden = round(group.hidden * group.count)
            out.nat.update(order[:n_nat])
            out.hidden.update(order[n_nat:n_nat + n_hidden])
        if group.churn is not None:
            rng = derive_rng(seed, f"churn:{group.group}")
            k = round(group.churn.fraction * len(names))
            for i in sorted(rng.sample(range(len(names)), k)):
                out.churn[names[i]] = group.churn
            out.churn_streams[group.group] = rng.getstate()
    return out


def ban_networks(entries: Sequence[str], group_hosts: Callable[[str], Iterable[str]], *,
                 group_prefix: int = 24) -> list[ipaddress.IPv4Network]:
    """A ban list's entries as networks, each once, in the list's order: an address is a
    /32, a subnet is itself, and ``group:<name>`` is every ``/group_prefix`` holding one of
    ``group_hosts(name)`` (the IPs a backend gave that group's nodes; the published spy ban
    lists are /24s and single hosts: ``monero-project/meta`` #1124, #1242)."""
    out: list[ipaddress.IPv4Network] = []
    for entry in entries:
        if entry.startswith("group:"):
            nets = {ipaddress.IPv4Network(f"{ip}/{group_prefix}", strict=False)
                    for ip in group_hosts(entry[6:])}
            out.extend(sorted(nets))
        else:
            out.append(ipaddress.IPv4Network(entry, strict=False))
    return list(dict.fromkeys(out))
