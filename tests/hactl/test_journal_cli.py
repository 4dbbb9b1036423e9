"""`hactl journal` through typer's CliRunner, on journals written by the tests."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hactl.cli import app
from hactl.commands.journal import format_time, parse_time_ns
from journal import Journal, kinds, verify_journal
from journal.keys import fingerprint, read_genesis_public_key
from journal.testing import frames, segment_paths

runner = CliRunner()
KIND_TEST_EVENT = 950
MINUTE_NS = 60 * 10**9


def _invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["journal", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    """A state dir whose journal holds 30 events, one a minute, ending now."""
    kinds.register_kind_names({KIND_TEST_EVENT: "test event"},
                              lambda kind, payload: f"event {payload}"
                              if kind == KIND_TEST_EVENT else "")
    now_ns = time.time_ns()
    with Journal.open(tmp_path / "journal", node="alpha", sync=False, monotonic_ns=0,
                      wall_ns=now_ns - 31 * MINUTE_NS, segment_bytes_max=2000) as journal:
        for minute in range(30):
            peer = "beta" if minute % 2 == 0 else "gamma"
            journal.append(KIND_TEST_EVENT, [peer, minute], monotonic_ns=minute + 1,
                           wall_ns=now_ns - (29 - minute) * MINUTE_NS)
            journal.commit()
    return tmp_path


def _events_shown(stdout: str) -> list[str]:
    return [line.split("event ")[-1] for line in stdout.splitlines() if "test event" in line]


def test_show_lists_time_seq_kind_and_summary(state_dir: Path) -> None:
    exit_code, stdout, _ = _invoke("show", "--state-dir", str(state_dir))
    assert exit_code == 0
    events = _events_shown(stdout)
    assert events == [f"['{'beta' if m % 2 == 0 else 'gamma'}', {m}]" for m in range(30)]
    assert "journal created" in stdout
    assert " seal " not in stdout  # seals are hidden unless asked for


def test_show_filters_by_relative_time_kind_and_node(state_dir: Path) -> None:
    exit_code, stdout, _ = _invoke("show", "--journal", str(state_dir / "journal"),
                                   "--since", "-330s",
                                   "--kind", "test-event", "--node", "gamma")
    assert exit_code == 0
    assert _events_shown(stdout) == ["['gamma', 25]", "['gamma', 27]", "['gamma', 29]"]


def test_show_for_the_journals_own_node_lists_everything(state_dir: Path) -> None:
    _code, everything, _ = _invoke("show", "--state-dir", str(state_dir))
    exit_code, stdout, _ = _invoke("show", "--state-dir", str(state_dir), "--node", "ALPHA")
    assert exit_code == 0 and stdout == everything


def test_show_until_an_iso_time_and_as_json(state_dir: Path) -> None:
    _code, all_json, _ = _invoke("show", "--state-dir", str(state_dir), "--json",
                                 "--kind", str(KIND_TEST_EVENT))
    documents = [json.loads(line) for line in all_json.splitlines()]
    cutoff = documents[9]["time"]
    exit_code, stdout, _ = _invoke("show", "--state-dir", str(state_dir), "--json",
                                   "--kind", "test event", "--until", cutoff)
    assert exit_code == 0
    shown = [json.loads(line) for line in stdout.splitlines()]
    assert [d["payload"][1] for d in shown] == list(range(10))
    assert shown[0]["kind_name"] == "test event" and len(shown[0]["head"]) == 64


def test_show_with_seals_and_a_bad_time_or_kind(state_dir: Path) -> None:
    exit_code, stdout, _ = _invoke("show", "--state-dir", str(state_dir), "--seals")
    assert exit_code == 0 and "seal" in stdout
    exit_code, _stdout, _ = _invoke("show", "--state-dir", str(state_dir), "--since", "lunch")
    assert exit_code == 2
    exit_code, _stdout, _ = _invoke("show", "--state-dir", str(state_dir), "--kind", "nope")
    assert exit_code == 2


def test_tail_prints_the_newest_records(state_dir: Path) -> None:
    exit_code, stdout, _ = _invoke("tail", "--state-dir", str(state_dir), "-n", "3")
    assert exit_code == 0
    assert _events_shown(stdout) == ["['gamma', 27]", "['beta', 28]", "['gamma', 29]"]


def test_verify_prints_a_summary_and_exits_0(state_dir: Path) -> None:
    exit_code, stdout, _ = _invoke("verify", "--state-dir", str(state_dir))
    assert exit_code == 0, stdout
    report = verify_journal(state_dir / "journal")
    assert f"records:     {report.records}" in stdout
    assert f"segments:    {report.segments}" in stdout and report.segments > 1
    assert f"key epochs:  {report.key_epochs}" in stdout
    assert "first time:" in stdout and "last time:" in stdout
    assert "pass --key" in stdout


def test_verify_with_the_genesis_key_as_hex_or_file(state_dir: Path, tmp_path: Path) -> None:
    genesis = read_genesis_public_key(state_dir / "journal")
    assert genesis is not None
    exit_code, stdout, _ = _invoke("verify", "--state-dir", str(state_dir), "--key",
                                   genesis.hex())
    assert exit_code == 0 and "checked against --key" in stdout
    key_file = tmp_path / "alpha.pub"
    key_file.write_text(genesis.hex() + "\n")
    exit_code, stdout, _ = _invoke("verify", "--state-dir", str(state_dir), "--key",
                                   str(key_file))
    assert exit_code == 0
    exit_code, _stdout, stderr = _invoke("verify", "--state-dir", str(state_dir), "--key",
                                         "11" * 32)
    assert exit_code == 1 and "genesis public key" in stderr


def test_verify_names_segment_offset_and_seq_of_a_break(state_dir: Path) -> None:
    segment = segment_paths(state_dir / "journal")[1]
    data = bytearray(segment.read_bytes())
    victim = frames(bytes(data))[3]
    data[victim.offset + 12] ^= 0x40
    segment.write_bytes(bytes(data))
    exit_code, _stdout, stderr = _invoke("verify", "--state-dir", str(state_dir))
    assert exit_code == 1
    assert f"{segment.name}: byte offset {victim.offset}: seq " in stderr
    assert "bad CRC" in stderr and "verification FAILED" in stderr


def test_verify_against_a_peer_journal_that_holds_our_seals(state_dir: Path,
                                                            tmp_path: Path) -> None:
    directory = state_dir / "journal"
    peer_directory = tmp_path / "peer-journal"
    with Journal.open(directory, node="alpha", sync=False) as alpha, \
            Journal.open(peer_directory, node="beta", sync=False) as beta:
        beta.record_peer_seal(alpha.latest_seal(), monotonic_ns=0, wall_ns=0)
    exit_code, stdout, _ = _invoke("verify", "--journal", str(directory), "--peer-journal",
                                   str(peer_directory))
    assert exit_code == 0 and "1 seal(s) of alpha recorded by 1 peer journal(s) match" in stdout
    segment = segment_paths(directory)[-1]
    segment.write_bytes(segment.read_bytes()[: frames(segment.read_bytes())[2].end])
    exit_code, _stdout, stderr = _invoke("verify", "--journal", str(directory),
                                         "--peer-journal", str(peer_directory))
    assert exit_code == 1 and "truncated" in stderr


def test_export_writes_every_record_with_seq_and_head(state_dir: Path, tmp_path: Path) -> None:
    exit_code, stdout, _ = _invoke("export", "--state-dir", str(state_dir), "--format", "jsonl")
    assert exit_code == 0
    documents = [json.loads(line) for line in stdout.splitlines()]
    assert [d["seq"] for d in documents] == list(range(len(documents)))
    assert all(len(d["head"]) == 64 for d in documents)
    assert sum(d["kind"] == KIND_TEST_EVENT for d in documents) == 30
    assert sum(d["kind"] == kinds.SEAL for d in documents) >= 30
    output = tmp_path / "export.jsonl"
    exit_code, _stdout, _ = _invoke("export", "--state-dir", str(state_dir), "-o", str(output))
    assert exit_code == 0 and output.read_text() == stdout
    exit_code, _stdout, _ = _invoke("export", "--state-dir", str(state_dir), "--format", "csv")
    assert exit_code == 2


def test_keys_prints_the_genesis_key_fingerprint_and_epochs(state_dir: Path) -> None:
    exit_code, stdout, _ = _invoke("keys", "--state-dir", str(state_dir))
    assert exit_code == 0
    genesis = read_genesis_public_key(state_dir / "journal")
    assert genesis is not None
    assert f"genesis public key: {genesis.hex()}" in stdout
    assert fingerprint(genesis) in stdout
    epochs = verify_journal(state_dir / "journal").key_epochs
    epoch_lines = [line for line in stdout.splitlines() if line.startswith("  ")]
    assert len(epoch_lines) == epochs > 1


def test_a_missing_journal_is_a_clear_error(tmp_path: Path) -> None:
    exit_code, _stdout, stderr = _invoke("show", "--state-dir", str(tmp_path))
    assert exit_code == 1 and "no journal at" in stderr


def test_time_parsing_accepts_iso_relative_and_now() -> None:
    now_ns = 1_764_000_000 * 10**9
    assert parse_time_ns("now", now_ns=now_ns) == now_ns
    assert parse_time_ns("-10m", now_ns=now_ns) == now_ns - 10 * MINUTE_NS
    assert parse_time_ns("-1.5h", now_ns=now_ns) == now_ns - 90 * MINUTE_NS
    assert parse_time_ns("2025-11-24T16:00:00Z") == 1_764_000_000 * 10**9
    assert parse_time_ns("2025-11-24T17:00:00+01:00") == 1_764_000_000 * 10**9
    assert parse_time_ns("2025-11-24T16:00:00") == 1_764_000_000 * 10**9  # UTC when bare
    assert parse_time_ns("2025-11-24T16:00:00.005Z", is_upper_bound=True) == (
        1_764_000_000 * 10**9 + 6_000_000 - 1)
    assert format_time(1_764_000_000 * 10**9 + 5_000_000) == "2025-11-24T16:00:00.005Z"
