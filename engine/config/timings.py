"""Heartbeat's timing defaults, derivations and start-up checks.

Given the times written in ha.cf (with their lines), this fills in what was left out the
way Heartbeat does - keepalive 1 s, deadtime 30 s, warntime = deadtime / 2, deadping =
deadtime, and the initdead rule (deadtime if over 10 s, 12 s if under 6 s, else twice
deadtime) - records whether each value was set, defaulted or derived, and reports the
combinations Heartbeat refuses to start with.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from engine.config.errors import ProblemLog
from engine.config.model import Timed, Timings, ValueSource

DEFAULT_KEEPALIVE_MS = 1_000
DEFAULT_DEADTIME_MS = 30_000
INITDEAD_LONG_DEADTIME_MS = 10_000  # above this, initdead defaults to deadtime
INITDEAD_SHORT_DEADTIME_MS = 6_000  # below this, initdead defaults to 12 s
INITDEAD_SHORT_DEFAULT_MS = 12_000
TIMING_DIRECTIVES = ("keepalive", "deadtime", "warntime", "initdead", "deadping")


@dataclass(frozen=True, slots=True, kw_only=True)
class WrittenTime:
    value_ms: int
    line: int


def format_duration(value_ms: int) -> str:
    return f"{value_ms // 1000}s" if value_ms % 1000 == 0 else f"{value_ms}ms"


def default_initdead_ms(deadtime_ms: int) -> int:
    if deadtime_ms > INITDEAD_LONG_DEADTIME_MS:
        return deadtime_ms
    if deadtime_ms < INITDEAD_SHORT_DEADTIME_MS:
        return INITDEAD_SHORT_DEFAULT_MS
    return 2 * deadtime_ms


def _timed(written: WrittenTime | None, fallback_ms: int, source: ValueSource) -> Timed:
    if written is None:
        return Timed(value_ms=fallback_ms, source=source)
    return Timed(value_ms=written.value_ms, source=ValueSource.SET)


def derive_timings(written: Mapping[str, WrittenTime], log: ProblemLog) -> Timings:
    """Fill defaults, then report every combination Heartbeat refuses (into `log`)."""
    assert set(written) <= set(TIMING_DIRECTIVES)
    keepalive = _timed(written.get("keepalive"), DEFAULT_KEEPALIVE_MS, ValueSource.DEFAULT)
    deadtime = _timed(written.get("deadtime"), DEFAULT_DEADTIME_MS, ValueSource.DEFAULT)
    timings = Timings(
        keepalive=keepalive,
        deadtime=deadtime,
        warntime=_timed(written.get("warntime"), deadtime.value_ms // 2, ValueSource.DERIVED),
        initdead=_timed(
            written.get("initdead"), default_initdead_ms(deadtime.value_ms), ValueSource.DERIVED
        ),
        deadping=_timed(written.get("deadping"), deadtime.value_ms, ValueSource.DERIVED),
    )
    _check_timings(timings, written, log)
    return timings


def _line_of(written: Mapping[str, WrittenTime], *names: str) -> int | None:
    for name in names:
        if name in written:
            return written[name].line
    return None


def _check_timings(timings: Timings, written: Mapping[str, WrittenTime], log: ProblemLog) -> None:
    keepalive_ms = timings.keepalive.value_ms
    deadtime_ms = timings.deadtime.value_ms
    zero_names = {name for name, time in written.items() if time.value_ms <= 0}
    for name in sorted(zero_names):
        log.error(written[name].line, name, "must be longer than 0", "e.g. 2 or 500ms")
    if zero_names & {"keepalive", "deadtime"}:
        return  # every check below compares with these two; one error per line is enough
    if deadtime_ms <= 2 * keepalive_ms:
        log.error(
            _line_of(written, "deadtime", "keepalive"),
            "deadtime",
            f"deadtime {format_duration(deadtime_ms)} must be more than twice keepalive "
            f"{format_duration(keepalive_ms)}",
            f"raise deadtime above {format_duration(2 * keepalive_ms)} or lower keepalive",
        )
    if "initdead" in written.keys() - zero_names and timings.initdead.value_ms < deadtime_ms:
        log.error(
            written["initdead"].line,
            "initdead",
            f"initdead {format_duration(timings.initdead.value_ms)} is shorter than deadtime "
            f"{format_duration(deadtime_ms)}",
            f"set initdead to at least {format_duration(deadtime_ms)}",
        )
    if "deadping" in written.keys() - zero_names and timings.deadping.value_ms <= 2 * keepalive_ms:
        log.error(
            written["deadping"].line,
            "deadping",
            f"deadping {format_duration(timings.deadping.value_ms)} must be more than twice "
            f"keepalive {format_duration(keepalive_ms)}",
            f"raise deadping above {format_duration(2 * keepalive_ms)}",
        )
    _warn_about_warntime(timings, written, log)


def _warn_about_warntime(
    timings: Timings, written: Mapping[str, WrittenTime], log: ProblemLog
) -> None:
    if "warntime" not in written or written["warntime"].value_ms <= 0:
        return
    line = written["warntime"].line
    if timings.warntime.value_ms >= timings.deadtime.value_ms:
        log.warn(
            line,
            "warntime",
            "is not shorter than deadtime, so no late-heartbeat "
            "warning comes before a node is declared dead",
        )
    elif timings.warntime.value_ms <= timings.keepalive.value_ms:
        log.warn(
            line,
            "warntime",
            "is not longer than keepalive, so every slightly late heartbeat will be warned about",
        )
