"""Heartbeat's time syntax: bare seconds, ms and us suffixes, rounded up to milliseconds."""

from __future__ import annotations

import pytest

from engine.config.errors import ValueProblem
from engine.config.timeparse import parse_duration_ms


@pytest.mark.parametrize(
    ("text", "expected_ms"),
    [
        ("2", 2_000),
        ("30", 30_000),
        ("0.5", 500),
        (".25", 250),
        ("1.", 1_000),
        ("500ms", 500),
        ("500MS", 500),
        ("500Ms", 500),
        ("200us", 1),  # rounded up: a timeout is never shorter than written
        ("2000us", 2),
        ("2500US", 3),
        ("0.0015", 2),
        ("0", 0),
        ("1.5ms", 2),
        ("86400", 86_400_000),
    ],
)
def test_times(text: str, expected_ms: int) -> None:
    assert parse_duration_ms(text) == expected_ms


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is not a time"),
        ("abc", "is not a time"),
        ("-1", "is not a time"),
        ("1e3", "is not a time"),
        ("5m", "unknown unit"),
        ("5sec", "unknown unit"),
        ("1.2.3", "is not a time"),
        ("86401", "longer than a day"),
        ("ms", "is not a time"),
    ],
)
def test_bad_times(text: str, message: str) -> None:
    with pytest.raises(ValueProblem, match=message):
        parse_duration_ms(text)
