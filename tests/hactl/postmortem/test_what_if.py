"""What-if replay on recorded journals with heartbeat jitter: which settings fail over."""

from __future__ import annotations

from pathlib import Path

import pytest

from hactl.postmortem.chain import IncidentKind
from hactl.postmortem.whatif import (
    WhatIfError,
    parse_what_if_options,
    render_what_if,
    run_what_if,
)
from tests.hactl.postmortem.simulated import partition_for


def test_lowering_deadtime_below_the_worst_gap_reports_the_false_failover(tmp_path: Path) -> None:
    partition_for(tmp_path, gap_ms=1500)  # recorded: deadtime 2 s, worst gap about 1.6 s
    journal = [tmp_path / "node2"]
    lowered = run_what_if(journal, {"deadtime": 1000})
    [new] = [c for c in lowered.new_false_failovers if c.kind is IncidentKind.FAILOVER]
    assert new.subject == "node1" and new.recorded is None and new.what_if is not None
    assert "a false failover" in new.detail
    assert "verdict: 1 false failover(s)" in render_what_if(lowered) or \
        "false failover(s) with these settings" in render_what_if(lowered)
    kept = run_what_if(journal, {"deadtime": 2000})
    assert kept.false_failovers == () and kept.changes == ()
    assert "verdict: no false failover" in render_what_if(kept)


def test_raising_deadtime_above_the_worst_gap_removes_a_recorded_false_failover(
        tmp_path: Path) -> None:
    partition_for(tmp_path, gap_ms=2500)  # recorded: a false failover and a split-brain
    journal = [tmp_path / "node2"]
    raised = run_what_if(journal, {"deadtime": 4000})
    assert raised.false_failovers == ()
    removed = {change.kind for change in raised.by_change("removed")}
    assert IncidentKind.FAILOVER in removed and IncidentKind.SPLIT_BRAIN in removed
    assert len(raised.removed_false_failovers) == 1
    assert raised.recorded_timings_ms["node2"]["deadtime"] == 2000
    lowered = run_what_if(journal, {"deadtime": 1000})
    [failover] = [c for c in lowered.changes if c.kind is IncidentKind.FAILOVER]
    assert failover.change == "changed" and "declared dead -1000 ms" in failover.detail
    assert lowered.false_failovers == (failover,)


def test_a_real_crash_fails_over_in_every_what_if_only_the_timing_changes(tmp_path: Path) -> None:
    from engine.sim import faults
    from tests.hactl.postmortem.simulated import simulate

    simulate(tmp_path, end_ms=20_000, script=[(10_000, faults.Crash(node="node1"))])
    report = run_what_if([tmp_path / "node2"], {"deadtime": 5000})
    [failover] = [c for c in report.changes if c.kind is IncidentKind.FAILOVER]
    assert failover.change == "changed" and "declared dead +3000 ms" in failover.detail
    assert failover.what_if is not None and not failover.what_if.is_false_failover


def test_a_longer_keepalive_thins_the_recorded_heartbeats(tmp_path: Path) -> None:
    partition_for(tmp_path, gap_ms=1500)
    # one heartbeat a second around a 1.5 s gap leaves up to 2.5 s of silence
    tight = run_what_if([tmp_path / "node2"], {"keepalive": 1000, "deadtime": 2000})
    assert len(tight.new_false_failovers) == 1
    roomy = run_what_if([tmp_path / "node2"], {"keepalive": 1000, "deadtime": 4000})
    assert roomy.false_failovers == ()
    shorter = run_what_if([tmp_path / "node2"], {"keepalive": 100})
    assert any("replayed as they came" in note for note in shorter.notes)


def test_unknown_or_zero_timings_are_refused_with_the_name(tmp_path: Path) -> None:
    with pytest.raises(WhatIfError, match="deadtme: unknown timing"):
        run_what_if([tmp_path], {"deadtme": 5000})
    with pytest.raises(WhatIfError, match="must be positive"):
        run_what_if([tmp_path], {"deadtime": 0})


def test_what_if_options_parse_heartbeat_times_and_name_the_bad_one() -> None:
    assert parse_what_if_options(["deadtime=5s", "keepalive=500ms", "warntime=2"]) == {
        "deadtime": 5000, "keepalive": 500, "warntime": 2000}
    with pytest.raises(WhatIfError, match="'deadtime': write NAME=TIME"):
        parse_what_if_options(["deadtime"])
    with pytest.raises(WhatIfError, match=r"'deadtime=5 s'.*not a time"):
        parse_what_if_options(["deadtime=5 s"])
    with pytest.raises(WhatIfError, match="unknown timing"):
        parse_what_if_options(["deadtme=5s"])


def test_hactl_replay_what_if_answers_the_tuning_question(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from hactl.cli import app

    partition_for(tmp_path, gap_ms=1500)
    runner = CliRunner()
    journal = ["replay", "--journal", str(tmp_path / "node2")]
    lowered = runner.invoke(app, [*journal, "--what-if", "deadtime=1s"])
    assert lowered.exit_code == 0, lowered.output
    assert "false failover(s) with these settings" in lowered.output
    kept = runner.invoke(app, [*journal, "--what-if", "deadtime=2s"])
    assert kept.exit_code == 0, kept.output
    assert "verdict: no false failover" in kept.output
    refused = runner.invoke(app, [*journal, "--what-if", "deadtme=2s"])
    assert refused.exit_code == 2
