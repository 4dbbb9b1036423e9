"""`postmortem` on simulated journals: each incident kind, its chain, cause and hints."""

from __future__ import annotations

from pathlib import Path

from engine.sim import faults
from engine.sim.generated_config import ClusterShape
from hactl.postmortem.chain import IncidentKind, StepCategory
from hactl.postmortem.report import postmortem
from hactl.postmortem.sources import load_journals
from tests.hactl.postmortem.simulated import partition_for, simulate


def test_a_crash_with_fencing_is_a_failover_with_its_whole_chain(tmp_path: Path) -> None:
    simulate(tmp_path, end_ms=20_000, script=[(10_000, faults.Crash(node="node1"))])
    report = postmortem(load_journals([tmp_path / "node2"]))
    incident = report.notable()[0]  # the fenced node reboots 5 s later and fails back
    assert incident.kind is IncidentKind.FAILOVER and incident.subject == "node1"
    assert report.notable()[1].kind is IncidentKind.FAILBACK
    assert not incident.is_false_failover
    categories = [step.category for step in incident.steps]
    assert categories.index(StepCategory.HEARTBEAT) < categories.index(StepCategory.DEAD) \
        < categories.index(StepCategory.FENCE) < categories.index(StepCategory.ACQUIRE)
    dead = next(step for step in incident.steps if step.category is StepCategory.DEAD)
    assert "deadtime expired" in dead.text and "node1" in dead.text
    fence = next(step for step in incident.steps if step.category is StepCategory.FENCE)
    assert fence.duration_ms == 500 and fence.outcome == "success"  # the sim's device time
    starts = [step for step in incident.steps if step.text.startswith("start ")]
    assert starts and all(step.duration_ms == 100 and step.outcome == "success" for step in starts)
    assert "silent on all 2 link(s)" in incident.cause
    # keepalive 200 ms, deadtime 2000, fence 500, two statuses (20 ms) and starts (100 ms)
    assert incident.outage_ms is not None and 2600 <= incident.outage_ms <= 2900


def test_a_heartbeat_gap_over_deadtime_is_a_false_failover_with_the_jitter_hint(
        tmp_path: Path) -> None:
    partition_for(tmp_path, gap_ms=2500)
    report = postmortem(load_journals([tmp_path / "node2"]))
    failover = next(i for i in report.incidents if i.kind is IncidentKind.FAILOVER)
    assert failover.is_false_failover
    assert "then heard again in the same generation" in failover.cause
    assert any("deadtime 2000 ms is too low" in hint for hint in failover.hints)
    assert any("no fence device" in hint for hint in failover.hints)
    assert any(i.kind is IncidentKind.SPLIT_BRAIN for i in report.incidents)


def test_a_gap_under_deadtime_is_no_incident(tmp_path: Path) -> None:
    partition_for(tmp_path, gap_ms=1500)
    report = postmortem(load_journals([tmp_path / "node2"]))
    assert report.notable() == ()


def test_one_link_lost_is_its_own_incident_and_no_failover(tmp_path: Path) -> None:
    from engine.sim.network import DirectedLink

    links = (DirectedLink(source="node1", destination="node2", link="bcast eth1"),
             DirectedLink(source="node2", destination="node1", link="bcast eth1"))  # fmt: skip
    simulate(tmp_path, end_ms=20_000, script=[(10_000, faults.CutLinks(links=links))])
    report = postmortem(load_journals([tmp_path / "node2"]))
    kinds = [incident.kind for incident in report.notable()]
    assert kinds == [IncidentKind.LINK_LOST]
    assert "one link lost" in report.notable()[0].cause


