"""IPaddr/IPaddr2 against a real kernel: every haresources form, findif, labels, idempotence.

Each test builds its own namespaces (hactl/testbed/netns.py, 198.18.0.0/24 on eth0) and
runs the real agent inside the master's namespace through `hactl resource debug`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hactl.testbed.netns import Topology, topology
from tests.hactl.agents.netns_helpers import add_ipv6, address_entry, debug, interface_addresses

pytestmark = pytest.mark.needs_root
QUIET = ("--arp-count", "1")  # these tests judge addresses; announcements have their own tests


@pytest.fixture
def net() -> Iterator[Topology]:
    with topology(("master", "backup"), networks=("main",), has_client=False) as built:
        yield built


@pytest.fixture(scope="module")
def shared_net() -> Iterator[Topology]:
    """One topology for the forms below: each form leaves the interface as it found it
    (which the test asserts), so they need not pay for a fresh namespace each."""
    with topology(("master",), networks=("main",), has_client=False) as built:
        yield built


@pytest.mark.parametrize(
    ("spec", "prefix_length", "broadcast"),
    [
        ("198.18.0.60", 24, "198.18.0.255"),  # bare address: IPaddr, all from the route
        ("IPaddr::198.18.0.60", 24, "198.18.0.255"),
        ("IPaddr::198.18.0.60/25", 25, "198.18.0.127"),  # prefix written, interface found
        ("IPaddr::198.18.0.60/24/eth0", 24, "198.18.0.255"),
        ("IPaddr::198.18.0.60/24/198.18.0.250", 24, "198.18.0.250"),  # third field: broadcast
        ("IPaddr::198.18.0.60/24/eth0/198.18.0.251", 24, "198.18.0.251"),
        ("IPaddr2::198.18.0.60", 24, "198.18.0.255"),
        ("IPaddr2::198.18.0.60/26/eth0", 26, "198.18.0.63"),
        ("IPaddr2::198.18.0.60/24/eth0/198.18.0.252", 24, "198.18.0.252"),
    ],
)
def test_every_form_adds_finds_and_removes(
    shared_net: Topology, spec: str, prefix_length: int, broadcast: str
) -> None:
    net = shared_net
    before = interface_addresses(net, "master")
    started = debug(net, "master", "start", spec, *QUIET)
    assert started.returncode == 0, started.stdout + started.stderr
    entry = address_entry(net, "master", "198.18.0.60")
    assert entry is not None, interface_addresses(net, "master")
    assert entry["prefixlen"] == prefix_length
    assert entry["broadcast"] == broadcast
    is_ipaddr = not spec.startswith("IPaddr2")
    assert entry["label"] == ("eth0:0" if is_ipaddr else "eth0")
    stopped = debug(net, "master", "stop", spec)
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert interface_addresses(net, "master") == before  # the node's own address untouched


def test_start_and_stop_are_idempotent(net: Topology) -> None:
    spec = "IPaddr::198.18.0.61/24/eth0"
    assert debug(net, "master", "status", spec).returncode == 3
    assert debug(net, "master", "start", spec, *QUIET).returncode == 0
    assert debug(net, "master", "status", spec).returncode == 0
    again = debug(net, "master", "start", spec, *QUIET)
    assert again.returncode == 0
    assert "already present" in again.stdout
    assert [e["local"] for e in interface_addresses(net, "master")].count("198.18.0.61") == 1
    assert debug(net, "master", "stop", spec).returncode == 0
    stopped_again = debug(net, "master", "stop", spec)
    assert stopped_again.returncode == 0
    assert "nothing to do" in stopped_again.stdout
    assert debug(net, "master", "status", spec).returncode == 3


def test_ipaddr_takes_the_first_free_alias_and_release_removes_only_its_address(
    net: Topology,
) -> None:
    # eth0:0 is taken by an address someone else put there; ours must not touch it
    net.run("master", ["ip", "addr", "add", "198.18.0.70/24", "dev", "eth0", "label", "eth0:0"],
            check=True)  # fmt: skip
    assert debug(net, "master", "start", "IPaddr::198.18.0.71", *QUIET).returncode == 0
    assert debug(net, "master", "start", "IPaddr::198.18.0.72", *QUIET).returncode == 0
    assert address_entry(net, "master", "198.18.0.71")["label"] == "eth0:1"  # type: ignore[index]
    assert address_entry(net, "master", "198.18.0.72")["label"] == "eth0:2"  # type: ignore[index]
    assert debug(net, "master", "stop", "IPaddr::198.18.0.71").returncode == 0
    remaining = sorted(entry["local"] for entry in interface_addresses(net, "master"))
    assert remaining == ["198.18.0.10", "198.18.0.70", "198.18.0.72"]
    assert debug(net, "master", "start", "IPaddr::198.18.0.73", *QUIET).returncode == 0
    assert address_entry(net, "master", "198.18.0.73")["label"] == "eth0:1"  # type: ignore[index]


def test_no_covering_route_is_a_clear_error_naming_the_address(net: Topology) -> None:
    result = debug(net, "master", "start", "IPaddr::198.19.7.7", *QUIET)
    assert result.returncode == 1
    assert "198.19.7.7" in result.stdout
    assert "no route" in result.stdout
    assert "not-configured" in result.stdout
    assert address_entry(net, "master", "198.19.7.7") is None


def test_unknown_interface_is_a_clear_error(net: Topology) -> None:
    result = debug(net, "master", "start", "IPaddr2::198.18.0.62/24/eth9", *QUIET)
    assert result.returncode == 1
    assert "eth9" in result.stdout and "does not exist" in result.stdout


def test_ipv6_address_is_added_without_dad_found_from_its_route_and_removed(
    net: Topology,
) -> None:
    add_ipv6(net, "master", "fd00:18::10/64")
    spec = "IPaddr2::fd00:18::60"
    started = debug(net, "master", "start", spec, *QUIET)
    assert started.returncode == 0, started.stdout + started.stderr
    entry = address_entry(net, "master", "fd00:18::60")
    assert entry is not None
    assert entry["prefixlen"] == 64
    assert entry.get("nodad") is True
    assert not entry.get("tentative", False)
    assert debug(net, "master", "status", spec).returncode == 0
    assert debug(net, "master", "stop", spec).returncode == 0
    assert address_entry(net, "master", "fd00:18::60") is None
    assert address_entry(net, "master", "fd00:18::10") is not None
