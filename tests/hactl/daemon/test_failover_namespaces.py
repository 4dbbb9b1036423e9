"""Real two-node failover in network namespaces: the article's test, and its variations.

Real daemons (`python -m hactl daemon`) in their own namespaces, real UDP heartbeats, the
cluster IP really added by the IPaddr agent, and a real client in the client namespace
that fetches the page served at the cluster IP to see which node answers. Timings are
the article's with shorter numbers (keepalive 200 ms, deadtime 2 s) so the suite stays
quick; every wait is for a condition, under a deadline.
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from hactl.daemon import records
from hactl.daemon.lab import CLUSTER_IP, ClusterLab, Timings, group_holder
from journal import read_records
from tests.hactl.daemon.namespace_support import (
    check_journals_and_replay,
    cluster_lab,
    link_states,
    member,
    wait_client_sees,
    wait_holder,
)

pytestmark = [pytest.mark.needs_root, pytest.mark.slow]
BOTH = ("master", "backup")


@pytest.mark.parametrize("auto_failback", ["on", "off"])
def test_master_dies_backup_takes_over_then_failback_per_setting(auto_failback: str) -> None:
    with cluster_lab(auto_failback=auto_failback) as lab:
        lab.start_all()
        wait_holder(lab, "master", observers=BOTH)
        wait_client_sees(lab, "master")

        lab.power_off("master")  # kill -9 the daemon, cut its links
        wait_holder(lab, "backup", observers=("backup",))
        wait_client_sees(lab, "backup")
        assert member(lab.status("backup"), "master")["status"] == "dead"

        lab.net.restore_links("master")
        lab.start("master")
        expected = "master" if auto_failback == "on" else "backup"
        wait_holder(lab, expected, observers=BOTH, timeout_s=30)
        wait_client_sees(lab, expected)
        check_journals_and_replay(lab)


def test_one_of_two_heartbeat_links_cut_is_a_dead_link_not_a_failover() -> None:
    with cluster_lab(networks=("main", "hb"), heartbeat_networks=("main", "hb")) as lab:
        lab.start_all()
        wait_holder(lab, "master", observers=BOTH)

        lab.net.set_link("master", "hb", is_up=False)
        wait_for_link(lab, "backup", "master", "bcast eth1", "dead")
        assert link_states(lab.status("backup"), "master")["bcast eth0"] == "up"
        assert member(lab.status("backup"), "master")["status"] == "up"
        wait_holder(lab, "master", observers=BOTH)

        lab.net.set_link("master", "hb", is_up=True)
        # Both ways: the journals are compared with each node's last status, so neither
        # may still be about to hear the restored link when the daemons are stopped.
        wait_for_link(lab, "backup", "master", "bcast eth1", "up")
        wait_for_link(lab, "master", "backup", "bcast eth1", "up")
        wait_client_sees(lab, "master")
        check_journals_and_replay(lab)


def wait_for_link(lab: object, observer: str, peer: str, link: str, state: str) -> None:
    from hactl.daemon.lab import ClusterLab, wait_for

    assert isinstance(lab, ClusterLab)
    wait_for(lambda: link_states(lab.status(observer), peer).get(link) == state,
             timeout_s=20, what=f"{observer} to report {peer}'s {link} {state}")  # fmt: skip


def test_standby_and_takeover_move_the_group_both_ways_and_shutdown_hands_over() -> None:
    with cluster_lab() as lab:
        lab.start_all()
        wait_holder(lab, "master", observers=BOTH)

        standby = lab.hactl("master", "standby", "--run-dir", str(lab.run_dir("master")))
        assert standby.returncode == 0, standby.stderr
        wait_holder(lab, "backup", observers=BOTH)
        wait_client_sees(lab, "backup")

        takeover = lab.hactl("master", "takeover", "all", "--run-dir", str(lab.run_dir("master")))
        assert takeover.returncode == 0, takeover.stderr
        wait_holder(lab, "master", observers=BOTH)
        wait_client_sees(lab, "master")

        shutdown = lab.hactl("master", "shutdown", "--run-dir", str(lab.run_dir("master")))
        assert shutdown.returncode == 0, shutdown.stderr
        wait_holder(lab, "backup", observers=("backup",))
        wait_client_sees(lab, "backup")
        # A clean hand-over: the master left (no deadtime, no fencing), it did not die.
        assert member(lab.status("backup"), "master")["status"] == "left"
        assert lab.daemons["master"].wait(timeout=20) == 0
        assert "is dead" not in lab.log_text("backup")
        del lab.daemons["master"]
        check_journals_and_replay(lab)


def test_a_node_with_a_wrong_key_is_refused_counted_journaled_and_absent() -> None:
    with cluster_lab(secrets={"backup": "not the cluster key"}) as lab:
        lab.start_all()
        wait_holder(lab, "master", observers=("master",))
        assert member(lab.status("master"), "backup")["status"] == "dead"
        refused = lab.status("master")["transport"]["refused_packets"]  # type: ignore[index]
        assert refused.get("bad_signature", 0) > 0
        # The backup, refused, is absent for the master, so the master holds the group.
        # (Both refuse each other, so both start it: the split brain fencing exists for.)
        wait_holder(lab, "master", observers=("master",))
        check_journals_and_replay(lab)
        kinds = {record.kind for record in read_records(lab.state_dir("master") / "journal")}
        assert records.PACKETS_REFUSED in kinds


def test_status_cli_reads_at_a_glance() -> None:
    with cluster_lab() as lab:
        lab.start_all()
        wait_holder(lab, "master", observers=BOTH)
        shown = lab.hactl("backup", "status", "--run-dir", str(lab.run_dir("backup")))
        assert shown.returncode == 0, shown.stderr
        text = shown.stdout
        assert "Node backup: active, quorate" in text
        assert "master" in text and "bcast eth0 up" in text
        assert f"IPaddr::{CLUSTER_IP}: held by master" in text
        check_journals_and_replay(lab)


LOSS_PERCENT = 30
LOSS_DURATION_S = 60


def add_heartbeat_loss(lab: ClusterLab, role: str) -> None:
    """Drop 30% of heartbeats arriving on the node's eth0 (nftables, its namespace only)."""
    rules = (
        "table inet hactl_loss {\n"
        "  chain input {\n"
        "    type filter hook input priority 0; policy accept;\n"
        f'    iifname "eth0" udp dport 694 numgen random mod 100 < {LOSS_PERCENT} drop\n'
        "  }\n"
        "}\n"
    )
    rules_file = lab.node_dir(role) / "loss.nft"
    rules_file.write_text(rules)
    result = lab.net.run(role, ["nft", "-f", str(rules_file)])
    assert result.returncode == 0, result.stderr


