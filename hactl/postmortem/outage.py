"""Estimate the client-visible outage of an incident from its chain.

For a failover the service was lost when the node died, which is some time after its last
heartbeat and before the next one was due: the estimate takes the middle of that keepalive
interval, so the error is at most half a keepalive. The service is back when the last start
of the takeover succeeded (the IP is up and announced, the last agent answered). For moves
without a death (standby, takeover, failback, resource failure) the outage runs from the
first stop to the last successful start.
"""

from __future__ import annotations

from dataclasses import dataclass

from hactl.postmortem.chain import ChainStep, IncidentKind, StepCategory
from hactl.postmortem.classify import Evidence


@dataclass(frozen=True, slots=True, kw_only=True)
class Outage:
    outage_ms: int | None
    from_wall_ms: int | None
    to_wall_ms: int | None
    basis: str


NO_OUTAGE = Outage(outage_ms=None, from_wall_ms=None, to_wall_ms=None,
                   basis="no service moved here")  # fmt: skip


def estimate_outage(kind: IncidentKind, steps: tuple[ChainStep, ...],
                    evidence: Evidence) -> Outage:
    starts = [step for step in steps if step.category is StepCategory.ACQUIRE
              and step.text.startswith("start ") and step.outcome == "success"]  # fmt: skip
    if not starts or kind is IncidentKind.STARTUP:
        return NO_OUTAGE
    up = max(starts, key=lambda step: step.at_ms + (step.duration_ms or 0))
    up_ms = up.at_ms + (up.duration_ms or 0)
    up_wall_ms = up.wall_ms + (up.duration_ms or 0)
    heartbeats = [step for step in steps if step.category is StepCategory.HEARTBEAT]
    if kind in (IncidentKind.FAILOVER, IncidentKind.FENCE) and heartbeats:
        last = max(heartbeats, key=lambda step: step.at_ms)
        lost_ms = last.at_ms + evidence.keepalive_ms // 2
        lost_wall_ms = last.wall_ms + evidence.keepalive_ms // 2
        basis = (f"from half a keepalive after {evidence.subject}'s last heartbeat to the "
                 f"last start's success")
        return Outage(outage_ms=max(0, up_ms - lost_ms), from_wall_ms=lost_wall_ms,
                      to_wall_ms=up_wall_ms, basis=basis)
    stops = [step for step in steps if step.category is StepCategory.RELEASE]
    first = min(stops, key=lambda step: step.at_ms) if stops else \
        min(steps, key=lambda step: step.at_ms)
    basis = "from the first stop to the last start's success" if stops else \
        "from the first step to the last start's success (the stop ran on another node)"
    return Outage(outage_ms=max(0, up_ms - first.at_ms), from_wall_ms=first.wall_ms,
                  to_wall_ms=up_wall_ms, basis=basis)
