"""Selfish mining (Eyal & Sirer 2014) on real daemons.

The attacker is a real ``monerod`` in a namespace of its own, started
``--offline``: it has no peers, so what it mines stays private. It mines with
``generateblocks`` on its own tip; it hears honest blocks at once (the driver
hands them to it with ``submitblock``, the attacker's "fast links in"), and it
*publishes* by relaying its blocks over the real wire protocol: a Levin peer of
this process (:mod:`pytest_monerosim.p2p`), on an address of the run's bridge,
connected to every honest daemon, sends each block as ``NOTIFY_NEW_FLUFFY_BLOCK``.
What the honest daemons do with it — keep their first-seen block at equal
height, reorganise to a longer chain, relay what became their main chain — is
monerod's own.

**Blocks are events, not timed.** Regtest has no real hashrate, so mining is
drawn: each next block is the attacker's with probability ``alpha``, else an
honest miner's by its hashrate share (the simulator's Poisson race, in the
order it produces). After each block the driver waits until the honest
daemons settled (every honest tip at the new public height) before the next,
so no block goes stale from the machine's relay delay (no time-scale
artefact; ``extra["selfish_mining_clock"]`` says so). The number of blocks is
``duration / target``. The run's recorded times are wall times mapped by the
time scale and mean nothing for this attack.

**State machine** (the simulator's ``SelfishStrategy``, by the attacker's lead
over the public height): finds a block → withhold it, or in a race (state 0')
publish it and win; an honest block with lead left < 0 → adopt the public
chain; 0 → publish (a race); 1 → publish all (longer: the honest daemons
reorganise); ≥ 2 → publish what is at or below the public height.

**γ.** When a race starts, the attacker's block goes at once to a random set
S of honest miners (each with probability π = γ / (1 − Σ p_i²), as in the
simulator) — racing the honest block's real propagation — and to the others
after they have the honest block. ``gamma_measured`` is what the daemons did:
the share of races decided by an honest block that was mined on the
attacker's block. With γ = 0 nobody gets it first.

Revenue: attacker blocks over all blocks of the final honest main chain up to
the last block the attacker's branch and the public chain share, from the
chain the monitor recorded (miners from this driver's ``mined`` records).
"""

from __future__ import annotations

import math
import random
import time
from typing import TYPE_CHECKING, Any

from ...agents.runtime import Clock, EventLog
from ...attacks.selfish_mining import SelfishMiningParams, count_orphans, race_probability, selfish_metrics
from ...rpc import DaemonRpc
from .. import BackendUnavailable
from ..plan import BURN_ADDRESS
from .daemon import MonerodNode
from .errors import MonerodBackendError, RpcError
from .ports import NodePorts

if TYPE_CHECKING:
    from ...config.model import Scenario
    from ...registry import Registry
    from ...result.model import Result
    from ..plan import HostPlan
    from .network import LoopbackNetwork

SETTLE_TIMEOUT_S = 30.0
POLL_S = 0.02
ATTACKER_P2P, ATTACKER_RPC = 18080, 18081


