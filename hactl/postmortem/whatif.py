"""What-if replay: re-run a node's recorded inputs through the engine with other timings.

`run_what_if(journal_dirs, {"deadtime": 5000})` answers "what would these settings have
done with the heartbeats we really got?". For each journal, the recorded configuration is
rewritten (in `NodeStarted` and `ConfigReloaded`), and the node's recorded inputs are
stepped again; the engine recomputes every decision. Which recorded events are inputs, and
how the others are handled, is the whole design (docs/postmortem.md, "what-if rules"):

- Inputs replayed as recorded, at their recorded times: heartbeats received, control
  messages received, ping results, admin commands, shutdown requests, node starts and
  reloads (with the new timings). Peers are taken to behave as recorded.
- Time: the recorded `TimeAdvanced` events answered the old deadlines, so they are dropped
  and the engine is stepped at its own `next_deadline` instead, as the live shell does.
- Action and fence completions answer an order. Each order the what-if engine issues is
  matched to the first unused recorded completion of the same resource and action (or the
  same fence target) that finished after the order; its outcome, exit code, output and
  duration are reused, delivered `duration` after the what-if order. An order with no such
  completion (an action the node never ran live) is assumed to succeed (status/probe:
  "not running"; monitor: "running") and to take the median recorded duration of that
  action; the report counts these assumptions. Recorded completions left unmatched (for
  actions the what-if engine never ordered) are dropped, and counted.
- keepalive: a larger value thins each peer's recorded heartbeats per link to one per new
  keepalive (peers would have sent fewer); a smaller one cannot invent heartbeats, so the
  recorded ones are replayed as they came and the report says so.

The recorded run and the what-if run are then explained by the same incident detector and
compared: incidents that would not have happened, new ones (false failovers), and timing
changes of the failovers that happen in both.
"""

from __future__ import annotations

import dataclasses
import heapq
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from engine.config.errors import ValueProblem
from engine.config.model import ClusterConfig, Timed, Timings, ValueSource
from engine.config.timeparse import parse_duration_ms
from engine.core.codec import MalformedMessageError, decode_event, is_engine_kind
from engine.core.commands import Command, FenceNode, RunResourceAction
from engine.core.deadlines import next_deadline
from engine.core.events import (
    ActionOutcome,
    ConfigReloaded,
    Event,
    FenceCompleted,
    HeartbeatReceived,
    NodeStarted,
    ResourceAction,
    ResourceActionCompleted,
    TimeAdvanced,
)
from engine.core.machine import initial_state, step
from engine.core.state import NodeState
from hactl.postmortem.incidents import find_incidents
from hactl.postmortem.sources import NodeJournal, load_journals
from hactl.postmortem.trace import NodeTrace, TraceBuilder, trace_node
from hactl.postmortem.whatif_compare import (
    IncidentChange,
    WhatIfReport,
    compare,
    render_what_if,
)
from journal import Record

TIMING_NAMES = ("keepalive", "deadtime", "warntime", "initdead", "deadping")
SYNTHETIC_KIND = 102  # TimeAdvanced; synthetic records borrow the engine's kind number
STEPS_PER_INPUT_MAX = 10_000  # a safety net against an engine that never moves its deadline


class WhatIfError(ValueError):
    """An override that cannot be applied (unknown name, zero, or inconsistent timings)."""


def run_what_if(journal_dirs: Sequence[Path], overrides: Mapping[str, int]) -> WhatIfReport:
    """Replay each journal with `overrides` (timing name -> milliseconds) and compare."""
    _check_overrides(overrides)
    journals = load_journals(journal_dirs)
    return what_if_journals(journals, overrides)


def what_if_journals(journals: Sequence[NodeJournal], overrides: Mapping[str, int]
                     ) -> WhatIfReport:
    _check_overrides(overrides)
    changes: list[IncidentChange] = []
    recorded_timings: dict[str, dict[str, int]] = {}
    assumed = dropped = 0
    notes: list[str] = []
    for journal in journals:
        recorded_trace = trace_node(journal)
        rerun = _Rerun(journal, overrides)
        what_if_trace = rerun.run()
        assumed += rerun.assumed_count
        dropped += rerun.dropped_count()
        notes.extend(rerun.notes)
        recorded_timings[journal.node] = _timings_of(recorded_trace)
        changes.extend(compare(journal.node, find_incidents(recorded_trace),
                               find_incidents(what_if_trace)))
    return WhatIfReport(overrides_ms=dict(overrides), recorded_timings_ms=recorded_timings,
                        changes=tuple(changes), assumed_completion_count=assumed,
                        dropped_completion_count=dropped, notes=tuple(dict.fromkeys(notes)))


