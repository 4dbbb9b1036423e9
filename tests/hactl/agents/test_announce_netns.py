"""After a takeover, clients follow the cluster IP to the new node (gratuitous ARP, IPv6 NA).

The client first talks to the cluster IP on the master, so its neighbour table maps the
address to the master's MAC. The address then moves to the backup with our agent, and a
capture socket in the client's namespace records what arrives: the announcements, in
order, from the backup's MAC, at no less than the configured spacing (never an upper
bound: wall-clock limits do not belong in tests). Finally the client's own neighbour entry
must name the backup's MAC.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest

from hactl.testbed.netns import Topology, topology
from tests.hactl.agents.netns_helpers import (
    AgentDriver,
    add_ipv6,
    capture_results,
    debug,
    interface_mac,
    neighbour_mac,
    start_capture,
    wait_neighbour_mac,
)

pytestmark = pytest.mark.needs_root
PAIRS = 3
INTERVAL_MS = 300
TOLERANCE_MS = 50  # timer slack on a loaded machine; a lower bound only
ANNOUNCE = ("--arp-count", str(PAIRS), "--arp-interval-ms", str(INTERVAL_MS))


@pytest.fixture
def net() -> Iterator[Topology]:
    with topology(("master", "backup"), networks=("main",), has_client=True) as built:
        yield built


def take_over(net: Topology, spec: str, address: str, frame_count: int) -> list[dict[str, Any]]:
    """Move `spec` from master to backup while capturing in the client; return the frames."""
    capture = start_capture(net, "client", address, frame_count)
    stopped = debug(net, "master", "stop", spec)
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    started = debug(net, "backup", "start", spec, *ANNOUNCE)
    assert started.returncode == 0, started.stdout + started.stderr
    return capture_results(capture)


def assert_spacing(times_s: list[float]) -> None:
    gaps_ms = [(later - earlier) * 1000 for earlier, later in itertools.pairwise(times_s)]
    assert all(gap_ms >= INTERVAL_MS - TOLERANCE_MS for gap_ms in gaps_ms), gaps_ms


def test_client_arp_entry_follows_the_address_to_the_new_node(net: Topology) -> None:
    spec, address = "IPaddr2::198.18.0.60/24/eth0", "198.18.0.60"
    master_mac, backup_mac = interface_mac(net, "master"), interface_mac(net, "backup")
    assert debug(net, "master", "start", spec, "--arp-count", "1").returncode == 0
    assert net.run("client", ["ping", "-c", "1", "-W", "2", address]).returncode == 0
    assert neighbour_mac(net, "client", address) == master_mac

    frames = take_over(net, spec, address, 2 * PAIRS)

    assert [frame["kind"] for frame in frames] == ["arp-request", "arp-reply"] * PAIRS
    for frame in frames:
        assert frame["ethernet_source"] == backup_mac
        assert frame["ethernet_destination"] == "ff:ff:ff:ff:ff:ff"
        assert frame["sender_mac"] == backup_mac
        assert (frame["sender_ip"], frame["target_ip"]) == (address, address)
    assert_spacing([frame["time_s"] for frame in frames[::2]])
    assert wait_neighbour_mac(net, "client", address, backup_mac) == backup_mac


def test_ipv6_neighbour_advertisement_moves_the_client_entry(net: Topology) -> None:
    spec, address = "IPaddr2::fd00:18::60/64/eth0", "fd00:18::60"
    for role, host in (("master", 10), ("backup", 11), ("client", 100)):
        add_ipv6(net, role, f"fd00:18::{host}/64")
    master_mac, backup_mac = interface_mac(net, "master"), interface_mac(net, "backup")
    assert debug(net, "master", "start", spec, "--arp-count", "1").returncode == 0
    assert net.run("client", ["ping", "-6", "-c", "1", "-W", "2", address]).returncode == 0
    assert neighbour_mac(net, "client", address) == master_mac

    frames = take_over(net, spec, address, PAIRS)

    assert [frame["kind"] for frame in frames] == ["neighbour-advertisement"] * PAIRS
    for frame in frames:
        assert frame["ethernet_source"] == backup_mac
        assert frame["destination"] == "ff02::1"
        assert frame["hop_limit"] == 255  # receivers drop NAs that crossed a router
        assert frame["flags"] & 0x20, "the Override flag replaces cached link-layer addresses"
        assert not frame["flags"] & 0x40, "an unsolicited advertisement is not Solicited"
        assert frame["target"] == address
        assert frame["target_mac"] == backup_mac
    assert_spacing([frame["time_s"] for frame in frames])
    assert wait_neighbour_mac(net, "client", address, backup_mac) == backup_mac


def test_periodic_refresh_announces_until_cancelled(net: Topology) -> None:
    spec, address, refresh_ms = "IPaddr2::198.18.0.61/24/eth0", "198.18.0.61", 300
    backup = AgentDriver(net, "backup")
    assert backup.act("start", spec)["outcome"] == "success"
    capture = start_capture(net, "client", address, 100)
    backup.ask(op="keep_announcing", address=address, interface="eth0", refresh_ms=refresh_ms,
               duration_ms=1050)  # fmt: skip
    assert backup.act("stop", spec)["outcome"] == "success"  # after the refresh was cancelled
    net.kill(capture)
    frames = capture_results(capture)
    # 1050 ms of refresh every 300 ms: rounds at 300, 600, 900 ms (150 ms from either
    # edge, room for a busy machine), and none after the task was cancelled
    assert [frame["kind"] for frame in frames] == ["arp-request", "arp-reply"] * 3
    gaps_ms = [(b["time_s"] - a["time_s"]) * 1000 for a, b in itertools.pairwise(frames[::2])]
    assert all(gap_ms >= refresh_ms - TOLERANCE_MS for gap_ms in gaps_ms), gaps_ms


def test_background_burst_runs_in_the_daemon_nursery_and_stops_with_the_address(
    net: Topology,
) -> None:
    spec, address = "IPaddr2::198.18.0.62/24/eth0", "198.18.0.62"
    backup = AgentDriver(net, "backup")
    burst = {"arp_count": PAIRS, "arp_interval_ms": INTERVAL_MS}
    capture = start_capture(net, "client", address, 100)
    answer = backup.ask(op="sequence", steps=[["start", spec]], **burst)
    assert (
        "sent 1 of 3 ARP pairs, the rest 300 ms apart in the background"
        in (answer["results"][0]["detail"])
    )
    # a stop right after a start: the rest of the burst must not announce a released address
    answer = backup.ask(op="sequence", steps=[["start", spec], ["stop", spec]], **burst)
    assert [result["outcome"] for result in answer["results"]] == ["success", "success"]
    net.kill(capture)
    frames = capture_results(capture)
    # the first start: all 3 pairs (the nursery outlived the call); the second: its first only
    assert [frame["kind"] for frame in frames] == ["arp-request", "arp-reply"] * (PAIRS + 1)