class SelfishMiningRun:
    """The attacker daemon, its Levin publisher, and Eyal-Sirer's state machine."""

    def __init__(self, params: SelfishMiningParams, scenario: Scenario,
                 network: LoopbackNetwork) -> None:
        if network.netns is None:
            raise BackendUnavailable(
                "selfish_mining on monerod needs namespaces (root and 'ip netns'): the attacker "
                f"publishes from an address of the run's bridge (this run: {network.isolation_reason})")
        self.p = params
        self.net = network
        self.rng = random.Random(f"{scenario.general.seed}:selfish_mining")
        hosts: list[HostPlan] = [h for h in network.plan.daemon_hosts()
                                 if h.role == "miner" and h.hashrate > 0]
        if not hosts:
            raise MonerodBackendError("selfish_mining: the scenario has no honest miner")
        self.miners = [h.name for h in hosts]
        total = sum(h.hashrate for h in hosts)
        self.shares = [h.hashrate / total for h in hosts]
        self.pi = race_probability(params.gamma, [h.hashrate for h in hosts])
        honest = {h.name for h in network.plan.daemon_hosts() if h.honest}
        self.honest = [d for d in network.daemons.values() if d.name in honest]
        self.attacker: MonerodNode | None = None
        self.bg: Any = None
        self.ident: Any = None
        self.conns: dict[str, Any] = {}
        self.log: EventLog | None = None
        # state
        self.withheld: list[tuple[str, int]] = []
        self.race: tuple[str, int] | None = None
        self.fork: int | None = None
        """Height the attacker's open branch forks from the public chain (None: no branch)."""
        # measurements
        self.found = self.withheld_total = self.honest_found = 0
        self.races = self.races_attacker = self.races_gamma = self.races_rival = 0
        self.settle_wall: list[float] = []

    # -- setup ---------------------------------------------------------------------
    def start(self) -> None:
        net = self.net
        assert net.netns is not None
        name = self.p.node
        address = net.netns.spare_addresses(1)[0]
        net.netns.add_host(name, [address])
        host_dir = net.host_dir(name)
        host_dir.mkdir(parents=True, exist_ok=True)
        node = MonerodNode(name, host_dir / "chain", NodePorts(ATTACKER_P2P, ATTACKER_RPC, 0, 0),
                           offline=True, binary=net.monerod_bin, run_dir=host_dir)
        # its RPC address is not loopback: the command line adds --confirm-external-bind
        node.exec_prefix = net.netns.exec_prefix(name)
        node.host = address
        node.rpc = DaemonRpc(address, ATTACKER_RPC, timeout=node.rpc.timeout)
        self.attacker = node
        node.start()
        node.wait_ready(60.0)
        self.log = EventLog(net.host_dir(net.monitor_host) / "selfish_mining.jsonl", "selfish_mining",
                            Clock(net.t0 or time.time(), net.time_scale))
        self._adopt()
        from ...p2p import BackgroundSwarm  # the Levin peer only when asked for

        self.bg = BackgroundSwarm(seed=self.rng.getrandbits(32))
        swarm = self.bg.swarm
        publisher = net.attacker_addresses(1)[0]
        self.ident = self.bg.call(swarm.serve(publisher))
        for d in self.honest:
            self.conns[d.name] = self.bg.call(
                swarm.connect((d.address, d.spec.p2p_port), source=self.ident, timeout=10.0))

    def close(self) -> None:
        if self.bg is not None:
            self.bg.close()
        if self.attacker is not None:
            self.attacker.stop(timeout=5.0)
        if self.log is not None:
            self.log.close()

    # -- chain plumbing --------------------------------------------------------------
    def _has(self, rpc: DaemonRpc, block: str) -> bool:
        try:
            rpc.get_block_header_by_hash(block)
            return True
        except RpcError:
            return False

    def _public(self) -> tuple[str, int]:
        """The heaviest honest tip (every honest daemon agrees on its height when settled)."""
        best = max((d.rpc.get_info() for d in self.honest), key=lambda i: int(i["height"]))
        return str(best["top_block_hash"]), int(best["height"]) - 1

    def _submit(self, rpc: DaemonRpc, blob: str) -> None:
        body = {"jsonrpc": "2.0", "id": "0", "method": "submitblock", "params": [blob]}
        answer = rpc.session.post(f"{rpc.base_url}/json_rpc", json=body, timeout=30.0).json()
        if answer.get("error") and "already" not in str(answer["error"]).lower():
            raise MonerodBackendError(f"submitblock to the attacker: {answer['error']}")

    def _adopt(self) -> None:
        """Give the attacker the public chain it lacks (it then mines on the public tip)."""
        assert self.attacker is not None
        tip, _ = self._public()
        source = next(d for d in self.honest if self._has(d.rpc, tip))
        missing = []
        block = tip
        while not self._has(self.attacker.rpc, block):
            missing.append(block)
            block = str(source.rpc.get_block_header_by_hash(block)["prev_hash"])
        for block in reversed(missing):
            self._submit(self.attacker.rpc, str(source.rpc.get_block(block_hash=block)["blob"]))

    def _publish(self, blocks: list[tuple[str, int]], to: list[str]) -> None:
        """Relay ``blocks`` (in order) to the honest daemons ``to`` over Levin; wait until each has them."""
        assert self.attacker is not None
        swarm = self.bg.swarm
        targets = [d for d in self.honest if d.name in to]
        for block, height in blocks:
            blob = bytes.fromhex(str(self.attacker.rpc.get_block(block_hash=block)["blob"]))
            for d in targets:
                self.bg.call(swarm.send_block(self.conns[d.name], blob, [], height + 1))
            self._wait(lambda b=block: all(self._has(d.rpc, b) for d in targets),
                       f"attacker block {block[:12]} at the honest daemons")

    def _wait(self, done: Any, what: str) -> None:
        begun = time.monotonic()
        while not done():
            if time.monotonic() - begun > SETTLE_TIMEOUT_S:
                raise MonerodBackendError(f"selfish_mining: waited {SETTLE_TIMEOUT_S:g} s for {what}")
            time.sleep(POLL_S)
        self.settle_wall.append(time.monotonic() - begun)

    def _settled_at(self, height: int) -> None:
        self._wait(lambda: all(int(d.rpc.get_info()["height"]) - 1 >= height for d in self.honest),
                   f"every honest daemon at height {height}")

    def _record(self, node: str, block: str, height: int) -> None:
        assert self.log is not None
        self.log.write("mined", node=node, block=block, height=height)

    # -- the state machine -------------------------------------------------------------
    def step(self) -> None:
        if self.rng.random() < self.p.alpha:
            self._attacker_finds()
        else:
            i = self.rng.choices(range(len(self.miners)), weights=self.shares)[0]
            self._honest_finds(self.miners[i])

    def _attacker_finds(self) -> None:
        assert self.attacker is not None
        answer = self.attacker.rpc.generateblocks(1, BURN_ADDRESS)
        block, height = str(answer["blocks"][0]), int(answer["height"])
        self.found += 1
        self._record(self.p.node, block, height)
        if self.race is not None:  # state 0': publish at once and win the race
            self.races_attacker += 1
            self.race = self.fork = None
            self._publish([(block, height)], [d.name for d in self.honest])
            self._converge(block)
            return
        if not self.withheld and self.fork is None:
            self.fork = height - 1
        self.withheld.append((block, height))
        self.withheld_total += 1

    def _honest_finds(self, miner: str) -> None:
        daemon = self.net.daemons[miner]
        _, public_height = self._public()
        lead_before = self.withheld[-1][1] - public_height if self.withheld else 0
        chosen: list[str] = []
        if self.race is None and lead_before == 1:  # a race begins: S hears the attacker first
            chosen = [m for m in self.miners if m != miner and self.rng.random() < self.pi]
        answer = daemon.rpc.generateblocks(1, BURN_ADDRESS)
        block, height = str(answer["blocks"][0]), int(answer["height"])
        self.honest_found += 1
        self._record(miner, block, height)
        if chosen:
            self._publish(list(self.withheld), chosen)
        self._settled_at(height)
        if self.race is not None:  # the race is decided by this honest block
            parent = str(daemon.rpc.get_block_header_by_hash(block)["prev_hash"])
            if parent == self.race[0]:
                self.races_gamma += 1
            else:
                self.races_rival += 1
            self.race = self.fork = None
            self._converge(block)
            self._adopt()
            return
        if not self.withheld:
            self._adopt()
            return
        lead = self.withheld[-1][1] - height
        everyone = [d.name for d in self.honest]
        if lead < 0:
            self.withheld.clear()
            self.fork = None
            self._adopt()
        elif lead == 0:  # publish: a race at equal height
            blocks = list(self.withheld)
            self.withheld.clear()
            self.race = blocks[-1]
            self.races += 1
            self._publish(blocks, everyone)
        elif lead == 1:  # publish everything: longer, the honest daemons reorganise
            blocks = list(self.withheld)
            self.withheld.clear()
            self.fork = None
            self._publish(blocks, everyone)
            self._converge(blocks[-1][0])
        else:
            n = sum(1 for _, h in self.withheld if h <= height)
            blocks = self.withheld[:n]
            del self.withheld[:n]
            if blocks:
                self._publish(blocks, everyone)

    def _converge(self, tip: str) -> None:
        self._wait(lambda: all(str(d.rpc.get_info()["top_block_hash"]) == tip for d in self.honest),
                   f"every honest daemon on {tip[:12]}")

    # -- results -------------------------------------------------------------------------
    def settled_height(self) -> int:
        """The last height the attacker's branch and the public chain share."""
        _, public_height = self._public()
        return public_height if self.fork is None else min(self.fork, public_height)

    def metrics(self, result: Result, settled: int) -> dict[str, Any]:
        p = self.p
        main = [b for b in result.main_chain()[1:] if b.height <= settled]
        on_main = {b.id for b in main}
        orphan_honest, orphan_ours = count_orphans(result.blocks.values(), settled, on_main, p.node)
        metrics = selfish_metrics(
            attacker=p.node, alpha=p.alpha, main_miners=[str(b.miner) for b in main],
            found=self.found, honest_found=self.honest_found, withheld=self.withheld_total,
            orphaned_honest=orphan_honest, orphaned_attacker=orphan_ours, races=self.races,
            races_attacker=self.races_attacker, races_gamma=self.races_gamma,
            races_rival=self.races_rival, race_probability=self.pi)
        metrics["settle_wall_s_p50"] = _median(self.settle_wall)
        return metrics


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    data = sorted(values)
    return round(data[len(data) // 2], 4)


def run_selfish_mining(network: LoopbackNetwork, scenario: Scenario, registry: Registry) -> Result:
    """The whole run: ``duration / target`` block events, then collect and report."""
    ref = next(a for a in scenario.attacks if a.name == "selfish_mining")
    params = registry.get("attack", "selfish_mining").params.model_validate(ref.params)
    assert isinstance(params, SelfishMiningParams)
    run = SelfishMiningRun(params, scenario, network)
    try:
        run.start()
        blocks = max(1, math.ceil(network.plan.duration / network.plan.target_s))
        for _ in range(blocks):
            run.step()
            network.check_health()
        settled = run.settled_height()
        result = network.collect()
        base = (result.extra.get("warm_chain") or {}).get("tip_height") or 0
        metrics = run.metrics(result, settled - int(base))
        result.attacks.setdefault("selfish_mining", {}).update(metrics)
        result.extra["timing"] = {"time_scale": None, "note": (
            "event-driven run: every block awaited until the honest daemons settled, so no block "
            "went stale from the machine's relay delay; block times are not simulated")}
        result.extra["selfish_mining_clock"] = (
            f"event-driven: {blocks} blocks drawn in sequence (attacker with probability alpha, "
            "else an honest miner by hashrate share), each awaited until the honest daemons "
            "settled; block times are not simulated")
        return result
    finally:
        run.close()


__all__ = ["SelfishMiningRun", "run_selfish_mining"]
