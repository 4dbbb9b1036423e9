"""The postmortem index: the answer from the index is the answer from every record.

Each scenario's journal is also rewritten into many small segments (the same engine events
under fresh seals), so parts, segment boundaries and resuming from engine snapshots are
exercised; the index's report must equal the report of a full verify + read + replay, on
the first run (which builds the index) and on the next (which only reads it), and after
the journal grew. Tampering with an old segment after the caches were written is reported.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.sim import faults
from engine.sim.generated_config import ClusterShape
from hactl.cli import app
from hactl.postmortem.index import index_path, load_journal_indexed
from hactl.postmortem.report import PostmortemReport, postmortem
from hactl.postmortem.sources import load_journals
from hactl.postmortem.text import render_report, report_document
from journal import Journal, read_records
from journal import kinds as journal_kinds
from journal.checkpoint import cache_directory
from journal.framing import FRAME_HEADER, FRAME_HEADER_BYTES
from journal.seal import seal_from_payload
from journal.segments import list_segments
from tests.hactl.postmortem.simulated import partition_for, simulate

runner = CliRunner()
HEARTBEAT_RECEIVED = 103


def _crash(out: Path) -> None:
    simulate(out, end_ms=20_000, script=[(10_000, faults.Crash(node="node1"))])


def _false_failover(out: Path) -> None:
    partition_for(out, gap_ms=2500)


def _failback(out: Path) -> None:
    simulate(out, end_ms=40_000, script=[
        (10_000, faults.Crash(node="node1")), (20_000, ("boot", "node1"))])  # fmt: skip


def _monitor_failure(out: Path) -> None:
    from engine.sim.devices import ResourceAction

    shape = ClusterShape(node_count=2, group_count=1, monitor_interval_ms=1000)
    simulate(out, shape=shape, end_ms=30_000, script=[
        (10_000, faults.ResourceFails(node="node1", resource_id="service1",
                                      action=ResourceAction.MONITOR, count=1))])  # fmt: skip


SCENARIOS: dict[str, Callable[[Path], None]] = {
    "crash": _crash, "false failover": _false_failover, "failback": _failback,
    "monitor failure": _monitor_failure,
}  # fmt: skip


def _resegment(source: Path, target: Path, *, segment_bytes: int, commit_every: int,
               until_seq: int | None = None, peer: Path | None = None) -> int:
    """Append `source`'s engine and daemon records to `target` (fresh seals, small
    segments), with `peer`'s seals journaled as a live daemon does (one per received
    heartbeat, while they advance); returns the last source seq copied."""
    last = -1
    peer_seals = [] if peer is None else [
        seal for record in read_records(peer) if record.kind == journal_kinds.SEAL
        for seal in [seal_from_payload(record.payload, peer.name)] if seal is not None]
    with Journal.open(target, node=_node_of(source), sync=False, monotonic_ns=0, wall_ns=0,
                      segment_bytes_max=segment_bytes) as journal:
        copied = 0
        start = _copied_marker(target)
        for record in read_records(source):
            if record.seq <= start or record.kind < 100:
                continue
            if until_seq is not None and record.seq > until_seq:
                break
            journal.append(record.kind, record.payload, monotonic_ns=record.monotonic_ns,
                           wall_ns=record.wall_ns)
            if record.kind == HEARTBEAT_RECEIVED and peer_seals:
                journal.record_peer_seal(peer_seals.pop(0), monotonic_ns=record.monotonic_ns,
                                         wall_ns=record.wall_ns)
            last = record.seq
            copied += 1
            if copied % commit_every == 0:
                journal.commit()
    (target.parent / f"{target.name}.copied").write_text(str(last))
    return last


def _copied_marker(target: Path) -> int:
    marker = target.parent / f"{target.name}.copied"
    return int(marker.read_text()) if marker.exists() else -1


def _node_of(source: Path) -> str:
    return source.name


def _full(directory: Path) -> PostmortemReport:
    return postmortem(load_journals([directory]))


def _indexed(directory: Path) -> PostmortemReport:
    loaded = load_journal_indexed(directory)
    assert loaded is not None
    journal, trace = loaded
    return postmortem([journal], {journal.node: trace})


def _answer(report: PostmortemReport) -> tuple[str, str]:
    text = "\n".join(line for line in render_report(report, report.incidents).splitlines()
                     if not line.startswith("  checked:"))
    document = report_document(report, report.incidents)
    for journal in document["journals"]:
        journal.pop("checked")
    return text, json.dumps(document, sort_keys=True, default=str)


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_the_index_answers_exactly_as_a_full_replay(tmp_path: Path, scenario: str) -> None:
    SCENARIOS[scenario](tmp_path / "sim")
    for node in ("node1", "node2"):
        original = tmp_path / "sim" / node
        small = tmp_path / "small" / node
        _resegment(original, small, segment_bytes=1024, commit_every=3)
        assert len(list_segments(small)) > 2
        other = "node2" if node == "node1" else "node1"
        sealed = tmp_path / "peer-seals" / node
        _resegment(original, sealed, segment_bytes=2048, commit_every=4,
                   peer=tmp_path / "sim" / other)
        assert any(r.kind == journal_kinds.PEER_SEAL for r in read_records(sealed))
        for directory in (original, small, sealed):
            expected = _answer(_full(directory))
            first = _indexed(directory)  # builds the caches
            assert first.journals[0].coverage is not None
            assert "index extended" in first.journals[0].coverage
            assert _answer(first) == expected
            again = _indexed(directory)  # reads them
            assert "verified in full now" in (again.journals[0].coverage or "")
            assert "index extended" not in (again.journals[0].coverage or "")
            assert _answer(again) == expected
            assert again.notable() == first.notable()


def test_a_growing_journal_extends_the_index_from_the_last_snapshot(tmp_path: Path) -> None:
    _failback(tmp_path / "sim")
    source = tmp_path / "sim" / "node2"
    target = tmp_path / "grown" / "node2"
    records = list(read_records(source))
    cut = records[len(records) // 3].seq
    _resegment(source, target, segment_bytes=2048, commit_every=4, until_seq=cut)
    first = _indexed(target)
    assert _answer(first) == _answer(_full(target))
    size_before = sum(path.stat().st_size for _index, path in list_segments(target))
    _resegment(source, target, segment_bytes=2048, commit_every=4)  # the rest
    grown = _indexed(target)
    coverage = grown.journals[0].coverage or ""
    assert "index extended over" in coverage
    stepped = int(coverage.split("index extended over ")[1].split()[0])
    total = grown.journals[0].record_count
    assert 0 < stepped < total - first.journals[0].record_count + 10  # only what is new
    assert sum(path.stat().st_size for _index, path in list_segments(target)) > size_before
    assert _answer(grown) == _answer(_full(target))
    assert [i.kind for i in grown.notable()] != [i.kind for i in first.notable()]


def test_an_unreadable_index_is_rebuilt_with_the_same_answer(tmp_path: Path) -> None:
    _crash(tmp_path)
    directory = tmp_path / "node2"
    expected = _answer(_full(directory))
    _indexed(directory)
    index_path(directory, 0).write_bytes(b"\x93garbage")
    rebuilt = _indexed(directory)
    assert "index extended" in (rebuilt.journals[0].coverage or "")
    assert _answer(rebuilt) == expected


def _flip_payload_byte(path: Path, *, record_number: int) -> None:
    """Change one byte inside a record's body and fix its CRC: only the chain can tell."""
    import zlib

    data = bytearray(path.read_bytes())
    offset = len(b"HACTLJ\x01\n")
    length, _crc = FRAME_HEADER.unpack_from(data, offset)
    offset += FRAME_HEADER_BYTES + length  # past the segment header
    for _ in range(record_number):
        length, _crc = FRAME_HEADER.unpack_from(data, offset)
        offset += FRAME_HEADER_BYTES + length
    length, _crc = FRAME_HEADER.unpack_from(data, offset)
    body_start = offset + FRAME_HEADER_BYTES
    data[body_start + length - 1] ^= 0x01
    FRAME_HEADER.pack_into(data, offset, length, zlib.crc32(data[body_start:body_start + length]))
    path.write_bytes(bytes(data))


