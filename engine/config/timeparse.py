"""Heartbeat's time syntax, converted to integer milliseconds.

A bare number is seconds (decimals allowed: `0.5`), `500ms` is milliseconds and `200us`
microseconds, case-insensitively. hactl keeps times in whole milliseconds, so a value is
rounded up to the next millisecond (`200us` -> 1 ms): rounding up never makes a timeout
shorter than the admin wrote. Decimal arithmetic keeps `0.1` exact.
"""

from __future__ import annotations

import re
from decimal import ROUND_CEILING, Decimal

from engine.config.errors import ValueProblem

_TIME = re.compile(r"(?P<number>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?P<unit>[a-zA-Z]*)")
_UNIT_PER_MS = {"": Decimal(1000), "s": Decimal(1000), "ms": Decimal(1), "us": Decimal("0.001")}
TIME_UNITS = ("ms", "us")
MAX_DURATION_MS = 24 * 60 * 60 * 1000  # a day: more is a typo, and would overflow timers


def parse_duration_ms(text: str) -> int:
    """`2` -> 2000, `0.5` -> 500, `500ms` -> 500, `200us` -> 1; raises ValueProblem."""
    match = _TIME.fullmatch(text)
    if match is None:
        raise ValueProblem(
            f"{text!r} is not a time",
            "a number of seconds like 2 or 0.5, or with a unit like 500ms or 200us",
        )
    unit = match["unit"].lower()
    if unit not in _UNIT_PER_MS:
        raise ValueProblem(f"{text!r} has an unknown unit {match['unit']!r}", "use ms or us")
    milliseconds = (Decimal(match["number"]) * _UNIT_PER_MS[unit]).to_integral_value(
        rounding=ROUND_CEILING
    )
    if milliseconds > MAX_DURATION_MS:
        raise ValueProblem(f"{text!r} is longer than a day", "times are seconds unless ms/us")
    return int(milliseconds)


def is_detached_unit(text: str) -> bool:
    """True for a token like `ms` that was meant to stick to the number before it."""
    return text.lower() in (*TIME_UNITS, "s")
