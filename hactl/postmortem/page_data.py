"""What the timeline page draws: lanes and items on one corrected time axis (pure data).

Lanes: one per node (its decisions: warnings, the dead declaration, fences, resource
stop/start bars, admin requests) and one per link as heard by a node (heartbeat density
per time bin, and gaps longer than two keepalives). Incidents add the client-visible
outage band across all lanes. Every item keeps the (node, seq) of the journal record that
caused it, so hovering it can show that record. Kept apart from the HTML so tests can
check what is drawn without a browser, and the browser test checks that it is drawn.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from hactl.postmortem.chain import Incident, StepCategory
from hactl.postmortem.report import PostmortemReport
from hactl.postmortem.trace import HeartbeatSeries

DENSITY_BINS = 240
PADDING_RATIO = 0.12
PADDING_MS_MIN = 1000


@dataclass(frozen=True, slots=True, kw_only=True)
class Lane:
    key: str
    title: str
    node: str
    is_link: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Item:
    lane: str
    kind: str  # heartbeats, gap, warning, dead, fence, start, stop, admin, service, outage
    from_ms: int  # corrected wall time
    to_ms: int
    label: str
    node: str | None = None
    seq: int | None = None
    density: float = 0.0  # heartbeats: the bin's count relative to the busiest bin


@dataclass(frozen=True, slots=True, kw_only=True)
class PageData:
    title: str
    from_ms: int
    to_ms: int
    lanes: tuple[Lane, ...]
    items: tuple[Item, ...]


_CATEGORY_KIND = {
    StepCategory.WARNING: "warning", StepCategory.DEAD: "dead", StepCategory.FENCE: "fence",
    StepCategory.ADMIN: "admin", StepCategory.SERVICE: "service", StepCategory.ALERT: "warning",
    StepCategory.QUORUM: "warning", StepCategory.NODE: "service",
    StepCategory.MESSAGE: "message", StepCategory.HEARTBEAT: "last-heartbeat",
}  # fmt: skip


def page_data(report: PostmortemReport, incidents: tuple[Incident, ...]) -> PageData:
    from_ms, to_ms = _range(report, incidents)
    lanes: list[Lane] = []
    items: list[Item] = []
    for journal in report.journals:
        node = journal.node
        lanes.append(Lane(key=f"node:{node}", title=node, node=node, is_link=False))
        trace = report.traces[node]
        for (_generation, peer, link), series in sorted(trace.heartbeats.items()):
            key = f"link:{node}:{peer}:{link}"
            if key not in {lane.key for lane in lanes}:
                lanes.append(Lane(key=key, title=f"{node} <- {peer} {link}", node=node,
                                  is_link=True))
            journal_end_ms = _corrected(report, node, journal.last_wall_ns // 1_000_000)
            items.extend(_heartbeat_items(report, key, node, series, from_ms,
                                          min(to_ms, journal_end_ms)))
    for incident in incidents:
        items.extend(_incident_items(incident))
    title = "hactl postmortem: " + (", ".join(
        f"{i.kind.value} of {i.subject}" if i.subject else i.kind.value
        for i in incidents) or "no incident")  # fmt: skip
    return PageData(title=title, from_ms=from_ms, to_ms=to_ms, lanes=tuple(lanes),
                    items=tuple(item for item in items
                                if item.to_ms >= from_ms and item.from_ms <= to_ms))  # fmt: skip


def _range(report: PostmortemReport, incidents: tuple[Incident, ...]) -> tuple[int, int]:
    if incidents:
        start = min(min([i.started_wall_ms, *(s.wall_ms for s in i.steps)]) for i in incidents)
        end = max(i.ended_wall_ms for i in incidents)
    else:
        walls = [_corrected(report, j.node, r.wall_ns // 1_000_000)
                 for j in report.journals for r in j.edge_records]  # fmt: skip
        start, end = (min(walls), max(walls)) if walls else (0, 1)
    padding = max(PADDING_MS_MIN, int((end - start) * PADDING_RATIO))
    return start - padding, end + padding


def _corrected(report: PostmortemReport, node: str, wall_ms: int) -> int:
    merged = report.merged
    return wall_ms if merged is None else merged.corrected_wall_ms(node, wall_ms)


def _heartbeat_items(report: PostmortemReport, key: str, node: str, series: HeartbeatSeries,
                     from_ms: int, to_ms: int) -> list[Item]:
    config = report.traces[node].configs
    keepalive_ms = next(iter(config.values())).timings.keepalive.value_ms if config else 1000
    bin_ms = max(1, (to_ms - from_ms) // DENSITY_BINS)
    counts: dict[int, int] = {}
    items = []
    previous: tuple[int, int] | None = None
    for wall_ms, seq in _heard(series, report.merged is None, from_ms, to_ms):
        corrected = _corrected(report, node, wall_ms)
        if previous is not None and corrected - previous[0] > 2 * keepalive_ms \
                and corrected >= from_ms and previous[0] <= to_ms:
            items.append(Item(lane=key, kind="gap", from_ms=previous[0], to_ms=corrected,
                              label=f"no heartbeat for {corrected - previous[0]} ms "
                                    f"(records {previous[1]} to {seq})", node=node, seq=seq))
        previous = (corrected, seq)
        if from_ms <= corrected <= to_ms:
            index = (corrected - from_ms) // bin_ms
            counts[index] = counts.get(index, 0) + 1
    if previous is not None and to_ms - previous[0] > 2 * keepalive_ms:
        items.append(Item(lane=key, kind="gap", from_ms=max(previous[0], from_ms), to_ms=to_ms,
                          label=f"no heartbeat since record {previous[1]} (silent for "
                                f"{to_ms - previous[0]} ms or more)", node=node,
                          seq=previous[1]))
    busiest = max(counts.values(), default=1)
    for index, count in sorted(counts.items()):
        start = from_ms + index * bin_ms
        items.append(Item(lane=key, kind="heartbeats", from_ms=start, to_ms=start + bin_ms,
                          label=f"{count} heartbeat(s)", density=count / busiest))
    return items


def _heard(series: HeartbeatSeries, is_uncorrected: bool, from_ms: int, to_ms: int
           ) -> Iterator[tuple[int, int]]:
    """(wall_ms, seq) of the heartbeats the drawing can tell apart from their neighbours.

    On one node's own clock a chunk wholly before the page only matters by its last
    heartbeat (where a gap may start), one wholly after it by its first and last, so a
    month of heartbeats in the index is not decoded to draw one incident.
    """
    if not is_uncorrected:
        series.materialize()
    for chunk in series.chunks:
        if chunk.loaded is None and chunk.max_wall_ms < from_ms:
            yield chunk.last[1], chunk.last[2]
        elif chunk.loaded is None and chunk.min_wall_ms > to_ms:
            yield chunk.first[1], chunk.first[2]
            if chunk.count > 1:
                yield chunk.last[1], chunk.last[2]
        else:
            _now, wall_ms, seqs, _generations = chunk.lists()
            yield from zip(wall_ms, seqs, strict=True)
    yield from zip(series.wall_ms, series.seqs, strict=True)


def _incident_items(incident: Incident) -> list[Item]:
    items = []
    for step in incident.steps:
        lane = f"node:{step.node}"
        duration = step.duration_ms or 0
        kind = _CATEGORY_KIND.get(step.category)
        if step.category in (StepCategory.ACQUIRE, StepCategory.RELEASE):
            kind = "start" if step.text.startswith("start") else \
                "stop" if step.text.startswith("stop") else "check"
        if kind is None:
            continue
        label = step.text + (f" [{duration} ms]" if step.duration_ms is not None else "")
        items.append(Item(lane=lane, kind=kind, from_ms=step.wall_ms,
                          to_ms=step.wall_ms + duration, label=label, node=step.node,
                          seq=step.seq))
    if incident.outage_from_wall_ms is not None and incident.outage_to_wall_ms is not None:
        items.append(Item(lane="*", kind="outage", from_ms=incident.outage_from_wall_ms,
                          to_ms=incident.outage_to_wall_ms,
                          label=f"client-visible outage about {incident.outage_ms} ms "
                                f"({incident.kind.value} seen by {incident.node})"))
    return items
