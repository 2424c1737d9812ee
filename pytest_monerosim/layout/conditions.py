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

import heapq
import ipaddress
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import count
from typing import TYPE_CHECKING, Any

from ..rng import derive_rng

if TYPE_CHECKING:
    from ..config.model import Churn, Scenario
    from .model import NetworkLayout


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


def session_s(c: Churn, rng: random.Random) -> float:
    """One session: exponential with mean ``mean_session_s``, clipped to
    ``[min_session_s, max_session_s]``."""
    s = max(c.min_session_s, rng.expovariate(1.0 / c.mean_session_s))
    return min(s, c.max_session_s) if c.max_session_s is not None else s


def downtime_s(c: Churn, rng: random.Random) -> float:
    """One downtime: exponential with mean ``mean_downtime_s``, at least ``min_downtime_s``."""
    return max(c.min_downtime_s, rng.expovariate(1.0 / c.mean_downtime_s))


def churn_streams(layout: NetworkLayout) -> dict[str, random.Random]:
    """Each churning group's ``churn:<group>`` stream, going on from where the layout's draw
    of its churning nodes left it (the run draws sessions and downtimes from it)."""
    streams: dict[str, random.Random] = {}
    for group, state in layout.churn_streams.items():
        streams[group] = rng = random.Random()
        rng.setstate(state)
    return streams


def churn_schedule(layout: NetworkLayout) -> dict[str, list[tuple[float, float]]]:
    """Each churning node's downtimes, ``(offline at, back at)`` in run time, those that begin
    by the end of the run: for the backends that replay churn (real daemons, Shadow).

    The draws are the simulator's (``sim/churn.py``): each group's stream goes on from the
    layout's draw of its churning nodes; first sessions in node order, then every stop
    draws a downtime and every return a session, in time order across the group. So the
    simulator's churn is this schedule as long as nothing else (an attack's restart) stops
    a churning node.
    """
    streams = churn_streams(layout)
    order = count()
    events: list[tuple[float, int, str, bool]] = []
    churns = {spec.name: spec for spec in layout.nodes.values() if spec.churn is not None}
    for spec in churns.values():
        assert spec.churn is not None
        events.append((spec.start_time + session_s(spec.churn, streams[spec.group]), next(order),
                       spec.name, True))
    heapq.heapify(events)
    out: dict[str, list[tuple[float, float]]] = {name: [] for name in churns}
    while events:
        at, _, name, stopping = heapq.heappop(events)
        if at > layout.duration:
            break
        spec = churns[name]
        assert spec.churn is not None
        rng = streams[spec.group]
        if stopping:
            back = at + downtime_s(spec.churn, rng)
            out[name].append((at, back))
            heapq.heappush(events, (back, next(order), name, False))
        else:
            heapq.heappush(events, (at + session_s(spec.churn, rng), next(order), name, True))
    return out


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
