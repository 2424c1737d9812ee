"""Addresses of a namespaced run (:class:`~.netns.NetnsNetwork`): the address plan.

monerod (0.18, ``epee::net_utils::is_ip_local``/``is_ip_loopback`` and
``sanitize_peerlist`` in ``src/p2p/net_node.inl``) removes 127/8, 10/8,
172.16/12 and 192.168/16 from every peer list it sends, so hosts on private
addresses would never learn of each other by gossip. A run therefore takes
one /7 of the reserved block 240.0.0.0/4 ("class E", RFC 1112; never routed
on the Internet, and not "local" to monerod): ``240+2*slot.0.0.0/7`` for slot
0..6, that is 511 /16s for hosts. The slot is held by an ``flock`` (released by the kernel whatever way
its owner dies), so parallel runs and xdist workers never share a block.
Inside a block every /16 is one "provider": :func:`address_plan` gives each
honest host a /16 of its own (regions in contiguous ranges of /16s, as
mainnet's nodes mostly sit in distinct /16s), and all hosts of one dishonest
group one shared /16, so monerod's one-outgoing-peer-per-/16 rule acts on a
sybil the way it would on mainnet. The block's last /16 is the root side's.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

FIRST_OCTET = 240
"""Run ``slot`` takes ``240+2*slot.0.0.0/7`` (class E, reserved): see the module docstring."""
SLOTS = 7
HOST_SUBNETS = 511
"""/16s per run available to hosts; the last of the /7's 512 is the root side's."""


@dataclass(frozen=True)
class HostAddressing:
    """What :func:`address_plan` needs of a host: its name, region, group, honesty."""

    name: str
    region: str | None = None
    group: str = ""
    honest: bool = True


def address_plan(hosts: Sequence[HostAddressing], first_octet: int = FIRST_OCTET) -> dict[str, str]:
    """One IPv4 address per host inside ``first_octet.0.0.0/7``.

    Honest hosts get a /16 each, ordered by region (so a region is a
    contiguous range of /16s) and then by their order in ``hosts``; the hosts
    of one dishonest group share a /16 (one address each in it). With more
    /16s wanted than :data:`HOST_SUBNETS`, /16s are shared round-robin.
    """
    order: list[tuple[str, list[str]]] = []  # (/16 key, hosts in it)
    by_region: dict[str, list[HostAddressing]] = {}
    for host in hosts:
        by_region.setdefault(host.region or "", []).append(host)
    shared: dict[str, list[str]] = {}
    for region in sorted(by_region):
        for host in by_region[region]:
            if host.honest:
                order.append((f"host:{host.name}", [host.name]))
            else:
                key = f"group:{host.group}"
                if key not in shared:
                    shared[key] = []
                    order.append((key, shared[key]))
                shared[key].append(host.name)
    out: dict[str, str] = {}
    taken: dict[int, int] = {}  # addresses handed out per /16
    for index, (_key, names) in enumerate(order):
        second = index % HOST_SUBNETS
        for name in names:
            n = taken.get(second, 0) + 1
            taken[second] = n
            out[name] = subnet_address(first_octet, second, n + 1)
    return out


def subnet_address(first_octet: int, subnet: int, host: int) -> str:
    """Address number ``host`` (1..65533) of /16 number ``subnet`` (0..511) of a run's /7."""
    if not 0 <= subnet < 512 or not 1 <= host < 65534:
        raise ValueError(f"subnet {subnet} / host {host} out of range")
    third, fourth = divmod(host, 256)
    return f"{first_octet + subnet // 256}.{subnet % 256}.{third}.{fourth}"


def subnet16(address: str) -> str:
    """The /16 of an IPv4 address, as ``a.b.0.0/16``."""
    return str(ipaddress.ip_network(f"{address}/16", strict=False))


__all__ = ["FIRST_OCTET", "HOST_SUBNETS", "SLOTS", "HostAddressing", "address_plan", "subnet16",
           "subnet_address"]
