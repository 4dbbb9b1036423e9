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
from dataclasses import dataclass, field

from engine.config import media as media_lines
from engine.config.directives import NOT_IMPLEMENTED, WHOLE_LINE, suggestion_hint
from engine.config.errors import ProblemLog, ValueProblem
from engine.config.lines import ConfigLine, read_lines
from engine.config.model import (
    AutoFailback,
    ConfigWarning,
    Medium,
    PingGroup,
    QuorumLossPolicy,
    Respawn,
    SourceLocation,
    StonithDevice,
    Timings,
)
from engine.config.monitor import MonitorRequest, parse_monitor
from engine.config.timeparse import is_detached_unit, parse_duration_ms
from engine.config.timings import TIMING_DIRECTIVES, WrittenTime, derive_timings
from engine.config.values import parse_boolean, parse_ip_address, parse_port

DEFAULT_UDPPORT = 694
SYSLOG_FACILITIES = frozenset(
    {
        "auth",
        "authpriv",
        "cron",
        "daemon",
        "kern",
        "lpr",
        "mail",
        "news",
        "syslog",
        "user",
        "uucp",
        "none",
    }
    | {f"local{number}" for number in range(8)}
)
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


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


@dataclass(frozen=True, slots=True, kw_only=True)
class Directive:
    name: str
    values: tuple[str, ...]
    line: int


@dataclass(slots=True, kw_only=True)
class _Draft:
    """What has been read so far; only the handlers below touch it."""

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
    warned_directives: set[str] = field(default_factory=set)

    def location(self, line: int) -> SourceLocation:
        return SourceLocation(file=self.log.file, line=line)


# ---- single-valued directives ----------------------------------------------------------


def _one_value(draft: _Draft, directive: Directive) -> str | None:
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


def _note_repeat(draft: _Draft, directive: Directive, earlier_line: int | None) -> None:
    if earlier_line is not None:
        draft.log.warn(
            directive.line,
            directive.name,
            f"set again; the value on line {earlier_line} is overridden",
        )


def _handle_time(draft: _Draft, directive: Directive) -> None:
    values = directive.values
    if len(values) == 2 and is_detached_unit(values[1]):
        draft.log.error(
            directive.line,
            f"{directive.name} {values[0]} {values[1]}",
            "the unit must follow the number without a space",
            f"{values[0]}{values[1]}",
        )
        return
    text = _one_value(draft, directive)
    if text is None:
        return
    try:
        value_ms = parse_duration_ms(text)
    except ValueProblem as problem:
        draft.log.value_error(directive.line, directive.name, problem)
        return
    earlier = draft.times.get(directive.name)
    _note_repeat(draft, directive, None if earlier is None else earlier.line)
    draft.times[directive.name] = WrittenTime(value_ms=value_ms, line=directive.line)


def _handle_udpport(draft: _Draft, directive: Directive) -> None:
    text = _one_value(draft, directive)
    if text is None:
        return
    try:
        port = parse_port(text)
    except ValueProblem as problem:
        draft.log.value_error(directive.line, directive.name, problem)
        return
    _note_repeat(draft, directive, draft.udpport_line)
    if draft.udp_media_lines and port != draft.udpport:
        earlier = ", ".join(str(number) for number in draft.udp_media_lines)
        draft.log.warn(
            directive.line,
            "udpport",
            f"port {port} does not apply to the media lines above it (line {earlier}), "
            f"which keep port {draft.udpport}; move udpport above the media lines",
        )
    draft.udpport, draft.udpport_line = port, directive.line


def _handle_baud(draft: _Draft, directive: Directive) -> None:
    text = _one_value(draft, directive)
    if text is None:
        return
    try:
        baud = media_lines.parse_baud(text)
    except ValueProblem as problem:
        draft.log.value_error(directive.line, directive.name, problem)
        return
    _note_repeat(draft, directive, draft.baud_line)
    if draft.serial_lines and baud != draft.baud:
        earlier = ", ".join(str(number) for number in draft.serial_lines)
        draft.log.warn(
            directive.line,
            "baud",
            f"{baud} does not apply to the serial lines above it (line {earlier}), which "
            f"keep {draft.baud}; move baud above the serial lines",
        )
    draft.baud, draft.baud_line = baud, directive.line


def _handle_text_setting(draft: _Draft, directive: Directive) -> None:
    """logfile, debugfile, logfacility, watchdog: one word kept as written."""
    text = _one_value(draft, directive)
    if text is None:
        return
    if directive.name == "logfacility" and text.lower() not in SYSLOG_FACILITIES:
        draft.log.error(
            directive.line,
            directive.name,
            f"{text!r} is not a syslog facility",
            "daemon, local0 .. local7, or none",
        )
        return
    earlier = draft.single_values.get(directive.name)
    _note_repeat(draft, directive, None if earlier is None else earlier[1])
    draft.single_values[directive.name] = (text, directive.line)


