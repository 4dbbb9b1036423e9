"""`hactl sim` and `hactl replay` through typer's CliRunner, on journals the simulator wrote."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from hactl.cli import app

runner = CliRunner()


def test_sim_one_seed_prints_its_timeline_and_passes() -> None:
    result = runner.invoke(app, ["sim", "--seed", "3", "--duration", "30s", "--faults", "none"])
    assert result.exit_code == 0, result.output
    assert "node1: daemon starts (generation 1)" in result.output
    assert "g1 running" in result.output
    assert "seed 3: ok" in result.output


def test_sim_seed_range_prints_a_verdict_per_seed() -> None:
    result = runner.invoke(
        app, ["sim", "--seeds", "1..3", "--nodes", "3", "--groups", "2", "--duration", "40s"]
    )
    assert result.exit_code == 0, result.output
    assert [line.split(":")[0] for line in result.output.splitlines()[:3]] == [
        "seed 1",
        "seed 2",
        "seed 3",
    ]
    assert "3 of 3 seeds passed" in result.output


def test_sim_refuses_a_bad_seed_range() -> None:
    result = runner.invoke(app, ["sim", "--seeds", "9..2"])
    assert result.exit_code == 2
    assert "range like 1..500" in result.output


def test_sim_reads_a_heartbeat_config_directory(tmp_path: Path) -> None:
    (tmp_path / "ha.cf").write_text(
        "node master\nnode backup\nkeepalive 200ms\ndeadtime 2\nwarntime 1\ninitdead 4\n"
        "bcast eth0\nauto_failback on\nstonith_host * null master backup\n"
    )
    (tmp_path / "haresources").write_text("master 198.18.0.50 httpd\n")
    authkeys = tmp_path / "authkeys"
    authkeys.write_text("auth 1\n1 sha1 simulated\n")
    authkeys.chmod(0o600)
    result = runner.invoke(
        app, ["sim", "--config-dir", str(tmp_path), "--seed", "2", "--duration", "40s"]
    )
    assert result.exit_code == 0, result.output
    assert "master: daemon starts" in result.output
    assert "seed 2: ok" in result.output


def test_replay_derives_the_final_state_from_a_simulated_journal(tmp_path: Path) -> None:
    simulated = runner.invoke(
        app,
        ["sim", "--seed", "1", "--duration", "20s", "--faults", "none", "--out", str(tmp_path)],
    )
    assert simulated.exit_code == 0, simulated.output
    result = runner.invoke(app, ["replay", "--journal", str(tmp_path / "node1"), "--json"])
    assert result.exit_code == 0, result.output
    view = json.loads(result.output)
    assert view["local_node"] == "node1"
    holders = {group["name"]: group["holder"] for group in view["groups"]}
    assert holders == {
        "IPaddr2::198.18.1.1/24/eth0": "node1",
        "IPaddr2::198.18.1.2/24/eth0": "node2",
    }
    members = {member["name"]: member["status"] for member in view["members"]}
    assert members == {"node1": "active", "node2": "up"}


def test_replay_at_a_time_shows_the_state_then(tmp_path: Path) -> None:
    runner.invoke(
        app, ["sim", "--seed", "1", "--duration", "20s", "--faults", "none", "--out", str(tmp_path)]
    )
    early = runner.invoke(app, ["replay", "--journal", str(tmp_path / "node2"), "--at", "+0s"])
    assert early.exit_code == 0, early.output
    assert "node node2 (booting" in early.output
    assert "held by nobody" in early.output
    late = runner.invoke(app, ["replay", "--journal", str(tmp_path / "node2"), "--at", "+10s"])
    assert "node node2 (active" in late.output


def test_replay_without_a_journal_says_so(tmp_path: Path) -> None:
    result = runner.invoke(app, ["replay", "--state-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert f"no journal at {tmp_path / 'journal'}" in result.output


def test_sim_jobs_give_the_same_verdicts_as_one_process() -> None:
    arguments = ["sim", "--seeds", "4..7", "--nodes", "3", "--duration", "35s"]
    serial = runner.invoke(app, arguments)
    parallel = runner.invoke(app, [*arguments, "--jobs", "2"])
    assert serial.exit_code == parallel.exit_code == 0, serial.output + parallel.output
    assert serial.output == parallel.output
