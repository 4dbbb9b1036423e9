"""The daemon's index keeper: after a rotation the postmortem index covers the finished
segments, built by a real idle child process, and answers exactly as a full replay."""

from __future__ import annotations

import os
from pathlib import Path

import trio

from engine.sim import faults
from hactl.daemon.index_keeper import keep_index_warm, last_finished_segment, run_index_child
from hactl.postmortem.index import index_path, load_journal_indexed
from hactl.postmortem.report import postmortem
from journal import Journal, read_records
from journal.segments import list_segments
from tests.hactl.postmortem.simulated import simulate
from tests.hactl.postmortem.test_postmortem_index import _answer, _full

WAIT_LIMIT_S = 120  # only so that a broken keeper fails instead of hanging


def _source(tmp_path: Path) -> Path:
    simulate(tmp_path / "sim", end_ms=20_000, script=[(10_000, faults.Crash(node="node1"))])
    return tmp_path / "sim" / "node2"


def _copy(source: Path, journal: Journal, *, after_seq: int, until_seq: int) -> int:
    """Append source records (after_seq, until_seq] as the daemon would, committing often."""
    last = after_seq
    for count, record in enumerate(read_records(source)):
        if record.kind < 100 or record.seq <= after_seq or record.seq > until_seq:
            continue
        journal.append(record.kind, record.payload, monotonic_ns=record.monotonic_ns,
                       wall_ns=record.wall_ns)
        last = record.seq
        if count % 4 == 0:
            journal.commit()
    journal.commit()
    return last


def _indexed_segments(directory: Path) -> set[int]:
    return {index for index, _path in list_segments(directory)
            if index_path(directory, index).exists()}  # fmt: skip


async def _wait_indexed(directory: Path, through: int) -> None:
    with trio.fail_after(WAIT_LIMIT_S):
        while not set(range(through + 1)) <= _indexed_segments(directory):
            await trio.sleep(0.05)


async def test_each_rotation_is_indexed_and_answers_as_a_full_replay(tmp_path: Path) -> None:
    source = _source(tmp_path)
    middle = sum(1 for _ in read_records(source)) // 2
    target = tmp_path / "live" / "node2"
    with Journal.open(target, node="node2", sync=False, monotonic_ns=0, wall_ns=0,
                      segment_bytes_max=4096) as journal:  # fmt: skip
        copied = _copy(source, journal, after_seq=-1, until_seq=middle)
        first = last_finished_segment(target)
        assert first is not None and first >= 1
        async with trio.open_nursery() as nursery:
            nursery.start_soon(lambda: keep_index_warm(target, check_s=0.01))
            await _wait_indexed(target, first)
            _copy(source, journal, after_seq=copied, until_seq=10**9)  # rotates again
            later = last_finished_segment(target)
            assert later is not None and later > first
            await _wait_indexed(target, later)
            nursery.cancel_scope.cancel()
    loaded = load_journal_indexed(target, write_cache=False)
    assert loaded is not None
    node_journal, trace = loaded
    assert "index extended" not in (node_journal.coverage or "")  # the child did all of it
    assert _answer(postmortem([node_journal], {node_journal.node: trace})) == _answer(_full(target))


async def test_the_child_runs_at_idle_priority_and_says_when_it_cannot(tmp_path: Path) -> None:
    empty = tmp_path / "no-journal"
    empty.mkdir()
    assert await run_index_child(empty) == 1  # nothing verifies: the keeper retries later
    assert os.sched_getscheduler(0) != os.SCHED_IDLE  # the daemon itself is untouched
