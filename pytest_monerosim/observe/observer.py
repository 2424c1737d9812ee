"""The observer: one per pytest session (or ``monerosim serve`` run) that watches networks run.

It owns the :class:`~.bus.EventBus`, the :class:`~.registry.AgentRegistry`, the
current run's status and :class:`~.control.RunGate`, the controller that
takes agent commands, and optionally a JSON-lines log of every kept event.
:meth:`Observer.run` wraps one network run: it announces it, hands the
backend a progress callback and (on the embedded simulator) a component that
publishes live events and honours pause/step/resume, and when the backend
has no live events it replays the finished result onto the bus so the
dashboard and the log still show what happened.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from . import bus as ev
from .control import RUN_COMMANDS, AgentController, CommandError, NotRunning, RunGate, UnknownAgent
from .registry import AgentRegistry

if TYPE_CHECKING:
    from ..backends import RunOptions
    from ..result.model import Result

ENGINE_ID = "sim"
"""Agent id of the embedded simulator itself (takes pause/step/resume)."""


class JsonLinesLog:
    """Writes kept bus events as JSON lines (with the run and test they belong to)."""

    def __init__(self, path: Path, context: Callable[[], dict[str, Any]]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file: IO[str] | None = path.open("a", encoding="utf-8")
        self._context = context
        self._lock = threading.Lock()

    def __call__(self, event: ev.Event) -> None:
        if event.kind in ev.NOT_KEPT or self._file is None:
            return
        line = json.dumps({**self._context(), **event.as_dict()}, default=str)
        with self._lock:
            self._file.write(line + "\n")

    def flush(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.flush()

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


class Observer:
    def __init__(self, *, history: int = 10_000, watch: bool = True) -> None:
        self.watch = watch
        """Live mode: hook into the simulator (events as they happen, pause/step/resume).
        Without it (the JSON-lines log only) each finished result is replayed instead."""
        self.bus = ev.EventBus(history)
        self.registry = AgentRegistry()
        self.registry.attach(self.bus)
        self.gate: RunGate | None = None
        self.controller: AgentController | None = None
        self.live = False
        """True once the current run's backend publishes events itself."""
        self.current: dict[str, Any] | None = None
        self.finished: list[dict[str, Any]] = []
        self.started = time.time()
        self._lock = threading.Lock()
        self._run_seq = 0
        self._log: JsonLinesLog | None = None

    # -- logging ---------------------------------------------------------------
    def log_to(self, path: Path, **static: Any) -> JsonLinesLog:
        def context() -> dict[str, Any]:
            run = self.current or {}
            return {**static, "run": run.get("id"), "test": run.get("test")}

        self._log = JsonLinesLog(path, context)
        self.bus.subscribe(self._log)
        return self._log

    def close(self) -> None:
        if self.gate is not None:
            self.gate.close()
        if self._log is not None:
            self._log.close()

    # -- one run ---------------------------------------------------------------
    @contextmanager
    def run(
        self, *, scenario: Any, backend: str, options: RunOptions, test: str | None = None
    ) -> Iterator[dict[str, Any]]:
        """Observe one network run (``options`` gets the progress callback and sim component)."""
        general = scenario.general
        if self.current is not None and self.current["state"] == "summarising":
            self._end_run()  # the previous run's result never came
        with self._lock:
            self._run_seq += 1
            run_id = self._run_seq
        duration = float(options.duration if options.duration is not None else general.duration)
        seed = options.seed if options.seed is not None else general.seed
        self.current = {
            "id": run_id,
            "test": test,
            "scenario": general.name,
            "backend": backend,
            "seed": seed,
            "duration": duration,
            "state": "building",
            "sim_time": 0.0,
            "events": 0,
            "rate": 0.0,
            "started": time.time(),
            "wall_started": time.perf_counter(),
            "eta_s": None,
        }
        self.live = False
        self.gate = RunGate(on_change=self._gate_changed)
        self.bus.publish(
            ev.RUN_START,
            time=0.0,
            scenario=general.name,
            backend=backend,
            seed=seed,
            duration=duration,
            test=test,
        )
        self._chain_progress(options)
        # Real backends may publish on observer.bus, set observer.live and observer.controller.
        options.extra["observer"] = self
        if backend == "sim" and self.watch:
            from .sim_component import SimObserver, add_sim_component

            add_sim_component(options, SimObserver(self))
        try:
            yield self.current
        except BaseException as exc:
            if self.current["state"] in ("interrupted", "failed"):
                raise  # run_done already told the story of this partial run
            self.current["state"] = "failed"
            self.bus.publish(
                ev.RUN_ERROR, time=self.current["sim_time"], error=f"{type(exc).__name__}: {exc}"
            )
            self._end_run()
            raise
        if self.gate is not None:
            self.gate.close()
        self.current["state"] = "summarising"

    def run_done(self, result: Result, summary: dict[str, Any]) -> None:
        """Call with the finished run's result (replays it when there were no live events)."""
        if self.current is None:
            return
        if not self.live:
            self.feed_result(result)
        status = str(summary.get("status") or "finished")  # or interrupted / failed (partial)
        self.current.update(state=status, sim_time=result.sim_seconds, events=result.events)
        blocks = summary.get("blocks", {})
        if status != "finished":
            self.bus.publish(ev.RUN_ERROR, time=result.sim_seconds, error=summary.get("error"),
                             status=status, height=blocks.get("main_chain_height"))
            self._end_run()
            return
        self.bus.publish(
            ev.RUN_END,
            time=result.sim_seconds,
            height=blocks.get("main_chain_height"),
            blocks=blocks.get("mined"),
            reorgs=summary.get("reorgs", {}).get("count"),
            consensus=summary.get("consensus", {}).get("agreed"),
            wall_seconds=summary.get("wall_seconds"),
        )
        self._end_run()

    def _end_run(self) -> None:
        if self.gate is not None:
            self.gate.close()
        run = self.current
        if run is None:
            return
        if run["state"] not in ("finished", "failed", "interrupted"):
            run["state"] = "finished"
        self.finished.append({k: v for k, v in run.items() if k != "wall_started"})
        self.controller = None
        if self._log is not None:
            self._log.flush()

    def _chain_progress(self, options: RunOptions) -> None:
        previous = options.progress

        def progress(sim_time: float, duration: float, events: int) -> None:
            self.progress(sim_time, duration, events)
            if previous is not None:
                previous(sim_time, duration, events)

        options.progress = progress

    def progress(self, sim_time: float, duration: float, events: int) -> None:
        run = self.current
        if run is None:
            return
        elapsed = time.perf_counter() - run["wall_started"]
        if run["state"] == "building":
            run["state"] = "running"
        run.update(sim_time=sim_time, events=events, rate=events / elapsed if elapsed > 0 else 0.0)
        if duration and 0 < sim_time < duration:
            run["eta_s"] = elapsed * (duration - sim_time) / sim_time
        self.bus.publish(ev.RUN_PROGRESS, time=sim_time, events=events, rate=run["rate"])
        if self.gate is not None:
            self.gate.checkpoint(sim_time)

    def _gate_changed(self, change: str, now: float) -> None:
        if self.current is not None:
            self.current["state"] = "paused" if change == "paused" else "running"
            self.current["sim_time"] = now
        self.bus.publish(ev.RUN_PAUSED if change == "paused" else ev.RUN_RESUMED, time=now)

    # -- replay of a finished result -----------------------------------------
    def feed_result(self, result: Result) -> None:
        """Publish a finished result's story: agents, blocks, reorgs, txs, final tips and peers."""
        bus = self.bus
        self.register_agents(result)
        timeline: list[tuple[float, int, str, str | None, dict[str, Any]]] = []
        for block in result.blocks.values():
            if block.parent is not None:
                timeline.append(
                    (
                        block.found_at,
                        0,
                        ev.BLOCK_FOUND,
                        block.miner,
                        {"id": block.id, "height": block.height, "miner": block.miner},
                    )
                )
        for r in result.reorgs:
            timeline.append(
                (
                    r.time,
                    1,
                    ev.REORG,
                    r.node,
                    {
                        "depth": r.depth,
                        "old_tip": r.old_tip,
                        "new_tip": r.new_tip,
                        "fork_height": r.fork_height,
                    },
                )
            )
        for tx in result.txs.values():
            timeline.append((tx.created_at, 2, ev.TX, tx.origin, {"id": tx.id, "fee": tx.fee}))
        timeline.sort(key=lambda e: (e[0], e[1]))
        for t, _, kind, agent, data in timeline:
            bus.publish(kind, time=t, agent=agent, **data)
        degree: dict[str, int] = {}
        if result.peer_snapshots:
            last = max(result.peer_snapshots, key=lambda s: s.time)
            for a, b in last.edges:
                degree[a] = degree.get(a, 0) + 1
                degree[b] = degree.get(b, 0) + 1
        for name, tip in result.tips.items():
            tip_block = result.blocks.get(tip)
            if tip_block is not None:
                bus.publish(
                    ev.TIP_CHANGED, time=result.sim_seconds, agent=name, height=tip_block.height, block=tip
                )
            if name in degree:
                bus.publish(
                    ev.PEER_CONNECT,
                    time=result.sim_seconds,
                    agent=name,
                    peers=degree[name],
                    peer=None,
                    snapshot=True,
                )

    def register_agents(self, result: Result) -> None:
        for name, info in result.nodes.items():
            if name not in self.registry:
                self.bus.publish(
                    ev.AGENT_UP,
                    time=0.0,
                    agent=name,
                    kind="node",
                    role=info.role,
                    group=info.group,
                    honest=info.honest,
                    state="running",
                )
        for name, wallet in result.wallets.items():
            wid = f"wallet:{name}"
            if wid not in self.registry:
                self.bus.publish(
                    ev.AGENT_UP,
                    time=0.0,
                    agent=wid,
                    kind="wallet",
                    role=wallet.strategy,
                    group=wallet.node,
                    state="running",
                )

    # -- reading -----------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        run = dict(self.current) if self.current else None
        if run is not None:
            run.pop("wall_started", None)
            gate = self.gate
            run["paused"] = bool(gate and gate.paused and gate.is_open)
            if gate is not None and gate.is_open:
                run["sim_time"] = max(run["sim_time"], gate.now)  # checkpoints are more frequent
        agents = self.registry.all()
        heights = [a.height for a in agents if a.kind == "node" and a.honest]
        return {
            "state": run["state"] if run else "idle",
            "run": run,
            "runs_finished": len(self.finished),
            "agents": len(agents),
            "nodes": sum(1 for a in agents if a.kind == "node"),
            "height": {"max": max(heights, default=0), "min": min(heights, default=0)},
            "events": self.bus.last_seq,
            "uptime_s": round(time.time() - self.started, 3),
        }

    # -- commands ------------------------------------------------------------------
    def commands_for(self, agent_id: str) -> tuple[str, ...]:
        agent = self.registry.get(agent_id)
        if agent is None:
            raise UnknownAgent(agent_id)
        out: tuple[str, ...] = RUN_COMMANDS if self.backend_can_pause() else ()
        if self.controller is not None:
            try:
                out += tuple(c for c in self.controller.commands(agent_id) if c not in out)
            except UnknownAgent:
                pass
        return out

    def backend_can_pause(self) -> bool:
        return self.live and self.gate is not None

    def command(self, agent_id: str, name: str, args: dict[str, Any]) -> dict[str, Any]:
        if self.registry.get(agent_id) is None:
            raise UnknownAgent(agent_id)
        if not isinstance(name, str) or not name:
            raise CommandError("body needs a 'command' string")
        if not isinstance(args, dict):
            raise CommandError("'args' must be a JSON object")
        accepted = self.commands_for(agent_id)
        if name not in accepted and name not in RUN_COMMANDS:
            raise CommandError(
                f"unknown command {name!r} for {agent_id}; accepted: "
                f"{', '.join(accepted) or 'none while no network runs'}"
            )
        gate = self.gate
        if gate is None or not gate.is_open or self.current is None or self.current["state"] == "finished":
            raise NotRunning("no network is running")
        if name in RUN_COMMANDS:
            if not self.backend_can_pause():
                raise CommandError(f"backend {self.current['backend']} cannot {name}")
            result = (
                gate.pause() if name == "pause" else gate.resume() if name == "resume" else gate.step(args)
            )
            if name == "pause" and self.current is not None:
                self.current["state"] = "pausing"
        else:
            assert self.controller is not None
            result = self.controller.command(agent_id, name, args)
        self.bus.publish(ev.COMMAND, time=gate.now, agent=agent_id, name=name, args=args, result=result)
        return result

    # -- metrics -------------------------------------------------------------------
    def metrics_text(self) -> tuple[bytes, str]:
        """Prometheus text exposition of the current state (prometheus-client, imported here)."""
        from .metrics import render

        return render(self)