def test_tampering_with_an_old_segment_after_a_cached_verify_is_reported(
        tmp_path: Path) -> None:
    _crash(tmp_path / "sim")
    directory = tmp_path / "small" / "node2"
    _resegment(tmp_path / "sim" / "node2", directory, segment_bytes=1024, commit_every=3)
    result = runner.invoke(app, ["postmortem", "--journal", str(directory), "--last"])
    assert result.exit_code == 0, result.output
    assert (cache_directory(directory) / "verified.msgpack").exists()
    again = runner.invoke(app, ["postmortem", "--journal", str(directory), "--last"])
    assert again.exit_code == 0 and "checked against the verify cache" in again.output
    old = list_segments(directory)[1][1]
    _flip_payload_byte(old, record_number=3)
    tampered = runner.invoke(app, ["postmortem", "--journal", str(directory), "--last"])
    assert tampered.exit_code == 1, tampered.output
    assert "DID NOT VERIFY" in tampered.output and old.name in tampered.output
    verify = runner.invoke(app, ["journal", "verify", "--journal", str(directory)])
    assert verify.exit_code == 1 and old.name in verify.output + (verify.stderr or "")
    # The cache is not rewritten by a failed verification: the damage stays reported.
    still = runner.invoke(app, ["postmortem", "--journal", str(directory), "--last"])
    assert still.exit_code == 1 and "DID NOT VERIFY" in still.output


def test_no_index_reads_every_record_and_says_nothing_about_a_cache(tmp_path: Path) -> None:
    _crash(tmp_path)
    directory = tmp_path / "node2"
    result = runner.invoke(app, ["postmortem", "--journal", str(directory), "--no-index"])
    assert result.exit_code == 0, result.output
    assert "checked:" not in result.output
    assert not cache_directory(directory).exists()
    indexed = runner.invoke(app, ["postmortem", "--journal", str(directory)])
    assert indexed.exit_code == 0
    strip = [line for line in indexed.output.splitlines() if not line.startswith("  checked:")]
    assert strip == result.output.splitlines()


def test_the_timeline_page_from_the_index_names_the_heartbeat_records(tmp_path: Path) -> None:
    _crash(tmp_path)
    directory = tmp_path / "node2"
    copy = tmp_path / "copy" / "node2"
    shutil.copytree(directory, copy)
    pages = []
    for args in (["--no-index"], [], []):
        page = tmp_path / f"page{len(pages)}.html"
        result = runner.invoke(app, ["postmortem", "--journal", str(copy), "--all", "--html",
                                     str(page), *args])
        assert result.exit_code == 0, result.output
        pages.append(page.read_text())
    assert pages[0] == pages[1] == pages[2]
    assert "last heartbeat from node1" in pages[0]