def _handle_realtime(draft: _Draft, directive: Directive) -> None:
    text = _one_value(draft, directive)
    if text is None:
        return
    try:
        draft.is_realtime = parse_boolean(text)
    except ValueProblem as problem:
        draft.log.value_error(directive.line, directive.name, problem)


# ---- failback, crm, quorum ----------------------------------------------------------------


def _set_failback(draft: _Draft, directive: Directive, value: AutoFailback) -> None:
    if draft.failback_directive is not None and draft.failback_directive != directive.name:
        draft.log.error(
            directive.line,
            directive.name,
            f"conflicts with {draft.failback_directive} on line {draft.failback_line}",
            "keep only auto_failback; nice_failback is obsolete",
        )
        return
    _note_repeat(draft, directive, draft.failback_line)
    draft.auto_failback = value
    draft.failback_line, draft.failback_directive = directive.line, directive.name


def _handle_auto_failback(draft: _Draft, directive: Directive) -> None:
    text = _one_value(draft, directive)
    if text is None:
        return
    if text.lower() == "legacy":
        _set_failback(draft, directive, AutoFailback.LEGACY)
        return
    try:
        is_on = parse_boolean(text)
    except ValueProblem:
        draft.log.error(
            directive.line, directive.name, f"{text!r} is not on, off or legacy", "auto_failback on"
        )
        return
    _set_failback(draft, directive, AutoFailback.ON if is_on else AutoFailback.OFF)


def _handle_nice_failback(draft: _Draft, directive: Directive) -> None:
    text = _one_value(draft, directive)
    if text is None:
        return
    try:
        is_nice = parse_boolean(text)
    except ValueProblem as problem:
        draft.log.value_error(directive.line, directive.name, problem)
        return
    replacement = "off" if is_nice else "on"
    draft.log.warn(
        directive.line, directive.name, f"is obsolete; read as auto_failback {replacement}"
    )
    _set_failback(draft, directive, AutoFailback.OFF if is_nice else AutoFailback.ON)


def _handle_crm(draft: _Draft, directive: Directive) -> None:
    text = _one_value(draft, directive)
    if text is None:
        return
    word = text.lower()
    if word in ("respawn", "true", "on", "yes", "y", "1"):
        draft.log.error(
            directive.line,
            directive.name,
            f"crm {text} asks for Pacemaker mode, which ignores haresources; hactl runs "
            "haresources (Heartbeat v1) clusters",
            "remove the line or write crm off",
        )
    elif word not in ("off", "false", "no", "n", "0"):
        draft.log.error(directive.line, directive.name, f"{text!r} is not on or off", "crm off")


def _handle_no_quorum_policy(draft: _Draft, directive: Directive) -> None:
    text = _one_value(draft, directive)
    if text is None:
        return
    try:
        draft.quorum_loss_policy = QuorumLossPolicy(text.lower())
    except ValueError:
        draft.log.error(
            directive.line,
            directive.name,
            f"{text!r} is not stop or freeze",
            "no_quorum_policy stop",
        )


# ---- lists: nodes, media, ping, respawn, stonith, monitor ----------------------------------


def _handle_node(draft: _Draft, directive: Directive) -> None:
    if not directive.values:
        draft.log.error(directive.line, "node", "needs at least one node name", "node alpha")
    for name in directive.values:
        lowered = name.lower()
        if lowered in draft.nodes:
            draft.log.warn(directive.line, "node", f"{lowered} is listed more than once")
            continue
        if "/" in name or not name.isprintable():
            draft.log.error(directive.line, "node", f"{name!r} is not a host name")
            continue
        draft.nodes.append(lowered)


def _handle_media(draft: _Draft, directive: Directive) -> None:
    try:
        match directive.name:
            case "bcast":
                new: list[Medium] = list(
                    media_lines.parse_bcast(directive.values, port=draft.udpport)
                )
            case "ucast":
                new = list(
                    media_lines.parse_ucast(
                        directive.values, port=draft.udpport, local_addresses=draft.local_addresses
                    )
                )
                if not new:
                    draft.ucast_lines_all_local.append(directive.line)
            case "mcast":
                new = [media_lines.parse_mcast(directive.values)]
            case "serial":
                new = list(media_lines.parse_serial(directive.values, baud=draft.baud))
            case _:
                raise AssertionError(directive.name)
    except ValueProblem as problem:
        draft.log.value_error(directive.line, directive.name, problem)
        return
    if directive.name in ("bcast", "ucast"):
        draft.udp_media_lines.append(directive.line)
    if directive.name == "serial":
        draft.serial_lines.append(directive.line)
    draft.media.extend(new)