def test_thirty_percent_loss_with_deadtime_of_ten_keepalives_never_fails_over() -> None:
    timings = Timings(keepalive="100ms", deadtime="1", warntime="500ms", initdead="2")
    with cluster_lab(timings=timings) as lab:
        lab.start_all()
        wait_holder(lab, "master", observers=BOTH)
        for role in BOTH:
            add_heartbeat_loss(lab, role)
        deadline = time.monotonic() + LOSS_DURATION_S
        while time.monotonic() < deadline:
            for observer, peer in (("master", "backup"), ("backup", "master")):
                assert member(lab.status(observer), peer)["status"] == "up"
            assert group_holder(lab.status("backup")) == "master"
            time.sleep(0.5)  # sampling period of a steady-state check, not a wait
        for role in BOTH:
            assert "is dead" not in lab.log_text(role)
        check_journals_and_replay(lab)


def test_sigterm_hands_over_at_once_and_the_node_leaves_cleanly() -> None:
    with cluster_lab() as lab:
        lab.start_all()
        wait_holder(lab, "master", observers=BOTH)
        pid = int((lab.run_dir("master") / "hactl.pid").read_text())
        os.kill(pid, signal.SIGTERM)
        wait_holder(lab, "backup", observers=("backup",))
        assert member(lab.status("backup"), "master")["status"] == "left"
        assert lab.daemons["master"].wait(timeout=20) == 0
        assert not (lab.run_dir("master") / "hactl.pid").exists()
        del lab.daemons["master"]
        wait_client_sees(lab, "backup")
        check_journals_and_replay(lab)
