"""What nodes tell each other: the status carried by every heartbeat and the control messages.

These types appear both in events (a peer's message arrived) and in commands (send ours), so
they live apart from both. The engine builds every payload; the shell only adds the sequence
number, generation, authentication and seal, and strips them again on receipt. A status is a
complete snapshot, never a delta: a lost heartbeat costs nothing but freshness, and the next one
repairs any view.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import ClassVar


class NodePhase(enum.Enum):
    """The life of one node's engine, as it reports itself and as peers see it."""

    NOT_STARTED = "not_started"  # before the NodeStarted event; never sent
    BOOTING = "booting"  # waiting until every node was heard from, or initdead passed
    ACTIVE = "active"  # taking part in placement
    LEAVING = "leaving"  # clean shutdown: handing its groups over
    STOPPED = "stopped"  # shutdown complete; never sent


class Scope(enum.Enum):
    """Which groups an admin move is about, relative to the node it runs on (hb_standby)."""

    ALL = "all"
    LOCAL = "local"  # groups whose preferred node is this node
    FOREIGN = "foreign"  # groups preferred by another node


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusPayload:
    """A node's own account of itself, sent with every heartbeat.

    `status_version` grows by one each time anything else in the payload changes, so a
    receiver can tell a newer account from an older one that arrived late.
    """

    IS_PACKED_ONCE: ClassVar[bool] = True  # one payload is packed for many sends (packing.py)

    phase: NodePhase
    status_version: int
    running_groups: tuple[str, ...] = ()
    starting_groups: tuple[str, ...] = ()
    stopping_groups: tuple[str, ...] = ()  # includes restarting and stop-failed groups
    declined_groups: tuple[str, ...] = ()  # standby: groups this node refuses to hold
    failed_groups: tuple[str, ...] = ()  # groups that failed here; not placed here again
    ping_reachable_count: int = 0  # ping nodes and ping groups this node reaches
    live_members: tuple[str, ...] = ()  # its membership view, self included
    probing_groups: tuple[str, ...] = ()  # start-up probes not finished: may run here

    def occupies(self, name: str) -> bool:
        """`name in occupied_groups()`, without building the set."""
        return (
            name in self.running_groups
            or name in self.starting_groups
            or name in self.stopping_groups
            or name in self.probing_groups
        )

    def occupied_groups(self) -> frozenset[str]:
        """Groups this node may have resources of: another node must not start them."""
        return frozenset(
            self.running_groups + self.starting_groups + self.stopping_groups + self.probing_groups
        )


class ControlKind(enum.Enum):
    STANDBY_REQUEST = "standby_request"  # hb_takeover on the sender: give these groups away
    RELEASE_DONE = "release_done"  # the sender finished stopping these groups
    SHUTDOWN_NOTICE = "shutdown_notice"  # the sender stopped everything and is leaving
    ACK = "ack"  # receipt of `acked_message_id` (groups: claims refused); never acked itself
    ACQUIRE = "acquire"  # the sender is about to start these groups (see claims.py)


@dataclass(frozen=True, slots=True, kw_only=True)
class ControlMessage:
    """A message that must arrive: retransmitted every keepalive until acknowledged."""

    kind: ControlKind
    groups: tuple[str, ...] = ()
    acked_message_id: int | None = None

    def __post_init__(self) -> None:
        assert (self.kind is ControlKind.ACK) == (self.acked_message_id is not None)
