"""The mutable state of one ha.cf read, shared by the directive handlers.

ha.cf is read top to bottom and each directive's handler records into this draft (and
reports problems into its `ProblemLog`); `engine.config.hacf` freezes the draft into the
immutable `HaCf` at the end. Keeping the draft in its own module lets the handlers live in
small modules by theme (settings, lists) without import cycles.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from engine.config import media as media_lines
from engine.config.errors import ProblemLog
from engine.config.model import (
    AddressAnnouncement,
    AutoFailback,
    Medium,
    PingGroup,
    QuorumLossPolicy,
    Respawn,
    SourceLocation,
    StonithDevice,
)
from engine.config.monitor import MonitorRequest
from engine.config.timings import WrittenTime

DEFAULT_UDPPORT = 694
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True, kw_only=True)
class Directive:
    name: str
    values: tuple[str, ...]
    line: int


@dataclass(slots=True, kw_only=True)
class Draft:
    """What has been read so far; only the handlers (hacf_settings, hacf_lists) touch it."""

    log: ProblemLog
    local_addresses: frozenset[IPAddress]
    nodes: list[str] = field(default_factory=list)
    times: dict[str, WrittenTime] = field(default_factory=dict)
    udpport: int = DEFAULT_UDPPORT
    udpport_line: int | None = None
    baud: int = media_lines.DEFAULT_BAUD
    baud_line: int | None = None
    media: list[Medium] = field(default_factory=list)
    udp_media_lines: list[int] = field(default_factory=list)
    serial_lines: list[int] = field(default_factory=list)
    ucast_lines_all_local: list[int] = field(default_factory=list)
    auto_failback: AutoFailback | None = None
    failback_line: int | None = None
    failback_directive: str | None = None
    ping_nodes: list[str] = field(default_factory=list)
    ping_groups: list[PingGroup] = field(default_factory=list)
    respawns: list[Respawn] = field(default_factory=list)
    stonith_devices: list[StonithDevice] = field(default_factory=list)
    monitors: list[MonitorRequest] = field(default_factory=list)
    quorum_loss_policy: QuorumLossPolicy = QuorumLossPolicy.STOP
    single_values: dict[str, tuple[str, int]] = field(default_factory=dict)
    is_realtime: bool = True
    announcement: AddressAnnouncement = field(default_factory=AddressAnnouncement)
    warned_directives: set[str] = field(default_factory=set)

    def location(self, line: int) -> SourceLocation:
        return SourceLocation(file=self.log.file, line=line)


def one_value(draft: Draft, directive: Directive) -> str | None:
    if len(directive.values) == 1:
        return directive.values[0]
    if not directive.values:
        draft.log.error(directive.line, directive.name, "needs a value")
    else:
        draft.log.error(
            directive.line,
            directive.name,
            f"takes one value, got {len(directive.values)}: {' '.join(directive.values)}",
        )
    return None


def note_repeat(draft: Draft, directive: Directive, earlier_line: int | None) -> None:
    if earlier_line is not None:
        draft.log.warn(
            directive.line,
            directive.name,
            f"set again; the value on line {earlier_line} is overridden",
        )
