"""Retention: whole segments pruned behind a snapshot; the rest still verifies to genesis."""

from __future__ import annotations

from pathlib import Path

from journal import Journal, kinds, read_records, verify_journal
from journal.keys import read_genesis_public_key
from journal.testing import WALL_BASE_NS, engine_records, segment_paths


def _fill(journal: Journal, directory: Path, *, segments_wanted: int, start: int) -> int:
    index = start
    while len(segment_paths(directory)) < segments_wanted:
        journal.append(100, ["beta", "eth0", index], monotonic_ns=index,
                       wall_ns=WALL_BASE_NS + index)
        journal.commit()
        index += 1
    return index


def test_pruning_keeps_a_provable_chain_and_replay_starts_at_the_snapshot(
    tmp_path: Path,
) -> None:
    directory = tmp_path / "journal"
    journal = Journal.open(directory, node="alpha", sync=True, monotonic_ns=0, wall_ns=0,
                           segment_bytes_max=2500)
    next_index = _fill(journal, directory, segments_wanted=4, start=0)
    result = journal.prune({"derived": "state", "up_to": next_index}, monotonic_ns=next_index,
                           wall_ns=WALL_BASE_NS)
    assert result.segments_pruned == 3 and result.bytes_freed > 0
    assert [p.name for p in segment_paths(directory)] == ["segment-00000003.journal"]
    journal.close()

    report = verify_journal(directory, public_key=read_genesis_public_key(directory))
    assert report.is_ok, [p.describe() for p in report.problems]
    assert report.pruned_segments == 3 and report.is_genesis_key_trusted
    records = list(read_records(directory))
    assert result.last_pruned_seq is not None
    assert records[0].seq == result.last_pruned_seq + 1
    snapshots = [r for r in records if r.kind == kinds.SNAPSHOT]
    assert [s.payload for s in snapshots] == [[{"derived": "state", "up_to": next_index}]]


def test_a_journal_pruned_twice_and_reopened_still_verifies(tmp_path: Path) -> None:
    directory = tmp_path / "journal"
    journal = Journal.open(directory, node="alpha", sync=False, monotonic_ns=0, wall_ns=0,
                           segment_bytes_max=2500)
    index = _fill(journal, directory, segments_wanted=3, start=0)
    journal.prune(["first"], monotonic_ns=index, wall_ns=0)
    journal.close()
    journal = Journal.open(directory, node="alpha", sync=False, segment_bytes_max=2500)
    index = _fill(journal, directory, segments_wanted=4, start=index)
    second = journal.prune(["second"], monotonic_ns=index, wall_ns=0)
    assert second.segments_pruned == 3
    journal.append(100, ["after"], monotonic_ns=index + 1, wall_ns=0)
    journal.close()
    report = verify_journal(directory)
    assert report.is_ok, [p.describe() for p in report.problems]
    assert report.pruned_segments == 5
    assert engine_records(directory)[-1][2] == ["after"]


def test_pruning_with_one_segment_prunes_nothing(tmp_path: Path) -> None:
    directory = tmp_path / "journal"
    with Journal.open(directory, node="alpha", sync=False) as journal:
        result = journal.prune(["state"], monotonic_ns=0, wall_ns=0)
    assert result.segments_pruned == 0 and result.last_pruned_seq is None
    assert verify_journal(directory).is_ok


def test_removing_the_first_retained_segment_after_a_prune_is_reported(tmp_path: Path) -> None:
    directory = tmp_path / "journal"
    with Journal.open(directory, node="alpha", sync=False, monotonic_ns=0, wall_ns=0,
                      segment_bytes_max=2500) as journal:
        index = _fill(journal, directory, segments_wanted=3, start=0)
        journal.prune(["state"], monotonic_ns=index, wall_ns=0)
        _fill(journal, directory, segments_wanted=3, start=index)
    segment_paths(directory)[0].unlink()
    report = verify_journal(directory)
    assert not report.is_ok
    assert "missing segment" in report.problems[0].problem


def test_a_pruned_journal_checked_against_a_wrong_genesis_key_fails(tmp_path: Path) -> None:
    directory = tmp_path / "journal"
    with Journal.open(directory, node="alpha", sync=False, monotonic_ns=0, wall_ns=0,
                      segment_bytes_max=2500) as journal:
        index = _fill(journal, directory, segments_wanted=3, start=0)
        journal.prune(["state"], monotonic_ns=index, wall_ns=0)
    report = verify_journal(directory, public_key=bytes(32))
    assert not report.is_ok
    assert "genesis public key" in report.problems[0].problem
