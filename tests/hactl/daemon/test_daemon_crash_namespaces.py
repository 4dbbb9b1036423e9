"""Issue 9 in real namespaces: a daemon killed while its node stays up.

Its resources stay (the floating IP remains on eth0, httpd keeps serving). Without fencing
the peer takes over and, for a while, both hold the IP (Heartbeat left it so until an
admin cleaned up); when the crashed daemon restarts, its start-up probes find what still
runs and the duplicate is removed: the preferred master adopts its copy (no restart) and
announces the address again, so the client, whose ARP cache the backup's takeover had
pointed at the backup, is served by the master alone. Restarted before deadtime, the
rightful holder adopts its running resources without stopping them: no client outage.
Probes and stops are in `hactl journal show`.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from engine.core.codec import decode_event
from engine.core.events import ResourceAction, ResourceActionCompleted
from hactl.daemon.lab import CLUSTER_IP, ClusterLab, Timings, read_probe, wait_for
from hactl.testbed.netns import CLIENT_ROLE
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


def mac_of(lab: ClusterLab, role: str) -> str:
    shown = lab.net.run(role, ["cat", "/sys/class/net/eth0/address"])
    return shown.stdout.strip()


def client_neighbour_mac(lab: ClusterLab) -> str | None:
    """The MAC the client's ARP cache maps the cluster IP to (what a gratuitous ARP sets)."""
    shown = lab.net.run(CLIENT_ROLE, ["ip", "-4", "neigh", "show", CLUSTER_IP])
    words = shown.stdout.split()
    return words[words.index("lladdr") + 1] if "lladdr" in words else None


def journal_text(lab: ClusterLab, role: str) -> str:
    shown = lab.hactl(role, "journal", "show", "--state-dir", str(lab.state_dir(role)))
    assert shown.returncode == 0, shown.stderr
    return shown.stdout


def test_crashed_daemon_duplicate_ip_is_removed_when_it_restarts() -> None:
    with cluster_lab(auto_failback="off") as lab:
        lab.start_all()
        wait_holder(lab, "master", observers=BOTH)
        wait_settled(lab)
        wait_client_sees(lab, "master")  # the client's ARP cache now has the address
        lab.kill_daemon("master")  # links up, IP and httpd left running on the master
        wait_holder(lab, "backup", observers=("backup",))
        wait_settled(lab, roles=("backup",))
        assert holders(lab) == ["master", "backup"]  # the duplicate Heartbeat left behind

        wait_for(lambda: client_neighbour_mac(lab) == mac_of(lab, "backup"), timeout_s=20,
                 what="the client to map the cluster IP to the backup")  # fmt: skip

        lab.start("master")
        wait_for(lambda: len(holders(lab)) == 1, timeout_s=30,
                 what="a single holder of the cluster IP after the restart")  # fmt: skip
        (keeper,) = holders(lab)  # the engine's rule: the preferred node keeps it
        assert keeper == "master"
        # Adopted without a restart, then announced again: the client's cache, which the
        # backup's takeover pointed at the backup, maps the address to the master again
        # long before a stale entry would be re-resolved on its own.
        wait_for(lambda: client_neighbour_mac(lab) == mac_of(lab, "master"), timeout_s=10,
                 what="the master's gratuitous ARP after adopting the address")  # fmt: skip
        assert "after start-up: adopted" in lab.log_text("master")
        wait_holder(lab, keeper, observers=BOTH)
        wait_settled(lab)
        with tempfile.TemporaryDirectory(prefix="hactl-probe-") as directory:
            output = Path(directory) / "client.log"
            lab.start_client_probe(output)
            wait_for(lambda: len(read_probe(output)) >= 20, timeout_s=30,
                     what="twenty client fetches")  # fmt: skip
            lab.stop_client_probe()
            answers = {answer for _, answer in read_probe(output)}
        assert answers == {keeper}  # the rest of the test: one node serves, no outage
        assert holders(lab) == [keeper]
        # The probes and the reconciliation are in the journals an admin reads: the
        # restarted master probed (found running) and started nothing; the backup stopped.
        restarted = journal_text(lab, "master").split("NodeStarted master generation 2")[1]
        for resource in (f"IPaddr::{CLUSTER_IP}", "httpd", "smb"):
            assert f"ResourceActionCompleted probe {resource} " in restarted
            assert f"ResourceActionCompleted stop {resource} " in journal_text(lab, "backup")
        assert "ResourceActionCompleted start" not in restarted
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
        with tempfile.TemporaryDirectory(prefix="hactl-probe-") as directory:
            output = Path(directory) / "client.log"
            lab.start_client_probe(output)
            wait_for(lambda: len(read_probe(output)) >= 5, timeout_s=30,
                     what="the client fetching")  # fmt: skip
            lab.kill_daemon("master")
            lab.start("master")
            wait_holder(lab, "master", observers=BOTH)
            wait_for(lambda: (lab.status("master") or {}).get("cluster", {})  # type: ignore[union-attr]
                     .get("phase") == "active", timeout_s=20, what="the master active again")
            fetched = len(read_probe(output))
            wait_for(lambda: len(read_probe(output)) >= fetched + 5, timeout_s=30,
                     what="more client fetches after the adoption")  # fmt: skip
            lab.stop_client_probe()
            answers = [answer for _, answer in read_probe(output)]
        assert set(answers) == {"master"}, answers  # no outage, nobody else answered
        actions = actions_since(lab, "master", first_seq)
        assert {action for action, _ in actions} <= {ResourceAction.PROBE.value}, actions
        assert len(actions) == 3  # IPaddr, httpd, smb: probed, found running, adopted
        assert holders(lab) == ["master"]
        assert lab.fetch() == "master"
        assert "start httpd" not in lab.log_text("backup")
        check_journals_and_replay(lab)
