"""Plain-text and JSON renderings of postmortem, merge and what-if results.

Text is for an admin at a terminal after an incident: the story first (kind, cause, outage),
then the chain with times relative to the incident's start and each step's duration, then
what was unusual and the hints. JSON carries the same facts with times in `*_ms` for tools.
"""

from __future__ import annotations

import datetime
from dataclasses import asdict
from typing import Any

from hactl.postmortem.chain import ChainStep, Incident
from hactl.postmortem.merge import MergedTimeline
from hactl.postmortem.report import PostmortemReport
from journal import kinds as journal_kinds
from journal.kinds import kind_name, summarize


def format_wall(wall_ms: int) -> str:
    moment = datetime.datetime.fromtimestamp(wall_ms / 1000, tz=datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{wall_ms % 1000:03d}Z"


def render_incident(incident: Incident) -> list[str]:
    subject = f" of {incident.subject}" if incident.subject else ""
    state = "" if incident.is_finished \
        else " (unfinished: the journal ends or the daemon restarted)"
    lines = [
        f"{incident.kind.value.upper()}{subject}, seen by {incident.node}, "
        f"{format_wall(incident.started_wall_ms)}, lasted {incident.duration_ms} ms{state}",
        f"  cause: {incident.cause}",
    ]
    if incident.outage_ms is not None:
        lines.append(f"  client-visible outage: about {incident.outage_ms} ms "
                     f"({incident.outage_basis})")
    lines.append("  chain:")
    origin = incident.started_ms
    lines.extend(_step_line(step, origin) for step in incident.steps)
    if incident.unusual:
        lines.append("  unusual:")
        lines.extend(f"    - {item}" for item in incident.unusual)
    if incident.hints:
        lines.append("  hints:")
        lines.extend(f"    - {item}" for item in incident.hints)
    return lines


def _step_line(step: ChainStep, origin_ms: int) -> str:
    parts = [f"    +{step.at_ms - origin_ms:>7} ms  {step.node}#{step.seq:<7} "
             f"{step.category.value:<9} {step.text}"]
    if step.duration_ms is not None:
        parts.append(f" [{step.duration_ms} ms")
        if step.outcome is not None:
            parts.append(f", {step.outcome}")
        if step.exit_code is not None:
            parts.append(f", exit {step.exit_code}")
        parts.append("]")
    if step.output:
        parts.append(f" output: {step.output[:200]!r}")
    return "".join(parts)


def render_report(report: PostmortemReport, incidents: tuple[Incident, ...]) -> str:
    lines = []
    for journal in report.journals:
        verdict = "verified" if journal.is_verified else "DID NOT VERIFY: " + "; ".join(
            journal.problems())
        lines.append(f"journal {journal.directory} (node {journal.node}, "
                     f"{journal.record_count} records): {verdict}")
        if journal.coverage is not None:
            lines.append(f"  checked: {journal.coverage}")
        undecodable = report.traces[journal.node].undecodable_count
        if undecodable:
            lines.append(f"  {undecodable} engine record(s) did not decode and were skipped "
                         "(written by another hactl version?)")
    if report.merged is not None:
        lines.extend(_merge_summary(report.merged))
    if not incidents:
        lines.append("no incident found")
    for incident in incidents:
        lines.append("")
        lines.extend(render_incident(incident))
    return "\n".join(lines) + "\n"


def _merge_summary(merged: MergedTimeline) -> list[str]:
    lines = [f"clocks: {merged.clocks[node].describe()}" for node in merged.nodes]
    lines.extend(finding.describe() for finding in merged.equivocations)
    if merged.broken_edge_count:
        lines.append(f"{merged.broken_edge_count} causal edge(s) could not be honoured "
                     "(contradictory journals)")
    return lines


def render_merge(merged: MergedTimeline, *, is_showing_seals: bool = False) -> str:
    lines = []
    for node in merged.nodes:
        problems = merged.problems[node]
        lines.append(f"{node}: " + ("verified" if not problems else
                                    "DID NOT VERIFY: " + "; ".join(problems)))
    lines.extend(_merge_summary(merged))
    lines.append(f"{len(merged.edges)} causal edges; {len(merged.records)} records")
    for item in merged.records:
        record = item.record
        if record.kind == journal_kinds.SEAL and not is_showing_seals:
            continue
        lines.append(f"{format_wall(item.corrected_wall_ms)} {item.node:<10} {record.seq:>8}  "
                     f"{kind_name(record.kind):<24} {summarize(record.kind, record.payload)}")
    return "\n".join(lines) + "\n"


def incident_document(incident: Incident) -> dict[str, Any]:
    document = asdict(incident)
    document["kind"] = incident.kind.value
    document["duration_ms"] = incident.duration_ms
    document["steps"] = [{**asdict(step), "category": step.category.value}
                         for step in incident.steps]  # fmt: skip
    return document


def report_document(report: PostmortemReport, incidents: tuple[Incident, ...]) -> dict[str, Any]:
    document: dict[str, Any] = {
        "journals": [{"directory": str(j.directory), "node": j.node, "records": j.record_count,
                      "is_verified": j.is_verified, "problems": j.problems(),
                      "checked": j.coverage}
                     for j in report.journals],
        "incidents": [incident_document(incident) for incident in incidents],
    }
    if report.merged is not None:
        document["clocks"] = {node: [asdict(window) for window in estimate.windows]
                              for node, estimate in report.merged.clocks.items()}  # fmt: skip
        document["equivocations"] = [
            {**{key: value.hex() if isinstance(value, bytes) else value
                for key, value in asdict(finding).items()}, "description": finding.describe()}
            for finding in report.merged.equivocations]  # fmt: skip
    return document
