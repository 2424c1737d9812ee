"""The scenario model: one schema for YAML files, marker arguments and CLI overrides.

Every model forbids unknown keys, so a typo is an error that names the field.
Plugin parameters (behaviours, wallet strategies, attacks, topologies, latency
models) are kept as plain mappings here and validated against the plugin's own
pydantic schema by :func:`pytest_monerosim.config.resolve.resolve_plugins`, which
knows the registry; this module knows nothing of plugins, backends or pytest.

Units: seconds (float) for time, atomic units (int, 1 XMR = 10**12) for money,
bytes for sizes, bits per second for bandwidth.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, NamedTuple

from pydantic import (
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from ..strict import StrictModel
from .durations import parse_duration, parse_run_duration

Seconds = Annotated[float, BeforeValidator(parse_duration), Field(ge=0)]
"""A duration in seconds; accepts ``90``, ``"90s"``, ``"2h"``, ``"1d"``."""
RunSeconds = Annotated[float, BeforeValidator(parse_run_duration)]
"""The length of a run: a duration > 0 and at most a year (see ``durations.MAX_RUN_S``)."""

Role = Literal["miner", "relay", "user", "observer"]
Backend = Literal["sim", "monerod", "shadow"]

ATOMIC_PER_XMR = 10**12

MAX_NODES = 100_000
"""The most nodes a scenario may have (all groups together). The simulator's 10,000-node
benchmark peaks under 4 GB (``benchmarks/bench_sim.py``), so 100,000 nodes is already ~40 GB;
the bound turns a typo (``count: 10000000000``) into an error instead of an exhausted machine."""

DEFAULT_BEHAVIOUR: dict[str, str] = {
    "miner": "hashrate_mining",
    "relay": "standard_sync",
    "user": "standard_sync",
    "observer": "observer",
}


class _Model(StrictModel):
    model_config = ConfigDict(validate_assignment=True, allow_inf_nan=False)


class PluginRef(_Model):
    """A plugin by name plus its parameters (validated later by the plugin's schema)."""

    name: str
    params: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        # ``behaviour: observer`` and ``behaviour: {name: x, rate: 2}`` both work.
        if isinstance(data, str):
            return {"name": data}
        if isinstance(data, dict) and "name" in data and "params" not in data:
            rest = {k: v for k, v in data.items() if k != "name"}
            return {"name": data["name"], "params": rest}
        return data


class General(_Model):
    name: str = "scenario"
    seed: int = Field(default=1, ge=0)
    duration: RunSeconds = 3600.0
    backend: Backend | None = None
    """Pin a backend; ``None`` lets ``--monerosim-backend`` decide."""
    description: str = ""


class Network(_Model):
    topology: PluginRef = Field(default_factory=lambda: PluginRef(name="monero"))
    latency: PluginRef = Field(
        default_factory=lambda: PluginRef(name="constant", params={"latency_s": 0.05})
    )
    bandwidth_bps: float = Field(default=100e6, gt=0)
    """Default up/down bandwidth of every node (bits per second)."""
    verification_s: float = Field(default=0.02, ge=0)
    """Time a node spends verifying a block before it relays it."""


class PeerLimits(NamedTuple):
    """One node's effective P2P limits (see :meth:`P2P.limits`)."""

    out_peers: int
    in_peers: int | None
    """``None`` = unlimited."""
    anchors: int


class P2P(_Model):
    """Monero's P2P defaults (src/p2p/net_node.h, cryptonote_config.h)."""

    out_peers: int = Field(default=12, ge=0)
    in_peers: int | None = Field(default=None, ge=0)
    """``None`` = unlimited, monerod's default."""
    white_list_limit: int = Field(default=1000, ge=1)
    gray_list_limit: int = Field(default=5000, ge=1)
    anchors: int = Field(default=2, ge=0)
    handshake_peers: int = Field(default=250, ge=0)
    timed_sync_s: Seconds = 60.0
    white_probability: float = Field(default=0.7, ge=0, le=1)
    connect_retry_s: Seconds = 1.0
    turnover_mean_s: Seconds | None = None
    """Mean lifetime of an outgoing connection before it is dropped and replaced."""
    sync_search_s: Seconds | None = 101.0
    """monerod's sync search (``update_sync_search``, ``m_sync_search_checker``: every 101 s,
    cryptonote_protocol_handler.h): a synced node whose outgoing slots are all taken, with
    fewer than 2 of them syncing (``P2P_DEFAULT_SYNC_SEARCH_CONNECTIONS_COUNT``), drops one
    synced outgoing peer that is not an anchor, and the connection maker refills the slot.
    ``null`` (or 0) turns it off."""
    ping_back: bool = True
    """A node pings an incoming peer back on its advertised port and whitelists it if it
    answers (monerod's ``try_ping``). ``false``: no back ping succeeds (incoming peers stay
    off the white list). Debian's monerod 0.18.0.0 fails every back ping for the reason
    ``outgoing_host_limit`` gives, which implies this."""
    outgoing_host_limit: bool = False
    """Debian bookworm's ``monero`` 0.18.0.0+~0+20200826-1+deb12u1 applies the per-host limit
    (``is_host_limit``: at most ``--max-connections-per-ip`` 1 incoming connection per host,
    and no new connection once ``in_peers`` are taken) to the connections it opens as well:
    upstream checks it for incoming ones only (``is_income &&``, abstract_tcp_server2.inl,
    v0.18.4.x). So a node cannot open a connection to a host that already has one to it: its
    back pings fail (incoming peers never reach its white list), and its gray probes of such
    hosts fail and drop them (logged ``CONNECTION FROM <peer> REFUSED, too many connections
    from the same address``). ``true`` models those daemons, for comparisons with them; it
    implies failing back pings whatever ``ping_back`` says."""
    add_peer: bool = False
    """Start each node of a dynamic topology with its seeds and the node started just before
    it on its white list (last seen 0: monerod's ``--add-peer``, ``append_with_peer_white`` in
    ``node_server::init``, net_node.inl). The monerod backend always starts namespaced
    daemons so, because Debian's daemons cannot bootstrap from seeds alone (see
    ``outgoing_host_limit``); ``true`` gives the simulator the same start, for comparisons
    with them. The list itself is the layout's (``NodeSpec.add_peers``)."""


    def limits(self, out_peers: int | None = None, in_peers: int | None = None,
               anchors: int | None = None) -> PeerLimits:
        """A node's limits: its own where it sets one, else these defaults. The one place a
        node's ``out_peers`` / ``in_peers`` / ``anchors`` resolve (the layout's nodes, nodes
        an attack adds at run time, an attacker's own connection count)."""
        return PeerLimits(self.out_peers if out_peers is None else out_peers,
                          self.in_peers if in_peers is None else in_peers,
                          self.anchors if anchors is None else anchors)


class Mining(_Model):
    target_s: float = Field(default=120.0, gt=0)
    difficulty_window: int = Field(default=720, ge=2)
    difficulty_lag: int = Field(default=15, ge=0)
    difficulty_cut: int = Field(default=60, ge=0)
    block_size_bytes: int = Field(default=4_000, gt=0)
    """Size of an empty fluffy block on the wire (header + coinbase)."""

    @model_validator(mode="after")
    def _cut_fits(self) -> Mining:
        if 2 * self.difficulty_cut >= self.difficulty_window:
            raise ValueError(
                f"difficulty_cut={self.difficulty_cut} leaves nothing of "
                f"difficulty_window={self.difficulty_window}; need 2*cut < window"
            )
        return self


MAINNET_INPUTS: dict[int, float] = {
    # Share of mainnet txs by number of inputs, 2019-03-04 .. 2024-03-04 (Rucknium's
    # tabulation of every tx, monero-project/research-lab#100, comment of 2024-10-23):
    # 1: 54.07%, 2: 38.98%, 3: 1.91%, 4: 0.97%, 5: 0.62%, 6: 0.46%, 7: 0.36%, 8: 0.29%,
    # 9: 0.25%, 10: 0.24%; the 1.84% with more than 10 inputs are folded into 11..16 here
    # (the table goes on to hundreds; cumulative 98.94% at 16).
    1: 54.067, 2: 38.984, 3: 1.915, 4: 0.973, 5: 0.622, 6: 0.461, 7: 0.357, 8: 0.294,
    9: 0.247, 10: 0.242, 11: 0.181, 12: 0.151, 13: 0.130, 14: 0.114, 15: 0.102, 16: 1.161,
}
MAINNET_OUTPUTS: dict[int, float] = {
    # "Most transactions have 2 outputs", a few more (batches, pool payouts) up to 16
    # (BULLETPROOF_PLUS_MAX_OUTPUTS): monero-project/meta#434 (Isthmus, 2020, log-scale plot).
    # The split of the rest is an assumption: 95% two outputs, the other 5% spread as below.
    2: 95.0, 3: 2.0, 4: 1.0, 5: 0.5, 6: 0.3, 8: 0.3, 11: 0.4, 16: 0.5,
}
"""No published table with the shares above 2 was found; only the 2-output majority is sourced."""


def _shares(field: str, value: Any, lo: int, hi: int) -> dict[int, float]:
    if value == "mainnet":
        return dict(MAINNET_INPUTS if field == "inputs" else MAINNET_OUTPUTS)
    if not isinstance(value, dict) or not value:
        raise ValueError(f"transactions.shape.{field}={value!r}; accepted: 'mainnet' or a "
                         f"mapping count -> weight with counts {lo}..{hi}")
    out: dict[int, float] = {}
    for k, w in value.items():
        try:
            n, weight = int(k), float(w)
        except (TypeError, ValueError):
            raise ValueError(f"transactions.shape.{field}: {k!r}: {w!r} is not count: weight") from None
        if not lo <= n <= hi or weight < 0:
            raise ValueError(f"transactions.shape.{field}: {k!r}: {w!r}; accepted counts {lo}..{hi} "
                             f"with weights >= 0")
        out[n] = weight
    if sum(out.values()) <= 0:
        raise ValueError(f"transactions.shape.{field}: every weight is 0")
    return out


class TxShape(_Model):
    """How many inputs and outputs each wallet tx has (weights, normalised).

    ``inputs``: the wallet spends at least the drawn number of outputs (more if the amount
    needs them; fewer only if it has fewer unlocked outputs). ``outputs``: the drawn count,
    change included; payments beyond the destinations split the first destination's amount.
    ``"mainnet"`` is the sourced distribution (:data:`MAINNET_INPUTS`, :data:`MAINNET_OUTPUTS`).
    """

    inputs: dict[int, float] | None = None
    """Input count (1..64) -> weight, or ``"mainnet"``; the drawn count is a floor."""
    outputs: dict[int, float] | None = None
    """Output count with change (2..16) -> weight, or ``"mainnet"``."""

    @field_validator("inputs", mode="before")
    @classmethod
    def _inputs(cls, value: Any) -> Any:
        return None if value is None else _shares("inputs", value, 1, 64)

    @field_validator("outputs", mode="before")
    @classmethod
    def _outputs(cls, value: Any) -> Any:
        return None if value is None else _shares("outputs", value, 2, 16)


class Transactions(_Model):
    relay: Literal["dandelion", "diffusion"] = "dandelion"
    stem_peers: int = Field(default=2, ge=1)
    fluff_probability: float = Field(default=0.2, ge=0, le=1)
    epoch_s: Seconds = 600.0
    embargo_mean_s: Seconds = 39.0
    flush_mean_s: Seconds = 5.0
    ring_size: int = Field(default=16, ge=1)
    rebroadcast: bool = True
    """Nodes re-relay pool txs not yet mined with monerod's back-off (``tx_pool.cpp``:
    ``get_relay_delay``, ``MIN_RELAY_TIME`` 5 min, ``MAX_RELAY_TIME`` 4 h; none past half
    the pool lifetime)."""
    relay_backoff_min_s: Seconds = Field(default=300.0, gt=0)
    """First re-relay delay and the step of the back-off (monerod: ``MIN_RELAY_TIME``, 5 min)."""
    relay_backoff_max_s: Seconds = Field(default=14_400.0, gt=0)
    """Longest gap between re-relays (monerod: ``MAX_RELAY_TIME``, 4 h)."""
    pool_livetime_s: Seconds = Field(default=259_200.0, gt=0)
    """``CRYPTONOTE_MEMPOOL_TX_LIVETIME`` (3 days): a pool tx older than this is dropped and
    refused if it comes again (a tx from a popped block: ``..._FROM_ALT_BLOCK_LIVETIME``, a week)."""
    tx_bandwidth: bool = True
    """A tx message takes its bytes over the link's bandwidth (``min(up of sender, down of
    receiver)``) on top of the latency; bytes relayed per node go to the results."""
    shape: TxShape | None = None
    """Inputs and outputs per tx drawn from distributions (default: as the wallet needs)."""

    local_stem: bool = True
    """A node's own wallet's transactions go out on a stem even in a fluff epoch (monerod since
    commit a7bf3aff2, "Fix dandelion++ fluff/stem bug with local txes", Oct 2022). ``false``
    models Debian's monerod 0.18.0.0, whose ``dandelionpp_notify`` fluffs them at once in a
    fluff epoch (the source is then the first to broadcast its own transaction); the
    agreement suite compares spies' first sightings with it."""

    @model_validator(mode="after")
    def _backoff(self) -> Transactions:
        if self.relay_backoff_max_s < self.relay_backoff_min_s:
            raise ValueError(f"relay_backoff_max_s={self.relay_backoff_max_s:g} is below "
                             f"relay_backoff_min_s={self.relay_backoff_min_s:g}; need min <= max")
        return self


class Churn(_Model):
    """Nodes that go offline and come back (sessions and downtimes, exponential, clipped).

    A node back from a downtime keeps its chain, peer lists, anchors and pool, as
    monerod does (``p2pstate.bin``; the pool is in the LMDB database).
    """

    mean_session_s: Seconds = Field(gt=0)
    mean_downtime_s: Seconds = Field(gt=0)
    fraction: float = Field(default=1.0, ge=0, le=1)
    """Share of the group's nodes that churn (drawn from the seed); the others stay up."""
    min_session_s: Seconds = 0.0
    max_session_s: Seconds | None = None
    min_downtime_s: Seconds = 0.0

    @model_validator(mode="after")
    def _bounds(self) -> Churn:
        if self.max_session_s is not None and self.max_session_s < self.min_session_s:
            raise ValueError(f"max_session_s={self.max_session_s:g} is below "
                             f"min_session_s={self.min_session_s:g}; need min <= max")
        return self


class Spy(_Model):
    """A spy node: accepts every connection, records when it first sees each transaction."""

    relay: Literal["none", "all"] = "none"
    """``none``: relays neither transactions nor blocks; ``all``: an honest-but-curious node."""
    subnets: int | None = Field(default=None, ge=1)
    """Put the group's addresses in this many /16 subnets (default: spread like anyone's)."""
    announce: int = Field(default=0, ge=0)
    """Reachable nodes each spy handshakes with (connects, is pinged back and whitelisted,
    leaves) at its start and then every ``announce_every_s``: how spies that make no lasting
    outgoing connection still get into honest peer lists."""
    announce_every_s: Seconds = Field(default=3600.0, gt=0)


SPIES_PER_SUBNET = 256 * 254
"""Addresses a /16 holds for spies (x.y.0.1 .. x.y.255.254)."""

BAN_ENTRY = r"^(group:[a-z][a-z0-9-]*|\d{1,3}(\.\d{1,3}){3}(/\d{1,2})?)$"


class NodeGroup(_Model):
    """``count`` nodes that share a role, a behaviour and P2P settings."""

    group: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    count: int = Field(default=1, ge=1, le=MAX_NODES)
    role: Role = "relay"
    behaviour: PluginRef | None = None
    """Defaults by role: miner → hashrate_mining, observer → observer, else standard_sync."""
    hashrate: float = Field(default=0.0, ge=0)
    """Relative hashrate of EACH node of the group (shares are normalised over all miners)."""
    out_peers: int | None = Field(default=None, ge=0)
    in_peers: int | None = Field(default=None, ge=0)
    anchors: int | None = Field(default=None, ge=0)
    start_time: Seconds = 0.0
    seed_node: bool = False
    """Hard-coded seed node that new nodes bootstrap from."""
    region: str | None = None
    bandwidth_bps: float | None = Field(default=None, gt=0)
    honest: bool = True
    reachable: float = Field(default=1.0, ge=0, le=1)
    """Share of the group's nodes that accept inbound connections; the rest are behind NAT
    (no inbound, still connect out and gossip). Which ones: drawn from the seed."""
    hidden: float = Field(default=0.0, ge=0, le=1)
    """Share of the group's nodes run with ``--hide-my-port``: never put in others' white
    lists (so never advertised), still accept inbound if dialled."""
    churn: Churn | None = None
    spy: Spy | None = None
    ban_list: list[Annotated[str, Field(pattern=BAN_ENTRY)]] = Field(default_factory=list)
    """monerod's ``--ban-list``: IPv4 addresses, ``a.b.c.d/n`` subnets, or ``group:<name>``
    (every /24 holding a node of that group, as the published spy ban lists do)."""

    @model_validator(mode="after")
    def _miner_has_hashrate(self) -> NodeGroup:
        if self.role == "miner" and self.hashrate <= 0:
            raise ValueError(f"group {self.group!r} has role miner but hashrate {self.hashrate}; "
                             "a miner needs hashrate > 0")
        if self.role != "miner" and self.hashrate > 0:
            raise ValueError(f"group {self.group!r} has hashrate {self.hashrate} but role "
                             f"{self.role!r}; only role: miner mines")
        return self

    @model_validator(mode="after")
    def _spies_fit(self) -> NodeGroup:
        if self.spy is not None and self.spy.subnets is not None \
                and self.count > self.spy.subnets * SPIES_PER_SUBNET:
            raise ValueError(f"group {self.group!r}: {self.count} spies do not fit in "
                             f"spy.subnets={self.spy.subnets} /16s ({SPIES_PER_SUBNET} each); "
                             f"accepted: subnets >= {-(-self.count // SPIES_PER_SUBNET)}")
        return self

    def behaviour_ref(self) -> PluginRef:
        return self.behaviour or PluginRef(name=DEFAULT_BEHAVIOUR[self.role])

    def node_names(self) -> list[str]:
        if self.count == 1:
            return [self.group]
        return [f"{self.group}-{i}" for i in range(self.count)]


class WalletGroup(_Model):
    """Wallets placed on nodes: each wallet talks to its node, as wallet-rpc talks to monerod."""

    name: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    node_group: str | None = None
    """All nodes of this group get one wallet each (``count`` ignored)."""
    nodes: list[str] = Field(default_factory=list)
    """Explicit node names, one wallet each."""
    strategy: PluginRef = Field(default_factory=lambda: PluginRef(name="hodler"))

    @model_validator(mode="after")
    def _placed(self) -> WalletGroup:
        if not self.node_group and not self.nodes:
            raise ValueError(f"wallet group {self.name!r} needs node_group or nodes")
        return self


class BackendSection(_Model):
    """Per-backend adjustments: ``backends: {monerod: {overrides: {...}}, shadow: {options: {...}}}``."""

    overrides: dict[str, Any] = Field(default_factory=dict)
    """Dotted-path overrides applied when the scenario runs on this backend (a 100-node
    suite can shrink to 5 real daemons)."""
    options: dict[str, Any] = Field(default_factory=dict)
    """Backend settings passed through (e.g. Shadow ``general`` keys for the shadow backend)."""


class Scenario(_Model):
    general: General = Field(default_factory=General)
    network: Network = Field(default_factory=Network)
    p2p: P2P = Field(default_factory=P2P)
    mining: Mining = Field(default_factory=Mining)
    transactions: Transactions = Field(default_factory=Transactions)
    nodes: list[NodeGroup] = Field(min_length=1)
    wallets: list[WalletGroup] = Field(default_factory=list)
    attacks: list[PluginRef] = Field(default_factory=list)
    backends: dict[Backend, BackendSection] = Field(default_factory=dict)

    @field_validator("nodes")
    @classmethod
    def _unique_groups(cls, groups: list[NodeGroup]) -> list[NodeGroup]:
        total = sum(g.count for g in groups)
        if total > MAX_NODES:
            raise ValueError(f"the node groups add up to {total} nodes; accepted: at most {MAX_NODES}")
        seen: set[str] = set()
        for g in groups:
            if g.group in seen:
                raise ValueError(f"node group {g.group!r} appears twice; group names are unique")
            seen.add(g.group)
        return groups

    @model_validator(mode="after")
    def _references(self) -> Scenario:
        names = set(self.node_names())
        groups = {g.group for g in self.nodes}
        if not any(g.role == "miner" for g in self.nodes) and not self.attacks:
            # A network that never mines can still be a connectivity test; allowed.
            pass
        for g in self.nodes:
            for entry in g.ban_list:
                if entry.startswith("group:") and entry[6:] not in groups:
                    raise ValueError(f"group {g.group!r}: ban_list entry {entry!r} names no group; "
                                     f"groups are {sorted(groups)}")
        wallet_names: set[str] = set()
        for w in self.wallets:
            if w.name in wallet_names:
                raise ValueError(f"wallet group {w.name!r} appears twice")
            wallet_names.add(w.name)
            if w.node_group and w.node_group not in groups:
                raise ValueError(
                    f"wallet group {w.name!r}: node_group {w.node_group!r} does not exist; "
                    f"groups are {sorted(groups)}"
                )
            for n in w.nodes:
                if n not in names:
                    raise ValueError(
                        f"wallet group {w.name!r}: node {n!r} does not exist; "
                        f"nodes are {_sample(names)}"
                    )
        return self

    # -- derived views -------------------------------------------------------
    def node_names(self) -> list[str]:
        return [n for g in self.nodes for n in g.node_names()]

    def group_of(self) -> dict[str, NodeGroup]:
        return {n: g for g in self.nodes for n in g.node_names()}

    def total_nodes(self) -> int:
        return sum(g.count for g in self.nodes)

    def wallet_placements(self) -> list[tuple[str, str, WalletGroup]]:
        """(wallet name, node name, group) for every wallet, in a stable order."""
        by_group = {g.group: g for g in self.nodes}
        out: list[tuple[str, str, WalletGroup]] = []
        for w in self.wallets:
            hosts = by_group[w.node_group].node_names() if w.node_group else list(w.nodes)
            for i, node in enumerate(hosts):
                name = w.name if len(hosts) == 1 else f"{w.name}-{i}"
                out.append((name, node, w))
        return out


def _sample(names: set[str], k: int = 8) -> str:
    items = sorted(names)
    return ", ".join(items[:k]) + (f", ... ({len(items)} in all)" if len(items) > k else "")
