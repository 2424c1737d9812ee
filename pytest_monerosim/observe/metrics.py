"""``GET /api/metrics``: the observer's state in Prometheus' text format (prometheus-client).

A collector reads the observer on every scrape (nothing is double-booked),
registered in a private ``CollectorRegistry`` so runs, sessions and tests
never share the library's global default registry.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

if TYPE_CHECKING:
    from .observer import LiveSession

MAX_NODE_SERIES = 2000
"""Per-node series beyond this are left out (a scrape of a huge network stays small)."""


class ObserverCollector:
    def __init__(self, observer: LiveSession) -> None:
        self.observer = observer

    def describe(self) -> list[Any]:
        return []  # metrics are dynamic; no up-front description (avoids a collect at register time)

    def collect(self) -> Iterator[Any]:
        status = self.observer.status()
        run = status["run"] or {}
        labels = ["scenario", "backend"]
        values = [str(run.get("scenario", "")), str(run.get("backend", ""))]
        for name, doc, value in (
            ("monerosim_sim_time_seconds", "Simulated time of the current run", run.get("sim_time", 0.0)),
            (
                "monerosim_run_duration_seconds",
                "Simulated duration the current run aims for",
                run.get("duration", 0.0),
            ),
            ("monerosim_events_per_second", "Simulator events per wall-clock second", run.get("rate", 0.0)),
            ("monerosim_run_paused", "1 while the current run is paused", 1.0 if run.get("paused") else 0.0),
        ):
            g = GaugeMetricFamily(name, doc, labels=labels)
            g.add_metric(values, float(value or 0.0))
            yield g
        c = CounterMetricFamily(
            "monerosim_sim_events", "Simulator events executed in the current run", labels=labels
        )
        c.add_metric(values, float(run.get("events", 0) or 0))
        yield c
        yield CounterMetricFamily(
            "monerosim_runs_finished", "Network runs finished in this session", value=status["runs_finished"]
        )
        yield GaugeMetricFamily("monerosim_agents", "Agents in the current run", value=status["agents"])
        yield GaugeMetricFamily(
            "monerosim_height_max", "Highest honest node height", value=status["height"]["max"]
        )
        yield GaugeMetricFamily(
            "monerosim_height_min", "Lowest honest node height", value=status["height"]["min"]
        )
        bus = CounterMetricFamily(
            "monerosim_bus_events", "Events published on the bus, by kind", labels=["kind"]
        )
        for kind, count in sorted(self.observer.bus.counts().items()):
            bus.add_metric([kind], count)
        yield bus
        height = GaugeMetricFamily(
            "monerosim_node_height", "Chain height of each node", labels=["node", "role"]
        )
        peers = GaugeMetricFamily(
            "monerosim_node_peers", "Open connections of each node", labels=["node", "role"]
        )
        for agent in self.observer.registry.all()[:MAX_NODE_SERIES]:
            if agent.kind == "node":
                height.add_metric([agent.id, agent.role], agent.height)
                peers.add_metric([agent.id, agent.role], agent.peers)
        yield height
        yield peers


def render(observer: LiveSession) -> tuple[bytes, str]:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ObserverCollector(observer))
    return generate_latest(registry), CONTENT_TYPE_LATEST
