"""Splitting Heartbeat configuration text into numbered, tokenised lines.

ha.cf and haresources share Heartbeat's lexical rules: `#` starts a comment anywhere on a
line, blank lines are ignored, and values are separated by blanks. ha.cf also splits on
commas (`node a,b`) except for directives whose whole line is handed to a plugin
(`stonith_host` parameters may contain commas); haresources joins a line ending in `\\` with
the next. Each logical line keeps the number of its first physical line for messages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_BLANKS = re.compile(r"[ \t\r\f\v]+")
_BLANKS_AND_COMMAS = re.compile(r"[ \t\r\f\v,]+")


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfigLine:
    """One logical line: its first physical line number and its text without the comment."""

    number: int
    text: str

    def tokens(self, *, split_commas: bool) -> tuple[str, ...]:
        pattern = _BLANKS_AND_COMMAS if split_commas else _BLANKS
        return tuple(token for token in pattern.split(self.text) if token)


def strip_comment(text: str) -> str:
    position = text.find("#")
    return text if position < 0 else text[:position]


def _physical_lines(text: str) -> list[str]:
    # splitlines() would also split on form feeds and Unicode separators; Heartbeat reads
    # with fgets, so only "\n" ends a line ("\r" is stripped as a blank).
    return text.split("\n")


def read_lines(text: str) -> list[ConfigLine]:
    """The non-blank lines of ha.cf, comments removed."""
    result: list[ConfigLine] = []
    for index, raw in enumerate(_physical_lines(text), start=1):
        content = strip_comment(raw).strip(" \t\r\f\v")
        if content:
            result.append(ConfigLine(number=index, text=content))
    return result


def read_continued_lines(text: str) -> list[ConfigLine]:
    """The non-blank logical lines of haresources: comments removed, `\\` lines joined."""
    result: list[ConfigLine] = []
    pending: list[str] = []
    first_number = 0
    for index, raw in enumerate(_physical_lines(text), start=1):
        content = strip_comment(raw).rstrip(" \t\r\f\v")
        if not pending:
            first_number = index
        if content.endswith("\\"):
            pending.append(content[:-1])
            continue
        pending.append(content)
        joined = " ".join(pending).strip(" \t\r\f\v")
        pending = []
        if joined:
            result.append(ConfigLine(number=first_number, text=joined))
    if pending:  # a continuation on the last line: keep what was written
        joined = " ".join(pending).strip(" \t\r\f\v")
        if joined:
            result.append(ConfigLine(number=first_number, text=joined))
    return result
