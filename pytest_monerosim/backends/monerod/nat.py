"""A host behind NAT on the namespaced network: nobody can dial its P2P port.

The layout's ``reachable: false`` (a node behind NAT: it connects out and
gossips, takes no inbound connection). monerod's own ``--in-peers 0`` is not
usable for it on Debian's 0.18.0.0: that release applies the in-peers limit
to its own outgoing connections too (its log says "Exceeded max incoming
connections, so dropping this one." on every dial it makes, and the node
never gets a peer; the TCP server of that release asks ``is_host_limit``
without checking the direction). So the NAT is the network's: inside the
host's namespace an ingress filter on ``eth0`` sends every TCP SYN (SYN set,
ACK clear) to the P2P port into a veth left down, which drops it. Replies to
the host's own connections and its RPC port pass. This kernel has no
``act_gact``/``act_police`` (no plain "drop" action) and no ``nft``/``iptables``
binaries are installed; ``act_mirred`` to a down device is the drop it has.
The filter and the sink live in the namespace and go with it.
"""

from __future__ import annotations

from .netns import NetHost, run_cmd, run_ip

SINK = "natsink0"
"""The down veth (inside the host's namespace) the refused SYNs are sent to."""


def refuse_inbound(host: NetHost, port: int) -> None:
    """Drop every TCP connection attempt to ``port`` on ``host`` (IPv4, 20-byte IP header:
    what Linux sends; the protocol byte at 9, the destination port at 22, TCP flags at 33)."""
    ns = host.netns
    run_ip("-n", ns, "link", "add", SINK, "type", "veth", "peer", "name", "natsink1")
    run_cmd(["tc", "-n", ns, "qdisc", "add", "dev", "eth0", "handle", "ffff:", "ingress"])
    run_cmd(["tc", "-n", ns, "filter", "add", "dev", "eth0", "parent", "ffff:", "protocol", "ip",
          "prio", "1", "u32",
          "match", "u8", "6", "0xff", "at", "9",
          "match", "u16", str(int(port)), "0xffff", "at", "22",
          "match", "u8", "0x02", "0x12", "at", "33",
          "action", "mirred", "egress", "redirect", "dev", SINK])


__all__ = ["SINK", "refuse_inbound"]
