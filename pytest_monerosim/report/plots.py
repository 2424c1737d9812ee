"""PNG plots of a run a person would rather look at than read.

* :func:`chain_height` — each node's chain height over time (forks and reorgs
  show as steps down and lines that leave the pack);
* :func:`propagation_cdf` — when blocks reached the honest nodes;
* :func:`peer_graph` — the last peer-graph snapshot, attackers and victims marked;
* :func:`attack_series` — attack metrics that are time series (``[[t, v], ...]``).

matplotlib (the ``plots`` extra) is imported lazily and always with the
non-interactive Agg backend, so nothing opens a window and nothing is
imported unless a plot is asked for. Each function returns PNG bytes, or
``None`` when the run has nothing to draw.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ..result.model import Result

if TYPE_CHECKING:
    from matplotlib.figure import Figure

MAX_LINES = 60
"""Chain-height lines drawn individually; beyond that, attackers, victims and a sample."""

ATTACKER = "#d62728"
VICTIM = "#ff7f0e"
HONEST = "#1f77b4"


def available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _figure(width: float = 8.0, height: float = 4.5) -> Figure:
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure

    # A bare Figure (not pyplot) keeps no global state between plots or threads.
    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def victims(result: Result) -> set[str]:
    """Nodes an attack names as its victim(s) in its metrics."""
    out: set[str] = set()
    for metrics in result.attacks.values():
        for key in ("victim", "victims", "target", "targets"):
            value = metrics.get(key)
            if isinstance(value, str):
                out.add(value)
            elif isinstance(value, (list, tuple)):
                out.update(v for v in value if isinstance(v, str))
    return out & set(result.nodes) if result.nodes else out


def attackers(result: Result) -> set[str]:
    return {n for n, info in result.nodes.items() if not info.honest or info.role == "attacker"}


def _hours_axis(seconds: float) -> tuple[float, str]:
    return (3600.0, "simulated time (h)") if seconds >= 3 * 3600 else (60.0, "simulated time (min)")


def _behind_best(result: Result, drawn: list[str]) -> dict[str, tuple[list[float], list[int]]]:
    """For each drawn node: how many blocks it is behind the best honest tip, over time."""
    honest = set(result.honest_nodes()) or set(result.tip_history)
    changes = sorted(
        (t, name, h)
        for name, series in result.tip_history.items()
        for t, h in zip(series.times, series.heights, strict=False)
    )
    current: dict[str, int] = {}
    best = 0
    wanted = set(drawn)
    out: dict[str, tuple[list[float], list[int]]] = {n: ([], []) for n in drawn}
    for t, name, h in changes:
        current[name] = h
        if name in honest and h > best:
            best = h
            touched = wanted
        else:
            touched = {name} & wanted
        for n in touched:
            if n in current:
                xs, ys = out[n]
                xs.append(t)
                ys.append(best - current[n])
    return out


def chain_height(result: Result) -> bytes | None:
    """Height of every node's tip over time, and how far each is behind the best honest tip."""
    if not result.tip_history:
        return None
    bad, vic = attackers(result), victims(result)
    names = sorted(result.tip_history)
    special = [n for n in names if n in bad or n in vic]
    plain = [n for n in names if n not in bad and n not in vic]
    if len(plain) > MAX_LINES:
        step = len(plain) / MAX_LINES
        plain = [plain[int(i * step)] for i in range(MAX_LINES)]
    drawn = plain + special
    scale, xlabel = _hours_axis(result.sim_seconds)
    fig = _figure(8, 6)
    top, low = fig.subplots(2, 1, sharex=True, height_ratios=[3, 2])
    end = result.sim_seconds / scale
    behind = _behind_best(result, drawn)
    for name in drawn:
        series = result.tip_history[name]
        if not len(series.times):
            continue
        style: dict[str, Any] = {"color": HONEST, "linewidth": 0.8, "alpha": 0.35, "zorder": 1}
        if name in bad:
            style = {"color": ATTACKER, "linewidth": 1.4, "alpha": 0.9, "zorder": 3, "linestyle": "--"}
        elif name in vic:
            style = {"color": VICTIM, "linewidth": 1.6, "alpha": 0.9, "zorder": 2}
        top.step(
            [t / scale for t in series.times] + [end],
            list(series.heights) + [series.heights[-1]],
            where="post",
            **style,
        )
        xs, ys = behind[name]
        if xs:
            low.step([t / scale for t in xs] + [end], ys + [ys[-1]], where="post", **style)
    for reorg in result.reorgs:
        for ax in (top, low):
            ax.axvline(reorg.time / scale, color="grey", linewidth=0.6, linestyle=":", zorder=0)
    low.set_xlabel(xlabel)
    top.set_ylabel("chain height")
    low.set_ylabel("blocks behind best")
    top.set_title(
        f"{result.scenario}: chain height per node ({len(drawn)} of {len(names)} nodes; "
        f"{len(result.reorgs)} reorgs dotted)"
    )
    _legend(top, bool(bad & set(special)), bool(vic & set(special)))
    return _png(fig)


