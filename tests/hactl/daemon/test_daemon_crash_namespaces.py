"""Issue 9 in real namespaces: a daemon killed while its node stays up.

Its resources stay (the floating IP remains on eth0, httpd keeps serving). Without fencing
the peer takes over and, for a while, both hold the IP (Heartbeat left it so until an
admin cleaned up); when the crashed daemon restarts, its start-up probes find what still
runs and the duplicate is removed. Restarted before deadtime, the rightful holder adopts
its running resources without stopping them.
"""

from __future__ import annotations

import pytest

from engine.core.codec import decode_event
from engine.core.events import ResourceAction, ResourceActionCompleted
from hactl.daemon.lab import ClusterLab, Timings, wait_for
from journal import read_records
from tests.hactl.daemon.namespace_support import (
    check_journals_and_replay,
    cluster_lab,
    is_settled,
    wait_client_sees,
    wait_holder,
)

pytestmark = [pytest.mark.needs_root, pytest.mark.slow]
BOTH = ("master", "backup")


def wait_settled(lab: ClusterLab, roles: tuple[str, ...] = BOTH) -> None:
    for role in roles:
        wait_for(lambda role=role: is_settled(lab.status(role)), timeout_s=20,
                 what=f"{role}'s groups and peers to settle")  # fmt: skip


def holders(lab: ClusterLab) -> list[str]:
    return [role for role in BOTH if lab.holds_address(role)]


def actions_since(lab: ClusterLab, role: str, first_seq: int) -> list[tuple[str, str]]:
    """(action, resource) of every resource action the node journaled from `first_seq`."""
    done = []
    for record in read_records(lab.state_dir(role) / "journal", since_seq=first_seq):
        if 100 <= record.kind < 200:
            event = decode_event(record.kind, record.payload)  # type: ignore[arg-type]
            if isinstance(event, ResourceActionCompleted):
                done.append((event.action.value, event.resource_id))
    return done


def test_crashed_daemon_duplicate_ip_is_removed_when_it_restarts() -> None:
    with cluster_lab(auto_failback="off") as lab:
        lab.start_all()
        wait_holder(lab, "master", observers=BOTH)
        wait_settled(lab)
        lab.kill_daemon("master")  # links up, IP and httpd left running on the master
        wait_holder(lab, "backup", observers=("backup",))
        wait_settled(lab, roles=("backup",))
        assert holders(lab) == ["master", "backup"]  # the duplicate Heartbeat left behind

        lab.start("master")
        wait_for(lambda: len(holders(lab)) == 1, timeout_s=30,
                 what="a single holder of the cluster IP after the restart")  # fmt: skip
        (keeper,) = holders(lab)  # the engine's rule: the preferred node keeps it
        wait_holder(lab, keeper, observers=BOTH)
        wait_settled(lab)
        for _ in range(10):  # the rest of the test: exactly one node serves the client
            assert lab.fetch() == keeper
            assert holders(lab) == [keeper]
        check_journals_and_replay(lab)


def test_a_daemon_restarted_before_deadtime_adopts_what_runs_without_a_restart() -> None:
    timings = Timings(keepalive="200ms", deadtime="8", warntime="4", initdead="16")
    with cluster_lab(timings=timings) as lab:
        lab.start_all()
        wait_holder(lab, "master", observers=BOTH)
        wait_settled(lab)
        wait_client_sees(lab, "master")
        first_seq = max(record.seq for record in
                        read_records(lab.state_dir("master") / "journal")) + 1  # fmt: skip
        lab.kill_daemon("master")
        lab.start("master")
        wait_holder(lab, "master", observers=BOTH)
        wait_for(lambda: (lab.status("master") or {}).get("cluster", {})  # type: ignore[union-attr]
                 .get("phase") == "active", timeout_s=20, what="the master active again")
        actions = actions_since(lab, "master", first_seq)
        assert {action for action, _ in actions} <= {ResourceAction.PROBE.value}, actions
        assert len(actions) == 3  # IPaddr, httpd, smb: probed, found running, adopted
        assert holders(lab) == ["master"]
        assert lab.fetch() == "master"
        assert "start httpd" not in lab.log_text("backup")
        check_journals_and_replay(lab)