def test_failback_after_the_preferred_node_returns(tmp_path: Path) -> None:
    simulate(tmp_path, end_ms=40_000, script=[
        (10_000, faults.Crash(node="node1")), (20_000, ("boot", "node1"))])  # fmt: skip
    report = postmortem(load_journals([tmp_path / "node1", tmp_path / "node2"]))
    kinds = [(incident.kind, incident.node) for incident in report.notable()]
    assert (IncidentKind.FAILOVER, "node2") in kinds
    released = next(i for i in report.notable() if i.kind is IncidentKind.FAILBACK
                    and i.node == "node2")  # fmt: skip
    assert released.subject == "node1" and "auto_failback: node node1 returned" in released.cause
    assert [step.category for step in released.steps].count(StepCategory.RELEASE) == 2
    taken_back = report.last()
    assert taken_back is not None and taken_back.kind is IncidentKind.FAILBACK
    assert taken_back.node == "node1"
    assert "node node2 released its groups back" in taken_back.cause
    # the outage spans node2's two stops (100 ms each) and node1's statuses and starts
    assert taken_back.outage_basis.startswith("from node2's first stop")
    assert taken_back.outage_ms is not None and 400 <= taken_back.outage_ms <= 600
    assert taken_back.started_wall_ms >= released.started_wall_ms


def _standby_at_8s(out: Path, *, failing_stops: int = 0) -> None:
    """node1 holds the group; at 8 s its admin runs `standby all` (its first stops fail)."""
    from engine.sim.devices import ResourceAction
    from engine.sim.disk_journal import DiskJournal
    from engine.sim.generated_config import generate_config
    from engine.sim.scenario_language import AdminScope, AdminVerb
    from engine.sim.settings import build_cluster

    generated = generate_config(ClusterShape(node_count=2, group_count=1))
    journals: list[DiskJournal] = []

    def factory(node: str) -> DiskJournal:
        journals.append(DiskJournal(out / node, node=node))
        return journals[-1]

    cluster = build_cluster(generated, seed=0, journal_factory=factory)
    for node in generated.nodes:
        cluster.boot(node)
    cluster.run_until(8_000)
    if failing_stops:
        cluster.apply(faults.ResourceFails(node="node1", resource_id="service1",
                                           action=ResourceAction.STOP, count=failing_stops))
    cluster.stimulate_admin("node1", AdminVerb.STANDBY, AdminScope.ALL)
    cluster.run_until(14_000)
    for journal in journals:
        journal.close()


def test_an_admin_standby_names_the_uid(tmp_path: Path) -> None:
    out = tmp_path / "standby"
    _standby_at_8s(out)
    report = postmortem(load_journals([out / "node1", out / "node2"]))
    standby = next(i for i in report.notable() if i.node == "node1")
    assert standby.kind is IncidentKind.STANDBY
    assert standby.cause.startswith("admin request: standby all by uid")
    taken = next(i for i in report.notable() if i.node == "node2")
    assert taken.kind is IncidentKind.TAKEOVER
    assert "node node1 released the groups" in taken.cause
    assert taken.outage_basis.startswith("from node1's first stop")
    assert taken.outage_ms is not None and 400 <= taken.outage_ms <= 600


def test_a_monitor_failure_is_classified_with_its_output(tmp_path: Path) -> None:
    from engine.sim.devices import ResourceAction

    shape = ClusterShape(node_count=2, group_count=1, monitor_interval_ms=1000)
    simulate(tmp_path, shape=shape, end_ms=30_000, script=[
        (10_000, faults.ResourceFails(node="node1", resource_id="service1",
                                      action=ResourceAction.MONITOR, count=1))])  # fmt: skip
    report = postmortem(load_journals([tmp_path / "node1"]))
    failure = next(i for i in report.notable() if i.kind is IncidentKind.RESOURCE_FAILURE)
    assert failure.cause.startswith("monitor failure")


def test_stop_retries_stay_in_one_incident_and_are_called_unusual(tmp_path: Path) -> None:
    _standby_at_8s(tmp_path, failing_stops=2)
    report = postmortem(load_journals([tmp_path / "node1"]))
    [standby] = [i for i in report.notable() if i.kind is IncidentKind.STANDBY]
    stops = [step for step in standby.steps if step.text.startswith("stop service1")]
    assert [step.outcome for step in stops] == ["failed", "failed", "success"]
    assert "stop service1 ran 3 times (retried)" in standby.unusual
    assert standby.cause.startswith("admin request: standby all")
