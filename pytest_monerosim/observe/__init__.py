"""Live observability of a run: an event bus, an agent registry, run control and a REST API.

* :mod:`.bus` — :class:`~.bus.EventBus`: typed events (agent lifecycle, blocks,
  reorgs, txs, connections, check results) with a bounded history and a cursor;
* :mod:`.agent_registry` — :class:`~.agent_registry.AgentRegistry`: every agent's current state,
  kept up to date from the bus;
* :mod:`.control` — the command interface backends implement and the
  pause/step/resume gate the simulator's run loop consults;
* :mod:`.observer` — :class:`~.observer.LiveSession`, the hub one session or CLI run owns;
* :mod:`.views` — :class:`~.views.RunViews`: time series, peer graph, block tree and
  transactions, kept from the bus for the dashboard;
* :mod:`.replay` — a finished result told again on the bus, ``events.jsonl`` written per
  run and played back (``monerosim serve --replay``);
* :mod:`.api` / :mod:`.schemas` — the FastAPI app (token, Host and Origin checks; OpenAPI
  from the pydantic models: :func:`.api.openapi_document`) and its uvicorn server thread;
* :mod:`.checks` — how check functions announce themselves (Allure steps, bus events).

Nothing here imports fastapi, starlette, uvicorn or prometheus-client until a server,
the OpenAPI document or the metrics endpoint is asked for.
"""
