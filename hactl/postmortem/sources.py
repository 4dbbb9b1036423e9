"""Loading journal directories for a postmortem: verify each, read it once, name its node.

A postmortem is evidence, so every journal is verified first (chain, seals, signatures) and
the verdict travels with the records: a broken journal is still read up to where it is
readable, and every report says which journals did not verify and why. Records are read
once into memory; every later pass (trace, merge, page) works on these tuples.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from journal import JournalCorruptError, Record, VerifyReport, read_records, verify_journal
from journal import kinds as journal_kinds


class JournalSourceError(Exception):
    """A directory that holds no readable journal at all."""


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeJournal:
    directory: Path
    node: str
    records: tuple[Record, ...]
    verify: VerifyReport
    read_problem: str | None  # reading stopped early at damage (the records before it stay)
    # Loaded from the postmortem index (`index.load_journal_indexed`): `records` is empty
    # and these say what the journal holds and how it was checked.
    indexed_count: int | None = None
    indexed_edges: tuple[Record | None, Record | None] = (None, None)
    indexed_last_wall_ns: int = 0
    coverage: str | None = None  # what was verified in full, what against the cache

    @property
    def record_count(self) -> int:
        return len(self.records) if self.indexed_count is None else self.indexed_count

    @property
    def edge_records(self) -> tuple[Record, ...]:
        """The first and the last record (one when they are the same, none when empty)."""
        if self.indexed_count is None:
            return self.records[:1] + self.records[-1:] if len(self.records) > 1 \
                else self.records
        first, last = self.indexed_edges
        found = tuple(record for record in (first, last) if record is not None)
        return found[:1] if len(found) == 2 and found[0] is found[1] else found

    @property
    def last_wall_ns(self) -> int:
        """The newest wall time a record carries (seals carry none)."""
        if self.indexed_count is not None:
            return self.indexed_last_wall_ns
        return next((record.wall_ns for record in reversed(self.records) if record.wall_ns), 0)

    @property
    def is_verified(self) -> bool:
        return self.verify.is_ok and self.read_problem is None

    def problems(self) -> list[str]:
        found = [problem.describe() for problem in self.verify.problems]
        if self.read_problem is not None:
            found.append(self.read_problem)
        return found


def load_journal(directory: Path, *, check_signatures: bool = True) -> NodeJournal:
    verify = verify_journal(directory, check_signatures=check_signatures)
    records: list[Record] = []
    read_problem = None
    try:
        records.extend(read_records(directory))
    except JournalCorruptError as error:
        read_problem = f"reading stopped: {error}"
    node = verify.node or _node_from_records(records)
    if node is None:
        why = "; ".join(problem.describe() for problem in verify.problems) or "empty"
        raise JournalSourceError(f"{directory}: no journal found ({why})")
    return NodeJournal(directory=directory, node=node, records=tuple(records), verify=verify,
                       read_problem=read_problem)


def load_journals(directories: Sequence[Path], *, check_signatures: bool = True
                  ) -> tuple[NodeJournal, ...]:
    """One NodeJournal per directory; two directories of one node are refused."""
    loaded = tuple(load_journal(path, check_signatures=check_signatures) for path in directories)
    seen: dict[str, Path] = {}
    for journal in loaded:
        if journal.node in seen:
            raise JournalSourceError(f"{journal.directory} and {seen[journal.node]} are both "
                                     f"journals of node {journal.node!r}: give one per node")
        seen[journal.node] = journal.directory
    return loaded


def _node_from_records(records: list[Record]) -> str | None:
    for record in records:
        if record.kind == journal_kinds.JOURNAL_CREATED and isinstance(record.payload, list):
            name = record.payload[1]
            return name if isinstance(name, str) else None
    return None
