"""Events: the past-tense facts the shell feeds the engine, one per journal record.

Every event carries `now_ms`, the node's monotonic clock in milliseconds when the fact was
observed; the engine has no other source of time. A node's state is the fold of its events
(`engine.core.replay`), so each event holds everything its handling needs: the configuration
travels inside `NodeStarted` and `ConfigReloaded`, and replay reads nothing else.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from engine.config.model import ClusterConfig
from engine.core.messages import ControlMessage, Scope, StatusPayload


class ResourceAction(enum.Enum):
    START = "start"
    STOP = "stop"
    STATUS = "status"  # before a start: skip a resource that already runs
    MONITOR = "monitor"  # hactl extension: periodic health check of a running resource
    PROBE = "probe"  # at node start (issue 9): what really runs here


class ActionOutcome(enum.Enum):
    SUCCESS = "success"  # for status/monitor/probe: it runs
    NOT_RUNNING = "not_running"  # status/monitor/probe: cleanly stopped (OCF 7, LSB 3)
    FAILED = "failed"  # any other error exit
    TIMED_OUT = "timed_out"  # the shell killed it after timeout_ms


class AdminAction(enum.Enum):
    STANDBY = "standby"
    TAKEOVER = "takeover"
    SHUTDOWN = "shutdown"
    RELOAD = "reload"
    ACKNOWLEDGE = "acknowledge"  # clear the incidents `hactl status` shows


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeStarted:
    """The daemon started: the first record of every run. Resets all state."""

    now_ms: int
    wall_time_ms: int
    generation: int  # incremented and fsynced by the shell at every start
    config: ClusterConfig
    # What the journal so far says this node occupied, and its unacknowledged incidents:
    # the shell replays its journal and passes `replay.prior_belief(state)` (issue 9). They
    # are in the event, not taken from the folded state, so a pruned journal replays alike.
    believed_groups: tuple[str, ...] = ()
    incidents: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfigReloaded:
    """The shell re-read the configuration files (after an admin reload or SIGHUP)."""

    now_ms: int
    wall_time_ms: int
    config: ClusterConfig


@dataclass(frozen=True, slots=True, kw_only=True)
class TimeAdvanced:
    """The deadline the engine asked for (`next_deadline`) was reached."""

    now_ms: int


@dataclass(frozen=True, slots=True, kw_only=True)
class HeartbeatReceived:
    """An authenticated status heartbeat from a peer, one per link it arrived on.

    The shell already refused packets from an older generation (replays); the same `seq` on
    several links is delivered once per link, so that each link's liveness is known. Copies
    heard at the same instant may come as one event: `link` and `also_links` then name
    every link they came on (the simulator does so; the daemon reads one copy at a time).
    """

    now_ms: int
    from_node: str
    link: str  # the medium it arrived on, e.g. "bcast eth0"
    generation: int
    seq: int
    status: StatusPayload
    also_links: tuple[str, ...] = ()  # last, with a default: older records stay readable


@dataclass(frozen=True, slots=True, kw_only=True)
class ControlMessageReceived:
    now_ms: int
    from_node: str
    generation: int
    message_id: int
    message: ControlMessage


@dataclass(frozen=True, slots=True, kw_only=True)
class ResourceActionCompleted:
    """A resource agent call ordered by `RunResourceAction` finished (or timed out)."""

    now_ms: int
    action_id: int  # echoes the command's id: a stale completion is recognised and ignored
    group: str
    resource_id: str
    action: ResourceAction
    outcome: ActionOutcome
    exit_code: int | None
    duration_ms: int
    output_excerpt: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FenceCompleted:
    now_ms: int
    target: str
    device: str
    is_success: bool
    duration_ms: int
    detail: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PingResultReceived:
    """A ping node answered (or a ping to it failed) after a `SendPing`."""

    now_ms: int
    address: str
    is_reachable: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class AdminCommandReceived:
    now_ms: int
    wall_time_ms: int
    action: AdminAction
    scope: Scope
    uid: int
    pid: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ShutdownRequested:
    """SIGTERM (or the init system) asked the daemon to stop: hand over cleanly."""

    now_ms: int


Event = (
    NodeStarted
    | ConfigReloaded
    | TimeAdvanced
    | HeartbeatReceived
    | ControlMessageReceived
    | ResourceActionCompleted
    | FenceCompleted
    | PingResultReceived
    | AdminCommandReceived
    | ShutdownRequested
)
