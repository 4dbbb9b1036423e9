"""hactl's signed, hash-chained, append-only journal (format code: no trio, no engine).

Public API::

    from journal import Journal, Record, Seal, JournalCorruptError, read_records, verify_journal

    j = Journal.open(directory, node="alpha", sync=True)   # create (genesis key) or recover
    seq = j.append(kind, payload, monotonic_ns=..., wall_ns=...)   # buffered, not durable
    seal = j.commit()           # write + fdatasync + one Ed25519 seal; run it in a thread
    j.latest_seal()             # Seal: ~120 bytes via .to_bytes(), Seal.from_bytes()
    j.record_peer_seal(seal, monotonic_ns=..., wall_ns=..., public_key=None)
                                # -> PeerSealOutcome (verdict, equivocation evidence)
    j.prune(snapshot, monotonic_ns=..., wall_ns=...)   # -> PruneResult
    j.close()

    read_records(directory, since_seq=0) -> Iterator[Record]
        # Record(seq, kind, monotonic_ns, wall_ns, payload, head)
    verify_journal(directory, public_key=None, held_seals=()) -> VerifyReport
        # .is_ok, .problems[VerifyProblem(segment, offset, seq, problem)], counts, times
    peer_held_seals(peer_directory, node="alpha") -> list[Seal]   # for held_seals

Kinds 0..99 are the journal's own (`journal.kinds`); the engine registers names and
summaries for its kinds (>= 100) with `journal.kinds.register_kind_names`.
The on-disk format, recovery rules and key epochs are specified in docs/journal.md.
"""

from journal.entanglement import peer_held_seals
from journal.errors import (
    JournalClosedError,
    JournalCorruptError,
    JournalError,
    JournalFsyncError,
    JournalKeyError,
)
from journal.kinds import FIRST_ENGINE_KIND, register_kind_names
from journal.opening import RecoveryReport
from journal.peers import Equivocation, PeerSealOutcome, PeerSealVerdict
from journal.reader import Record, read_records
from journal.retention import PruneResult
from journal.seal import Seal
from journal.verify import VerifyProblem, VerifyReport, verify_journal
from journal.writer import Journal

__all__ = [
    "FIRST_ENGINE_KIND",
    "Equivocation",
    "Journal",
    "JournalClosedError",
    "JournalCorruptError",
    "JournalError",
    "JournalFsyncError",
    "JournalKeyError",
    "PeerSealOutcome",
    "PeerSealVerdict",
    "PruneResult",
    "Record",
    "RecoveryReport",
    "Seal",
    "VerifyProblem",
    "VerifyReport",
    "peer_held_seals",
    "read_records",
    "register_kind_names",
    "verify_journal",
]
