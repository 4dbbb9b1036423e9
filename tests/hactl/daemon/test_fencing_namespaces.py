"""Issue 7 in real namespaces: fencing before takeover in a running two-node cluster.

Real daemons, real UDP heartbeats, the cluster IP really added, a real client probing it.
Split brain: only the dedicated heartbeat network is cut, both nodes still reach the main
network and the client; the `netns_test` device "powers off" the node being fenced. A
device that fails three times (the `flaky` agent, written to cluster-glue's external
protocol, found through the daemon's test-only script directory) delays the takeover to
the fourth attempt; meatware holds it until `hactl stonith confirm`. Every wait is for a
condition under a deadline; the one bounded wait (meatware's) asserts an absence and is
counted in heartbeats sent, not seconds slept.
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import pytest

from engine.core.codec import decode_event
from engine.core.events import Event, FenceCompleted, ResourceAction, ResourceActionCompleted
from hactl.daemon.executor import TEST_EXTERNAL_DIRECTORIES_VARIABLE
from hactl.daemon.lab import CLUSTER_IP, ClusterLab, Timings, group_holder, read_probe, wait_for
from journal import read_records
from tests.hactl.daemon.namespace_support import (
    ENGINE_KINDS,
    check_journals_and_replay,
    cluster_lab,
    is_settled,
    wait_client_sees,
    wait_holder,
)

pytestmark = [pytest.mark.needs_root, pytest.mark.slow]
BOTH = ("master", "backup")
QUICK = Timings(keepalive="200ms", deadtime="1", warntime="500ms", initdead="2")
AGENTS_DIRECTORY = Path(__file__).resolve().parents[1] / "stonith" / "agents"
SPLIT_BRAIN_RUNS = 10
# meatware: how long the takeover must stay away without a confirmation, in heartbeats
# the backup sends (keepalive 200 ms: 25 of them are five deadtimes).
UNCONFIRMED_HEARTBEATS = 25


# ---- helpers --------------------------------------------------------------------------


def wait_settled(lab: ClusterLab) -> None:
    def settled() -> bool:
        return all(is_settled(lab.status(role)) for role in BOTH)

    wait_for(settled, timeout_s=20, what="both nodes' groups and peers to settle")


def is_main_link_up(lab: ClusterLab, role: str) -> bool:
    """Whether the node's main interface carries traffic (fencing cuts it)."""
    shown = lab.net.run(role, ["ip", "-o", "link", "show", "dev", "eth0"])
    return "LOWER_UP" in shown.stdout


def holds_on_live_link(lab: ClusterLab, role: str) -> bool:
    """Whether the node has the cluster IP on an eth0 that carries traffic (one `ip` call)."""
    shown = lab.net.run(role, ["ip", "-4", "addr", "show", "dev", "eth0"]).stdout
    return "LOWER_UP" in shown and f" {CLUSTER_IP}/" in shown


def read_holders(lab: ClusterLab) -> tuple[bool, list[str]]:
    """(whether both held the cluster IP on a live link at once, the last readings' holders).

    Two namespaces cannot be read at once, so each node is read before and after the
    other: a node seen holding on both sides of the other's reading held it throughout
    (a fenced node does not come back), so both held it at the other's reading. The
    holders list alone proves nothing about overlap: its two readings are apart in time.
    """
    first, second = BOTH
    readings = [holds_on_live_link(lab, role) for role in (first, second, first, second)]
    is_overlap = (readings[0] and readings[1] and readings[2]) or (
        readings[1] and readings[2] and readings[3]
    )
    holders = [role for role, is_holding in zip(BOTH, readings[2:], strict=True) if is_holding]
    return is_overlap, holders


def next_seq(lab: ClusterLab, role: str) -> int:
    status = lab.status(role)
    assert status is not None, f"{role} does not answer"
    journal = status["journal"]
    assert isinstance(journal, dict)
    return int(journal["next_seq"])


def engine_events_since(lab: ClusterLab, role: str, first_seq: int) -> list[Event]:
    directory = lab.state_dir(role) / "journal"
    return [decode_event(record.kind, record.payload)  # type: ignore[arg-type]
            for record in read_records(directory, since_seq=first_seq)
            if record.kind in ENGINE_KINDS]  # fmt: skip


def fences_of(events: list[Event]) -> list[FenceCompleted]:
    return [event for event in events if isinstance(event, FenceCompleted)]


