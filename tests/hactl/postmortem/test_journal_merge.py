"""`journal merge`: causal order despite skewed clocks, clock offsets, and equivocation."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from engine.core.codec import EVENT_KINDS, decode_event
from engine.core.events import ControlMessageReceived, HeartbeatReceived
from engine.sim import faults
from hactl.postmortem.merge import MergedTimeline, merge_journals
from hactl.postmortem.sources import NodeJournal, load_journals
from hactl.postmortem.trace import trace_node
from journal import Journal, kinds, read_records
from tests.hactl.postmortem.simulated import simulate

SKEW_MS = -7000


Action = faults.Fault | tuple[str, str]


def _skewed_failover(out: Path, *, jump_ms: int | None = None, skew_ms: int = SKEW_MS
                     ) -> tuple[MergedTimeline, dict[str, NodeJournal]]:
    script: list[tuple[int, Action]] = [
        (0, faults.ClockJump(node="node2", delta_ms=skew_ms)),
        (10_000, faults.Crash(node="node1")), (20_000, ("boot", "node1"))]  # fmt: skip
    if jump_ms is not None:
        script.append((15_000, faults.ClockJump(node="node2", delta_ms=jump_ms)))
    simulate(out, script=script, end_ms=40_000)
    journals = load_journals([out / "node1", out / "node2"])
    return merge_journals(journals), {journal.node: journal for journal in journals}


def _status_pairs(journals: dict[str, NodeJournal]
                  ) -> list[tuple[tuple[str, int], tuple[str, int]]]:
    """(cause, effect): the step that first sent a status version (found by re-stepping the
    sender) and that version's first arrival at the other node."""
    pairs = []
    for sender, journal in journals.items():
        first_sent = {(sent.generation, sent.version): sent.seq
                      for sent in trace_node(journal).status_sent}  # fmt: skip
        for receiver, other in journals.items():
            seen: set[tuple[int, int]] = set()
            for record in other.records if receiver != sender else ():
                if record.kind != EVENT_KINDS[HeartbeatReceived]:
                    continue
                event = decode_event(record.kind, record.payload)  # type: ignore[arg-type]
                assert isinstance(event, HeartbeatReceived)
                key = (event.generation, event.status.status_version)
                if event.from_node == sender and key not in seen and key in first_sent:
                    seen.add(key)
                    pairs.append(((sender, first_sent[key]), (receiver, record.seq)))
    return pairs


def _positions(merged: MergedTimeline) -> dict[tuple[str, int], int]:
    return {(item.node, item.record.seq): index for index, item in enumerate(merged.records)}


@pytest.mark.parametrize("skew_ms", [SKEW_MS, 3_600_000])
def test_every_cross_node_cause_comes_before_its_effect_despite_skew(
        tmp_path: Path, skew_ms: int) -> None:
    merged, journals = _skewed_failover(tmp_path, skew_ms=skew_ms)
    pairs = _status_pairs(journals)
    assert len(pairs) >= 6
    position = _positions(merged)
    for cause, effect in pairs:
        assert position[cause] < position[effect], f"{cause} placed after {effect}"
    # wall clocks alone get it wrong: the test can fail
    wall = {(item.node, item.record.seq): item.record.wall_ns for item in merged.records}
    assert any(wall[cause] > wall[effect] for cause, effect in pairs)
    assert merged.is_consistent and merged.broken_edge_count == 0


def test_control_messages_are_ordered_too(tmp_path: Path) -> None:
    merged, _journals = _skewed_failover(tmp_path)
    position = _positions(merged)
    kind = EVENT_KINDS[ControlMessageReceived]
    received = [(item.node, item.record) for item in merged.records if item.record.kind == kind]
    assert received, "the failback sends release_done"
    for node, record in received:
        event = decode_event(record.kind, record.payload)  # type: ignore[arg-type]
        assert isinstance(event, ControlMessageReceived)
        edges = [edge for edge in merged.edges if edge.effect_node == node
                 and edge.effect_seq == record.seq and edge.evidence == "control message"]
        assert edges, f"no sender found for {event}"
        for edge in edges:
            assert position[(edge.cause_node, edge.cause_seq)] < position[(node, record.seq)]


def test_the_clock_offset_is_reported_and_a_jump_is_seen(tmp_path: Path) -> None:
    merged, _journals = _skewed_failover(tmp_path / "steady")
    estimate = merged.clocks["node2"]
    assert estimate.windows and all(abs(w.offset_ms - SKEW_MS) <= 50 for w in estimate.windows)
    assert "-7000 ms" in estimate.describe() or "-6999 ms" in estimate.describe()
    jumped, _journals = _skewed_failover(tmp_path / "jump", jump_ms=90_000)
    offsets = [window.offset_ms for window in jumped.clocks["node2"].windows]
    assert min(offsets) <= SKEW_MS + 50 and max(offsets) >= SKEW_MS + 90_000 - 50


