"""Check a journal against seals held elsewhere: the one thing local verification can't do.

A journal cut back cleanly to an earlier seal, or rewritten within the current key epoch
by someone holding the current key, verifies on its own. But peers journal each other's
seals (PEER_SEAL records, carried by heartbeats), and a seal held elsewhere pins the head
at its seq: if this journal now ends before that seq, it was truncated; if it holds a
different head there, it was rewritten.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from pathlib import Path

from journal import kinds
from journal.reader import read_records
from journal.seal import Seal


def peer_held_seals(peer_directory: Path, *, node: str) -> list[Seal]:
    """The seals of `node` that the journal in `peer_directory` recorded."""
    held: list[Seal] = []
    for record in read_records(peer_directory):
        if record.kind == kinds.PEER_SEAL:
            with contextlib.suppress(ValueError, AssertionError):
                seal = Seal.from_list(record.payload)
                if seal.node == node:
                    held.append(seal)
    return held


def held_seal_problems(
    held: Iterable[Seal],
    *,
    node: str,
    sealed_heads: dict[int, bytes],
    epoch_keys: dict[int, bytes],
    last_sealed_seq: int | None,
    first_seq: int,
) -> tuple[list[tuple[int, str]], list[str]]:
    """([(seq, problem)], [warning]) for the held seals, given what the journal sealed."""
    problems: list[tuple[int, str]] = []
    warnings: list[str] = []
    for seal in held:
        if seal.node != node:
            continue
        key = epoch_keys.get(seal.epoch)
        if key is None or not seal.is_signed_by(key):
            warnings.append(f"a seal held elsewhere for seq {seal.seq} (epoch {seal.epoch}) "
                            "does not verify under this journal's keys; ignored")
            continue
        if seal.seq < first_seq:
            continue  # pruned here
        if last_sealed_seq is None or seal.seq > last_sealed_seq:
            problems.append((seal.seq, f"truncated: a seal held elsewhere vouches for seq "
                             f"{seal.seq}, but this journal is sealed only up to seq "
                             f"{last_sealed_seq}"))
        elif sealed_heads.get(seal.seq, seal.head) != seal.head:
            problems.append((seal.seq, f"rewritten: a seal held elsewhere for seq {seal.seq} "
                             f"has head {seal.head.hex()[:16]}, this journal "
                             f"{sealed_heads[seal.seq].hex()[:16]} (equivocation)"))
    return problems, warnings
