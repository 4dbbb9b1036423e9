"""Typed failures of the journal, split by whose fault they are.

`JournalCorruptError` is the world's fault (a disk, an attacker, a bad copy) and always
names the segment, byte offset and seq where the damage starts, so an admin can look.
`JournalFsyncError` means the node must stop: after a failed fsync the kernel may have
dropped the dirty pages, so retrying could silently lose acknowledged records.
"""

from __future__ import annotations


class JournalError(Exception):
    """Base class of every journal failure."""


class JournalCorruptError(JournalError):
    """The stored journal is damaged in a way that is not a torn write; nothing was changed."""

    def __init__(self, *, segment: str, offset: int, seq: int | None, problem: str) -> None:
        self.segment = segment
        self.offset = offset
        self.seq = seq
        self.problem = problem
        where_seq = "?" if seq is None else str(seq)
        super().__init__(f"{segment}: byte offset {offset}: seq {where_seq}: {problem}")


class JournalKeyError(JournalError):
    """The signing key for the current epoch is missing, unreadable or does not match."""


class JournalFsyncError(JournalError):
    """A write or fdatasync failed; the journal refuses all further work (stop the node)."""


class JournalClosedError(JournalError):
    """The journal was used after `close()` or after a fatal write failure."""
