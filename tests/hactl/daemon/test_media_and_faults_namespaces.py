"""Namespace tests of the daemon's plumbing: ucast and mcast media, the test-only fault
hook, fencing through the namespace test device, and configuration reloads."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hactl.daemon.lab import CLUSTER_IP, wait_for
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


def test_ucast_and_mcast_links_each_carry_heartbeats() -> None:
    media = (
        "ucast eth0 198.18.0.10", "ucast eth0 198.18.0.11",  # own line ignored, as Heartbeat
        "mcast eth1 239.255.0.7 694 1 0",
    )  # fmt: skip
    with cluster_lab(networks=("main", "hb"), media_lines=media) as lab:
        lab.start_all()
        wait_holder(lab, "master", observers=BOTH)
        for observer, peer in (("master", "backup"), ("backup", "master")):
            wait_for(lambda observer=observer, peer=peer: link_states(
                lab.status(observer), peer) == {"ucast eth0": "up", "mcast eth1": "up"},
                timeout_s=20, what=f"{observer} to hear {peer} on ucast eth0 and mcast eth1")
        lab.net.set_link("backup", "main", is_up=False)
        wait_for(lambda: link_states(lab.status("master"), "backup").get("ucast eth0") == "dead",
                 timeout_s=20, what="the ucast link reported dead")  # fmt: skip
        assert member(lab.status("master"), "backup")["status"] == "up"
        check_journals_and_replay(lab)


def test_fault_hook_duplicates_and_reorders_without_false_failover() -> None:
    faults = {"HACTL_TEST_FAULTS": "seed=5,delay_ms=0-30,duplicate=0.3,reorder=0.2,drop=0.1"}
    with cluster_lab(extra_environment=faults) as lab:
        lab.start_all()
        wait_holder(lab, "master", observers=BOTH)
        wait_for(lambda: lab.status("master")["transport"]["refused_packets"]  # type: ignore[index]
                 .get("replayed", 0) > 3, timeout_s=20,
                 what="duplicated packets to be refused as replays")  # fmt: skip
        assert member(lab.status("backup"), "master")["status"] == "up"
        assert "TEST-ONLY fault injection is ON" in lab.log_text("master")
        wait_client_sees(lab, "master")
        check_journals_and_replay(lab)


def test_a_crashed_master_is_fenced_before_the_backup_takes_over() -> None:
    with cluster_lab(with_fencing=True) as lab:
        lab.start_all()
        wait_holder(lab, "master", observers=BOTH)
        wait_client_sees(lab, "master")
        lab.kill_daemon("master")  # its resources stay up: only fencing makes takeover safe
        wait_holder(lab, "backup", observers=("backup",))
        assert "fence master with netns_test: succeeded" in lab.log_text("backup")
        wait_client_sees(lab, "backup")  # the fence cut the master's links
        check_journals_and_replay(lab)


def test_reload_rotates_keys_and_a_bad_file_keeps_the_running_configuration() -> None:
    with cluster_lab() as lab:
        lab.start_all()
        wait_holder(lab, "master", observers=BOTH)
        for role in BOTH:  # step 1 of a rotation: add key 2, keep signing with key 1
            authkeys = lab.config_dir(role) / "authkeys"
            authkeys.write_text("auth 1\n1 sha1 PutYourSecretHere\n2 sha256 rotated-secret\n")
        for role in BOTH:
            answer = lab.admin(role, "reload")
            assert isinstance(answer, dict) and answer["accepted"] is True
        for role in BOTH:  # step 2: sign with key 2
            (lab.config_dir(role) / "authkeys").write_text(
                "auth 2\n1 sha1 PutYourSecretHere\n2 sha256 rotated-secret\n")
            reloaded = lab.hactl(role, "reload", "--run-dir", str(lab.run_dir(role)))
            assert reloaded.returncode == 0, reloaded.stderr
        (lab.config_dir("backup") / "ha.cf").write_text("node master\nnode backup\nbogus 1\n")
        refused = lab.hactl("backup", "reload", "--run-dir", str(lab.run_dir("backup")))
        assert refused.returncode == 1
        assert "ha.cf" in refused.stderr
        wait_holder(lab, "master", observers=BOTH)
        assert member(lab.status("backup"), "master")["status"] == "up"
        assert not lab.status("backup")["transport"]["refused_packets"]  # type: ignore[index]
        check_journals_and_replay(lab)


CAPTURE_SCRIPT = Path(__file__).parent.parent / "agents" / "neighbour_capture.py"


def test_arp_refresh_keeps_announcing_the_held_address_after_the_burst() -> None:
    settings = ("arp_count 3", "arp_interval 100ms", "arp_refresh 1")
    with cluster_lab(extra_ha_cf_lines=settings) as lab:
        capture = lab.net.start(
            "client", [sys.executable, str(CAPTURE_SCRIPT), "--interface", "eth0",
                       "--address", CLUSTER_IP, "--count", "12", "--timeout-s", "20"],
            stdout=subprocess.PIPE,
        )  # fmt: skip
        assert capture.stdout is not None
        assert capture.stdout.readline().strip() == b"ready"
        lab.start_all()
        wait_holder(lab, "master", observers=BOTH)
        frames = [json.loads(line) for line in capture.stdout.read().splitlines()]
        times = [frame["time_s"] for frame in frames]
        assert len(times) == 12, frames
        # The burst (3 pairs, 100 ms apart) is over after ~0.2 s; refreshes go on, 1 s apart.
        assert times[-1] - times[0] > 2.0
        check_journals_and_replay(lab)
