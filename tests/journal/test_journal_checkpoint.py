"""Verification from a checkpoint: the verdict of `verify_journal`, re-verifying only what
the cache does not vouch for; changed bytes anywhere are still found."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from journal import Journal, verify_journal
from journal.checkpoint import VERIFY_CACHE_NAME, cache_directory, verify_from_checkpoint
from journal.testing import frames, segment_paths, write_journal


def _journal(directory: Path) -> None:
    write_journal(directory, records=600, records_per_commit=7, segment_bytes_max=4096,
                  epoch_interval_ns=5 * 10**9)


def _same_verdict(directory: Path) -> None:
    checked = verify_from_checkpoint(directory).report
    full = verify_journal(directory)
    assert dataclasses.asdict(checked) == dataclasses.asdict(full)


def test_a_cached_verification_gives_the_full_verdict_and_says_what_it_did(
        tmp_path: Path) -> None:
    _journal(tmp_path)
    assert len(segment_paths(tmp_path)) > 5
    first = verify_from_checkpoint(tmp_path)
    assert first.report.is_ok and first.coverage.is_cache_written
    assert first.coverage.records_cached == 0
    assert first.coverage.records_verified == first.report.records
    again = verify_from_checkpoint(tmp_path)
    assert again.coverage.records_verified == 0
    assert again.coverage.records_cached == first.report.records
    assert again.coverage.segments_cached == len(segment_paths(tmp_path))
    assert "checked against the verify cache" in again.coverage.describe()
    assert dataclasses.asdict(again.report) == dataclasses.asdict(verify_journal(tmp_path))


def test_records_appended_since_are_verified_from_the_cached_state(tmp_path: Path) -> None:
    _journal(tmp_path)
    first = verify_from_checkpoint(tmp_path)
    with Journal.open(tmp_path, node="alpha", sync=False, monotonic_ns=10**12,
                      wall_ns=2 * 10**18) as journal:
        for number in range(5):
            journal.append(100, [number], monotonic_ns=10**12 + number, wall_ns=2 * 10**18)
        journal.commit()
    grown = verify_from_checkpoint(tmp_path)
    assert grown.report.is_ok
    assert 0 < grown.coverage.records_verified < 20
    assert grown.coverage.records_cached == first.report.records
    assert dataclasses.asdict(grown.report) == dataclasses.asdict(verify_journal(tmp_path))
    _same_verdict(tmp_path)


def test_a_record_changed_in_an_old_segment_after_caching_is_reported(tmp_path: Path) -> None:
    import zlib

    _journal(tmp_path)
    assert verify_from_checkpoint(tmp_path).report.is_ok
    old = segment_paths(tmp_path)[2]
    data = bytearray(old.read_bytes())
    frame = frames(bytes(data))[4]
    data[frame.end - 1] ^= 0x01  # inside the body; the CRC is fixed so only the chain tells
    data[frame.offset + 4:frame.offset + 8] = zlib.crc32(data[frame.offset + 8:frame.end]
                                                         ).to_bytes(4, "little")
    old.write_bytes(bytes(data))
    checked = verify_from_checkpoint(tmp_path)
    assert not checked.report.is_ok
    assert checked.report.problems[0].segment == old.name
    assert checked.report.problems == verify_journal(tmp_path).problems
    assert not checked.checkpoints
    assert not verify_from_checkpoint(tmp_path).report.is_ok  # the cache was not rewritten


def test_a_replaced_segment_header_is_caught_even_when_its_bytes_match_the_cache(
        tmp_path: Path) -> None:
    _journal(tmp_path)
    verify_from_checkpoint(tmp_path)
    paths = segment_paths(tmp_path)
    paths[3].unlink()  # a missing segment: the rest still match their cached digests
    checked = verify_from_checkpoint(tmp_path)
    assert not checked.report.is_ok
    assert "missing segment 3" in checked.report.problems[0].problem


def test_an_unreadable_cache_means_a_full_verification(tmp_path: Path) -> None:
    _journal(tmp_path)
    verify_from_checkpoint(tmp_path)
    (cache_directory(tmp_path) / VERIFY_CACHE_NAME).write_bytes(b"\xc1not msgpack")
    checked = verify_from_checkpoint(tmp_path)
    assert checked.report.is_ok and checked.coverage.records_cached == 0
    _same_verdict(tmp_path)


def test_without_the_cache_everything_is_verified(tmp_path: Path) -> None:
    _journal(tmp_path)
    verify_from_checkpoint(tmp_path)
    checked = verify_from_checkpoint(tmp_path, use_cache=False, write_cache=False)
    assert checked.coverage.records_cached == 0 and checked.report.is_ok


def test_after_a_prune_the_cache_is_not_taken_for_the_new_start(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path, node="alpha", sync=False, monotonic_ns=0, wall_ns=0,
                           segment_bytes_max=2500)
    for number in range(300):
        journal.append(100, ["beta", "eth0", number], monotonic_ns=number, wall_ns=number + 1)
        if number % 5 == 4:
            journal.commit()
    journal.commit()
    assert verify_from_checkpoint(tmp_path).report.is_ok
    result = journal.prune({"derived": "state"}, monotonic_ns=10**6, wall_ns=10**6)
    assert result.segments_pruned > 0
    for number in range(20):
        journal.append(100, ["beta", "eth0", number], monotonic_ns=10**6 + number,
                       wall_ns=10**6 + number)
    journal.close()
    checked = verify_from_checkpoint(tmp_path)
    assert checked.report.is_ok and checked.coverage.records_cached == 0
    assert dataclasses.asdict(checked.report) == dataclasses.asdict(verify_journal(tmp_path))
    _same_verdict(tmp_path)
