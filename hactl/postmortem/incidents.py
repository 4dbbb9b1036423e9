"""Find the incidents in one node's trace and build each one's causal chain.

Theory of operation: the detector walks the trace once. A trigger opens an incident (an
alert such as NODE_DEAD, an admin command, a peer's standby request, a resource failure,
or an unrequested resource action); everything the node then did (fences, stops, starts,
messages) joins it, and it closes at the first step after which nothing is in flight (no
resource action, no fence, no failed fence awaiting its retry). Triggers met while an
incident is open join it, so "dead -> fence -> takeover -> start failed" is one story. A
daemon restart closes an open incident as unfinished. Before a failover the chain is
prefixed with the context that explains it: each link's last heartbeat and the late-
heartbeat and dead-link warnings in the silence before the deadline.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, field, replace

from engine.core.commands import (
    AlertKind,
    FenceNode,
    LogLevel,
    LogMessage,
    RaiseAlert,
    RunResourceAction,
    SelfFence,
    SendControlMessage,
)
from engine.core.events import (
    AdminAction,
    AdminCommandReceived,
    ControlMessageReceived,
    FenceCompleted,
    NodeStarted,
    ResourceAction,
    ResourceActionCompleted,
    ShutdownRequested,
)
from engine.core.messages import ControlKind
from hactl.postmortem.chain import ChainStep, Incident, IncidentKind, StepCategory
from hactl.postmortem.incident_build import (
    OpenIncident,
    action_category,
    announcement,
    build_incident,
    outranks,
    step_of,
    subject_of,
)
from hactl.postmortem.trace import NodeTrace, TraceEntry

RECENT_WARNINGS_MAX = 64
QUIET_ACTIONS = (ResourceAction.MONITOR, ResourceAction.PROBE)
RECENTLY_RETURNED_MS = 120_000  # a release this soon after a peer returned is a failback


@dataclass(slots=True, kw_only=True)
class _Detector:
    trace: NodeTrace
    incidents: list[Incident] = field(default_factory=list)
    open: OpenIncident | None = None
    pending: dict[tuple[int, int], tuple[RunResourceAction, int]] = field(default_factory=dict)
    step_of_action: dict[tuple[int, int], int] = field(default_factory=dict)
    fences_in_flight: dict[str, int] = field(default_factory=dict)  # target -> step index
    fence_failed: set[str] = field(default_factory=set)
    stops_failed: set[tuple[str, str]] = field(default_factory=set)  # (group, resource) to retry
    returned_at_ms: dict[str, int] = field(default_factory=dict)
    recent: collections.deque[ChainStep] = field(
        default_factory=lambda: collections.deque(maxlen=RECENT_WARNINGS_MAX))
    link_losses: list[tuple[ChainStep, str, TraceEntry]] = field(default_factory=list)
    late_warning_count: collections.Counter[str] = field(default_factory=collections.Counter)
    generation: int = 0
    is_booting: bool = True  # until the first incident of the run closes
    seen_peers: set[str] = field(default_factory=set)
    run_started_ms: int = 0
    last_release: tuple[str, int] | None = None  # (peer, now_ms) of its latest RELEASE_DONE
    last_release_step: ChainStep | None = None  # joins the incident the release lets start

    # ---- the walk ----------------------------------------------------------------------

    def feed(self, entry: TraceEntry) -> None:
        self._flush_link_losses(entry)
        if isinstance(entry.event, NodeStarted):
            self._close(entry, is_finished=False)
            self._new_run(entry)
        self._event_steps(entry)
        for command in entry.commands:
            self._command(entry, command)
        if self.open is not None and self._is_settled():
            self._close(entry, is_finished=True)

    def finish(self) -> list[Incident]:
        self._flush_link_losses(None)
        if self.open is not None:
            self._close(self.trace.entries[-1] if self.trace.entries else None,
                        is_finished=False)
        return self.incidents

    def _new_run(self, entry: TraceEntry) -> None:
        self.generation = entry.generation
        self.run_started_ms = entry.now_ms
        self.last_release = None
        self.last_release_step = None
        self.pending.clear()
        self.step_of_action.clear()
        self.fences_in_flight.clear()
        self.fence_failed.clear()
        self.stops_failed.clear()
        self.seen_peers.clear()
        self.returned_at_ms.clear()
        self.is_booting = True

    # ---- events ------------------------------------------------------------------------

    def _event_steps(self, entry: TraceEntry) -> None:
        event = entry.event
        match event:
            case AdminCommandReceived() if event.action is not AdminAction.RELOAD:
                who = f"{event.action.value} {event.scope.value} by uid {event.uid} pid {event.pid}"
                kind = {AdminAction.STANDBY: IncidentKind.STANDBY,
                        AdminAction.TAKEOVER: IncidentKind.TAKEOVER}.get(
                            event.action, IncidentKind.SHUTDOWN)  # fmt: skip
                opened = self._trigger(entry, kind, None)
                opened.admin = opened.admin or who
                self._add(entry, StepCategory.ADMIN, f"admin request: {who}")
            case ShutdownRequested():
                opened = self._trigger(entry, IncidentKind.SHUTDOWN, None)
                opened.admin = opened.admin or "shutdown requested by signal"
                self._add(entry, StepCategory.ADMIN, "shutdown requested by signal (SIGTERM)")
            case ControlMessageReceived() if event.message.kind is not ControlKind.ACK:
                self._control_received(entry, event)
            case ResourceActionCompleted():
                self._action_completed(entry, event)
            case FenceCompleted():
                self._fence_completed(entry, event)
            case _:
                pass

    def _control_received(self, entry: TraceEntry, event: ControlMessageReceived) -> None:
        message = event.message
        groups = f" [{', '.join(message.groups)}]" if message.groups else ""
        text = f"{message.kind.value.replace('_', ' ')} from {event.from_node}{groups}"
        if message.kind is ControlKind.RELEASE_DONE:
            self.last_release = (event.from_node, entry.now_ms)
            self.last_release_step = step_of(entry, StepCategory.MESSAGE, text)
        if message.kind is ControlKind.STANDBY_REQUEST and self.open is None:
            opened = self._trigger(entry, IncidentKind.STANDBY, event.from_node)
            opened.requested_by = event.from_node
        if self.open is not None:
            self._add(entry, StepCategory.MESSAGE, text)

    def _action_completed(self, entry: TraceEntry, event: ResourceActionCompleted) -> None:
        key = (self.generation, event.action_id)
        issued = self.pending.pop(key, None)
        index = self.step_of_action.pop(key, None)
        if issued is None or (event.action in QUIET_ACTIONS and event.outcome.value == "success"):
            return
        if event.action is ResourceAction.STOP:
            stop = (event.group, event.resource_id)
            if event.outcome.value == "success" or event.outcome.value == "not_running":
                self.stops_failed.discard(stop)
            else:
                self.stops_failed.add(stop)  # the engine retries it after a pause
        is_ok = event.outcome.value in ("success", "not_running") and (
            event.outcome.value == "success" or event.action is not ResourceAction.START)
        if not is_ok and self.open is None:
            self._trigger(entry, IncidentKind.RESOURCE_FAILURE, None)
        if self.open is None:
            return
        if index is not None and index < len(self.open.steps):
            step = self.open.steps[index]
            self.open.steps[index] = replace(
                step, duration_ms=event.duration_ms, exit_code=event.exit_code,
                outcome=event.outcome.value, output=event.output_excerpt.strip())  # fmt: skip
        else:
            self._add(entry, action_category(event.action),
                      f"{event.action.value} {event.resource_id} ({event.group})",
                      duration_ms=event.duration_ms, exit_code=event.exit_code,
                      outcome=event.outcome.value, output=event.output_excerpt.strip())
        timeout_ms = issued[0].timeout_ms
        if timeout_ms and event.duration_ms * 2 > timeout_ms:
            self.open.unusual.append(f"slow agent: {event.action.value} {event.resource_id} took "
                                     f"{event.duration_ms} ms of its {timeout_ms} ms timeout")
        if not is_ok:
            self.open.failed_action = (f"{event.action.value} of {event.resource_id} "
                                       f"{event.outcome.value} (exit {event.exit_code})")

    def _fence_completed(self, entry: TraceEntry, event: FenceCompleted) -> None:
        index = self.fences_in_flight.pop(event.target, None)
        if event.is_success:
            self.fence_failed.discard(event.target)
        else:
            self.fence_failed.add(event.target)
        if self.open is None:
            return
        result = "succeeded" if event.is_success else f"failed: {event.detail}"
        if index is not None and index < len(self.open.steps):
            step = self.open.steps[index]
            self.open.steps[index] = replace(
                step, text=f"{step.text}; device {event.device} {result}",
                duration_ms=event.duration_ms, outcome="success" if event.is_success else "failed")
        if not event.is_success:
            self.open.unusual.append(f"fence of {event.target} via {event.device} failed: "
                                     f"{event.detail} (retried)")

    # ---- commands ----------------------------------------------------------------------

    def _command(self, entry: TraceEntry, command: object) -> None:
        match command:
            case RaiseAlert():
                self._alert(entry, command)
            case LogMessage():
                self._log(entry, command)
            case RunResourceAction():
                self._action_issued(entry, command)
            case FenceNode():
                opened = self._trigger(entry, IncidentKind.FENCE, command.target)
                self.fences_in_flight[command.target] = len(opened.steps)
                self._add(entry, StepCategory.FENCE,
                          f"fence {command.target} ordered ({command.reason})")
            case SelfFence():
                opened = self._trigger(entry, IncidentKind.RESOURCE_FAILURE, None)
                opened.unusual.append(f"self-fence ordered: {command.reason}")
                self._add(entry, StepCategory.FENCE, f"self-fence ordered: {command.reason}")
            case SendControlMessage() if self.open is not None:
                message = command.message
                if message.kind is not ControlKind.ACK:
                    groups = f" [{', '.join(message.groups)}]" if message.groups else ""
                    self._add(entry, StepCategory.MESSAGE,
                              f"{message.kind.value.replace('_', ' ')} to {command.to_node}"
                              f"{groups} (#{command.message_id})")
            case _:
                pass

    def _alert(self, entry: TraceEntry, command: RaiseAlert) -> None:
        alert = command.alert
        subject = subject_of(command.message)
        match alert:
            case AlertKind.NODE_DEAD:
                opened = self._trigger(entry, IncidentKind.FAILOVER, subject)
                if opened.subject is None:
                    opened.subject = subject
                self._prepend_silence(opened, entry, subject)
                self._add(entry, StepCategory.DEAD, f"deadtime expired: {command.message}")
            case AlertKind.PARTITION_CONFLICT | AlertKind.RETURNING_AFTER_PARTITION:
                self._trigger(entry, IncidentKind.SPLIT_BRAIN, subject)
                if subject is not None:
                    self.returned_at_ms[subject] = entry.now_ms
                self._add(entry, StepCategory.ALERT, command.message)
            case AlertKind.STOP_FAILED:
                self.stops_failed.clear()  # retries exhausted: the node fences itself
                opened = self._trigger(entry, IncidentKind.RESOURCE_FAILURE, None)
                opened.failed_action = opened.failed_action or command.message
                self._add(entry, StepCategory.ALERT, command.message)
            case AlertKind.START_FAILED | AlertKind.MONITOR_FAILED:
                opened = self._trigger(entry, IncidentKind.RESOURCE_FAILURE, None)
                opened.failed_action = opened.failed_action or command.message
                self._add(entry, StepCategory.ALERT, command.message)
            case AlertKind.PEER_RESTARTED:
                if subject is not None:
                    self.returned_at_ms[subject] = entry.now_ms
                if self.open is not None:
                    self._add(entry, StepCategory.NODE, command.message)
            case AlertKind.QUORUM_LOST | AlertKind.QUORUM_REGAINED:
                if self.open is not None:
                    self._add(entry, StepCategory.QUORUM, command.message)
            case _:
                if self.open is not None:
                    category = StepCategory.FENCE if alert in (
                        AlertKind.NODE_FENCED, AlertKind.FENCE_FAILED) else StepCategory.ALERT
                    self._add(entry, category, command.message)
        if self.open is not None:
            self.open.alerts.add(alert)

    def _log(self, entry: TraceEntry, command: LogMessage) -> None:
        message = command.message
        if command.level is LogLevel.WARNING and (
                message.startswith("late heartbeat") or message.startswith("link ")):
            step = step_of(entry, StepCategory.WARNING, message)
            self.recent.append(step)
            subject = message.rsplit(" ", 1)[-1] if message.startswith("link ") else None
            if message.startswith("late heartbeat"):
                subject = subject_of(message.removeprefix("late heartbeat: "))
                if subject is not None:
                    self.late_warning_count[subject] += 1
            elif subject is not None:
                subject = message.split(" to ", 1)[-1].split(" ", 1)[0]
                self.link_losses.append((step, subject, entry))
            if self.open is not None:
                self.open.steps.append(step)
            return
        if message.startswith("node ") and " is up" in message:
            subject = subject_of(message)
            if subject is not None and subject in self.seen_peers:
                self.returned_at_ms[subject] = entry.now_ms  # back after death or leaving
            elif subject is not None:
                self.seen_peers.add(subject)
        if self.open is None:
            return
        if message.startswith("group ") and message.endswith(("running here", "stopped here")):
            self._add(entry, StepCategory.SERVICE, message)
        elif message.startswith(("releasing group", "node ", "standby", "takeover", "clean")):
            self._add(entry, StepCategory.NODE, message)

    def _action_issued(self, entry: TraceEntry, command: RunResourceAction) -> None:
        key = (self.generation, command.action_id)
        self.pending[key] = (command, entry.now_ms)
        if command.action in QUIET_ACTIONS:
            return
        if self.open is None:
            kind, subject, released_by = self._unrequested_kind(entry, command)
            opened = self._trigger(entry, kind, subject)
            opened.released_by = released_by
            release_step = self.last_release_step
            if released_by is not None and release_step is not None \
                    and release_step not in opened.steps:
                opened.steps.append(release_step)
        assert self.open is not None
        self.step_of_action[key] = len(self.open.steps)
        self._add(entry, action_category(command.action),
                  f"{command.action.value} {command.resource_id} ({command.group})"
                  f"{announcement(command)}")

    def _unrequested_kind(self, entry: TraceEntry, command: RunResourceAction
                          ) -> tuple[IncidentKind, str | None, str | None]:
        """(kind, subject, the peer whose release let this node start) of an action no
        trigger explains."""
        recent = [name for name, at_ms in self.returned_at_ms.items()
                  if entry.now_ms - at_ms <= RECENTLY_RETURNED_MS]  # fmt: skip
        if recent:
            return IncidentKind.FAILBACK, recent[-1], None
        config = self.trace.configs.get(self.generation)
        initdead_ms = config.timings.initdead.value_ms if config is not None else 0
        is_just_started = entry.now_ms - self.run_started_ms <= initdead_ms
        released = self.last_release
        if released is not None and entry.now_ms - released[1] <= initdead_ms:
            kind = IncidentKind.FAILBACK if is_just_started else IncidentKind.TAKEOVER
            return kind, released[0], released[0]
        if self.is_booting or is_just_started:
            return IncidentKind.STARTUP, None, None
        if command.action is ResourceAction.STOP:
            return IncidentKind.STANDBY, None, None
        return IncidentKind.TAKEOVER, None, None

    # ---- opening and closing -----------------------------------------------------------

    def _trigger(self, entry: TraceEntry, kind: IncidentKind, subject: str | None) -> OpenIncident:
        if self.open is None:
            self.open = OpenIncident(kind=kind, subject=subject, generation=entry.generation,
                              trigger=entry)
        elif kind is not self.open.kind and outranks(kind, self.open.kind):
            self.open.kinds_seen.append(self.open.kind)
            self.open.kind = kind
            self.open.subject = self.open.subject or subject
        elif kind is not self.open.kind:
            self.open.kinds_seen.append(kind)
        return self.open

    def _add(self, entry: TraceEntry, category: StepCategory, text: str, **fields: object) -> None:
        assert self.open is not None
        self.open.steps.append(step_of(entry, category, text, **fields))

    def _is_settled(self) -> bool:
        busy = any(command.action not in QUIET_ACTIONS for command, _ in self.pending.values())
        return not busy and not self.fences_in_flight and not self.fence_failed \
            and not self.stops_failed

    def _prepend_silence(self, opened: OpenIncident, entry: TraceEntry,
                         subject: str | None) -> None:
        if subject is None:
            return
        for link, series in sorted(self.trace.series_for(entry.generation, subject).items()):
            if not len(series):
                continue
            last, wall_ms, seq, _generation = series.last_at_or_before(entry.now_ms)
            opened.steps.append(ChainStep(
                node=entry.node, seq=seq, at_ms=last,
                wall_ms=wall_ms, category=StepCategory.HEARTBEAT,
                text=f"last heartbeat from {subject} on {link} "
                     f"({entry.now_ms - last} ms before the dead declaration)"))
        opened.steps.extend(step for step in self.recent if subject in step.text
                            and step not in opened.steps)
        self.link_losses = [loss for loss in self.link_losses if loss[1] != subject]

    def _flush_link_losses(self, entry: TraceEntry | None) -> None:
        """A dead link whose node was not declared dead within deadtime is its own incident."""
        kept = []
        for step, subject, origin in self.link_losses:
            config = self.trace.configs.get(origin.generation)
            deadtime_ms = config.timings.deadtime.value_ms if config is not None else 0
            if entry is not None and entry.now_ms - step.at_ms <= deadtime_ms \
                    and entry.generation == origin.generation:
                kept.append((step, subject, origin))
                continue
            if self.open is None:
                self.open = OpenIncident(kind=IncidentKind.LINK_LOST, subject=subject,
                                  generation=origin.generation, trigger=origin)
                self.open.steps.append(step)
                self._close(origin, is_finished=True)
        self.link_losses = kept

    def _close(self, entry: TraceEntry | None, *, is_finished: bool) -> None:
        opened = self.open
        if opened is None:
            return
        self.open = None
        self.is_booting = False
        last = entry if entry is not None else opened.trigger
        self.incidents.append(build_incident(self.trace, opened, last, is_finished,
                                     self.late_warning_count[opened.subject or ""]))


def find_incidents(trace: NodeTrace) -> list[Incident]:
    detector = _Detector(trace=trace)
    for entry in trace.entries:
        detector.feed(entry)
    return detector.finish()
