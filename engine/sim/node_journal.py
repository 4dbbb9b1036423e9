"""The journal each simulated node writes, behind the small interface the shell needs.

The shell's order is the raft Ready order: append the event, step, and commit before any
command that depends on it is carried out. A crash loses what was appended but not yet
committed, never a committed record; `crash()` models exactly that. Two implementations:
`MemoryJournal` (fast, for seed sweeps and benches) and `DiskJournal`, which writes a real
signed journal through the `journal` package so `hactl replay` can read it back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True, kw_only=True)
class JournalRecord:
    kind: int
    payload: object  # the codec's msgpack-friendly value; the real journal packs it
    monotonic_ns: int
    wall_ns: int


class NodeJournal(Protocol):
    def append(self, record: JournalRecord) -> None: ...

    def commit(self) -> None: ...

    def crash(self) -> None:
        """Lose every record appended since the last commit."""

    def close(self) -> None: ...

    def committed(self) -> tuple[JournalRecord, ...]: ...


@dataclass(slots=True)
class MemoryJournal:
    """An in-memory journal with the same commit/crash semantics as the real one."""

    records: list[JournalRecord] = field(default_factory=list)
    committed_count: int = 0

    def append(self, record: JournalRecord) -> None:
        self.records.append(record)

    def commit(self) -> None:
        self.committed_count = len(self.records)

    def crash(self) -> None:
        del self.records[self.committed_count :]

    def close(self) -> None:
        self.commit()

    def committed(self) -> tuple[JournalRecord, ...]:
        return tuple(self.records[: self.committed_count])
