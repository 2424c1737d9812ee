"""The ``monerod`` backend: a scenario as real regtest processes, each daemon its own host.

As root with working ``ip netns``, every daemon (with its wallet-rpcs) runs in
a network namespace of its own with its own address (:mod:`.netns`); else on
loopback. ``extra["isolation"]`` (or ``MONEROSIM_ISOLATION``) = ``auto``
(default), ``netns`` or ``loopback``; the choice and its reason are printed
(one line on stderr) and recorded in ``result.extra["network"]``.

``run(scenario, registry, options)`` plans the scenario
(:func:`~pytest_monerosim.backends.plan.build_plan`), stands it up with
:class:`~.network.LoopbackNetwork` (daemons started together and awaited in
parallel, peered by the plan, synchronized; one wallet-rpc per wallet), runs
the agents for ``duration / time_scale`` wall seconds, then collects: the
monitor's final sweep of every node (chains, alternative chains, pools,
peers, wallets) and every monerod log (arrival of each block at each node to
1 ms of wall time, i.e. ``time_scale / 1000`` simulated seconds; reorgs), and
returns the same :class:`~pytest_monerosim.result.model.Result` as the
simulator, with ``backend == "monerod"``.

Options (``RunOptions``): ``workdir`` (default a fresh directory under
``$TMPDIR/monerosim-runs-<uid>/``), ``time_scale`` (simulated seconds per
wall second, default 120), ``monerod_bin`` / ``wallet_rpc_bin``, and in
``extra``: ``monerod_agents`` = ``thread`` (default: agents on threads of
this process) or ``process`` (each agent as ``python -m
pytest_monerosim.agents.<script>``, as under Shadow), ``plugin_modules``
(modules with a ``PLUGINS`` list that agent processes load), ``monitor_poll_s``
(default 30 simulated seconds), ``premine`` (``{wallet: blocks}`` mined to those
wallets before time 0, so a run can start with spendable coins; their records
have negative times), ``warmup_block`` (one block mined before time 0 so that
every node has built its RandomX cache before the run: recommended from ~10
nodes, where that first-block cost stalls propagation for seconds),
``warm_chain`` (``auto``, the default: a scenario whose wallets send starts from a
cached regtest chain of :data:`~.warmchain.DEFAULT_HEIGHT` blocks, so ring
size 16 finds its decoys; ``true``/``false``, or a height; see
:mod:`.warmchain`; heights in the result count from that chain's tip).

Differences from the simulator, by nature of regtest: difficulty is fixed
(every block has difficulty 1, so the heaviest chain is the longest), and
mining is ``generateblocks`` on each miner's Poisson timer; relay, sync,
reorgs, pools and wallets are monerod's own.

Attack plugins run through per-attack drivers (:mod:`.attacks`: ``partition``
so far) with the same parameters and metrics as on the simulator; a scenario
with any other attack raises ``BackendUnavailable`` naming the supported ones.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...config.errors import ScenarioError
from .. import BackendUnavailable
from ..plan import PlanOptions
from .attacks import WHOLE_RUN, require_supported, run_with_attacks
from .daemon import MONEROD, check_version, find_binary
from .errors import BinaryNotFound, BinaryVersionError
from .network import LoopbackNetwork, default_root
from .wallet import WALLET_RPC
from .warmchain import DEFAULT_HEIGHT

FALLBACK_TIME_SCALE = 120.0
"""Simulated seconds per wall second when neither the options nor the scenario say."""

if TYPE_CHECKING:
    from ...config.model import Scenario
    from ...layout import NetworkLayout
    from ...registry import Registry
    from ...result.model import Result
    from .. import RunOptions

def require_binaries(options: RunOptions, wallets: bool = True) -> dict[str, Path]:
    """Paths of monerod (and monero-wallet-rpc); ``BackendUnavailable`` naming the package."""
    wanted = [(MONEROD, options.monerod_bin)]
    if wallets:
        wanted.append((WALLET_RPC, options.wallet_rpc_bin))
    found: dict[str, Path] = {}
    for name, configured in wanted:
        try:
            path = find_binary(name, configured)
            check_version(str(path))
        except BinaryNotFound as exc:
            # the message names the binary and Debian's package 'monero'
            raise BackendUnavailable(f"the monerod backend cannot run: {exc}") from None
        except BinaryVersionError as exc:
            raise BackendUnavailable(f"the monerod backend needs Monero 0.18: {exc}") from None
        found[name] = path
    return found


def run(scenario: Scenario, registry: Registry, options: RunOptions,
        layout: NetworkLayout | None = None) -> Result:
    """Stand ``scenario`` up as real processes (from ``layout``, its expansion, when given),
    run it, and return its result."""
    require_supported(scenario)  # attacks with a monerod driver (.attacks) only
    binaries = require_binaries(options, wallets=bool(scenario.wallets))
    # backend options: the scenario's own (``extra["monerod"]``), overridden by top-level ones
    nested = options.extra.get("monerod")
    extra: dict[str, Any] = {**(dict(nested) if isinstance(nested, dict) else {}),
                             **{k: v for k, v in options.extra.items() if k != "monerod"}}
    time_scale = float(options.time_scale or extra.get("time_scale") or FALLBACK_TIME_SCALE)
    plan_options = PlanOptions(
        monitor=True, monitor_poll_s=float(extra.get("monitor_poll_s", 30.0)),
    )
    with LoopbackNetwork.from_scenario(
        scenario, registry, layout=layout, workdir=_workdir(options), plan_options=plan_options,
        time_scale=time_scale, monerod_bin=str(binaries[MONEROD]),
        wallet_rpc_bin=str(binaries[WALLET_RPC]) if WALLET_RPC in binaries else None,
        # a whole-run attack (selfish mining) draws every block itself: no miner agents
        agents="none" if any(a.name in WHOLE_RUN for a in scenario.attacks)
        else str(extra.get("monerod_agents", "thread")),
        plugin_modules=_modules(extra.get("plugin_modules", ())),
        progress=options.progress,
        premine={str(k): int(v) for k, v in dict(extra.get("premine") or {}).items()},
        warmup_block=bool(extra.get("warmup_block", False)),
        warm_chain=warm_chain_height(extra.get("warm_chain", "auto"), _spends(scenario)),
        observer=extra.get("observer"),
        isolation=str(extra.get("isolation", os.environ.get("MONEROSIM_ISOLATION", "auto"))),
    ) as network:
        _say(f"monerosim: monerod hosts: {network.isolation} ({network.isolation_reason})")
        if scenario.transactions.shape is not None:
            _say("monerosim: transactions.shape is the simulator's: real wallets choose their "
                 "inputs and outputs (monero-wallet-rpc's transfer)")
        options.partial = network.partial_result  # what an interrupted or failed run measured
        network.start()
        if scenario.attacks:
            return run_with_attacks(network, scenario, registry)
        network.run()
        return network.collect()


def _spends(scenario: Scenario) -> bool:
    """Whether a wallet of ``scenario`` may send (a strategy other than receive-only ones)."""
    return any(g.strategy.name not in RECEIVE_ONLY for g in scenario.wallets)


RECEIVE_ONLY = ("hodler", "mining_wallet")


def warm_chain_height(value: object, has_wallets: bool) -> int:
    """The ``warm_chain`` option as a height (0: none); a bad value is a :class:`ScenarioError`
    (one usage line naming the field, the value and what is accepted: pytest's ``UsageError``,
    the CLI's exit 2)."""
    if value == "auto" or value is None:
        return DEFAULT_HEIGHT if has_wallets else 0
    if isinstance(value, bool):
        return DEFAULT_HEIGHT if value else 0
    if isinstance(value, int) and value >= 0:
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "yes", "no", "on", "off"):
        return DEFAULT_HEIGHT if value.lower() in ("true", "yes", "on") else 0
    raise ScenarioError(f"backends.monerod.options.warm_chain={value!r}; accepted: auto, true, false, "
                        f"or a height (an integer >= 0)")


def _say(line: str) -> None:
    """One informational line on stdout (pytest shows it with the test's captured output);
    stderr is kept for errors, so a failed run's one line stays the only one there."""
    print(line, flush=True)


def _workdir(options: RunOptions) -> Path:
    """A fresh run directory: under ``options.workdir`` if given, else the per-user root."""
    root = Path(options.workdir) if options.workdir else default_root()
    root.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f"run-{os.getpid()}-", dir=root))


def _modules(value: object) -> Sequence[str]:
    if isinstance(value, str):
        return [m for m in value.split(",") if m]
    return [str(m) for m in value] if isinstance(value, (list, tuple)) else []
