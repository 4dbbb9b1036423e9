"""A simulated node's journal on disk, written through the real `journal` package.

Records are held back here until the shell commits, then appended and committed in one
group, so a simulated crash (`crash()`) loses exactly the uncommitted records, as a real
crash loses the unflushed buffer, while using only the journal's public API. Files are
written with `sync=False` (no fsync), which the journal allows for simulators and tests.
"""

from __future__ import annotations

from pathlib import Path

from engine.sim.node_journal import JournalRecord
from journal import FIRST_ENGINE_KIND, Journal, read_records


class DiskJournal:
    def __init__(self, directory: Path, *, node: str) -> None:
        self.directory = directory
        self._journal = Journal.open(directory, node=node, sync=False, monotonic_ns=0, wall_ns=0)
        self._pending: list[JournalRecord] = []

    def append(self, record: JournalRecord) -> None:
        self._pending.append(record)

    def commit(self) -> None:
        if not self._pending:
            return
        for record in self._pending:
            self._journal.append(
                record.kind,
                record.payload,
                monotonic_ns=record.monotonic_ns,
                wall_ns=record.wall_ns,
            )
        self._journal.commit()
        self._pending.clear()

    def crash(self) -> None:
        self._pending.clear()

    def close(self) -> None:
        self.commit()
        self._journal.close()

    def committed(self) -> tuple[JournalRecord, ...]:
        """The engine's records as read back from disk (the journal's own kinds skipped)."""
        return tuple(
            JournalRecord(
                kind=record.kind,
                payload=record.payload,
                monotonic_ns=record.monotonic_ns,
                wall_ns=record.wall_ns,
            )
            for record in read_records(self.directory)
            if record.kind >= FIRST_ENGINE_KIND
        )
