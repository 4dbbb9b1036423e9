"""The ha.cf reader: Heartbeat's main configuration file, text in, typed `HaCf` out.

The file is read top to bottom, as Heartbeat does, because order matters: `udpport` and
`baud` apply to the media lines after them. Each directive has a small handler; handlers
record into a mutable draft and report problems into a `ProblemLog`, so one run reports
every problem in the file. At the end the draft is checked as a whole (timings, at least one
node and one medium) and frozen. Cross-file checks (monitor targets, preferred nodes, the
local node) belong to `engine.config.build`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from engine.config import hacf_lists, hacf_settings
from engine.config.directives import NOT_IMPLEMENTED, WHOLE_LINE, suggestion_hint
from engine.config.errors import ConfigError, ConfigProblem, ProblemLog
from engine.config.hacf_draft import Directive, Draft
from engine.config.lines import ConfigLine, read_lines
from engine.config.model import (
    AddressAnnouncement,
    AutoFailback,
    ConfigWarning,
    Medium,
    PingGroup,
    QuorumLossPolicy,
    Respawn,
    StonithDevice,
    Timings,
)
from engine.config.monitor import MonitorRequest
from engine.config.timings import TIMING_DIRECTIVES, derive_timings


@dataclass(frozen=True, slots=True, kw_only=True)
class HaCf:
    """Everything ha.cf says, checked on its own; `build` joins it with the other files."""

    file: str
    nodes: tuple[str, ...]
    timings: Timings
    udpport: int
    media: tuple[Medium, ...]
    auto_failback: AutoFailback
    ping_nodes: tuple[str, ...]
    ping_groups: tuple[PingGroup, ...]
    respawns: tuple[Respawn, ...]
    stonith_devices: tuple[StonithDevice, ...]
    monitors: tuple[MonitorRequest, ...]
    quorum_loss_policy: QuorumLossPolicy
    logfile: str | None
    debugfile: str | None
    logfacility: str | None
    watchdog_device: str | None
    is_realtime: bool
    warnings: tuple[ConfigWarning, ...]
    announcement: AddressAnnouncement


_Handler = Callable[[Draft, Directive], None]
_HANDLERS: dict[str, _Handler] = {
    **dict.fromkeys(TIMING_DIRECTIVES, hacf_settings.handle_time),
    "udpport": hacf_settings.handle_udpport,
    "baud": hacf_settings.handle_baud,
    **dict.fromkeys(
        ("logfile", "debugfile", "logfacility", "watchdog"), hacf_settings.handle_text_setting
    ),
    "realtime": hacf_settings.handle_realtime,
    "auto_failback": hacf_settings.handle_auto_failback,
    "nice_failback": hacf_settings.handle_nice_failback,
    "crm": hacf_settings.handle_crm,
    "no_quorum_policy": hacf_settings.handle_no_quorum_policy,
    "arp_count": hacf_settings.handle_arp_count,
    "arp_interval": hacf_settings.handle_arp_interval,
    "arp_refresh": hacf_settings.handle_arp_refresh,
    "node": hacf_lists.handle_node,
    **dict.fromkeys(("bcast", "ucast", "mcast", "serial"), hacf_lists.handle_media),
    "ping": hacf_lists.handle_ping,
    "ping_group": hacf_lists.handle_ping,
    "respawn": hacf_lists.handle_respawn,
    "stonith": hacf_lists.handle_stonith,
    "stonith_host": hacf_lists.handle_stonith,
    "monitor": hacf_lists.handle_monitor,
}


def _to_directive(line: ConfigLine) -> Directive:
    # The directive word ends at the first blank, as in Heartbeat; the values after it are
    # split on blanks and commas, except for whole-line directives.
    word, rest = _split_first_word(line.text)
    name = word.lower()
    values = ConfigLine(number=line.number, text=rest).tokens(split_commas=name not in WHOLE_LINE)
    return Directive(name=name, values=values, line=line.number)


def _split_first_word(text: str) -> tuple[str, str]:
    for position, character in enumerate(text):
        if character in " \t\r\f\v":
            return text[:position], text[position + 1 :]
    return text, ""


def _dispatch(draft: Draft, directive: Directive) -> None:
    handler = _HANDLERS.get(directive.name)
    if handler is not None:
        handler(draft, directive)
    elif directive.name in NOT_IMPLEMENTED:
        if directive.name not in draft.warned_directives:
            draft.warned_directives.add(directive.name)
            draft.log.warn(
                directive.line,
                directive.name,
                f"not implemented by hactl, ignored: {NOT_IMPLEMENTED[directive.name]}",
            )
    else:
        draft.log.error(
            directive.line, directive.name, "unknown directive", suggestion_hint(directive.name)
        )


def parse_hacf(text: str, *, file_name: str = "ha.cf", local_addresses: Iterable[str] = ()) -> HaCf:
    """Read ha.cf text; raises ConfigError listing every problem in the file.

    `local_addresses` are this node's own addresses: `ucast` lines naming them are ignored.
    """
    hacf, problems = read_hacf(text, file_name=file_name, local_addresses=local_addresses)
    if problems:
        raise ConfigError(problems)
    return hacf


def read_hacf(
    text: str, *, file_name: str = "ha.cf", local_addresses: Iterable[str] = ()
) -> tuple[HaCf, tuple[ConfigProblem, ...]]:
    """Read ha.cf text into what could be understood, plus every problem (in line order).

    `build` uses the partial result to run cross-file checks even when ha.cf has problems,
    so an admin sees everything in one run; only an empty problem tuple means valid.
    """
    draft = Draft(
        log=ProblemLog(file_name),
        local_addresses=frozenset(ipaddress.ip_address(address) for address in local_addresses),
    )
    for line in read_lines(text):
        _dispatch(draft, _to_directive(line))
    timings = derive_timings(draft.times, draft.log)
    _check_whole_file(draft)
    return _freeze(draft, timings), draft.log.sorted_problems()


def _check_whole_file(draft: Draft) -> None:
    log = draft.log
    if not draft.nodes:
        log.error(None, "node", "no node is listed", "add a `node NAME` line for each member")
    if not draft.media:
        hint = "add a medium, e.g. bcast eth0"
        if draft.ucast_lines_all_local:
            hint = "every ucast line names this node's own address; add one for the peer"
        log.error(None, "media", "no communication medium (bcast, ucast, mcast or serial)", hint)
    if draft.baud_line is not None and not draft.serial_lines:
        log.warn(draft.baud_line, "baud", "has no effect without a serial line")
    known_nodes = set(draft.nodes)
    for device in draft.stonith_devices:
        if device.from_node != "*" and device.from_node not in known_nodes:
            log.error(
                device.location.line,
                "stonith_host",
                f"{device.from_node} is not a node of this cluster",
                "use a name from the node lines, or *",
            )
    if draft.auto_failback is None:
        log.warn(
            0,
            "auto_failback",
            "not set; Heartbeat's legacy default applies (groups "
            "fail back like `on`); write auto_failback on or off to choose",
        )


def _freeze(draft: Draft, timings: Timings) -> HaCf:
    def single(name: str) -> str | None:
        entry = draft.single_values.get(name)
        return None if entry is None else entry[0]

    return HaCf(
        file=draft.log.file,
        nodes=tuple(draft.nodes),
        timings=timings,
        udpport=draft.udpport,
        media=tuple(draft.media),
        auto_failback=draft.auto_failback or AutoFailback.LEGACY,
        ping_nodes=tuple(draft.ping_nodes),
        ping_groups=tuple(draft.ping_groups),
        respawns=tuple(draft.respawns),
        stonith_devices=tuple(draft.stonith_devices),
        monitors=tuple(draft.monitors),
        quorum_loss_policy=draft.quorum_loss_policy,
        logfile=single("logfile"),
        debugfile=single("debugfile"),
        logfacility=single("logfacility"),
        watchdog_device=single("watchdog"),
        is_realtime=draft.is_realtime,
        warnings=tuple(draft.log.warnings),
        announcement=draft.announcement,
    )
