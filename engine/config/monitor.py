"""The hactl `monitor` directive (an extension to ha.cf): periodic checks of one resource.

    monitor RESOURCE_SPEC INTERVAL [timeout=T] [restarts=N]

RESOURCE_SPEC is a resource exactly as written in haresources (`httpd`,
`IPaddr::198.18.0.50`, `Filesystem::/dev/sdb1::/data::ext4`); `build` checks that it names
one. Heartbeat v1 never checked a running resource; the defaults follow OCF practice: a
20 s timeout (the usual agent meta-data default) and one restart in place before the group
fails over to the peer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from engine.config.errors import ValueProblem
from engine.config.model import SourceLocation
from engine.config.timeparse import parse_duration_ms
from engine.config.values import parse_integer

DEFAULT_MONITOR_TIMEOUT_MS = 20_000
DEFAULT_MONITOR_RESTARTS = 1
MAX_MONITOR_RESTARTS = 100
_USAGE = "monitor RESOURCE INTERVAL [timeout=T] [restarts=N], e.g. monitor httpd 10 timeout=20"


@dataclass(frozen=True, slots=True, kw_only=True)
class MonitorRequest:
    """A monitor line before its resource is looked up in haresources."""

    resource_spec: str
    interval_ms: int
    timeout_ms: int
    max_restarts: int
    location: SourceLocation


def _positive_duration_ms(text: str, what: str) -> int:
    value_ms = parse_duration_ms(text)
    if value_ms <= 0:
        raise ValueProblem(f"{what} must be longer than 0", _USAGE)
    return value_ms


def parse_monitor(values: Sequence[str], location: SourceLocation) -> MonitorRequest:
    if len(values) < 2:
        raise ValueProblem("needs a resource and an interval", _USAGE)
    resource_spec, interval_text, *options = values
    timeout_ms = DEFAULT_MONITOR_TIMEOUT_MS
    max_restarts = DEFAULT_MONITOR_RESTARTS
    seen: set[str] = set()
    for option in options:
        name, is_assignment, value = option.partition("=")
        if not is_assignment or name not in ("timeout", "restarts"):
            raise ValueProblem(f"unknown option {option!r}", _USAGE)
        if name in seen:
            raise ValueProblem(f"{name} is given twice", _USAGE)
        seen.add(name)
        if name == "timeout":
            timeout_ms = _positive_duration_ms(value, "timeout")
        else:
            max_restarts = parse_integer(
                value, minimum=0, maximum=MAX_MONITOR_RESTARTS, what="restarts"
            )
    return MonitorRequest(
        resource_spec=resource_spec,
        interval_ms=_positive_duration_ms(interval_text, "interval"),
        timeout_ms=timeout_ms,
        max_restarts=max_restarts,
        location=location,
    )
