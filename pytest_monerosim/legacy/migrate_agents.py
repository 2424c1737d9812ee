"""``migrate``'s agents: each upstream agent becomes a node spec, a wallet spec, or a warning."""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from ..config.durations import format_duration
from ..config.errors import ScenarioError
from ..config.model import ATOMIC_PER_XMR
from .migrate_helpers import (
    _atomic,
    _flag,
    _some,
)
from .migration import (
    AUTO_TRANSACTION_INTERVAL_S,
    DISTRIBUTOR,
    HODLER,
    MINING_WALLET,
    TRANSACTION_BOT,
    UPSTREAM_N_RECIPIENTS,
    UPSTREAM_OUT_PER_TX,
    UPSTREAM_OUTPUT_XMR,
    _MigratorBase,
    _NodeSpec,
    _WalletSpec,
)
from .model import (
    LegacyAgent,
    RemoteDaemon,
)


class _AgentMapping(_MigratorBase):
    """Upstream agents → node and wallet specs (:meth:`agents`), peer limits, reachability."""

    def agents(self) -> tuple[list[_NodeSpec], list[_WalletSpec]]:
        nodes: list[_NodeSpec] = []
        wallets: list[_WalletSpec] = []
        unreachable = self.unreachable_agents()
        hidden = self.hidden_agents(unreachable)
        churning = self.churning_agents()
        public = [a for a, ag in self.cfg.agents.items() if ag.is_public_node]
        later: list[tuple[str, LegacyAgent]] = []
        for name, agent in self.cfg.agents.items():
            role = agent.role
            here = f"agents.{name}"
            self.agent_common(name, agent)
            has_daemon = isinstance(agent.daemon, str) or bool(agent.daemon_phases)
            if has_daemon:
                node_role = {"miner": "miner", "user": "user", "monitor": "observer"}.get(role, "relay")
                spec = _NodeSpec(name, node_role, agent.start_time or 0.0,
                                 hashrate=float(agent.hashrate or 0))
                spec.out_peers, spec.in_peers = self.peer_options(f"{here}.daemon_options",
                                                                  agent.daemon_options)
                if name in unreachable:
                    spec.in_peers = 0
                spec.hidden = name in hidden
                spec.churn = name in churning
                nodes.append(spec)
            if role == "miner":
                wallets.append(_WalletSpec(name, name, MINING_WALLET, {},
                                           receives=bool(agent.can_receive_distributions)))
            elif role == "user":
                self.user_wallet(name, agent, name, wallets)
            elif role in ("distributor", "wallet-only"):
                later.append((name, agent))
            elif role == "monitor":
                self.monitor(name, agent, has_daemon)
            elif role == "custom":
                self.custom(name, agent, has_daemon, wallets)
        for name, agent in later:
            if agent.role == "distributor":
                self.distributor(name, agent, nodes, wallets, has_daemon=isinstance(agent.daemon, str))
            else:
                self.wallet_only(name, agent, nodes, public, wallets)
        if not nodes:
            raise ScenarioError("no agent has a daemon of its own, so the scenario would have no "
                                "nodes; accepted: at least one agent with daemon: monerod",
                                source=self.source, path="agents")
        if not self.use_agents:
            dropped = [w.agent for w in wallets if w.strategy != MINING_WALLET]
            wallets = [w for w in wallets if w.strategy == MINING_WALLET]
            if dropped:
                self.warn("general.use_agents",
                          f"false: wallets of {_some(dropped)} are not created")
        self.unfunded_users(wallets)
        return nodes, wallets

    def unfunded_users(self, wallets: list[_WalletSpec]) -> None:
        """Users no money can reach send nothing: upstream runs them, so do we (as hodlers).

        Upstream users are funded only by its miner distributor (miners keep
        their coinbase). Without one, a user's wallet stays empty and its
        script never manages a transfer; a ``transaction_bot`` here would fail
        the funding check, so the wallet becomes a ``hodler``: it exists,
        receives, and never sends, as upstream's user does.
        """
        if any(w.strategy == DISTRIBUTOR for w in wallets):
            return
        for i, w in enumerate(wallets):
            if w.strategy != TRANSACTION_BOT:
                continue
            wallets[i] = _WalletSpec(w.agent, w.node_agent, HODLER, {}, w.receives)
            self.warn(f"agents.{w.agent}.script",
                      "no funding path (no miner-distributor pays users); upstream runs this user "
                      "and it never sends; its wallet becomes a hodler (holds, never sends)")

    def agent_common(self, name: str, agent: LegacyAgent) -> None:
        """Warnings for per-agent settings that no role maps."""
        here = f"agents.{name}"
        for key in ("daemon_args", "wallet_args", "daemon_env", "wallet_env"):
            if getattr(agent, key):
                self.warn(f"{here}.{key}", "extra process arguments/environment have no equivalent; "
                                           "backends build the command lines")
        if agent.wallet_options:
            self.warn(f"{here}.wallet_options",
                      f"monero-wallet-rpc flags {', '.join(agent.wallet_options)} have no equivalent")
        if agent.subnet_group is not None:
            self.warn(f"{here}.subnet_group",
                      "addresses are assigned by the backend; a shared subnet is not modelled")
        if agent.daemon_phases or agent.wallet_phases:
            self.warn(f"{here}.daemon_0", "binary upgrade phases have no equivalent; the node runs "
                                          "one monerod for the whole run")
        extra = {k: v for k, v in (agent.attributes or {}).items() if k != "is_public_node"}
        if extra:
            self.warn(f"{here}.attributes", f"{', '.join(extra)} have no equivalent")
        if isinstance(agent.daemon, str) and agent.daemon not in ("monerod",) and not \
                agent.daemon.endswith("/monerod"):
            self.warn(f"{here}.daemon", f"{agent.daemon!r}: backends run their configured monerod")

    def peer_options(
        self, where: str, options: Mapping[str, Any] | None
    ) -> tuple[int | None, int | None]:
        out_peers = in_peers = None
        for key, value in (options or {}).items():
            if key in ("out-peers", "in-peers") and isinstance(value, int) and not isinstance(
                    value, bool) and value >= -1:
                number = None if value == -1 else value
                if key == "out-peers":
                    out_peers = number
                else:
                    in_peers = number
            elif key == "start-mining" or (key == "non-interactive" and value is True):
                continue  # mining follows from hashrate; non-interactive is always the case
            else:
                self.warn(f"{where}.{key}",
                          f"monerod flag {_flag(key, value)} has no scenario equivalent; the real "
                          "backends build monerod's command line themselves")
        return out_peers, in_peers

    def p2p_defaults(self) -> dict[str, Any]:
        defaults = self.cfg.general.daemon_defaults
        out_peers, in_peers = self.peer_options("general.daemon_defaults", defaults)
        out: dict[str, Any] = {}
        if out_peers is not None:
            out["out_peers"] = out_peers
        if in_peers is not None:
            out["in_peers"] = in_peers
        if self.cfg.general.wallet_defaults:
            keys = ", ".join(self.cfg.general.wallet_defaults)
            self.warn("general.wallet_defaults",
                      f"monero-wallet-rpc flags {keys} have no scenario equivalent")
        return out

    def unreachable_agents(self) -> set[str]:
        """Users and relays behind NAT (upstream ``reachable_fraction``/``reachable_by_role``)."""
        g = self.cfg.general
        if "reachable_fraction" not in g.model_fields_set and not g.reachable_by_role:
            return set()
        by_role = dict(g.reachable_by_role or {})
        out: set[str] = set()
        rng = random.Random(f"{self.seed}:reachable")
        for role in ("user", "relay"):
            agents = [a for a, ag in self.cfg.agents.items() if ag.role == role
                      and isinstance(ag.daemon, str) and not ag.is_public_node]
            share = by_role.get(role, g.reachable_fraction)
            hidden = len(agents) - round(share * len(agents))
            out.update(rng.sample(agents, hidden) if hidden > 0 else [])
        if out:
            field = "general.reachable_by_role" if by_role else "general.reachable_fraction"
            self.warn(field, f"{len(out)} unreachable user/relay node(s) get in_peers: 0 "
                             "(which ones are drawn from the seed, not upstream's choice)")
        return out

    def _eligible(self) -> list[str]:
        """Users and relays with a daemon of their own, not public nodes (upstream's eligible set)."""
        return [a for a, ag in self.cfg.agents.items() if ag.role in ("user", "relay")
                and isinstance(ag.daemon, str) and not ag.is_public_node]

    def hidden_agents(self, unreachable: set[str]) -> set[str]:
        """Nodes run with ``--hide-my-port`` (upstream ``hidden_fraction``) → ``hidden: 1.0``."""
        share = self.cfg.general.hidden_fraction
        if not share:
            return set()
        eligible = self._eligible()
        # the same ordering as the unreachable set: reachable ones first, then the rest
        order = [a for a in eligible if a not in unreachable] + [a for a in eligible if a in unreachable]
        random.Random(f"{self.seed}:hidden").shuffle(order)
        order.sort(key=lambda a: a in unreachable)
        out = set(order[:round(share * len(eligible))])
        if out:
            self.warn("general.hidden_fraction",
                      f"{share}: {len(out)} user/relay node(s) run with --hide-my-port: their groups "
                      "get hidden: 1.0 (which ones are drawn from the seed, not upstream's choice)")
        else:
            self.warn("general.hidden_fraction",
                      f"{share} of {len(eligible)} eligible user/relay node(s) rounds to none; "
                      "no node is hidden")
        return out

    def churning_agents(self) -> set[str]:
        """Users and relays that go offline and come back (upstream ``general.turnover``)."""
        turnover = self.cfg.general.turnover
        if turnover is None or not turnover.fraction:
            return set()
        eligible = self._eligible()
        k = round(turnover.fraction * len(eligible))
        out = set(random.Random(f"{self.seed}:turnover").sample(eligible, k))
        if out:
            self.warn("general.turnover",
                      f"node churn: {len(out)} user/relay node(s) go offline and come back; their "
                      f"groups get churn: "
                      f"{self.churn_section()} (which ones are drawn from the seed; seed nodes "
                      "stay up)")
        else:
            self.warn("general.turnover",
                      f"node churn: fraction {turnover.fraction} of {len(eligible)} eligible "
                      "user/relay node(s) rounds to none; every node stays up")
        return out

    def churn_section(self) -> dict[str, Any]:
        """``general.turnover`` as a group's ``churn`` (upstream defaults: min session 300 s,
        min downtime 30 s)."""
        t = self.cfg.general.turnover
        assert t is not None
        out: dict[str, Any] = {
            "mean_session_s": format_duration(t.mean_session),
            "mean_downtime_s": format_duration(t.mean_downtime),
            "min_session_s": format_duration(300.0 if t.min_session is None else t.min_session),
            "min_downtime_s": format_duration(30.0 if t.min_downtime is None else t.min_downtime),
        }
        if t.max_session is not None:
            out["max_session_s"] = format_duration(t.max_session)
        return out

    def _auto(self, where: str, value: float | str | None, fallback: float, what: str,
              shown: str | None = None) -> float:
        if isinstance(value, float):
            return value
        if value == "auto":
            self.warn(where, f"'auto' is upstream's calibrated timeline; {what} "
                             f"{shown or format_duration(fallback)} is used")
        return fallback

    def user_wallet(self, name: str, agent: LegacyAgent, node_agent: str,
                    wallets: list[_WalletSpec]) -> None:
        here = f"agents.{name}"
        interval = self._auto(f"{here}.transaction_interval", agent.transaction_interval,
                              AUTO_TRANSACTION_INTERVAL_S, "an interval of")
        timing = self.cfg.timing
        if agent.activity_start_time == "auto":
            start_default, shown = self.timeline["activity_start"], None
        elif timing and timing.activity_start_time is not None:
            start_default, shown = timing.activity_start_time, None
        elif self.bootstrap_s is not None:
            start_default, shown = self.bootstrap_s, None
        else:
            start_default, shown = agent.start_time or 0.0, "the agent's own start_time"
        start = self._auto(f"{here}.activity_start_time", agent.activity_start_time,
                           start_default, "without its calibrated per-user stagger, the start", shown)
        wallets.append(_WalletSpec(name, node_agent, TRANSACTION_BOT,
                                   {"interval_s": interval, "start_time": start},
                                   receives=bool(agent.can_receive_distributions)))

    def monitor(self, name: str, agent: LegacyAgent, has_daemon: bool) -> None:
        here = f"agents.{name}"
        what = ("its daemon becomes an observer node" if has_daemon
                else "it is left out")
        self.warn(here, f"the simulation monitor has no equivalent ({what}); every run records "
                        "each node's chain, peers and sync state in its result")
        for key in ("poll_interval", "status_file", "enable_alerts", "detailed_logging"):
            if getattr(agent, key) is not None:
                self.warn(f"{here}.{key}", "a setting of the simulation monitor; dropped")

    def custom(self, name: str, agent: LegacyAgent, has_daemon: bool,
               wallets: list[_WalletSpec]) -> None:
        here = f"agents.{name}"
        script = agent.script or "(no script)"
        if has_daemon and agent.wallet is not None:
            wallets.append(_WalletSpec(name, name, HODLER, {},
                                       receives=bool(agent.can_receive_distributions)))
            self.warn(f"{here}.script", f"{script}: no equivalent strategy; its wallet holds "
                                        f"funds ({HODLER}) and its daemon is a relay")
        elif has_daemon:
            self.warn(f"{here}.script", f"{script}: no equivalent behaviour; its daemon is a relay")
        else:
            self.warn(here, f"a script-only agent ({script}) has no equivalent; left out")

    def wallet_only(self, name: str, agent: LegacyAgent, nodes: list[_NodeSpec],
                    public: list[str], wallets: list[_WalletSpec]) -> None:
        here = f"agents.{name}"
        remote = agent.daemon
        assert isinstance(remote, RemoteDaemon)
        if remote.address == "auto" and public:
            host = public[0]
            note = f"its wallet talks to the public node {host}"
            if len(public) > 1 and remote.strategy not in (None, "first"):
                note += f" (strategy {remote.strategy} over {len(public)} public nodes is not modelled)"
        else:
            host = nodes[0].agent
            note = (f"remote daemon {remote.address!r} cannot be matched to an agent; its wallet "
                    f"talks to {host}")
        self.warn(f"{here}.daemon", note)
        before = len(wallets)
        if agent.script and agent.script.endswith("regular_user"):
            self.user_wallet(name, agent, host, wallets)
        else:
            wallets.append(_WalletSpec(name, host, HODLER, {}))
        if len(wallets) > before:
            wallets[-1].node_agent = host
            wallets[-1].receives = bool(agent.can_receive_distributions)

    def distributor(self, name: str, agent: LegacyAgent, nodes: list[_NodeSpec],
                    wallets: list[_WalletSpec], has_daemon: bool) -> None:
        """Upstream's miner distributor → a ``distributor`` wallet paying from every mining wallet.

        Its own wallet sits on the first miner (it holds nothing itself: the
        miners' ``mining_wallet`` s pay, as upstream's script pays from them).
        """
        here = f"agents.{name}"
        miners = [n.agent for n in nodes if n.role == "miner"]
        if not miners:
            self.warn(here, "the miner distributor has no miners to fund users from; left out")
            return
        timing = self.cfg.timing
        if agent.wait_time == "auto":
            wait_default = self.timeline["md_start"]
        else:
            wait_default = (timing.md_start_time if timing and timing.md_start_time is not None
                            else self.bootstrap_s if self.bootstrap_s is not None else 3600.0)
        wait = self._auto(f"{here}.wait_time", agent.wait_time, wait_default, "a wait of")
        outputs = agent.md_out_per_tx or UPSTREAM_OUT_PER_TX
        params: dict[str, Any] = {
            "wait_time": wait,
            "sources": "miners",
            "batch_size": agent.md_n_recipients or UPSTREAM_N_RECIPIENTS,
            "outputs_per_recipient": outputs,
        }
        if agent.md_output_amount is not None:
            params["initial_fund_amount"] = _atomic(str(agent.md_output_amount)) * outputs
            if agent.initial_fund_amount is not None:
                self.warn(f"{here}.initial_fund_amount",
                          "md_output_amount x md_out_per_tx sets the first round's amount; dropped")
        elif agent.initial_fund_amount is not None:
            params["initial_fund_amount"] = _atomic(agent.initial_fund_amount)
        else:
            params["initial_fund_amount"] = _atomic(UPSTREAM_OUTPUT_XMR) * outputs
        for key in ("min_transaction_amount", "max_transaction_amount"):
            value = getattr(agent, key)
            if value is not None:
                params[key] = _atomic(value)
        low, high = params.get("min_transaction_amount"), params.get("max_transaction_amount")
        if low is not None and high is None and low > ATOMIC_PER_XMR:
            params["max_transaction_amount"] = low
        if high is not None and low is None and high < ATOMIC_PER_XMR // 10:
            params["min_transaction_amount"] = high
        if has_daemon:
            self.warn(f"{here}.daemon", "the distributor's own daemon becomes a relay; it pays from "
                                        "the miners' wallets, not from a wallet of its own")
        wallets.append(_WalletSpec(name, miners[0], DISTRIBUTOR, params))