def assert_no_start_before_fence_success(events: list[Event]) -> None:
    """Every resource start began (now - duration) after the successful fence ended."""
    successes = [event for event in fences_of(events) if event.is_success]
    assert successes, f"no successful fence in {fences_of(events)}"
    fenced_ms = successes[0].now_ms
    starts = [event for event in events if isinstance(event, ResourceActionCompleted)
              and event.action is ResourceAction.START]  # fmt: skip
    assert starts, "the group was never started"
    for start in starts:
        assert start.now_ms - start.duration_ms >= fenced_ms, (
            f"{start.resource_id} started at {start.now_ms - start.duration_ms} ms, "
            f"before the fence succeeded at {fenced_ms} ms"
        )
        assert events.index(start) > events.index(successes[0])


def pending_fence(lab: ClusterLab, role: str, target: str) -> dict[str, object] | None:
    status = lab.status(role)
    fences = status.get("pending_fences") if status is not None else None
    for fence in fences if isinstance(fences, list) else []:
        if isinstance(fence, dict) and fence.get("target") == target:
            return fence
    return None


def assert_status_cli_shows_fence(lab: ClusterLab, role: str, *words: str) -> None:
    shown = lab.hactl(role, "status", "--run-dir", str(lab.run_dir(role)))
    assert shown.returncode == 0, shown.stderr
    assert "PENDING FENCES (1, takeover waits for them):" in shown.stdout, shown.stdout
    fence_lines = [line for line in shown.stdout.splitlines() if line.startswith("  master:")]
    assert fence_lines, shown.stdout
    for word in words:
        assert word in fence_lines[0], f"{word!r} not in {fence_lines[0]!r}"


# ---- split brain ----------------------------------------------------------------------


@pytest.mark.parametrize("run_index", range(SPLIT_BRAIN_RUNS))
def test_split_brain_heartbeat_links_cut_one_node_holds_the_other_is_fenced(
    run_index: int, tmp_path: Path
) -> None:
    with cluster_lab(networks=("main", "hb"), heartbeat_networks=("hb",), timings=QUICK,
                     with_fencing=True) as lab:  # fmt: skip
        lab.start_all()
        wait_holder(lab, "master", observers=BOTH)
        wait_settled(lab)
        wait_client_sees(lab, "master")
        first_seqs = {role: next_seq(lab, role) for role in BOTH}
        probe = tmp_path / f"probe-{run_index}.txt"
        lab.start_client_probe(probe)

        for role in BOTH:  # only the heartbeat medium: both still reach the main network
            lab.net.set_link(role, "hb", is_up=False)
        overlaps: list[list[str]] = []  # readings proving both held it at once

        def one_fenced_other_holds() -> str | None:
            is_overlap, holders = read_holders(lab)
            if is_overlap:
                overlaps.append(holders)
            alive = [role for role in BOTH if lab.daemons[role].poll() is None]
            if len(alive) != 1:
                return None
            (survivor,) = alive
            is_holding = (group_holder(lab.status(survivor)) == survivor
                          and holders == [survivor])  # fmt: skip
            return survivor if is_holding else None

        survivor = wait_for(one_fenced_other_holds, timeout_s=40, poll_s=0.02,
                            what="one node fenced and the other holding the group")  # fmt: skip
        assert isinstance(survivor, str)
        wait_client_sees(lab, survivor)

        def probe_last_answer() -> str | None:
            answers = [answer for _, answer in read_probe(probe) if answer != "-"]
            return answers[-1] if answers else None

        wait_for(lambda: probe_last_answer() == survivor, timeout_s=10,
                 what=f"the client probe to be answered by {survivor}")  # fmt: skip
        lab.stop_client_probe()

        assert not overlaps, f"both nodes held the cluster IP on a live link {len(overlaps)}x"
        (victim,) = [role for role in BOTH if role != survivor]
        assert not is_main_link_up(lab, victim), "the fenced node's link is still up"
        answers = [answer for _, answer in read_probe(probe) if answer != "-"]
        switches = [(a, b) for a, b in itertools.pairwise(answers) if a != b]
        assert len(switches) <= 1, f"the client saw the answers alternate: {switches}"
        assert answers[-1] == survivor
        events = engine_events_since(lab, survivor, first_seqs[survivor])
        fences = fences_of(events)
        assert [(f.target, f.device, f.is_success) for f in fences] == [
            (victim, "netns_test", True)
        ], fences
        assert "2 link(s) down" in fences[0].detail  # powered off: main and hb both dark
        if survivor == "backup":  # it took the group over: only after the fence
            assert_no_start_before_fence_success(events)
        check_journals_and_replay(lab)


# ---- a device that fails three times, then succeeds -----------------------------------


