"""Commands: the orders the engine hands the shell after each step, to carry out in order.

The shell journals the event first, steps, then executes these commands in the order given
(raft's Ready loop): an intent is durable before its action starts. Commands carry no time;
the shell reports each action's end as an event (`ResourceActionCompleted`, `FenceCompleted`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from engine.core.events import ResourceAction
from engine.core.messages import ControlMessage, StatusPayload


class LogLevel(enum.Enum):
    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class AlertKind(enum.Enum):
    """Incidents an admin should hear about (syslog, mail, `hactl journal show`)."""

    NODE_DEAD = "node_dead"
    PEER_RESTARTED = "peer_restarted"
    RETURNING_AFTER_PARTITION = "returning_after_partition"
    SHARED_DATA_UNPROTECTED = "shared_data_unprotected"
    NODE_FENCED = "node_fenced"
    FENCE_FAILED = "fence_failed"
    PARTITION_CONFLICT = "partition_conflict"
    START_FAILED = "start_failed"
    STOP_FAILED = "stop_failed"
    MONITOR_FAILED = "monitor_failed"
    QUORUM_LOST = "quorum_lost"
    QUORUM_REGAINED = "quorum_regained"
    PROBE_MISMATCH = "probe_mismatch"  # start-up probes found other than the journal believed


@dataclass(frozen=True, slots=True, kw_only=True)
class SendHeartbeat:
    """Send this status on every medium; the shell adds seq, generation, auth and seal."""

    payload: StatusPayload


@dataclass(frozen=True, slots=True, kw_only=True)
class SendControlMessage:
    to_node: str
    message_id: int
    message: ControlMessage


@dataclass(frozen=True, slots=True, kw_only=True)
class RunResourceAction:
    """Run one resource agent action; its end comes back as ResourceActionCompleted."""

    action_id: int
    group: str
    resource_id: str
    action: ResourceAction
    timeout_ms: int


@dataclass(frozen=True, slots=True, kw_only=True)
class FenceNode:
    target: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SelfFence:
    """A stop failed for good: the node must die so its peer may take over safely."""

    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SendPing:
    address: str


@dataclass(frozen=True, slots=True, kw_only=True)
class LogMessage:
    level: LogLevel
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RaiseAlert:
    alert: AlertKind
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ReloadConfiguration:
    """Re-read ha.cf, haresources and authkeys, then feed a ConfigReloaded event."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ShutdownComplete:
    """Every group is stopped and the peers were told: the shell may exit."""


Command = (
    SendHeartbeat
    | SendControlMessage
    | RunResourceAction
    | FenceNode
    | SelfFence
    | SendPing
    | LogMessage
    | RaiseAlert
    | ReloadConfiguration
    | ShutdownComplete
)