def parse_what_if_options(texts: Sequence[str]) -> dict[str, int]:
    """`["deadtime=5s", "keepalive=500ms"]` -> `{"deadtime": 5000, "keepalive": 500}`.

    Values use Heartbeat's time syntax (`engine.config.timeparse`: bare seconds, `5s`,
    `500ms`); every error names the option as written.
    """
    overrides: dict[str, int] = {}
    for text in texts:
        name, separator, value = text.partition("=")
        name = name.strip().lower()
        if not separator or not value.strip():
            raise WhatIfError(f"--what-if {text!r}: write NAME=TIME, like deadtime=5s")
        try:
            overrides[name] = parse_duration_ms(value.strip())
        except ValueProblem as problem:
            hint = f" ({problem.hint})" if problem.hint else ""
            raise WhatIfError(f"--what-if {text!r}: {problem.message}{hint}") from None
    _check_overrides(overrides)
    return overrides


def _check_overrides(overrides: Mapping[str, int]) -> None:
    for name, value in overrides.items():
        if name not in TIMING_NAMES:
            raise WhatIfError(f"--what-if {name}: unknown timing (use {', '.join(TIMING_NAMES)})")
        if value <= 0:
            raise WhatIfError(f"--what-if {name}={value} ms: a timing must be positive")


def _timings_of(trace: NodeTrace) -> dict[str, int]:
    if not trace.configs:
        return {}
    config = trace.configs[max(trace.configs)]
    return {name: getattr(config.timings, name).value_ms for name in TIMING_NAMES}


