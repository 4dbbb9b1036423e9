"""`hactl postmortem` and `hactl journal merge` through the real CLI (typer's CliRunner)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from engine.sim import faults
from hactl.cli import app
from tests.hactl.postmortem.simulated import simulate

runner = CliRunner()


def _failover(tmp_path: Path) -> tuple[Path, Path]:
    simulate(tmp_path, end_ms=16_000, script=[  # ends before the fenced node reboots
        (0, faults.ClockJump(node="node2", delta_ms=-7000)),
        (10_000, faults.Crash(node="node1"))])  # fmt: skip
    return tmp_path / "node1", tmp_path / "node2"


def test_last_explains_the_failover_in_words(tmp_path: Path) -> None:
    _node1, node2 = _failover(tmp_path)
    result = runner.invoke(app, ["postmortem", "--journal", str(node2), "--last"])
    assert result.exit_code == 0, result.output
    text = result.output
    assert "node node2" in text and "verified" in text
    assert "FAILOVER of node1, seen by node2" in text
    assert "cause: node node1 silent on all 2 link(s)" in text
    assert "deadtime expired: node node1 is dead: silent for 2000 ms" in text
    assert text.count("FAILOVER") == 1


def test_all_lists_the_failover_with_steps_in_order(tmp_path: Path) -> None:
    node1, node2 = _failover(tmp_path)
    result = runner.invoke(app, ["postmortem", "--journal", str(node1), "--journal", str(node2),
                                 "--all"])
    assert result.exit_code == 0, result.output
    text = result.output
    assert "clocks: node2: clock off by -7000 ms" in text or "-6999 ms" in text
    block = text[text.index("FAILOVER of node1"):]
    order = [block.index(marker) for marker in (
        "last heartbeat from node1", "deadtime expired", "fence node1 ordered",
        "start IPaddr2", "is running here")]  # fmt: skip
    assert order == sorted(order)
    assert "client-visible outage: about" in block


def test_json_carries_the_same_incidents(tmp_path: Path) -> None:
    _node1, node2 = _failover(tmp_path)
    result = runner.invoke(app, ["postmortem", "--journal", str(node2), "--all", "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    kinds = [incident["kind"] for incident in document["incidents"]]
    assert "failover" in kinds
    failover = document["incidents"][kinds.index("failover")]
    assert failover["subject"] == "node1" and failover["outage_ms"] > 2000
    assert any(step["category"] == "dead" for step in failover["steps"])


def test_at_picks_the_incident_under_way(tmp_path: Path) -> None:
    _node1, node2 = _failover(tmp_path)
    at = "1970-01-01T00:00:04.500Z"  # node2's clock is 7 s behind: 11.5 s of true time
    result = runner.invoke(app, ["postmortem", "--journal", str(node2), "--at", at])
    assert result.exit_code == 0, result.output
    assert "FAILOVER of node1" in result.output


def test_html_writes_one_self_contained_page(tmp_path: Path) -> None:
    _node1, node2 = _failover(tmp_path)
    page = tmp_path / "page.html"
    result = runner.invoke(app, ["postmortem", "--journal", str(node2), "--all",
                                 "--html", str(page)])
    assert result.exit_code == 0, result.output
    text = page.read_text()
    assert text.startswith("<!DOCTYPE html>")
    for external in ("http://", "https://", "<link", "src="):
        assert external not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert 'class="item dead"' in text and 'class="item outage"' in text


def test_a_missing_journal_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["postmortem", "--journal", str(tmp_path / "nope")])
    assert result.exit_code == 1
    assert "no journal at" in result.output


def test_merge_prints_the_clocks_and_the_interleaved_records(tmp_path: Path) -> None:
    node1, node2 = _failover(tmp_path)
    result = runner.invoke(app, ["journal", "merge", str(node1), str(node2)])
    assert result.exit_code == 0, result.output
    assert "node1: verified" in result.output and "node2: verified" in result.output
    assert "causal edges" in result.output
    lines = [line for line in result.output.splitlines() if "HeartbeatReceived" in line]
    assert {line.split()[1] for line in lines} == {"node1", "node2"}
    as_json = runner.invoke(app, ["journal", "merge", "--json", str(node1), str(node2)])
    header = json.loads(as_json.output.splitlines()[0])
    assert header["nodes"] == ["node1", "node2"] and header["equivocations"] == []


def test_merge_exits_1_and_names_the_equivocation(tmp_path: Path) -> None:
    from tests.hactl.postmortem.test_journal_merge import _witnessed_pair

    alpha, early, beta = _witnessed_pair(tmp_path)
    shutil.rmtree(alpha)
    early.rename(alpha)
    result = runner.invoke(app, ["journal", "merge", str(alpha), str(beta)])
    assert result.exit_code == 1
    assert "EQUIVOCATION: alpha's journal was truncated" in result.output
    pm = runner.invoke(app, ["postmortem", "--journal", str(alpha), "--journal", str(beta)])
    assert pm.exit_code == 1 and "EQUIVOCATION" in pm.output


def test_a_damaged_journal_is_reported_and_still_explained_up_to_the_damage(
        tmp_path: Path) -> None:
    _node1, node2 = _failover(tmp_path)
    [segment] = sorted(node2.glob("segment-*.journal"))
    data = bytearray(segment.read_bytes())
    data[len(data) - 60] ^= 0xFF  # a flipped byte in the last records
    segment.write_bytes(bytes(data))
    result = runner.invoke(app, ["postmortem", "--journal", str(node2), "--all"])
    assert result.exit_code == 1
    assert "DID NOT VERIFY" in result.output and "segment-00000000.journal" in result.output
    assert "FAILOVER of node1" in result.output  # the failover precedes the damage


def test_a_directory_without_a_journal_is_named(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = runner.invoke(app, ["postmortem", "--journal", str(empty)])
    assert result.exit_code == 1
    assert f"{empty}: no journal found" in result.output
