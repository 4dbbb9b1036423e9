"""Acceptance on real daemons: a namespace failover, explained from the journals alone.

Two real `hactl daemon`s in network namespaces (the daemon's lab), a client fetching the
cluster IP's page every 20 ms, and the master powered off. `hactl postmortem --last` on
the two journals must name the dead node, the deadtime expiry and the takeover steps in
order with their durations, and estimate an outage within 20% of what the client saw.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import msgpack
import pytest
from typer.testing import CliRunner

from engine.core.codec import EVENT_KINDS
from engine.core.events import HeartbeatReceived
from hactl.cli import app
from hactl.daemon.lab import ClusterLab, read_probe, wait_for
from hactl.postmortem.report import postmortem
from hactl.postmortem.sources import load_journals
from hactl.postmortem.trace import trace_node
from hactl.postmortem.whatif import render_what_if, run_what_if
from journal import kinds, read_records, verify_journal
from journal.testing import frames, segment_paths
from tests.hactl.daemon.namespace_support import cluster_lab, wait_client_sees, wait_holder

pytestmark = [pytest.mark.needs_root, pytest.mark.slow]
runner = CliRunner()
BOTH = ("master", "backup")
HEARTBEAT_KIND = EVENT_KINDS[HeartbeatReceived]


def _answers(probe: Path, node: str) -> int:
    return sum(1 for _stamp, answer in read_probe(probe) if answer == node) if probe.exists() \
        else 0


def _client_outage_ms(probe: Path) -> float:
    tries = read_probe(probe)
    first_backup = min(stamp for stamp, answer in tries if answer == "backup")
    last_master = max(stamp for stamp, answer in tries
                      if answer == "master" and stamp < first_backup)  # fmt: skip
    return (first_backup - last_master) / 1e6


def _journal_position(lab: ClusterLab, role: str, field: str) -> int:
    status = lab.status(role)
    journal = status.get("journal") if status else None
    return int(journal[field]) if isinstance(journal, dict) else -1


def _wait_sealed(lab: ClusterLab, role: str) -> None:
    """Until every record the node had written when asked is committed under a seal."""
    last_seq = _journal_position(lab, role, "next_seq") - 1
    wait_for(lambda: _journal_position(lab, role, "sealed_seq") >= last_seq, timeout_s=10,
             what=f"{role}'s journal to seal seq {last_seq}")


def cut_after_an_earlier_seal(directory: Path, *, seals_back: int) -> int:
    """Truncate the journal cleanly right after its seal `seals_back` from the end, as an
    admin hiding the last records would: the result verifies on its own. Returns the last
    seq kept."""
    [segment] = segment_paths(directory)
    data = segment.read_bytes()
    seals = []
    for frame in frames(data)[1:]:
        fields = msgpack.unpackb(frame.body, raw=False)
        if fields[1] == kinds.SEAL:
            seals.append((frame.end, fields[0]))
    end, seal_seq = seals[-1 - seals_back]
    segment.write_bytes(data[:end])
    return int(seal_seq)


def test_postmortem_last_explains_a_real_failover(tmp_path: Path) -> None:
    probe = tmp_path / "probe.txt"
    with cluster_lab() as lab:
        lab.start_all()
        wait_holder(lab, "master", observers=BOTH)
        wait_client_sees(lab, "master")
        lab.start_client_probe(probe)
        wait_for(lambda: _answers(probe, "master") >= 20, timeout_s=10, what="master answers")
        lab.power_off("master")
        wait_holder(lab, "backup", observers=("backup",))
        wait_for(lambda: _answers(probe, "backup") >= 10, timeout_s=20, what="backup answers")
        lab.stop_client_probe()
        _wait_sealed(lab, "backup")
        lab.kill_daemon("backup")
        journals = [lab.state_dir(role) / "journal" for role in BOTH]
        result = runner.invoke(app, ["postmortem", "--last",
                                     *(arg for j in journals for arg in ("--journal", str(j)))])
        merged = runner.invoke(app, ["journal", "merge", "--json", *map(str, journals)])
        truncated, witness = tmp_path / "master-truncated", tmp_path / "backup"
        shutil.copytree(journals[0], truncated)
        shutil.copytree(journals[1], witness)  # the lab's directories go with the lab
    cut_after_an_earlier_seal(truncated, seals_back=10)
    assert verify_journal(truncated).is_ok  # on its own, the cut is invisible
    caught = runner.invoke(app, ["journal", "merge", str(truncated), str(witness)])
    assert result.exit_code == 0, result.output
    text = result.output
    assert "FAILOVER of master, seen by backup" in text
    assert "deadtime expired: node master is dead: silent for" in text
    chain = text[text.index("chain:"):]
    steps = ["last heartbeat from master", "deadtime expired", "start IPaddr::198.18.0.50",
             "start httpd", "start smb", "is running here"]
    positions = [chain.index(step) for step in steps]
    assert positions == sorted(positions), chain
    for resource in ("IPaddr::198.18.0.50", "httpd", "smb"):
        line = next(line for line in chain.splitlines() if f"start {resource}" in line)
        assert re.search(r"\[\d+ ms, success", line), line
    estimate_ms = int(re.search(r"client-visible outage: about (\d+) ms", text)[1])  # type: ignore[index]
    measured_ms = _client_outage_ms(probe)
    print(f"outage: postmortem {estimate_ms} ms, client {measured_ms:.0f} ms")
    assert abs(estimate_ms - measured_ms) <= 0.2 * measured_ms, (estimate_ms, measured_ms)
    header = merged.output.splitlines()[0]
    assert '"equivocations": []' in header and '"broken_edges": 0' in header
    assert caught.exit_code == 1
    assert re.search(r"EQUIVOCATION: master's journal was truncated: backup's record \d+ holds "
                     r"master's seal for seq \d+ .* but master's journal ends at seq \d+; the "
                     r"seal's signature checks under master's key", caught.output), caught.output


def test_what_if_on_a_real_journal_with_heartbeat_jitter(tmp_path: Path) -> None:
    """Real daemons whose packets are dropped (30%) and delayed (0-150 ms) by the daemon's
    test-only transport hook: no failover at deadtime 2 s; what-if finds the worst gap."""
    jitter = {"HACTL_TEST_FAULTS": "seed=7,drop=0.3,delay_ms=0-150"}
    with cluster_lab(extra_environment=jitter) as lab:
        lab.start_all()
        wait_holder(lab, "master", observers=BOTH)
        wait_for(lambda: _heartbeats_heard(lab) >= 40, timeout_s=30, what="40 heartbeats")
        _wait_sealed(lab, "backup")
        for role in BOTH:
            lab.kill_daemon(role)
        recorded = tmp_path / "backup"
        shutil.copytree(lab.state_dir("backup") / "journal", recorded)
    journal = load_journals([recorded])[0]
    assert postmortem([journal]).notable() == (), "the recording itself has no incident"
    [series] = trace_node(journal).series_for(1, "master").values()
    worst_gap_ms = series.worst_gap_ms()
    assert 200 < worst_gap_ms < 2000
    lowered = run_what_if([recorded], {"deadtime": worst_gap_ms - 50})
    # At least the worst gap now fails over; other gaps within 50 ms of it may too (the
    # jitter is real timing, so how many is not fixed), and only the master is involved.
    subjects = [change.subject for change in lowered.new_false_failovers]
    assert subjects and set(subjects) == {"master"}, subjects
    assert "false failover(s) with these settings" in render_what_if(lowered)
    raised = run_what_if([recorded], {"deadtime": worst_gap_ms + 300})
    assert raised.false_failovers == () and raised.by_change("new") == ()


def _heartbeats_heard(lab: ClusterLab) -> int:
    directory = lab.state_dir("backup") / "journal"
    return sum(1 for record in read_records(directory) if record.kind == HEARTBEAT_KIND)
