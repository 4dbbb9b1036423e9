"""Simulated durations as people write them in scenarios and on the command line.

`200ms`, `5s`, `1.5s`, `10m`, `1h`; a bare number is seconds, as in ha.cf. Results are
integer milliseconds because the virtual clock counts milliseconds.
"""

from __future__ import annotations

import re

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h)?$")
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, None: 1000}


class DurationError(ValueError):
    pass


def parse_duration_ms(text: str) -> int:
    match = _DURATION.match(text.strip().lower())
    if match is None:
        raise DurationError(f"{text!r} is not a duration (write e.g. 200ms, 5s, 10m, 1h)")
    number, unit = match.groups()
    return round(float(number) * _UNIT_MS[unit])


def format_time_ms(time_ms: int) -> str:
    """A simulated instant for timelines: seconds with millisecond precision, fixed width."""
    return f"{time_ms // 1000:>5}.{time_ms % 1000:03d}s"
