"""The readable story of a simulated run: membership changes, group moves, fences, alerts.

Scenario expected outputs are timelines, so every line must be stable (no object ids, no
dict-order accidents) and say what an admin would want to read in a log: simulated time,
the node that saw or did it, and what happened.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.sim.durations import format_time_ms


@dataclass(frozen=True, slots=True, kw_only=True)
class TimelineEntry:
    at_ms: int
    node: str  # "" for cluster-wide facts (faults applied by the harness)
    text: str

    def render(self) -> str:
        where = f"{self.node}: " if self.node else ""
        return f"{format_time_ms(self.at_ms)} {where}{self.text}"


@dataclass(slots=True)
class Timeline:
    entries: list[TimelineEntry] = field(default_factory=list)
    _read_upto: int = 0

    def add(self, at_ms: int, node: str, text: str) -> None:
        self.entries.append(TimelineEntry(at_ms=at_ms, node=node, text=text))

    def take_new(self) -> list[TimelineEntry]:
        """Entries added since the last call: a scenario prints them under each command."""
        new = self.entries[self._read_upto :]
        self._read_upto = len(self.entries)
        return new

    def render(self) -> str:
        return "\n".join(entry.render() for entry in self.entries)