# ---- equivocation ------------------------------------------------------------------------

WALL_NS = 1_764_000_000_000_000_000


def _append(journal: Journal, count: int, *, start: int, tag: str) -> None:
    for index in range(start, start + count):
        journal.append(900, [tag, index], monotonic_ns=index * 1_000_000,
                       wall_ns=WALL_NS + index * 1_000_000)


def _witnessed_pair(tmp_path: Path) -> tuple[Path, Path, Path]:
    """alpha writes, commits; a copy of alpha is kept; alpha goes on and beta journals the
    later seal. Returns (alpha, alpha as copied early, beta)."""
    alpha_dir, early_dir, beta_dir = tmp_path / "alpha", tmp_path / "early", tmp_path / "beta"
    with Journal.open(alpha_dir, node="alpha", sync=False, monotonic_ns=0,
                      wall_ns=WALL_NS) as alpha, \
            Journal.open(beta_dir, node="beta", sync=False, monotonic_ns=0,
                         wall_ns=WALL_NS) as beta:  # fmt: skip
        _append(alpha, 5, start=1, tag="first")
        alpha.commit()
        shutil.copytree(alpha_dir, early_dir)
        _append(alpha, 5, start=10, tag="second")
        seal = alpha.commit()
        beta.record_peer_seal(seal, monotonic_ns=20_000_000, wall_ns=WALL_NS + 20_000_000)
        _append(beta, 2, start=21, tag="beta")
        beta.commit()
    return alpha_dir, early_dir, beta_dir


def test_an_honest_pair_merges_with_no_equivocation(tmp_path: Path) -> None:
    alpha, _early, beta = _witnessed_pair(tmp_path)
    merged = merge_journals(load_journals([alpha, beta]))
    assert merged.equivocations == () and merged.is_consistent
    assert any(edge.evidence == "peer seal" for edge in merged.edges)


def test_a_truncated_journal_is_caught_by_the_peer_seal(tmp_path: Path) -> None:
    _alpha, early, beta = _witnessed_pair(tmp_path)
    shutil.rmtree(tmp_path / "alpha")
    early.rename(tmp_path / "alpha")  # alpha "lost" its second commit: it verifies alone
    merged = merge_journals(load_journals([tmp_path / "alpha", beta]))
    assert merged.problems["alpha"] == []
    [finding] = merged.equivocations
    assert finding.node == "alpha" and finding.witness == "beta" and finding.how == "truncated"
    peer_seal_seq = next(r.seq for r in read_records(beta) if r.kind == kinds.PEER_SEAL)
    assert finding.witness_seq == peer_seal_seq
    assert finding.is_signature_valid is True
    text = finding.describe()
    assert f"beta's record {peer_seal_seq}" in text and "ends at seq" in text
    assert not merged.is_consistent


def test_a_rewritten_journal_is_caught_and_the_signature_proves_it(tmp_path: Path) -> None:
    _alpha, early, beta = _witnessed_pair(tmp_path)
    with Journal.open(early, node="alpha", sync=False, monotonic_ns=0,
                      wall_ns=WALL_NS) as forged:
        _append(forged, 5, start=10, tag="rewritten")  # same seqs, other content, same key
        forged.commit()
    merged = merge_journals(load_journals([early, beta]))
    [finding] = merged.equivocations
    assert finding.how == "rewritten" and finding.journal_head not in (None, finding.sealed_head)
    assert finding.is_signature_valid is True  # alpha's own key signed the other history
    assert f"alpha's record {finding.sealed_seq} now has head" in finding.describe()


def test_a_heartbeat_heard_on_both_links_at_once_counts_on_each(tmp_path: Path) -> None:
    """The simulator journals copies arriving together as one record (`also_links`)."""
    simulate(tmp_path, script=[], end_ms=10_000)
    (journal,) = load_journals([tmp_path / "node1"])
    together = 0
    for record in journal.records:
        if record.kind == EVENT_KINDS[HeartbeatReceived]:
            event = decode_event(record.kind, record.payload)  # type: ignore[arg-type]
            assert isinstance(event, HeartbeatReceived)
            together += bool(event.also_links)
    assert together > 0
    trace = trace_node(journal)
    (generation,) = {run for run, name, _ in trace.heartbeats if name == "node2"}
    series = trace.series_for(generation, "node2")
    assert sorted(series) == ["bcast eth0", "bcast eth1"]
    assert len(series["bcast eth0"]) == len(series["bcast eth1"]) > 5
