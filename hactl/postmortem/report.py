"""`postmortem(journals)`: every incident of every journal, on one corrected time axis.

With one journal the times are that node's own. With several, the journals are merged
(`merge`) and every incident's wall times are corrected by the node's clock offset, so
the failover on one node and the failed node's last records line up. Incidents of the
same story seen from two nodes (a standby on one, the takeover it asked for on the other)
stay separate entries, each from its own journal, ordered on the corrected axis.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from hactl.postmortem.chain import Incident, IncidentKind, StepCategory
from hactl.postmortem.incidents import find_incidents
from hactl.postmortem.merge import MergedTimeline, merge_journals
from hactl.postmortem.sources import NodeJournal
from hactl.postmortem.trace import NodeTrace, trace_node


@dataclass(frozen=True, slots=True, kw_only=True)
class PostmortemReport:
    journals: tuple[NodeJournal, ...]
    traces: dict[str, NodeTrace]
    incidents: tuple[Incident, ...]  # on the corrected axis, oldest first (startups included)
    merged: MergedTimeline | None  # None for a single journal

    def notable(self) -> tuple[Incident, ...]:
        return tuple(i for i in self.incidents if i.kind is not IncidentKind.STARTUP)

    def last(self) -> Incident | None:
        notable = self.notable()
        return notable[-1] if notable else None

    def at(self, wall_ms: int) -> tuple[Incident, ...]:
        """Incidents under way at `wall_ms`, else the first one starting after it."""
        around = tuple(i for i in self.notable()
                       if i.started_wall_ms <= wall_ms <= i.ended_wall_ms)  # fmt: skip
        if around:
            return around
        later = [i for i in self.notable() if i.started_wall_ms >= wall_ms]
        return tuple(later[:1])


def postmortem(journals: Sequence[NodeJournal],
               traces: Mapping[str, NodeTrace] | None = None) -> PostmortemReport:
    """`traces` (by node) saves re-stepping the journals (the index provides them)."""
    given = traces or {}
    traces = {journal.node: given.get(journal.node) or trace_node(journal)
              for journal in journals}
    merged = merge_journals(journals, traces) if len(journals) > 1 else None
    incidents = []
    for trace in traces.values():
        for incident in find_incidents(trace):
            incidents.append(_corrected(incident, merged))
    incidents.sort(key=lambda incident: (incident.started_wall_ms, incident.node))
    if merged is not None:
        incidents = [_across_nodes(incident, incidents) for incident in incidents]
    return PostmortemReport(journals=tuple(journals), traces=traces,
                            incidents=tuple(incidents), merged=merged)


def _across_nodes(incident: Incident, incidents: list[Incident]) -> Incident:
    """A handover's outage starts at the releasing node's first stop, not at this node's
    first step: find the incident that sent the "release done" this one started after."""
    if incident.outage_to_wall_ms is None:
        return incident
    for step in incident.steps:
        if step.category is not StepCategory.MESSAGE or \
                not step.text.startswith("release done from "):
            continue
        peer = step.text.removeprefix("release done from ").split(" ", 1)[0]
        releaser = next((other for other in incidents if other.node == peer and any(
            mine.category is StepCategory.MESSAGE
            and mine.text.startswith(f"release done to {incident.node}")
            and mine.wall_ms <= step.wall_ms for mine in other.steps)
            and other.started_wall_ms <= step.wall_ms), None)  # fmt: skip
        stops = [mine for mine in releaser.steps if mine.category is StepCategory.RELEASE] \
            if releaser is not None else []
        if stops:
            first_stop_ms = min(stop.wall_ms for stop in stops)
            return replace(incident, outage_ms=max(0, incident.outage_to_wall_ms - first_stop_ms),
                           outage_from_wall_ms=first_stop_ms,
                           outage_basis=f"from {peer}'s first stop to the last start's success "
                                        "here (across nodes, on the corrected clock)")
    return incident


def _corrected(incident: Incident, merged: MergedTimeline | None) -> Incident:
    if merged is None:
        return incident
    node = incident.node

    def fix(wall_ms: int | None) -> int | None:
        return None if wall_ms is None else merged.corrected_wall_ms(node, wall_ms)

    steps = tuple(replace(step, wall_ms=merged.corrected_wall_ms(step.node, step.wall_ms))
                  for step in incident.steps)  # fmt: skip
    return replace(incident, steps=steps,
                   started_wall_ms=merged.corrected_wall_ms(node, incident.started_wall_ms),
                   ended_wall_ms=merged.corrected_wall_ms(node, incident.ended_wall_ms),
                   outage_from_wall_ms=fix(incident.outage_from_wall_ms),
                   outage_to_wall_ms=fix(incident.outage_to_wall_ms))  # fmt: skip
