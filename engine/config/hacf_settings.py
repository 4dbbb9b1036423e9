"""ha.cf handlers for directives that set one value: timings, ports, flags, failback, crm.

Each handler takes the draft and one directive, records the value or reports a problem.
A value set twice keeps the later one, with a warning naming the earlier line, except
`udpport` and `baud`, which only apply to the media lines after them.
"""

from __future__ import annotations

from dataclasses import replace

from engine.config import media as media_lines
from engine.config.errors import ValueProblem
from engine.config.hacf_draft import Directive, Draft, note_repeat, one_value
from engine.config.model import AutoFailback, QuorumLossPolicy
from engine.config.timeparse import is_detached_unit, parse_duration_ms
from engine.config.timings import WrittenTime
from engine.config.values import parse_boolean, parse_integer, parse_port

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


def _is_detached_unit_reported(draft: Draft, directive: Directive) -> bool:
    """`500 ms` (with a space) is Heartbeat's classic typo: say how to write it."""
    values = directive.values
    if len(values) == 2 and is_detached_unit(values[1]):
        draft.log.error(
            directive.line,
            f"{directive.name} {values[0]} {values[1]}",
            "the unit must follow the number without a space",
            f"{values[0]}{values[1]}",
        )
        return True
    return False


def handle_time(draft: Draft, directive: Directive) -> None:
    if _is_detached_unit_reported(draft, directive):
        return
    text = one_value(draft, directive)
    if text is None:
        return
    try:
        value_ms = parse_duration_ms(text)
    except ValueProblem as problem:
        draft.log.value_error(directive.line, directive.name, problem)
        return
    earlier = draft.times.get(directive.name)
    note_repeat(draft, directive, None if earlier is None else earlier.line)
    draft.times[directive.name] = WrittenTime(value_ms=value_ms, line=directive.line)


def handle_udpport(draft: Draft, directive: Directive) -> None:
    text = one_value(draft, directive)
    if text is None:
        return
    try:
        port = parse_port(text)
    except ValueProblem as problem:
        draft.log.value_error(directive.line, directive.name, problem)
        return
    note_repeat(draft, directive, draft.udpport_line)
    _warn_earlier_lines_keep(
        draft, directive, draft.udp_media_lines, f"port {draft.udpport}", f"port {port}", "media"
    )
    draft.udpport, draft.udpport_line = port, directive.line


def handle_baud(draft: Draft, directive: Directive) -> None:
    text = one_value(draft, directive)
    if text is None:
        return
    try:
        baud = media_lines.parse_baud(text)
    except ValueProblem as problem:
        draft.log.value_error(directive.line, directive.name, problem)
        return
    note_repeat(draft, directive, draft.baud_line)
    _warn_earlier_lines_keep(
        draft, directive, draft.serial_lines, str(draft.baud), str(baud), "serial"
    )
    draft.baud, draft.baud_line = baud, directive.line


def _warn_earlier_lines_keep(
    draft: Draft, directive: Directive, lines: list[int], kept: str, new: str, what: str
) -> None:
    """Heartbeat reads ha.cf in order: udpport and baud reach only the lines below them."""
    if not lines or kept == new:
        return
    earlier = ", ".join(str(number) for number in lines)
    draft.log.warn(
        directive.line,
        directive.name,
        f"{new} does not apply to the {what} lines above it (line {earlier}), which keep "
        f"{kept}; move {directive.name} above the {what} lines",
    )


def handle_text_setting(draft: Draft, directive: Directive) -> None:
    """logfile, debugfile, logfacility, watchdog: one word kept as written."""
    text = one_value(draft, directive)
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
    note_repeat(draft, directive, None if earlier is None else earlier[1])
    draft.single_values[directive.name] = (text, directive.line)


def handle_realtime(draft: Draft, directive: Directive) -> None:
    text = one_value(draft, directive)
    if text is None:
        return
    try:
        draft.is_realtime = parse_boolean(text)
    except ValueProblem as problem:
        draft.log.value_error(directive.line, directive.name, problem)


# ---- failback, crm, quorum ----------------------------------------------------------------


def _set_failback(draft: Draft, directive: Directive, value: AutoFailback) -> None:
    if draft.failback_directive is not None and draft.failback_directive != directive.name:
        draft.log.error(
            directive.line,
            directive.name,
            f"conflicts with {draft.failback_directive} on line {draft.failback_line}",
            "keep only auto_failback; nice_failback is obsolete",
        )
        return
    note_repeat(draft, directive, draft.failback_line)
    draft.auto_failback = value
    draft.failback_line, draft.failback_directive = directive.line, directive.name


def handle_auto_failback(draft: Draft, directive: Directive) -> None:
    text = one_value(draft, directive)
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


def handle_nice_failback(draft: Draft, directive: Directive) -> None:
    text = one_value(draft, directive)
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


def handle_crm(draft: Draft, directive: Directive) -> None:
    text = one_value(draft, directive)
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


def handle_no_quorum_policy(draft: Draft, directive: Directive) -> None:
    text = one_value(draft, directive)
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


# Gratuitous ARP bounds: at least one announcement; more than 100, or pairs further apart
# than 10 s, would no longer be a burst. A refresh faster than 1 s would flood the segment.
ARP_COUNT_MAX = 100
ARP_INTERVAL_MS_RANGE = (10, 10_000)
ARP_REFRESH_MS_MIN = 1_000


def handle_arp_count(draft: Draft, directive: Directive) -> None:
    text = one_value(draft, directive)
    if text is None:
        return
    try:
        count = parse_integer(text, minimum=1, maximum=ARP_COUNT_MAX, what="announcement count")
    except ValueProblem as problem:
        draft.log.value_error(directive.line, directive.name, problem)
        return
    draft.announcement = replace(draft.announcement, count=count)


def handle_arp_interval(draft: Draft, directive: Directive) -> None:
    interval_ms = _announcement_time(draft, directive)
    if interval_ms is None:
        return
    low_ms, high_ms = ARP_INTERVAL_MS_RANGE
    if not low_ms <= interval_ms <= high_ms:
        draft.log.error(
            directive.line,
            directive.name,
            f"{interval_ms}ms is outside {low_ms}ms..{high_ms // 1000}s",
            "arp_interval 200ms",
        )
        return
    draft.announcement = replace(draft.announcement, interval_ms=interval_ms)


def handle_arp_refresh(draft: Draft, directive: Directive) -> None:
    if directive.values and directive.values[0].lower() in ("off", "no", "0"):
        draft.announcement = replace(draft.announcement, refresh_ms=None)
        return
    refresh_ms = _announcement_time(draft, directive)
    if refresh_ms is None:
        return
    if refresh_ms < ARP_REFRESH_MS_MIN:
        draft.log.error(
            directive.line,
            directive.name,
            f"{refresh_ms}ms is too often: a refresh is for clients that missed the burst",
            "arp_refresh 60 (or off)",
        )
        return
    draft.announcement = replace(draft.announcement, refresh_ms=refresh_ms)


def _announcement_time(draft: Draft, directive: Directive) -> int | None:
    if _is_detached_unit_reported(draft, directive):
        return None
    text = one_value(draft, directive)
    if text is None:
        return None
    try:
        return parse_duration_ms(text)
    except ValueProblem as problem:
        draft.log.value_error(directive.line, directive.name, problem)
        return None
