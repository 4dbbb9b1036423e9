"""The incident being assembled, and how it becomes a frozen `Incident`.

Kept apart from the detector (`incidents`), which decides what joins an incident: here
are the open incident's fields, the small helpers that turn a trace entry into a chain
step, and the final build, where the evidence is gathered once and handed to the
classifier and the outage estimate.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, field

from engine.core.commands import AlertKind, RunResourceAction
from engine.core.events import ResourceAction
from hactl.postmortem.chain import ChainStep, Incident, IncidentKind, StepCategory
from hactl.postmortem.classify import Evidence, classify
from hactl.postmortem.outage import estimate_outage
from hactl.postmortem.trace import NodeTrace, TraceEntry


@dataclass(slots=True, kw_only=True)
class OpenIncident:
    kind: IncidentKind
    subject: str | None
    generation: int
    trigger: TraceEntry
    steps: list[ChainStep] = field(default_factory=list)
    alerts: set[AlertKind] = field(default_factory=set)
    admin: str | None = None
    requested_by: str | None = None
    released_by: str | None = None  # the peer whose RELEASE_DONE let this node start
    failed_action: str | None = None
    unusual: list[str] = field(default_factory=list)
    kinds_seen: list[IncidentKind] = field(default_factory=list)


RANK = {IncidentKind.SPLIT_BRAIN: 5, IncidentKind.FAILOVER: 4, IncidentKind.FENCE: 3,
        IncidentKind.RESOURCE_FAILURE: 2}  # fmt: skip


def outranks(kind: IncidentKind, current: IncidentKind) -> bool:
    return RANK.get(kind, 0) > RANK.get(current, 0)


def action_category(action: ResourceAction) -> StepCategory:
    return StepCategory.RELEASE if action is ResourceAction.STOP else StepCategory.ACQUIRE


def announcement(command: RunResourceAction) -> str:
    is_address = command.resource_id.split("::", 1)[0] in ("IPaddr", "IPaddr2", "IPv6addr")
    if command.action is ResourceAction.START and is_address:
        return ": add the address, then gratuitous ARP / unsolicited NA"
    return ""


def step_of(entry: TraceEntry, category: StepCategory, text: str, **fields: object) -> ChainStep:
    return ChainStep(node=entry.node, seq=entry.record.seq, at_ms=entry.now_ms,
                     wall_ms=entry.wall_ms, category=category, text=text,
                     **fields)  # type: ignore[arg-type]


def subject_of(message: str) -> str | None:
    """The node named by an engine message that starts `node NAME ...`."""
    words = message.split()
    if len(words) >= 2 and words[0] == "node":
        return words[1].rstrip(":,")
    return None


def build_incident(trace: NodeTrace, opened: OpenIncident, last: TraceEntry, is_finished: bool,
           late_warning_count: int) -> Incident:
    steps = tuple(sorted(opened.steps, key=lambda step: (step.at_ms, step.seq)))
    opened.unusual.extend(retries(steps))
    config = trace.configs.get(opened.generation)
    evidence = Evidence.gather(trace, opened.kind, opened.subject, opened.generation, steps,
                               config=config, alerts=frozenset(opened.alerts),
                               admin=opened.admin, requested_by=opened.requested_by,
                               released_by=opened.released_by,
                               failed_action=opened.failed_action,
                               late_warning_count=late_warning_count,
                               unusual=tuple(opened.unusual))  # fmt: skip
    cause, hints, unusual = classify(evidence)
    outage = estimate_outage(opened.kind, steps, evidence)
    started = steps[0] if steps else None
    started_ms = min(opened.trigger.now_ms, started.at_ms if started else opened.trigger.now_ms)
    started_wall_ms = min(opened.trigger.wall_ms,
                          started.wall_ms if started else opened.trigger.wall_ms)
    ended_ms = max([last.now_ms, *(step.at_ms + (step.duration_ms or 0) for step in steps)])
    ended_wall_ms = max([last.wall_ms, *(step.wall_ms + (step.duration_ms or 0) for step in steps)])
    return Incident(kind=opened.kind, node=trace.node, subject=opened.subject,
                    generation=opened.generation, started_ms=started_ms, ended_ms=ended_ms,
                    started_wall_ms=started_wall_ms, ended_wall_ms=ended_wall_ms, steps=steps,
                    cause=cause, hints=hints, unusual=unusual, outage_ms=outage.outage_ms,
                    outage_from_wall_ms=outage.from_wall_ms, outage_to_wall_ms=outage.to_wall_ms,
                    outage_basis=outage.basis, is_finished=is_finished,
                    is_false_failover=opened.kind is IncidentKind.FAILOVER
                    and evidence.is_subject_heard_again)  # fmt: skip


def retries(steps: tuple[ChainStep, ...]) -> list[str]:
    """Actions run more than once on one resource in one incident (stop retries, restarts)."""
    runs = collections.Counter(" ".join(step.text.split()[:2]) for step in steps
                               if step.category in (StepCategory.RELEASE, StepCategory.ACQUIRE))
    return [f"{what} ran {count} times (retried)" for what, count in runs.items() if count > 1]
