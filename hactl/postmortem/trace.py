"""Re-step one node's journal through the real engine and keep what a postmortem needs.

The journal holds only the engine's inputs (events); its decisions (a dead declaration, a
fence, each resource action) are recomputed here by `step`, which is deterministic, so
they are exactly the decisions the node took live, attributed to the record that caused
them. Heartbeats are the bulk of any journal and explain nothing one by one: they are kept
as compact per-(peer, link) time series (for last-heard times, gaps and density) instead
of entries; every other record becomes a `TraceEntry` with the commands its step produced.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.config.model import ClusterConfig
from engine.core.codec import MalformedMessageError, decode_event, is_engine_kind
from engine.core.commands import (
    Command,
    FenceNode,
    LogLevel,
    LogMessage,
    RaiseAlert,
    RunResourceAction,
    SelfFence,
    SendControlMessage,
    SendHeartbeat,
    ShutdownComplete,
)
from engine.core.events import (
    ConfigReloaded,
    Event,
    HeartbeatReceived,
    NodeStarted,
    TimeAdvanced,
)
from engine.core.machine import initial_state, step
from engine.core.state import NodeState
from hactl.postmortem.sources import NodeJournal
from journal import Record

KEPT_COMMANDS = (RunResourceAction, FenceNode, SelfFence, RaiseAlert, SendControlMessage,
                 ShutdownComplete)  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class TraceEntry:
    """One non-heartbeat record (or a heartbeat whose step decided something)."""

    node: str
    generation: int  # the daemon run it belongs to (0 before the first NodeStarted)
    record: Record
    event: Event | None  # None for the journal's and the shell's own records
    commands: tuple[Command, ...]  # what the step decided (heartbeat sends left out)

    @property
    def now_ms(self) -> int:
        if self.event is not None:
            return self.event.now_ms
        return self.record.monotonic_ns // 1_000_000

    @property
    def wall_ms(self) -> int:
        return self.record.wall_ns // 1_000_000


@dataclass(slots=True)
class HeartbeatSeries:
    """Heartbeats from one peer on one link during one run: parallel lists, oldest first."""

    now_ms: list[int] = field(default_factory=list)
    wall_ms: list[int] = field(default_factory=list)
    seqs: list[int] = field(default_factory=list)
    sender_generations: list[int] = field(default_factory=list)

    def worst_gap_ms(self, *, before_ms: int | None = None) -> int:
        worst = 0
        previous = None
        for now in self.now_ms:
            if before_ms is not None and now > before_ms:
                break
            if previous is not None:
                worst = max(worst, now - previous)
            previous = now
        return worst


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusSent:
    """The first step that sent status version `version` of run `generation` (for merge)."""

    generation: int
    version: int
    seq: int
    wall_ms: int


@dataclass(slots=True, kw_only=True)
class NodeTrace:
    node: str
    entries: list[TraceEntry] = field(default_factory=list)
    heartbeats: dict[tuple[int, str, str], HeartbeatSeries] = field(default_factory=dict)
    configs: dict[int, ClusterConfig] = field(default_factory=dict)  # latest per generation
    status_sent: list[StatusSent] = field(default_factory=list)
    # (sender, sender's generation, status version) -> (seq, wall_ms) of its first arrival
    status_received: dict[tuple[str, int, int], tuple[int, int]] = field(default_factory=dict)
    undecodable_count: int = 0

    def series_for(self, generation: int, peer: str) -> dict[str, HeartbeatSeries]:
        return {link: series for (run, name, link), series in self.heartbeats.items()
                if run == generation and name == peer}  # fmt: skip


class TraceBuilder:
    """Accumulates a NodeTrace from (record, event, state after, commands) steps.

    `trace_node` feeds it the journal's own steps; the what-if replay feeds it the steps
    of a re-run with other timings, so both are explained by the same detector.
    """

    def __init__(self, node: str) -> None:
        self.trace = NodeTrace(node=node)
        self._last_version = (-1, -1)

    def record_only(self, record: Record, generation: int) -> None:
        self.trace.entries.append(TraceEntry(node=self.trace.node, generation=generation,
                                             record=record, event=None, commands=()))

    def stepped(self, record: Record, event: Event, state: NodeState,
                commands: tuple[Command, ...]) -> None:
        trace = self.trace
        if isinstance(event, NodeStarted | ConfigReloaded):
            trace.configs[state.generation] = event.config
        for command in commands:
            if isinstance(command, SendHeartbeat):
                version = (state.generation, command.payload.status_version)
                if version != self._last_version:
                    self._last_version = version
                    trace.status_sent.append(StatusSent(
                        generation=version[0], version=version[1], seq=record.seq,
                        wall_ms=record.wall_ns // 1_000_000))
        kept = tuple(command for command in commands if _is_kept(command))
        if isinstance(event, HeartbeatReceived):
            _add_heartbeat(trace, state.generation, event, record)
            if not kept:
                return
        elif isinstance(event, TimeAdvanced) and not kept:
            return
        trace.entries.append(TraceEntry(node=trace.node, generation=state.generation,
                                        record=record, event=event, commands=kept))


def trace_node(journal: NodeJournal) -> NodeTrace:
    builder = TraceBuilder(journal.node)
    state = initial_state()
    for record in journal.records:
        if not is_engine_kind(record.kind):
            builder.record_only(record, state.generation)
            continue
        try:
            event = decode_event(record.kind, record.payload)  # type: ignore[arg-type]
        except MalformedMessageError:
            builder.trace.undecodable_count += 1
            continue
        state, commands = step(state, event)
        builder.stepped(record, event, state, commands)
    return builder.trace


def _is_kept(command: Command) -> bool:
    if isinstance(command, LogMessage):
        return command.level is not LogLevel.DEBUG
    return isinstance(command, KEPT_COMMANDS)


def _add_heartbeat(trace: NodeTrace, generation: int, event: HeartbeatReceived,
                   record: Record) -> None:
    key = (generation, event.from_node, event.link)
    series = trace.heartbeats.get(key)
    if series is None:
        series = trace.heartbeats[key] = HeartbeatSeries()
    series.now_ms.append(event.now_ms)
    series.wall_ms.append(record.wall_ns // 1_000_000)
    series.seqs.append(record.seq)
    series.sender_generations.append(event.generation)
    version = (event.from_node, event.generation, event.status.status_version)
    if version not in trace.status_received:
        trace.status_received[version] = (record.seq, record.wall_ns // 1_000_000)
