"""Comparing a recorded run with its what-if re-run, and the text `hactl replay` prints.

Both runs are explained by the same incident detector; incidents are paired by kind,
subject and run, close in time, so each one is reported as removed (would not have
happened), new (a false failover when its node is heard again), changed (declared dead
earlier or later, outage longer or shorter) or unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hactl.postmortem.chain import Incident, IncidentKind, StepCategory


@dataclass(frozen=True, slots=True, kw_only=True)
class IncidentChange:
    node: str
    kind: IncidentKind
    subject: str | None
    change: str  # "removed", "new", "changed", "unchanged"
    recorded: Incident | None
    what_if: Incident | None
    detail: str


@dataclass(frozen=True, slots=True, kw_only=True)
class WhatIfReport:
    overrides_ms: dict[str, int]
    recorded_timings_ms: dict[str, dict[str, int]]  # per node
    changes: tuple[IncidentChange, ...]
    assumed_completion_count: int
    dropped_completion_count: int
    notes: tuple[str, ...]

    def by_change(self, change: str) -> tuple[IncidentChange, ...]:
        return tuple(item for item in self.changes if item.change == change)

    @property
    def false_failovers(self) -> tuple[IncidentChange, ...]:
        """False failovers of the what-if run (new ones and ones also recorded)."""
        return tuple(item for item in self.changes
                     if item.what_if is not None and item.what_if.is_false_failover)  # fmt: skip

    @property
    def new_false_failovers(self) -> tuple[IncidentChange, ...]:
        return tuple(item for item in self.false_failovers if item.change == "new")

    @property
    def removed_false_failovers(self) -> tuple[IncidentChange, ...]:
        return tuple(item for item in self.by_change("removed")
                     if item.recorded is not None and item.recorded.is_false_failover)  # fmt: skip


COMPARED = (IncidentKind.FAILOVER, IncidentKind.SPLIT_BRAIN, IncidentKind.FENCE,
            IncidentKind.LINK_LOST, IncidentKind.FAILBACK, IncidentKind.RESOURCE_FAILURE)
MATCH_SLACK_MS = 60_000


def compare(node: str, recorded: Sequence[Incident], what_if: Sequence[Incident]
            ) -> list[IncidentChange]:
    left = [incident for incident in recorded if incident.kind in COMPARED]
    right = [incident for incident in what_if if incident.kind in COMPARED]
    changes = []
    unmatched = list(right)
    for incident in left:
        partner = _partner(incident, unmatched)
        if partner is None:
            changes.append(IncidentChange(node=node, kind=incident.kind, subject=incident.subject,
                                          change="removed", recorded=incident, what_if=None,
                                          detail="would not have happened"))  # fmt: skip
            continue
        unmatched.remove(partner)
        changes.append(_timing_change(node, incident, partner))
    for incident in unmatched:
        what = "a false failover" if incident.kind is IncidentKind.FAILOVER \
            else f"a new {incident.kind.value}"
        changes.append(IncidentChange(node=node, kind=incident.kind, subject=incident.subject,
                                      change="new", recorded=None, what_if=incident,
                                      detail=f"would have happened: {what} ({incident.cause})"))
    return changes


def _partner(incident: Incident, candidates: list[Incident]) -> Incident | None:
    best = None
    for candidate in candidates:
        if (candidate.kind, candidate.subject, candidate.generation) != (
                incident.kind, incident.subject, incident.generation):
            continue
        if candidate.started_ms > incident.ended_ms + MATCH_SLACK_MS \
                or candidate.ended_ms < incident.started_ms - MATCH_SLACK_MS:
            continue
        gap = abs(candidate.started_ms - incident.started_ms)
        if best is None or gap < abs(best.started_ms - incident.started_ms):
            best = candidate
    return best


def _dead_at(incident: Incident) -> int | None:
    return next((step.at_ms for step in incident.steps if step.category is StepCategory.DEAD),
                None)


def _timing_change(node: str, recorded: Incident, what_if: Incident) -> IncidentChange:
    parts = []
    recorded_dead, what_if_dead = _dead_at(recorded), _dead_at(what_if)
    if recorded_dead is not None and what_if_dead is not None and recorded_dead != what_if_dead:
        parts.append(f"declared dead {what_if_dead - recorded_dead:+d} ms")
    if recorded.outage_ms is not None and what_if.outage_ms is not None \
            and recorded.outage_ms != what_if.outage_ms:
        parts.append(f"outage {recorded.outage_ms} -> {what_if.outage_ms} ms "
                     f"({what_if.outage_ms - recorded.outage_ms:+d} ms)")
    return IncidentChange(node=node, kind=recorded.kind, subject=recorded.subject,
                          change="changed" if parts else "unchanged", recorded=recorded,
                          what_if=what_if, detail="; ".join(parts) or "same timing")


def _verdict(report: WhatIfReport) -> str:
    count = len(report.false_failovers)
    new, removed = len(report.new_false_failovers), len(report.removed_false_failovers)
    text = f"verdict: {count} false failover(s) with these settings" if count \
        else "verdict: no false failover with these settings"
    details = [f"{new} new" for _ in (1,) if new] + [f"{removed} recorded one(s) removed"
                                                       for _ in (1,) if removed]
    return text + (f" ({', '.join(details)})" if details else "")


def render_what_if(report: WhatIfReport) -> str:
    """The text `hactl replay --what-if` prints."""
    settings = ", ".join(f"{name}={value} ms" for name, value in report.overrides_ms.items())
    lines = [f"what-if {settings}"]
    for node, timings in report.recorded_timings_ms.items():
        recorded = ", ".join(f"{name}={timings[name]} ms" for name in report.overrides_ms
                             if name in timings)  # fmt: skip
        lines.append(f"  {node}: recorded {recorded}")
    titles = {"removed": "would not have happened", "new": "would have happened (new)",
              "changed": "would have happened with other timing", "unchanged": "unchanged"}
    for change, title in titles.items():
        items = report.by_change(change)
        if not items:
            continue
        lines.append(f"{title}:")
        for item in items:
            incident = item.recorded or item.what_if
            assert incident is not None
            subject = f" of {item.subject}" if item.subject else ""
            lines.append(f"  {item.kind.value}{subject} seen by {item.node} at "
                         f"+{incident.started_ms} ms: {item.detail}")
    if not report.changes:
        lines.append("no incident in either run")
    lines.append(_verdict(report))
    if report.assumed_completion_count or report.dropped_completion_count:
        lines.append(f"note: {report.assumed_completion_count} action result(s) assumed, "
                     f"{report.dropped_completion_count} recorded result(s) unused")
    lines.extend(f"note: {note}" for note in report.notes)
    return "\n".join(lines) + "\n"
