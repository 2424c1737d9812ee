"""The observer: one per pytest session (or ``monerosim serve`` run) that watches networks run.

It owns the :class:`~.bus.EventBus`, the :class:`~.registry.AgentRegistry`, the
current run's status and :class:`~.control.RunGate`, the controller that
takes agent commands, and optionally a JSON-lines log of every kept event.
:meth:`LiveSession.run` wraps one network run: it announces it, hands the
backend a progress callback and (on the embedded simulator) a component that
publishes live events and honours pause/step/resume, and when the backend
has no live events it replays the finished result onto the bus so the
dashboard and the log still show what happened.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from . import bus as ev
from .agent_registry import AgentRegistry
from .control import RUN_COMMANDS, AgentController, CommandError, NotRunning, RunGate, UnknownAgent
from .views import RunViews

if TYPE_CHECKING:
    from ..backends import RunOptions
    from ..result.model import Result

ENGINE_ID = "sim"
"""Agent id of the embedded simulator itself (takes pause/step/resume)."""
SAMPLES_PER_RUN = 720
"""``run.sample`` events over a run's simulated duration (the dashboard's series)."""
MAX_SAMPLED_NODES = 2000
"""Up to this many agents, each sample carries the node heights that changed (for replays)."""
TX_RATE_WINDOW_S = 600.0
"""The tx rate of a sample is taken over this much simulated time."""
STATUS_TTL_S = 0.25
"""How long a status / agents snapshot is served before it is rebuilt (wall seconds)."""


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


class LiveSession:
    """The live-observation hub one pytest session or CLI run owns: event bus, agent registry,
    run views, pause/step gate and agent control, behind the REST API and dashboard. (The node
    role ``observer`` is a behaviour, :class:`~pytest_monerosim.agents.behaviours.ObserverBehaviour`.)"""

    def __init__(self, *, history: int = 10_000, watch: bool = True) -> None:
        self.watch = watch
        """Live mode: hook into the simulator (events as they happen, pause/step/resume).
        Without it (the JSON-lines log only) each finished result is replayed instead."""
        self.bus = ev.EventBus(history)
        self.registry = AgentRegistry()
        self.registry.attach(self.bus)
        self.views = RunViews()
        self.views.attach(self.bus)
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
        self._events_file: Any = None
        self._next_sample = 0.0
        self._sample_every = 60.0
        self._tx_window: deque[tuple[float, int]] = deque()
        self._last_heights: dict[str, int] = {}
        self.gauges: Callable[[], dict[str, Any]] | None = None
        """Set by a backend: extra fields of each ``run.sample`` (mempool size, txs created, ...)."""
        self.pause_reason: str | None = None
        """Why the current backend cannot pause (None when it can, or before a run)."""
        self.replay: Any = None
        """A :class:`~.replay.Replay` when serving a saved run (``monerosim serve --replay``)."""
        self._cache_lock = threading.RLock()
        self._cache: dict[str, tuple[float, Any]] = {}

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
        self._close_events_file()

    def _open_events_file(self, folder: Any) -> None:
        """Write this run's events to ``folder/events.jsonl`` (see :class:`.replay.EventsFile`)."""
        from .replay import EventsFile

        self._close_events_file()
        try:
            events = EventsFile(Path(folder), lambda: {"run": (self.current or {}).get("id")})
        except OSError:
            return  # an unwritable output folder must not stop the run; the session log still has them
        unsubscribe = self.bus.subscribe(events)
        self._events_file = (events, unsubscribe)

    def _close_events_file(self) -> None:
        if self._events_file is not None:
            events, unsubscribe = self._events_file
            self._events_file = None
            unsubscribe()
            try:
                events.close()
            except OSError:
                pass

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
        duration, seed = float(general.duration), general.seed
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
        self.gauges = None
        self.pause_reason = (None if backend == "sim" and self.watch else
                             "the real daemons run in wall-clock time: a monerod network cannot be "
                             "paused or stepped" if backend == "monerod" else
                             f"backend {backend} runs to its end without live control")
        self._sample_every = max(1.0, duration / SAMPLES_PER_RUN)
        self._next_sample = 0.0
        self._tx_window.clear()
        self._last_heights = {}
        self.views.victims = attack_victims(scenario)
        self.gate = RunGate(on_change=self._gate_changed)
        if options.workdir is not None:
            self._open_events_file(options.workdir)
        self.invalidate()
        self.bus.publish(
            ev.RUN_START,
            time=0.0,
            scenario=general.name,
            backend=backend,
            seed=seed,
            duration=duration,
            test=test,
            victims=sorted(self.views.victims),
        )
        self._chain_progress(options)
        # Real backends may publish on observer.bus, set observer.live and observer.controller.
        options.extra["observer"] = self
        if backend == "sim" and self.watch:
            from .sim_component import SimEventPublisher, add_sim_component

            add_sim_component(options, SimEventPublisher(self))
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

    def attach_monerod_network(self, network: Any) -> Any:
        """Take live commands for a monerod backend's running ``network`` and publish its events.

        The backend calls this on the observer it was handed, so the backend
        never imports the observer's side (:mod:`.monerod_control`).
        """
        from .monerod_control import MonerodController

        return MonerodController.attach(network, self)

    def run_done(self, result: Result, summary: dict[str, Any]) -> None:
        """Call with the finished run's result (replays it when there were no live events)."""
        if self.current is None:
            return
        if not self.live:
            self.feed_result(result)
        else:
            self.sample(result.sim_seconds)  # the final heights, for a replay of events.jsonl
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
        self.gauges = None
        if self._log is not None:
            self._log.flush()
        self._close_events_file()
        self.invalidate()

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
        if duration and duration != run["duration"]:
            run["duration"] = float(duration)  # the backend's own cut (say, backends.monerod.overrides)
            self._sample_every = max(1.0, float(duration) / SAMPLES_PER_RUN)
        run.update(sim_time=sim_time, events=events, rate=events / elapsed if elapsed > 0 else 0.0)
        if duration and 0 < sim_time < duration:
            run["eta_s"] = elapsed * (duration - sim_time) / sim_time
        self.bus.publish(ev.RUN_PROGRESS, time=sim_time, events=events, rate=run["rate"])
        self.maybe_sample(sim_time)
        if self.gate is not None:
            self.gate.checkpoint(sim_time)

    def _gate_changed(self, change: str, now: float) -> None:
        if self.current is not None:
            self.current["state"] = "paused" if change == "paused" else "running"
            self.current["sim_time"] = now
        self.bus.publish(ev.RUN_PAUSED if change == "paused" else ev.RUN_RESUMED, time=now)

    # -- replay of a finished result -----------------------------------------
    def feed_result(self, result: Result) -> None:
        """Publish a finished result's story (see :func:`.replay.feed_result`)."""
        from .replay import feed_result

        feed_result(self, result, samples=not self.views.samples)

    def maybe_sample(self, now: float) -> None:
        """Publish a ``run.sample`` when ``now`` passed the next sample time (one compare otherwise)."""
        if now >= self._next_sample:
            self._next_sample = (now // self._sample_every + 1) * self._sample_every
            self.sample(now)

    def sample(self, now: float) -> None:
        heights: list[int] = []
        attackers: list[int] = []
        peers: list[int] = []
        changed: dict[str, int] = {}
        numbers = self.registry.numbers()
        keep_heights = len(numbers) <= MAX_SAMPLED_NODES
        for agent_id, kind, honest, role, height, npeers in numbers:
            if kind != "node":
                continue
            if keep_heights and self._last_heights.get(agent_id) != height:
                changed[agent_id] = self._last_heights[agent_id] = height
            if honest and role != "attacker":
                heights.append(height)
                peers.append(npeers)
            else:
                attackers.append(height)
        heights.sort()
        fields: dict[str, Any] = {
            "height_min": heights[0] if heights else 0,
            "height_median": heights[len(heights) // 2] if heights else 0,
            "height_max": heights[-1] if heights else 0,
            "height_attacker": max(attackers) if attackers else None,
            "peers_mean": round(sum(peers) / len(peers), 3) if peers else 0.0,
            **self.views.sample_fields(),
        }
        if changed:
            fields["heights"] = changed  # what a replay needs to show each node's height
        if self.gauges is not None:
            try:
                fields.update(self.gauges())
            except Exception:  # a backend's gauge must never stop a run
                pass
        txs = fields.get("txs")
        if isinstance(txs, int):  # txs per simulated second over the last TX_RATE_WINDOW_S
            window = self._tx_window
            window.append((now, txs))
            while len(window) > 2 and now - window[1][0] >= TX_RATE_WINDOW_S:
                window.popleft()
            t0, n0 = window[0]
            fields["tx_rate"] = round((txs - n0) / (now - t0), 5) if now > t0 else 0.0
        self.bus.publish(ev.RUN_SAMPLE, time=now, **fields)

    # -- reading -----------------------------------------------------------------
    def invalidate(self) -> None:
        """Drop the cached snapshots (after a seek, a command, the end of a run)."""
        with self._cache_lock:
            self._cache.clear()

    def cached(self, key: str, build: Callable[[], Any], ttl: float = STATUS_TTL_S) -> Any:
        """``build()``'s value, rebuilt at most once per ``ttl`` wall seconds (readers share it)."""
        now = time.monotonic()
        with self._cache_lock:
            hit = self._cache.get(key)
            if hit is not None and now - hit[0] < ttl:
                return hit[1]
            value = build()
            self._cache[key] = (time.monotonic(), value)
            return value

    def peek(self, key: str, ttl: float = STATUS_TTL_S) -> Any:
        """The value stored under ``key`` if younger than ``ttl`` seconds, else None."""
        with self._cache_lock:
            hit = self._cache.get(key)
        return hit[1] if hit is not None and time.monotonic() - hit[0] < ttl else None

    def store(self, key: str, value: Any) -> None:
        with self._cache_lock:
            if len(self._cache) > 1000:
                self._cache.clear()
            self._cache[key] = (time.monotonic(), value)

    def status(self) -> dict[str, Any]:
        """The run's status: a snapshot rebuilt at most every :data:`STATUS_TTL_S` seconds."""
        return self.cached("status", self._build_status)

    def agent_dicts(self) -> list[dict[str, Any]]:
        """Every agent as a dict: a snapshot rebuilt at most every :data:`STATUS_TTL_S` seconds."""
        return self.cached("agents", self.registry.dicts)

    def _build_status(self) -> dict[str, Any]:
        run = dict(self.current) if self.current else None
        if run is not None:
            run.pop("wall_started", None)
            gate = self.gate
            run["paused"] = bool(gate and gate.paused and gate.is_open)
            if gate is not None and gate.is_open:
                run["sim_time"] = max(run["sim_time"], gate.now)  # checkpoints are more frequent
        agents = self.registry.numbers()
        heights = [a[4] for a in agents if a[1] == "node" and a[2]]
        return {
            "state": run["state"] if run else "idle",
            "run": run,
            "runs_finished": len(self.finished),
            "agents": len(agents),
            "nodes": sum(1 for a in agents if a[1] == "node"),
            "wallets": sum(1 for a in agents if a[1] == "wallet"),
            "height": {"max": max(heights, default=0), "min": min(heights, default=0)},
            "events": self.bus.last_seq,
            "uptime_s": round(time.time() - self.started, 3),
            "controls": self.controls(),
            "replay": self.replay.info() if self.replay is not None else None,
        }

    def controls(self) -> dict[str, dict[str, Any]]:
        """Run-wide commands and whether they can be sent now (with the reason when not)."""
        out: dict[str, dict[str, Any]] = {}
        running = (self.gate is not None and self.gate.is_open and self.current is not None
                   and self.current["state"] not in ("finished", "failed"))
        for name in RUN_COMMANDS:
            if self.replay is not None:
                reason = "a replay is moved with the time slider (seek)"
            elif not running:
                reason = "no network is running"
            elif not self.backend_can_pause():
                reason = self.pause_reason or "this backend cannot pause"
            else:
                reason = None
            out[name] = {"available": reason is None, "reason": reason}
        out["seek"] = {"available": self.replay is not None,
                       "reason": None if self.replay is not None else "only a replay can seek"}
        return out

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
        return self.live and self.gate is not None and self.pause_reason is None

    def run_command(self, name: str, args: dict[str, Any]) -> dict[str, Any]:
        """A run-wide command (pause, step, resume; seek on a replay) on any backend."""
        if name == "seek" and self.replay is not None:
            if set(args) != {"time"} or isinstance(args["time"], bool) or not isinstance(
                    args["time"], (int, float)):
                raise CommandError("seek takes {'time': simulated seconds}")
            return self.replay.seek(float(args["time"]))
        control = self.controls().get(name)
        if control is None:
            raise CommandError(f"unknown run command {name!r}; accepted: {', '.join(RUN_COMMANDS)}, seek")
        if not control["available"]:
            reason = str(control["reason"])
            if reason == "no network is running":
                raise NotRunning(reason)
            raise CommandError(f"{name} is not available: {reason}")
        engine = ENGINE_ID if ENGINE_ID in self.registry else None
        if engine is not None:
            return self.command(engine, name, args)
        raise CommandError(f"{name} is not available: no engine agent")

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
                raise CommandError(f"{name} is not available: {self.pause_reason or 'no live control'}")
            result = (
                gate.pause() if name == "pause" else gate.resume() if name == "resume" else gate.step(args)
            )
            if name == "pause" and self.current is not None:
                self.current["state"] = "pausing"
        else:
            assert self.controller is not None
            result = self.controller.command(agent_id, name, args)
        self.bus.publish(ev.COMMAND, time=gate.now, agent=agent_id, name=name, args=args, result=result)
        self.invalidate()
        return result

    # -- metrics -------------------------------------------------------------------
    def metrics_text(self) -> tuple[bytes, str]:
        """Prometheus text exposition of the current state (prometheus-client, imported here)."""
        from .metrics import render

        return render(self)


def attack_victims(scenario: Any) -> set[str]:
    """Node or group names the scenario's attacks aim at (their ``victim``/``target`` parameters;
    the eclipse default, the first honest relay, when it names none)."""
    out: set[str] = set()
    for ref in getattr(scenario, "attacks", ()) or ():
        params = getattr(ref, "params", None) or {}
        if not isinstance(params, dict):
            params = getattr(params, "model_dump", lambda: {})()
        found = False
        for key in ("victim", "victims", "target"):
            value = params.get(key)
            if isinstance(value, str):
                out.add(value)
                found = True
            elif isinstance(value, (list, tuple)):
                out.update(str(v) for v in value)
                found = True
        if not found and getattr(ref, "name", None) == "eclipse":
            from ..attacks.eclipse import default_victim

            victim = default_victim(scenario)
            if victim:
                out.add(victim)
    return out
