"""Name an incident's cause in plain words and hint at the usual fix.

The evidence is gathered once from the trace (links heard, worst heartbeat gap before the
final silence, whether the "dead" node was heard again in the same generation, alerts seen,
slow agents) so the wording below is a pure function of facts that the report also shows:
an admin can check every hint against the chain printed above it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import assert_never

from engine.config.model import ClusterConfig
from engine.core.commands import AlertKind
from hactl.postmortem.chain import ChainStep, IncidentKind, StepCategory
from hactl.postmortem.trace import NodeTrace

JITTER_RATIO_MIN = 2  # deadtime should be at least this many times the worst observed gap


@dataclass(frozen=True, slots=True, kw_only=True)
class Evidence:
    kind: IncidentKind
    subject: str | None
    links_heard: tuple[str, ...]
    links_silent: tuple[str, ...]  # silent at the dead declaration
    worst_gap_ms: int  # worst gap between heartbeats before the final silence
    final_silence_ms: int | None  # at the declaration; the whole gap when heard again
    is_subject_heard_again: bool  # same generation: a stall or partition, not a crash
    keepalive_ms: int
    warntime_ms: int
    deadtime_ms: int
    is_fencing_configured: bool
    alerts: frozenset[AlertKind]
    admin: str | None
    requested_by: str | None
    released_by: str | None
    failed_action: str | None
    late_warning_count: int
    unusual: tuple[str, ...]

    @classmethod
    def gather(cls, trace: NodeTrace, kind: IncidentKind, subject: str | None, generation: int,
               steps: tuple[ChainStep, ...], *, config: ClusterConfig | None,
               alerts: frozenset[AlertKind], admin: str | None, requested_by: str | None,
               released_by: str | None,
               failed_action: str | None, late_warning_count: int,
               unusual: tuple[str, ...]) -> Evidence:
        dead = next((step for step in steps if step.category is StepCategory.DEAD), None)
        series = trace.series_for(generation, subject) if subject is not None else {}
        worst_gap_ms = 0
        final_silence_ms = None
        heard_again = False
        silent = []
        last_heard_ms, heard_again_ms = None, None
        for link, one in series.items():
            before = dead.at_ms if dead is not None else None
            worst_gap_ms = max(worst_gap_ms, one.worst_gap_ms(before_ms=before))
            around = one.heard_around(dead.at_ms) if dead is not None and len(one) else None
            if dead is not None and around is not None:
                last, _sender, later = around
                silence = dead.at_ms - last
                final_silence_ms = silence if final_silence_ms is None \
                    else min(final_silence_ms, silence)
                silent.append(link)
                last_heard_ms = last if last_heard_ms is None else max(last_heard_ms, last)
                if later is not None:
                    heard_again = True
                    heard_again_ms = later if heard_again_ms is None \
                        else min(heard_again_ms, later)
        if last_heard_ms is not None and heard_again_ms is not None:
            final_silence_ms = heard_again_ms - last_heard_ms  # the whole gap, not its start
        timings = config.timings if config is not None else None
        return cls(kind=kind, subject=subject, links_heard=tuple(sorted(series)),
                   links_silent=tuple(sorted(silent)), worst_gap_ms=worst_gap_ms,
                   final_silence_ms=final_silence_ms, is_subject_heard_again=heard_again,
                   keepalive_ms=timings.keepalive.value_ms if timings else 0,
                   warntime_ms=timings.warntime.value_ms if timings else 0,
                   deadtime_ms=timings.deadtime.value_ms if timings else 0,
                   is_fencing_configured=bool(config and config.is_fencing_configured),
                   alerts=alerts, admin=admin, requested_by=requested_by,
                   released_by=released_by,
                   failed_action=failed_action, late_warning_count=late_warning_count,
                   unusual=unusual)  # fmt: skip


def classify(evidence: Evidence) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """(cause, hints, unusual) for one incident."""
    unusual = list(evidence.unusual)
    if evidence.late_warning_count and evidence.kind is IncidentKind.FAILOVER:
        unusual.append(f"{evidence.late_warning_count} late-heartbeat warning(s) about "
                       f"{evidence.subject} in this run before the incident")
    return _cause(evidence), _hints(evidence), tuple(dict.fromkeys(unusual))


def _cause(evidence: Evidence) -> str:
    subject = evidence.subject or "?"
    match evidence.kind:
        case IncidentKind.FAILOVER | IncidentKind.FENCE:
            links = len(evidence.links_heard) or 1
            silence = "" if evidence.final_silence_ms is None \
                else f" for {evidence.final_silence_ms} ms"
            if evidence.is_subject_heard_again:
                silence = (f" for {evidence.final_silence_ms} ms "
                           f"(deadtime {evidence.deadtime_ms} ms)")
            if evidence.is_subject_heard_again:
                return (f"node {subject} silent on all {links} link(s){silence}, then heard "
                        "again in the same generation: a stall or partition, not a crash "
                        "(false failover)")
            return f"node {subject} silent on all {links} link(s){silence} (deadtime " \
                f"{evidence.deadtime_ms} ms)"
        case IncidentKind.LINK_LOST:
            return f"one link lost: a heartbeat link to {subject} went silent while {subject} " \
                "stayed up on the others"
        case IncidentKind.STANDBY | IncidentKind.TAKEOVER | IncidentKind.SHUTDOWN:
            if evidence.admin is not None:
                return f"admin request: {evidence.admin}"
            if evidence.requested_by is not None:
                return f"requested by node {evidence.requested_by} (its admin's standby/takeover)"
            if evidence.released_by is not None:
                return f"node {evidence.released_by} released the groups (its standby, " \
                    "shutdown or failback) and this node took them"
            return "placement change (a peer's status changed what should run here)"
        case IncidentKind.RESOURCE_FAILURE:
            failed = evidence.failed_action or "a resource action failed"
            if AlertKind.MONITOR_FAILED in evidence.alerts:
                return f"monitor failure: {failed}"
            if AlertKind.STOP_FAILED in evidence.alerts:
                return f"stop failure: {failed}"
            return f"start failure: {failed}" if AlertKind.START_FAILED in evidence.alerts \
                else failed
        case IncidentKind.FAILBACK if evidence.released_by is not None:
            return f"auto_failback: this node returned and node {evidence.released_by} " \
                "released its groups back to it"
        case IncidentKind.FAILBACK:
            who = f"node {evidence.subject}" if evidence.subject else "a node"
            return f"auto_failback: {who} returned; groups move back to their preferred node"
        case IncidentKind.SPLIT_BRAIN:
            return f"partition healed: node {subject} heard again after being declared dead; " \
                "both sides may have held the same groups"
        case IncidentKind.STARTUP:
            return "node start: groups acquired at boot"
        case _:
            assert_never(evidence.kind)


def _hints(evidence: Evidence) -> tuple[str, ...]:
    hints = []
    if evidence.kind in (IncidentKind.FAILOVER, IncidentKind.SPLIT_BRAIN) and evidence.deadtime_ms:
        gap = max(evidence.worst_gap_ms, evidence.final_silence_ms or 0) \
            if evidence.is_subject_heard_again else evidence.worst_gap_ms
        if gap * JITTER_RATIO_MIN > evidence.deadtime_ms or evidence.is_subject_heard_again:
            hints.append(
                f"deadtime {evidence.deadtime_ms} ms is too low for the observed heartbeat "
                f"jitter (worst gap {gap} ms): raise it to at least {gap * JITTER_RATIO_MIN} ms "
                "or fix the network; check with `hactl replay --what-if deadtime=...`")
    if AlertKind.SHARED_DATA_UNPROTECTED in evidence.alerts or (
            evidence.kind is IncidentKind.FAILOVER and not evidence.is_fencing_configured):
        hints.append("no fence device: configure `stonith_host` so a silent node is powered "
                     "off before its groups are taken over")
    if AlertKind.FENCE_FAILED in evidence.alerts:
        hints.append("the fence device failed: test it with `hactl stonith` and check its "
                     "credentials and network path")
    if any(item.startswith("slow agent") for item in evidence.unusual):
        hints.append("a slow agent: make its start/stop faster or raise its timeout; the "
                     "durations are in the chain above")
    if evidence.kind is IncidentKind.LINK_LOST:
        hints.append("check the cable, switch port or interface of the dead link; the cluster "
                     "survives on the others but has lost its redundancy")
    return tuple(hints)
