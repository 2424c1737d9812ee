"""Live observability of a run: an event bus, an agent registry, run control and a REST API.

* :mod:`.bus` — :class:`~.bus.EventBus`: typed events (agent lifecycle, blocks,
  reorgs, txs, connections, check results) with a bounded history and a cursor;
* :mod:`.registry` — :class:`~.registry.AgentRegistry`: every agent's current state,
  kept up to date from the bus;
* :mod:`.control` — the command interface backends implement and the
  pause/step/resume gate the simulator's run loop consults;
* :mod:`.observer` — :class:`~.observer.Observer`, the hub one session or CLI run owns;
* :mod:`.api` — the starlette app (loopback only) and its uvicorn server thread;
* :mod:`.checks` — how check functions announce themselves (Allure steps, bus events).

Nothing here imports starlette, uvicorn or prometheus-client until a server
or the metrics endpoint is asked for.
"""
