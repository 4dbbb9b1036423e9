"""The state of one node's engine: what it knows of its peers, links, groups and pings.

Every type is frozen; `step` returns a new `NodeState` and never changes the old one, so a
test or the simulator can keep any state and compare. Mappings are copied on write by the
modules that own them. Nothing here is stored: it is all derived by replaying the journal.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from engine.config.model import ClusterConfig
from engine.core.events import ResourceAction
from engine.core.messages import ControlMessage, NodePhase, StatusPayload


class PeerStatus(enum.Enum):
    INIT = "init"  # not heard from since this node started
    UP = "up"  # heard from within deadtime
    DEAD = "dead"  # silent for deadtime (or never heard within initdead)
    LEFT = "left"  # announced a clean shutdown: holds nothing, needs no fencing


class LinkStatus(enum.Enum):
    UP = "up"
    DEAD = "dead"  # silent for deadtime while the node may still be heard on others


class GroupPhase(enum.Enum):
    PROBING = "probing"  # at node start: what of it really runs here? (issue 9)
    STOPPED = "stopped"
    CLAIMING = "claiming"  # asked every live peer whether it may start (claims.py)
    STARTING = "starting"  # left to right: status, then start when not running
    RUNNING = "running"
    RESTARTING = "restarting"  # monitor failure: stop from the failed resource up, restart
    STOPPING = "stopping"  # right to left
    STOP_FAILED = "stop_failed"  # retries exhausted, self-fence ordered


class ResourceStatus(enum.Enum):
    UNKNOWN = "unknown"  # never checked since this node started
    STOPPED = "stopped"
    RUNNING = "running"
    FAILED = "failed"  # a start, monitor or stop failed: may be partly running


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkState:
    status: LinkStatus
    last_heard_ms: int


@dataclass(frozen=True, slots=True, kw_only=True)
class PeerState:
    name: str
    status: PeerStatus
    generation: int | None = None  # None until first heard
    last_seq: int | None = None
    last_heard_ms: int | None = None
    is_late_warned: bool = False  # "late heartbeat" already logged in this silence
    links: Mapping[str, LinkState] = field(default_factory=dict)
    payload: StatusPayload | None = None  # its latest status (highest status_version)
    suspect_groups: frozenset[str] = frozenset()  # dead: groups it may still hold
    is_fence_in_flight: bool = False
    fence_retry_ms: int | None = None  # a failed fence is retried at this time
    init_deadline_ms: int | None = None  # INIT: declared dead if still unheard by then
    processed_control_ids: frozenset[int] = frozenset()  # for this generation

    @property
    def is_live(self) -> bool:
        return self.status is PeerStatus.UP

    @property
    def phase(self) -> NodePhase | None:
        return None if self.payload is None else self.payload.phase


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingAction:
    action_id: int
    resource_index: int
    action: ResourceAction


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupRun:
    """This node's side of one resource group: its resources and the action in flight."""

    name: str
    phase: GroupPhase
    resource_ids: tuple[str, ...]  # start order; kept here so a reload cannot reorder a stop
    resources: tuple[ResourceStatus, ...]
    pending: PendingAction | None = None
    stop_attempt_count: int = 0  # failed stops of the current resource
    stop_retry_ms: int | None = None
    restart_from_index: int | None = None  # RESTARTING: resources from here up restart
    restart_counts: tuple[int, ...] = ()  # monitor-driven restarts per resource
    monitor_due_ms: tuple[int | None, ...] = ()  # per resource; None = not monitored now


@dataclass(frozen=True, slots=True, kw_only=True)
class OutgoingControl:
    message_id: int
    to_node: str
    message: ControlMessage
    next_send_ms: int


@dataclass(frozen=True, slots=True, kw_only=True)
class PingTarget:
    """A ping node (`ping IP`) or ping group (`ping_group NAME IP...`): a pseudo-member."""

    name: str
    addresses: tuple[str, ...]
    is_up: bool
    last_reply_ms: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeState:
    phase: NodePhase = NodePhase.NOT_STARTED
    config: ClusterConfig | None = None
    generation: int = 0
    now_ms: int = 0  # the latest event's time (never goes backwards)
    wall_time_ms: int = 0  # wall clock at the latest event that carried one
    started_ms: int = 0
    next_heartbeat_ms: int = 0
    next_ping_ms: int | None = None
    peers: Mapping[str, PeerState] = field(default_factory=dict)
    groups: Mapping[str, GroupRun] = field(default_factory=dict)
    declined_groups: frozenset[str] = frozenset()
    failed_groups: frozenset[str] = frozenset()
    ping_targets: tuple[PingTarget, ...] = ()
    outgoing: tuple[OutgoingControl, ...] = ()
    next_message_id: int = 1
    next_action_id: int = 1
    is_quorate: bool = True
    status_version: int = 0
    last_payload: StatusPayload | None = None
    status_sent_ms: int | None = None  # when `last_payload` (its version) was first sent
    held_status_due_ms: int | None = None  # a changed status held back until then (machine.py)
    shutdown_deadline_ms: int | None = None
    is_shutdown_notice_sent: bool = False
    ignored_event_count: int = 0  # events dropped as stale or from unknown nodes
    # ipfail hysteresis: since when this node reaches fewer ping nodes than a live peer,
    # and whether that has lasted long enough to give groups away (see placement docs).
    ping_disparity_since_ms: int | None = None
    is_ping_disparity_settled: bool = False
    # Start-up probes: what the journal said this node occupied before this start (the
    # state folded before NodeStarted), and the differences found, kept until acknowledged.
    believed_groups: frozenset[str] = frozenset()
    incidents: tuple[str, ...] = ()

    @property
    def local_node(self) -> str:
        assert self.config is not None
        return self.config.local_node

    def require_config(self) -> ClusterConfig:
        assert self.config is not None, "an event before NodeStarted"
        return self.config