def test_flaky_device_takeover_only_after_the_fourth_attempt_all_journaled(
    tmp_path: Path,
) -> None:
    attempts_file = tmp_path / "flaky.attempts"
    device_line = (f"stonith_host * external/flaky hostlist=master failures=3 "
                   f"state_file={attempts_file}")  # fmt: skip
    environment = {TEST_EXTERNAL_DIRECTORIES_VARIABLE: str(AGENTS_DIRECTORY)}
    with cluster_lab(timings=QUICK, extra_ha_cf_lines=(device_line,),
                     extra_environment=environment) as lab:  # fmt: skip
        lab.start_all()
        wait_holder(lab, "master", observers=BOTH)
        wait_settled(lab)
        first_seq = next_seq(lab, "backup")

        lab.power_off("master")
        # Between attempts (5 s apart) the pending fence is shown with its last failure.
        wait_for(lambda: (fence := pending_fence(lab, "backup", "master")) is not None
                 and fence["attempts"] == 2 and not fence["is_in_flight"],
                 timeout_s=30, what="the backup's second failed fence attempt")  # fmt: skip
        fence = pending_fence(lab, "backup", "master")
        assert fence is not None
        assert fence["device"] == "external/flaky"
        assert "attempt 2 fails on purpose" in str(fence["last_result"])
        assert fence["reason"] == f"node master is dead and may still hold IPaddr::{CLUSTER_IP}"
        assert group_holder(lab.status("backup")) != "backup"
        assert not lab.holds_address("backup")
        assert_status_cli_shows_fence(lab, "backup", "2 attempt(s)", "external/flaky",
                                      "fails on purpose", "is dead")  # fmt: skip

        wait_holder(lab, "backup", observers=("backup",), timeout_s=40)
        wait_client_sees(lab, "backup")
        assert pending_fence(lab, "backup", "master") is None

        events = engine_events_since(lab, "backup", first_seq)
        fences = fences_of(events)
        assert [(f.device, f.target, f.is_success) for f in fences] == [
            ("external/flaky", "master", False)
        ] * 3 + [("external/flaky", "master", True)]
        assert all(f.duration_ms >= 0 for f in fences)
        assert [f.now_ms for f in fences] == sorted(f.now_ms for f in fences)
        assert "attempt 4 succeeds" in fences[-1].detail
        assert_no_start_before_fence_success(events)
        assert len(attempts_file.read_text().splitlines()) == 4
        check_journals_and_replay(lab)


# ---- meatware -------------------------------------------------------------------------


def test_meatware_takeover_waits_for_hactl_stonith_confirm() -> None:
    device_line = "stonith_host * meatware hostlist=master"
    with cluster_lab(timings=QUICK, extra_ha_cf_lines=(device_line,)) as lab:
        lab.start_all()
        wait_holder(lab, "master", observers=BOTH)
        wait_settled(lab)
        first_seq = next_seq(lab, "backup")

        lab.power_off("master")
        fifo = lab.run_dir("backup") / "meatware.master"
        wait_for(lambda: fifo.exists() and pending_fence(lab, "backup", "master"),
                 timeout_s=20, what="the backup waiting for an operator")  # fmt: skip
        assert_status_cli_shows_fence(lab, "backup", "1 attempt(s)", "attempt in progress",
                                      "meatware", "is dead")  # fmt: skip

        def sent_heartbeats() -> int:
            status = lab.status("backup")
            assert status is not None
            transport = status["transport"]
            assert isinstance(transport, dict)
            return int(transport["sent_packets"])

        enough = sent_heartbeats() + UNCONFIRMED_HEARTBEATS
        while sent_heartbeats() < enough:  # absence asserted over five deadtimes
            assert group_holder(lab.status("backup")) != "backup"
            assert not lab.holds_address("backup")
            time.sleep(0.1)  # sampling period of an absence check, bounded by the count
        fence = pending_fence(lab, "backup", "master")
        assert fence is not None and fence["is_in_flight"] and fence["attempts"] == 1

        confirmed = lab.hactl("backup", "stonith", "confirm", "-y", "master",
                              "--run-dir", str(lab.run_dir("backup")))  # fmt: skip
        assert confirmed.returncode == 0, confirmed.stderr
        wait_holder(lab, "backup", observers=("backup",))
        wait_client_sees(lab, "backup")
        events = engine_events_since(lab, "backup", first_seq)
        assert [(f.device, f.is_success) for f in fences_of(events)] == [("meatware", True)]
        assert_no_start_before_fence_success(events)
        check_journals_and_replay(lab)