def _handle_ping(draft: _Draft, directive: Directive) -> None:
    if directive.name == "ping_group":
        if len(directive.values) < 2:
            draft.log.error(
                directive.line,
                "ping_group",
                "needs a name and an address",
                "ping_group uplink 198.18.0.1 198.18.0.2",
            )
            return
        name, addresses = directive.values[0], directive.values[1:]
    else:
        if not directive.values:
            draft.log.error(directive.line, "ping", "needs an address", "ping 198.18.0.1")
            return
        name, addresses = "", directive.values
    try:
        checked = tuple(str(parse_ip_address(text)) for text in addresses)
    except ValueProblem as problem:
        draft.log.value_error(directive.line, directive.name, problem)
        return
    if name:
        draft.ping_groups.append(PingGroup(name=name, addresses=checked))
    else:
        draft.ping_nodes.extend(checked)


def _handle_respawn(draft: _Draft, directive: Directive) -> None:
    if len(directive.values) < 2:
        draft.log.error(
            directive.line,
            "respawn",
            "needs a user and a program",
            "respawn hacluster /usr/lib/heartbeat/ipfail",
        )
        return
    user, *command = directive.values
    draft.respawns.append(Respawn(user=user, command=tuple(command)))


def _handle_stonith(draft: _Draft, directive: Directive) -> None:
    location = draft.location(directive.line)
    if directive.name == "stonith":
        if len(directive.values) != 2:
            draft.log.error(
                directive.line,
                "stonith",
                "needs a device type and a config file",
                "stonith external/ipmi /etc/ha.d/stonith.cfg",
            )
            return
        device_type, config_file = directive.values
        draft.stonith_devices.append(
            StonithDevice(
                device_type=device_type,
                from_node="*",
                parameters=(),
                named_parameters=(),
                config_file=config_file,
                location=location,
            )
        )
        return
    if len(directive.values) < 2:
        draft.log.error(
            directive.line,
            "stonith_host",
            "needs a node (or *) and a device type",
            "stonith_host * external/ipmi ...",
        )
        return
    from_node, device_type, *rest = directive.values
    named = tuple(tuple(token.split("=", 1)) for token in rest if "=" in token[1:])
    draft.stonith_devices.append(
        StonithDevice(
            device_type=device_type,
            from_node=from_node.lower(),
            parameters=tuple(token for token in rest if "=" not in token[1:]),
            named_parameters=tuple((name, value) for name, value in named),
            config_file=None,
            location=location,
        )
    )


def _handle_monitor(draft: _Draft, directive: Directive) -> None:
    try:
        draft.monitors.append(parse_monitor(directive.values, draft.location(directive.line)))
    except ValueProblem as problem:
        draft.log.value_error(directive.line, "monitor", problem)


# ---- dispatch ---------------------------------------------------------------------------

_Handler = Callable[[_Draft, Directive], None]
_HANDLERS: dict[str, _Handler] = {
    **{name: _handle_time for name in TIMING_DIRECTIVES},
    "udpport": _handle_udpport,
    "baud": _handle_baud,
    **{name: _handle_text_setting for name in ("logfile", "debugfile", "logfacility", "watchdog")},
    "realtime": _handle_realtime,
    "auto_failback": _handle_auto_failback,
    "nice_failback": _handle_nice_failback,
    "crm": _handle_crm,
    "no_quorum_policy": _handle_no_quorum_policy,
    "node": _handle_node,
    **{name: _handle_media for name in ("bcast", "ucast", "mcast", "serial")},
    "ping": _handle_ping,
    "ping_group": _handle_ping,
    "respawn": _handle_respawn,
    "stonith": _handle_stonith,
    "stonith_host": _handle_stonith,
    "monitor": _handle_monitor,
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


def _dispatch(draft: _Draft, directive: Directive) -> None:
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
    draft = _Draft(
        log=ProblemLog(file_name),
        local_addresses=frozenset(ipaddress.ip_address(address) for address in local_addresses),
    )
    for line in read_lines(text):
        _dispatch(draft, _to_directive(line))
    timings = derive_timings(draft.times, draft.log)
    _check_whole_file(draft)
    draft.log.raise_if_errors()
    return _freeze(draft, timings)


def _check_whole_file(draft: _Draft) -> None:
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


def _freeze(draft: _Draft, timings: Timings) -> HaCf:
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
    )
