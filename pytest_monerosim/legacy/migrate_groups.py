"""``migrate``'s grouping: node specs with equal settings become node groups, wallets wallet groups."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..config.durations import format_duration
from .migrate_helpers import (
    _clusters,
    _group_name,
    _unique,
)
from .migration import (
    _WALLET_SUFFIX,
    DISTRIBUTOR,
    MINING_WALLET,
    _MigratorBase,
    _NodeSpec,
    _WalletSpec,
)


class _Grouping(_MigratorBase):
    """Node and wallet specs → this project's node groups, seed nodes and wallet groups."""

    if TYPE_CHECKING:  # from the agent mapping, the other half of the migrator (migrate._Migrator)
        def churn_section(self) -> dict[str, Any]: ...

    def node_groups(
        self, specs: list[_NodeSpec]
    ) -> tuple[list[dict[str, Any]], dict[str, str], dict[str, str]]:
        by_key: dict[tuple[Any, ...], list[_NodeSpec]] = {}
        for spec in specs:
            by_key.setdefault(spec.key(), []).append(spec)
        clusters: list[list[_NodeSpec]] = []
        for members in by_key.values():
            clusters += _clusters(members, lambda s: s.start)
        clusters.sort(key=lambda c: min(specs.index(s) for s in c))
        used: set[str] = set()
        groups: list[dict[str, Any]] = []
        node_names: dict[str, str] = {}
        group_of: dict[str, str] = {}
        for cluster in clusters:
            ids = [s.agent for s in cluster]
            name = _unique(_group_name(ids, cluster[0].role, self.cfg.groups), used, len(ids))
            first = cluster[0]
            group: dict[str, Any] = {"group": name}
            if len(ids) > 1:
                group["count"] = len(ids)
            group["role"] = first.role
            if first.hashrate:
                group["hashrate"] = first.hashrate
            if first.out_peers is not None:
                group["out_peers"] = first.out_peers
            if first.in_peers is not None:
                group["in_peers"] = first.in_peers
            if first.hidden:
                group["hidden"] = 1.0
            if first.churn:
                group["churn"] = self.churn_section()
            starts = [s.start for s in cluster]
            if min(starts):
                group["start_time"] = format_duration(min(starts))
            if max(starts) > min(starts):
                for agent in ids:
                    self.warn(f"agents.{agent}.start_time",
                              f"staggered starts {format_duration(min(starts))}..."
                              f"{format_duration(max(starts))} collapse into one group {name!r} "
                              f"that starts at {format_duration(min(starts))}")
            groups.append(group)
            names = [name] if len(ids) == 1 else [f"{name}-{i}" for i in range(len(ids))]
            for agent, node in zip(ids, names, strict=True):
                node_names[agent] = node
                group_of[agent] = name
        return groups, node_names, group_of

    def seed_nodes(self, network: dict[str, Any], groups: list[dict[str, Any]],
                   specs: list[_NodeSpec], group_of: Mapping[str, str]) -> None:
        """``peer_mode``/``topology``/``seed_nodes`` → ``network.topology`` (and seed groups)."""
        net = self.net
        mode = (net.peer_mode if net is not None else None) or "Dynamic"
        shape = (net.topology if net is not None else None) or "Dag"
        seeds = net.seed_nodes if net is not None else None
        miners = [s for s in specs if s.role == "miner"]
        field = "network.topology"
        if mode == "Dynamic" and miners:
            network["topology"] = {"name": "monero"}
            seed_groups = {group_of[m.agent] for m in miners}
            for g in groups:
                if g["group"] in seed_groups:
                    g["seed_node"] = True
            if net is not None and net.topology is not None:
                self.warn(field, f"{shape}: upstream ignores it in Dynamic mode when there are "
                                 "miners (they are every node's seed nodes); so does this scenario")
            if seeds:
                self.warn("network.seed_nodes", "ignored in Dynamic mode, upstream and here")
            return
        if seeds and mode in ("Hardcoded", "Hybrid"):
            self.warn("network.seed_nodes",
                      f"{', '.join(seeds)}: upstream IP addresses cannot be matched to nodes here; "
                      + ("the topology below is used instead" if mode == "Hybrid" else
                         "the nodes discover each other from the first node (monero topology)"))
            if mode == "Hardcoded":
                network["topology"] = {"name": "monero", "seeds": 1}
                return
        if shape == "Dag":
            self.warn(field, "Dag (each node seeds from every earlier one) has no equivalent; the "
                             "closest is mesh, the same set of links made as fixed connections")
            shape = "Mesh"
        network["topology"] = {"name": shape.lower()}
        if mode != "Dynamic" or not miners:
            self.warn(field, f"{shape}: upstream passes these peers as --seed-node (bootstrap, then "
                             f"discovery); the {shape.lower()} topology keeps them as fixed links")
        if shape == "Ring" and sum(g.get("count", 1) for g in groups) < 3:
            network["topology"] = {"name": "mesh"}
            self.warn(field, "Ring needs at least 3 nodes; mesh is used")

    def wallet_groups(
        self, specs: list[_WalletSpec], node_names: Mapping[str, str],
        group_of: Mapping[str, str], groups: list[dict[str, Any]],
    ) -> tuple[list[dict[str, Any]], dict[str, str]]:
        """One wallet group per (node group, strategy, parameters), in agent order."""
        buckets: dict[tuple[str, str, str], list[_WalletSpec]] = {}
        for w in specs:
            rest = {k: v for k, v in w.params.items() if k != "start_time"}
            key = (group_of[w.node_agent], w.strategy, repr(sorted(rest.items())))
            buckets.setdefault(key, []).append(w)
        clusters: list[tuple[str, str, list[_WalletSpec]]] = []
        for (node_group, strategy, _), members in buckets.items():
            for cluster in _clusters(members, lambda w: float(w.params.get("start_time", 0.0))):
                clusters.append((node_group, strategy, cluster))
        clusters.sort(key=lambda c: specs.index(c[2][0]))
        used: set[str] = set()
        out: list[dict[str, Any]] = []
        names: dict[str, str] = {}
        wallet_group: dict[str, str] = {}
        distributors: list[dict[str, Any]] = []
        for node_group, strategy, members in clusters:
            base = "distributor" if strategy == DISTRIBUTOR else f"{node_group}-{_WALLET_SUFFIX[strategy]}"
            name = _unique(base, used, len(members))
            starts = [float(w.params["start_time"]) for w in members if "start_time" in w.params]
            if starts and max(starts) > min(starts):
                for w in members:
                    self.warn(f"agents.{w.agent}.activity_start_time",
                              f"staggered activity starts {format_duration(min(starts))}..."
                              f"{format_duration(max(starts))} collapse into wallet group {name!r} "
                              f"starting at {format_duration(min(starts))}")
                members = [_WalletSpec(w.agent, w.node_agent, w.strategy,
                                       {**w.params, "start_time": min(starts)}, w.receives)
                           for w in members]
            entry: dict[str, Any] = {"name": name}
            hosts = [node_names[w.node_agent] for w in members]
            group_nodes = [n for a, n in node_names.items() if group_of[a] == node_group]
            if sorted(hosts) == sorted(group_nodes) and len(set(hosts)) == len(hosts):
                entry["node_group"] = node_group
                hosts = group_nodes
            else:
                entry["nodes"] = hosts
            entry["strategy"] = {"name": strategy, **members[0].params}
            if strategy == DISTRIBUTOR:
                distributors.append(entry)
            out.append(entry)
            taken: set[int] = set()
            for w in members:
                wallet_group[w.agent] = name
                if len(hosts) == 1:
                    names[w.agent] = name
                    continue
                i = next(i for i, h in enumerate(hosts) if h == node_names[w.node_agent] and i not in taken)
                taken.add(i)
                names[w.agent] = f"{name}-{i}"
        for entry in distributors:
            entry["strategy"]["recipients"] = self.recipients(specs, names, wallet_group, group_of,
                                                              groups)
        return out, names


    def recipients(
        self, specs: list[_WalletSpec], names: Mapping[str, str], wallet_group: Mapping[str, str],
        group_of: Mapping[str, str], groups: list[dict[str, Any]],
    ) -> str | list[str]:
        """Upstream's ``can_receive_distributions`` wallets as the distributor's ``recipients``.

        Mining wallets are sources, never recipients (the strategy leaves them out
        anyway). ``users`` when they are exactly the wallets on user nodes, ``all``
        when they are every other wallet, else wallet-group and wallet names.
        """
        role_of = {g["group"]: g["role"] for g in groups}
        spenders = [w for w in specs if w.strategy not in (MINING_WALLET, DISTRIBUTOR)]
        chosen = [w for w in spenders if w.receives]
        on_users = [w for w in spenders if role_of[group_of[w.node_agent]] == "user"]
        if {w.agent for w in chosen} == {w.agent for w in on_users} and chosen:
            return "users"
        if {w.agent for w in chosen} == {w.agent for w in spenders} and chosen:
            return "all"
        out: list[str] = []
        for group in dict.fromkeys(wallet_group.values()):
            members = [w for w in chosen if wallet_group[w.agent] == group]
            size = sum(1 for g in wallet_group.values() if g == group)
            if members and len(members) == size:
                out.append(group)
            else:
                out += [names[w.agent] for w in members]
        if not out:
            self.warn("agents", "no wallet other than the miners' has can_receive_distributions: "
                                "true; the distributor funds every user wallet instead")
            return "users"
        return out