def with_timings(config: ClusterConfig, overrides: Mapping[str, int]) -> ClusterConfig:
    source = ValueSource.SET
    changed = {name: Timed(value_ms=value, source=source) for name, value in overrides.items()}
    timings: Timings = dataclasses.replace(config.timings, **changed)
    if timings.warntime.value_ms >= timings.deadtime.value_ms and "warntime" not in overrides:
        timings = dataclasses.replace(timings, warntime=Timed(
            value_ms=max(1, timings.deadtime.value_ms // 2), source=source))
    return dataclasses.replace(config, timings=timings)


@dataclass(order=True, slots=True)
class _Scheduled:
    due_ms: int
    order: int
    event: Event = field(compare=False)


class _Rerun:
    """One journal's inputs stepped again with the overridden timings."""

    def __init__(self, journal: NodeJournal, overrides: Mapping[str, int]) -> None:
        self.journal = journal
        self.overrides = dict(overrides)
        self.builder = TraceBuilder(journal.node)
        self.state: NodeState = initial_state()
        self.scheduled: list[_Scheduled] = []
        self.order = 0
        self.assumed_count = 0
        self.notes: list[str] = []
        self.completions: list[tuple[int, Event]] = []  # recorded (journal seq, event)
        self.used: set[int] = set()
        self.last_kept_ms: dict[tuple[str, str], int] = {}
        self.anchor: tuple[int, int, int] = (0, 0, 0)  # (seq, now_ms, wall_ns) of the last input

    def dropped_count(self) -> int:
        return len(self.completions) - len(self.used)

    def run(self) -> NodeTrace:
        inputs = self._inputs()
        for record, event in inputs:
            self._advance_to(event.now_ms)
            if not self._is_kept_heartbeat(event):
                continue
            event = self._rewritten(event)
            self.anchor = (record.seq, event.now_ms, record.wall_ns)
            self._step(record, event)
        if inputs:
            _last_record, last_event = inputs[-1]
            self._advance_to(last_event.now_ms)
        return self.builder.trace

    # ---- inputs ------------------------------------------------------------------------

    def _inputs(self) -> list[tuple[Record, Event]]:
        inputs: list[tuple[Record, Event]] = []
        for record in self.journal.records:
            if not is_engine_kind(record.kind):
                continue
            try:
                event = decode_event(record.kind, record.payload)  # type: ignore[arg-type]
            except MalformedMessageError:
                continue
            if isinstance(event, ResourceActionCompleted | FenceCompleted):
                self.completions.append((record.seq, event))
            elif not isinstance(event, TimeAdvanced):
                inputs.append((record, event))
        return inputs

    def _rewritten(self, event: Event) -> Event:
        if isinstance(event, NodeStarted | ConfigReloaded):
            recorded = event.config.timings.keepalive.value_ms
            keepalive = self.overrides.get("keepalive")
            if keepalive is not None and keepalive < recorded:
                self.notes.append(f"keepalive {keepalive} ms is below the recorded {recorded} ms: "
                                  "the recorded heartbeats are replayed as they came")
            return dataclasses.replace(event, config=with_timings(event.config, self.overrides))
        return event

    def _is_kept_heartbeat(self, event: Event) -> bool:
        """Thin peers' heartbeats to the overridden keepalive when it is longer."""
        if not isinstance(event, HeartbeatReceived) or "keepalive" not in self.overrides:
            return True
        config = self.state.config
        if config is None:
            return True
        keepalive_ms = self.overrides["keepalive"]
        key = (event.from_node, event.link)
        last = self.last_kept_ms.get(key)
        if last is not None and event.now_ms - last < keepalive_ms * 9 // 10:
            return False
        self.last_kept_ms[key] = event.now_ms
        return True

    # ---- time and completions ----------------------------------------------------------

    def _advance_to(self, until_ms: int) -> None:
        for _ in range(STEPS_PER_INPUT_MAX):
            deadline = next_deadline(self.state)
            due = self.scheduled[0].due_ms if self.scheduled else None
            candidates = [t for t in (deadline, due) if t is not None and t <= until_ms]
            if not candidates:
                return
            moment = max(min(candidates), self.state.now_ms)
            if due is not None and due <= moment:
                event = heapq.heappop(self.scheduled).event
                event = dataclasses.replace(event, now_ms=max(due, self.state.now_ms))
            else:
                event = TimeAdvanced(now_ms=moment)
            before = (self.state.now_ms, next_deadline(self.state))
            self._step(self._synthetic_record(event.now_ms), event)
            if isinstance(event, TimeAdvanced) and before == (self.state.now_ms,
                                                               next_deadline(self.state)):
                return  # the engine did not move its deadline: nothing more to do now

    def _synthetic_record(self, now_ms: int) -> Record:
        seq, anchor_ms, anchor_wall_ns = self.anchor
        return Record(seq=seq, kind=SYNTHETIC_KIND, monotonic_ns=now_ms * 1_000_000,
                      wall_ns=anchor_wall_ns + (now_ms - anchor_ms) * 1_000_000, payload=None,
                      head=b"")  # fmt: skip

    def _step(self, record: Record, event: Event) -> None:
        if isinstance(event, NodeStarted):
            self.scheduled.clear()
        self.state, commands = step(self.state, event)
        self.builder.stepped(record, event, self.state, commands)
        for command in commands:
            self._answer(command)

    def _answer(self, command: Command) -> None:
        now_ms = self.state.now_ms
        if isinstance(command, RunResourceAction):
            event: Event = self._action_result(command, now_ms)
        elif isinstance(command, FenceNode):
            event = self._fence_result(command, now_ms)
        else:
            return
        self.order += 1
        heapq.heappush(self.scheduled, _Scheduled(now_ms + _duration(event), self.order, event))

    def _action_result(self, command: RunResourceAction, now_ms: int) -> Event:
        durations = []
        for index, (_seq, recorded) in enumerate(self.completions):
            if not isinstance(recorded, ResourceActionCompleted) or (
                    recorded.group, recorded.resource_id, recorded.action) != (
                    command.group, command.resource_id, command.action):
                continue
            durations.append(recorded.duration_ms)
            if index not in self.used and recorded.now_ms >= now_ms:
                self.used.add(index)
                return dataclasses.replace(recorded, action_id=command.action_id)
        self.assumed_count += 1
        outcome = {ResourceAction.STATUS: ActionOutcome.NOT_RUNNING,
                   ResourceAction.PROBE: ActionOutcome.NOT_RUNNING}.get(
                       command.action, ActionOutcome.SUCCESS)  # fmt: skip
        return ResourceActionCompleted(
            now_ms=now_ms, action_id=command.action_id, group=command.group,
            resource_id=command.resource_id, action=command.action, outcome=outcome,
            exit_code=None, duration_ms=int(statistics.median(durations)) if durations else 0,
            output_excerpt="(assumed by the what-if replay)")  # fmt: skip

    def _fence_result(self, command: FenceNode, now_ms: int) -> Event:
        durations = []
        for index, (_seq, recorded) in enumerate(self.completions):
            if not isinstance(recorded, FenceCompleted) or recorded.target != command.target:
                continue
            durations.append(recorded.duration_ms)
            if index not in self.used and recorded.now_ms >= now_ms:
                self.used.add(index)
                return recorded
        self.assumed_count += 1
        return FenceCompleted(now_ms=now_ms, target=command.target, device="(assumed)",
                              is_success=True,
                              duration_ms=int(statistics.median(durations)) if durations else 0,
                              detail="assumed by the what-if replay")  # fmt: skip


def _duration(event: Event) -> int:
    return event.duration_ms if isinstance(event, ResourceActionCompleted | FenceCompleted) else 0


__all__ = [
    "IncidentChange",
    "WhatIfError",
    "WhatIfReport",
    "parse_what_if_options",
    "render_what_if",
    "run_what_if",
    "what_if_journals",
    "with_timings",
]
