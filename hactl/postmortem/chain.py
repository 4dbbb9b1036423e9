"""The vocabulary of an explained incident: its kinds and the steps of its causal chain.

Kept apart from detection so renderers (text, JSON, HTML) and the what-if comparison depend
on these small frozen types only. Times are the observing node's: `at_ms` on its monotonic
clock (durations are differences of these), `wall_ms` its wall clock for people, corrected
across nodes by the merge when several journals are given.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class IncidentKind(enum.Enum):
    FAILOVER = "failover"
    FAILBACK = "failback"
    STANDBY = "standby"
    TAKEOVER = "takeover"
    FENCE = "fence"
    SPLIT_BRAIN = "split-brain"
    RESOURCE_FAILURE = "resource failure"
    LINK_LOST = "link lost"
    SHUTDOWN = "shutdown"
    STARTUP = "startup"  # groups started at boot: listed with --all only


class StepCategory(enum.Enum):
    HEARTBEAT = "heartbeat"  # the last heartbeat heard on a link
    WARNING = "warning"  # late heartbeat, dead link
    DEAD = "dead"  # the deadtime expiry that declared a node dead
    QUORUM = "quorum"
    FENCE = "fence"
    RELEASE = "release"  # stop actions
    ACQUIRE = "acquire"  # status and start actions
    SERVICE = "service"  # a group runs (service up) or is stopped here
    ADMIN = "admin"
    MESSAGE = "message"  # control messages between nodes
    ALERT = "alert"
    NODE = "node"  # a node came up, restarted, left


@dataclass(frozen=True, slots=True, kw_only=True)
class ChainStep:
    node: str  # whose journal holds it
    seq: int  # the journal record that caused it
    at_ms: int
    wall_ms: int
    category: StepCategory
    text: str
    duration_ms: int | None = None
    exit_code: int | None = None
    outcome: str | None = None
    output: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Incident:
    kind: IncidentKind
    node: str  # the node whose journal shows it
    subject: str | None  # the node it is about (the dead, fenced or returning node)
    generation: int
    started_ms: int
    ended_ms: int
    started_wall_ms: int
    ended_wall_ms: int
    steps: tuple[ChainStep, ...]
    cause: str
    hints: tuple[str, ...]
    unusual: tuple[str, ...]
    outage_ms: int | None  # client-visible outage estimate
    outage_from_wall_ms: int | None
    outage_to_wall_ms: int | None
    outage_basis: str
    is_finished: bool  # false when the journal ends (or the daemon restarted) mid-incident
    is_false_failover: bool = False  # the "dead" node was heard again in the same generation

    @property
    def duration_ms(self) -> int:
        return self.ended_ms - self.started_ms
