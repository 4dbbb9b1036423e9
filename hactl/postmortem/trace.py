"""Re-step one node's journal through the real engine and keep what a postmortem needs.

The journal holds only the engine's inputs (events); its decisions (a dead declaration, a
fence, each resource action) are recomputed here by `step`, which is deterministic, so
they are exactly the decisions the node took live, attributed to the record that caused
them. Heartbeats are the bulk of any journal and explain nothing one by one: they are kept
as compact per-(peer, link) time series (for last-heard times, gaps and density) instead
of entries; every other record becomes a `TraceEntry` with the commands its step produced.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable
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


HeartbeatLists = tuple[list[int], list[int], list[int], list[int]]  # now, wall, seq, generation


@dataclass(slots=True, kw_only=True)
class HeartbeatChunk:
    """A run of one series, from one part of the journal, with what queries need to skip it.

    A chunk read from the postmortem index holds only its summary and a `loader`; its
    lists are decoded the first time a query has to look inside (`lists`).
    """

    count: int
    first: tuple[int, int, int, int]  # (now_ms, wall_ms, seq, sender generation)
    last: tuple[int, int, int, int]
    min_now_ms: int
    min_wall_ms: int
    max_wall_ms: int
    worst_gap_ms: int  # between consecutive heartbeats inside the chunk
    is_sorted: bool  # now_ms never decreases inside the chunk
    generations: frozenset[int]
    loader: Callable[[], HeartbeatLists]
    loaded: HeartbeatLists | None = None

    def lists(self) -> HeartbeatLists:
        if self.loaded is None:
            self.loaded = self.loader()
        return self.loaded

    @classmethod
    def summarize(cls, lists: HeartbeatLists, loader: Callable[[], HeartbeatLists]
                  ) -> HeartbeatChunk:
        now_ms, wall_ms, seqs, generations = lists
        assert now_ms, "a chunk holds at least one heartbeat"
        gaps = [b - a for a, b in itertools.pairwise(now_ms)]
        return cls(count=len(now_ms),
                   first=(now_ms[0], wall_ms[0], seqs[0], generations[0]),
                   last=(now_ms[-1], wall_ms[-1], seqs[-1], generations[-1]),
                   min_now_ms=min(now_ms), min_wall_ms=min(wall_ms), max_wall_ms=max(wall_ms),
                   worst_gap_ms=max(gaps, default=0), is_sorted=min(gaps, default=0) >= 0,
                   generations=frozenset(generations), loader=loader)


@dataclass(slots=True)
class HeartbeatSeries:
    """Heartbeats from one peer on one link during one run: parallel lists, oldest first.

    Built by a replay it is one list per field (`append`); assembled from the postmortem
    index it is a list of chunks, and the queries below look inside a chunk only when its
    summary cannot answer, so a month of heartbeats costs a few chunk summaries.
    """

    now_ms: list[int] = field(default_factory=list)
    wall_ms: list[int] = field(default_factory=list)
    seqs: list[int] = field(default_factory=list)
    sender_generations: list[int] = field(default_factory=list)
    chunks: list[HeartbeatChunk] = field(default_factory=list)  # oldest first, before the lists

    def append(self, now_ms: int, wall_ms: int, seq: int, sender_generation: int) -> None:
        self.now_ms.append(now_ms)
        self.wall_ms.append(wall_ms)
        self.seqs.append(seq)
        self.sender_generations.append(sender_generation)

    def materialize(self) -> None:
        """Load every chunk into the lists (for passes over every heartbeat)."""
        if not self.chunks:
            return
        lists: HeartbeatLists = ([], [], [], [])
        for chunk in self.chunks:
            for into, part in zip(lists, chunk.lists(), strict=True):
                into.extend(part)
        for into, part in zip(lists, (self.now_ms, self.wall_ms, self.seqs,
                                      self.sender_generations), strict=True):
            into.extend(part)
        self.now_ms, self.wall_ms, self.seqs, self.sender_generations = lists
        self.chunks = []

    def __len__(self) -> int:
        return sum(chunk.count for chunk in self.chunks) + len(self.now_ms)

    def _parts(self) -> list[_Part]:
        """Chunks, then the appended lists, oldest first; `lists` None: not decoded yet."""
        parts = [_Part(chunk, chunk.loaded) for chunk in self.chunks]
        if self.now_ms:
            parts.append(_Part(None, (self.now_ms, self.wall_ms, self.seqs,
                                      self.sender_generations)))
        return parts

    def worst_gap_ms(self, *, before_ms: int | None = None) -> int:
        worst = 0
        previous = None
        for part in self._parts():
            chunk = part.chunk
            if chunk is not None and part.lists is None and chunk.is_sorted and (
                    before_ms is None or chunk.last[0] <= before_ms):
                if previous is not None:
                    worst = max(worst, chunk.first[0] - previous)
                worst = max(worst, chunk.worst_gap_ms)
                previous = chunk.last[0]
                continue
            for now in part.decoded()[0]:
                if before_ms is not None and now > before_ms:
                    return worst
                if previous is not None:
                    worst = max(worst, now - previous)
                previous = now
        return worst

    def last_at_or_before(self, at_ms: int) -> tuple[int, int, int, int]:
        """The newest heartbeat (now, wall, seq, generation) heard at or before `at_ms`,
        or the first one when none was; the series must not be empty."""
        parts = self._parts()
        for part in reversed(parts):
            if part.chunk is not None and part.lists is None and part.chunk.min_now_ms > at_ms:
                continue
            now_ms, wall_ms, seqs, generations = part.decoded()
            for position in range(len(now_ms) - 1, -1, -1):
                if now_ms[position] <= at_ms:
                    return (now_ms[position], wall_ms[position], seqs[position],
                            generations[position])
        first = parts[0]
        if first.lists is None and first.chunk is not None:
            return first.chunk.first
        now_ms, wall_ms, seqs, generations = first.decoded()
        return now_ms[0], wall_ms[0], seqs[0], generations[0]

    def heard_around(self, at_ms: int) -> tuple[int, int, int | None] | None:
        """For a series in time order: (now and sender generation of the last heartbeat at
        or before `at_ms`, the now of the first later one from that same sender generation
        or None); None when nothing was heard by then."""
        parts = self._parts()
        found: tuple[int, int] | None = None
        after: list[tuple[_Part, int]] = []
        for position, part in enumerate(parts):
            chunk = part.chunk
            if chunk is not None and part.lists is None and chunk.is_sorted:
                if chunk.last[0] <= at_ms:
                    found = (chunk.last[0], chunk.last[3])
                    continue
                if chunk.first[0] > at_ms:
                    after = [(later, 0) for later in parts[position:]]
                    break
            now_ms, _wall, _seqs, generations = part.decoded()
            earlier = bisect.bisect_right(now_ms, at_ms)
            if earlier:
                found = (now_ms[earlier - 1], generations[earlier - 1])
            if earlier < len(now_ms):
                after = [(part, earlier), *((later, 0) for later in parts[position + 1:])]
                break
        if found is None:
            return None
        last_now, sender = found
        for part, start in after:
            if part.chunk is not None and part.lists is None \
                    and sender not in part.chunk.generations:
                continue
            now_ms, _wall, _seqs, generations = part.decoded()
            for position in range(start, len(now_ms)):
                if generations[position] == sender:
                    return last_now, sender, now_ms[position]
        return last_now, sender, None


@dataclass(slots=True)
class _Part:
    chunk: HeartbeatChunk | None
    lists: HeartbeatLists | None

    def decoded(self) -> HeartbeatLists:
        if self.lists is None:
            assert self.chunk is not None
            self.lists = self.chunk.lists()
        return self.lists


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

    @property
    def last_version(self) -> tuple[int, int]:
        """(generation, status version) of the last heartbeat sent (for resuming a build)."""
        return self._last_version

    def set_last_version(self, version: tuple[int, int]) -> None:
        self._last_version = version

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
    for link in (event.link, *event.also_links):
        key = (generation, event.from_node, link)
        series = trace.heartbeats.get(key)
        if series is None:
            series = trace.heartbeats[key] = HeartbeatSeries()
        series.append(event.now_ms, record.wall_ns // 1_000_000, record.seq, event.generation)
    version = (event.from_node, event.generation, event.status.status_version)
    if version not in trace.status_received:
        trace.status_received[version] = (record.seq, record.wall_ns // 1_000_000)