def _legend(ax: Any, with_attacker: bool, with_victim: bool) -> None:
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=HONEST, label="honest node")]
    if with_attacker:
        handles.append(Line2D([], [], color=ATTACKER, linewidth=1.4, linestyle="--", label="attacker"))
    if with_victim:
        handles.append(Line2D([], [], color=VICTIM, linewidth=1.6, label="victim"))
    ax.legend(handles=handles, loc="upper left", fontsize="small")


def propagation_delays(result: Result) -> list[float]:
    """Every (block, honest node) delay from the block being found to the node accepting it."""
    honest = [n for n in result.honest_nodes() if n in result.nodes] or list(result.nodes)
    out: list[float] = []
    for block in result.blocks.values():
        if block.parent is None:
            continue
        for node in honest:
            t = block.arrivals.get(node)
            if t is not None and node != block.miner:
                out.append(max(0.0, t - block.found_at))
    return out


def _cdf(values: Iterable[float]) -> tuple[list[float], list[float]]:
    xs = sorted(values)
    n = len(xs)
    return xs, [(i + 1) / n for i in range(n)]


def propagation_cdf(result: Result) -> bytes | None:
    delays = propagation_delays(result)
    if not delays:
        return None
    xs, ys = _cdf(delays)
    fig = _figure(7, 4.5)
    ax = fig.add_subplot()
    ax.step(xs, ys, where="post", color=HONEST)
    for q, style in ((0.5, "--"), (0.9, ":")):
        x = xs[min(len(xs) - 1, math.ceil(q * len(xs)) - 1)]
        ax.axvline(x, color="grey", linestyle=style, linewidth=0.8)
        ax.annotate(
            f"p{int(q * 100)} {x:.2f}s", (x, q), textcoords="offset points", xytext=(4, -12), fontsize="small"
        )
    if xs[-1] > 0 and xs[0] >= 0 and xs[-1] / max(xs[len(xs) // 2], 1e-9) > 50:
        ax.set_xscale("symlog", linthresh=max(1e-3, xs[len(xs) // 2]))
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("delay after the block was found (s)")
    ax.set_ylabel("fraction of (block, node) arrivals")
    ax.set_title(f"{result.scenario}: block propagation CDF ({len(delays)} arrivals)")
    return _png(fig)


def last_edges(result: Result) -> list[tuple[str, str]]:
    if not result.peer_snapshots:
        return []
    return list(max(result.peer_snapshots, key=lambda s: s.time).edges)


def peer_graph(result: Result) -> bytes | None:
    """The last peer-graph snapshot; attacker nodes red, victims orange, honest blue."""
    edges = last_edges(result)
    if not edges and not result.nodes:
        return None
    import networkx as nx

    graph = nx.Graph()
    graph.add_nodes_from(result.nodes)
    graph.add_edges_from(edges)
    bad, vic = attackers(result), victims(result)
    n = graph.number_of_nodes()
    if n == 0:
        return None
    pos = nx.spring_layout(graph, seed=1, k=None if n < 50 else 1.5 / math.sqrt(n), iterations=50)
    size = 9.0 if n > 200 else 7.0
    fig = _figure(size, size)
    ax = fig.add_subplot()
    ax.set_axis_off()
    node_size = max(8.0, 300.0 / math.sqrt(n))
    segments = [(pos[a], pos[b]) for a, b in graph.edges]
    from matplotlib.collections import LineCollection

    near_victim = [(pos[a], pos[b]) for a, b in graph.edges if a in vic or b in vic]
    ax.add_collection(LineCollection(segments, colors="#999999", linewidths=0.4, alpha=0.5, zorder=1))
    if near_victim:
        ax.add_collection(LineCollection(near_victim, colors=VICTIM, linewidths=1.0, alpha=0.8, zorder=2))
    for group, color, scale in (
        (set(graph) - bad - vic, HONEST, 1.0),
        (bad, ATTACKER, 1.5),
        (vic, VICTIM, 3.0),
    ):
        names = [v for v in graph if v in group]
        if names:
            ax.scatter(
                [pos[v][0] for v in names],
                [pos[v][1] for v in names],
                s=node_size * scale,
                c=color,
                zorder=3,
                edgecolors="white",
                linewidths=0.3,
            )
    for v in sorted(vic):
        if v in pos:
            ax.annotate(v, pos[v], textcoords="offset points", xytext=(5, 5), fontsize="small")
    ax.autoscale()
    when = max((s.time for s in result.peer_snapshots), default=result.sim_seconds)
    ax.set_title(
        f"{result.scenario}: peer graph at t={when:.0f}s ({n} nodes, {graph.number_of_edges()} links; "
        f"{len(bad)} attacker, {len(vic)} victim)"
    )
    return _png(fig)


def time_series(metrics: dict[str, Any]) -> dict[str, list[tuple[float, float]]]:
    """Metrics shaped ``[[t, value], ...]`` (numbers only), by name."""
    out: dict[str, list[tuple[float, float]]] = {}
    for key, value in metrics.items():
        if not isinstance(value, (list, tuple)) or len(value) < 1:
            continue
        points: list[tuple[float, float]] = []
        for p in value:
            if (
                isinstance(p, (list, tuple))
                and len(p) == 2
                and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in p)
            ):
                points.append((float(p[0]), float(p[1])))
            else:
                break
        else:
            out[key] = points
    return out


def attack_series(result: Result) -> dict[str, bytes]:
    """One plot per attack with time-series metrics (each series its own line)."""
    out: dict[str, bytes] = {}
    scale, xlabel = _hours_axis(result.sim_seconds)
    for name, metrics in sorted(result.attacks.items()):
        series = time_series(metrics)
        if not series:
            continue
        fig = _figure()
        ax = fig.add_subplot()
        for key, points in sorted(series.items()):
            ax.step([t / scale for t, _ in points], [v for _, v in points], where="post", label=key)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("value")
        victim = metrics.get("victim")
        ax.set_title(
            f"{result.scenario}: {name}" + (f" (victim {victim})" if isinstance(victim, str) else "")
        )
        ax.legend(loc="best", fontsize="small")
        out[name] = _png(fig)
    return out


def all_plots(result: Result) -> dict[str, bytes]:
    """Every plot this run has data for: file stem → PNG bytes."""
    out: dict[str, bytes] = {}
    for stem, fn in (
        ("chain_height", chain_height),
        ("propagation_cdf", propagation_cdf),
        ("peer_graph", peer_graph),
    ):
        png = fn(result)
        if png is not None:
            out[stem] = png
    for name, png in attack_series(result).items():
        out[f"attack_{name}"] = png
    return out
