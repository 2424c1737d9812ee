"""The REST API's request and response models (pydantic v2): the OpenAPI document is generated from them.

Responses allow fields beyond the declared ones (a backend may add to an
agent's ``info``; a sample may carry a backend's gauges), requests do not.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..strict import StrictModel


class _Out(BaseModel):
    model_config = ConfigDict(extra="allow")


class ErrorBody(BaseModel):
    error: str = Field(description="One line: what was wrong and what is accepted.")


class Control(BaseModel):
    available: bool
    reason: str | None = Field(None, description="Why the command cannot be sent now (None when it can).")


class RunInfo(_Out):
    id: int
    test: str | None = None
    scenario: str | None = None
    backend: str | None = None
    seed: int | None = None
    duration: float = Field(description="Simulated seconds the run lasts (the backend's own cut included).")
    state: str = Field(description="building | running | pausing | paused | summarising | finished | failed "
                                   "| replay")
    sim_time: float = Field(description="Simulated seconds since the start of the run.")
    events: int = 0
    rate: float = Field(0.0, description="Simulator events per wall-clock second.")
    eta_s: float | None = None
    paused: bool = False


class Heights(BaseModel):
    max: int
    min: int


class ReplayInfo(BaseModel):
    source: str
    at: float = Field(description="Simulated time the replay shows.")
    end: float = Field(description="Last simulated time in the saved events.")
    events: int


class Status(BaseModel):
    state: str = Field(description="The current run's state, or idle.")
    run: RunInfo | None
    runs_finished: int
    agents: int
    nodes: int
    wallets: int
    height: Heights = Field(description="Lowest and highest honest node height.")
    events: int = Field(description="Sequence number of the last published event.")
    uptime_s: float
    controls: dict[str, Control] = Field(description="pause, step, resume, seek: can they be sent now?")
    replay: ReplayInfo | None = None


class Agent(_Out):
    id: str
    kind: str = Field(description="node | wallet | engine")
    role: str = ""
    group: str = ""
    honest: bool = True
    state: str = "created"
    height: int = 0
    tip: str | None = None
    peers: int = 0
    blocks_found: int = 0
    reorgs: int = 0
    last_event: str | None = None
    last_time: float | None = None
    info: dict[str, Any] = Field(default_factory=dict,
                                 description="Backend extras: address, a wallet's balance, "
                                             "a node's pool size.")


class AgentDetail(Agent):
    commands: list[str] = Field(description="Commands this agent accepts now.")
    unavailable: dict[str, str] = Field(default_factory=dict,
                                        description="Run commands it cannot take on this backend, with why.")
    heights: list[list[float]] = Field(default_factory=list,
                                       description="[[simulated time, height], ...] of this node.")
    peer_list: list[str] = Field(default_factory=list, description="Current peers (nodes).")


class AgentPage(BaseModel):
    count: int = Field(description="Agents matching the filter (all pages).")
    offset: int
    limit: int
    agents: list[Agent]


class CommandRequest(StrictModel):
    command: str = Field(description="pause | step | resume (the run); mine | stop | start | disconnect | "
                                     "reconnect | restart (a node), as the agent's ``commands`` lists.",
                         examples=["mine"])
    args: dict[str, Any] = Field(default_factory=dict,
                                 description='mine: {"blocks": n}; step: {"seconds": s} or {"events": n}; '
                                             'seek: {"time": t}', examples=[{"blocks": 3}])


class CommandResult(BaseModel):
    agent: str
    command: str
    result: dict[str, Any]


class Event(_Out):
    seq: int
    kind: str
    time: float | None
    wall: float
    agent: str | None = None
    data: dict[str, Any] | None = None


class EventPage(BaseModel):
    since: int
    next: int = Field(description="Cursor for the next call (?since=next).")
    events: list[Event]


class Series(BaseModel):
    count: int
    columns: dict[str, list[float | int | None]] = Field(
        description="time, height_min/median/max, height_attacker, peers_mean, mempool, txs, tx_rate, "
                    "stale, reorgs, blocks: one value per sample")
    attacker_share: dict[str, list[float | None]] = Field(
        description="Per victim: share of its peers that are attacker nodes, per sample.")
    nodes: dict[str, list[list[float]]] = Field(description="Requested nodes: [[time, height], ...].")


class GraphNode(BaseModel):
    id: str
    role: str
    group: str
    honest: bool
    victim: bool


class Graph(BaseModel):
    nodes: list[GraphNode]
    edges: list[list[str]] = Field(description="Undirected connections [a, b].")
    truncated: bool


class Block(_Out):
    id: str
    height: int
    parent: str | None
    miner: str | None
    time: float | None
    main: bool = Field(description="On the main chain of the best known tip.")


class BlockTree(BaseModel):
    best: str | None
    height: int
    total: int
    stale: int
    blocks: list[Block]
    reorgs: list[dict[str, Any]]


class Transaction(_Out):
    id: str
    origin: str | None = Field(description="Node it was first submitted to.")
    sender: str | None = Field(description="Wallet that sent it (None: crafted by an attack).")
    fee: int = Field(description="Atomic units.")
    created: float | None
    status: str = Field(description="pending | confirmed | rejected | reversed")
    phase: Literal["stem", "fluff"] | None = Field(None, description="Dandelion++ relay phase (simulator).")


class TransactionPage(BaseModel):
    total: int
    offset: int
    by_status: dict[str, int]
    transactions: list[Transaction]
