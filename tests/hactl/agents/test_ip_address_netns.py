"""IPaddr/IPaddr2 against a real kernel: every haresources form, findif, labels, idempotence.

Each test builds its own namespaces (hactl/testbed/netns.py, 198.18.0.0/24 on eth0) and
runs the real agent inside the master's namespace (agent_driver.py, the same
`run_agent_action` the daemon uses); what the kernel holds is read back with `ip -j`.
The `hactl resource debug` command itself runs in namespaces in test_announce_netns.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hactl.testbed.netns import Topology, topology
from tests.hactl.agents.netns_helpers import (
    AgentDriver,
    add_ipv6,
    address_entry,
    interface_addresses,
)

pytestmark = pytest.mark.needs_root


@pytest.fixture
def net() -> Iterator[Topology]:
    with topology(("master",), networks=("main",), has_client=False) as built:
        yield built


@pytest.fixture
def master(net: Topology) -> AgentDriver:
    return AgentDriver(net, "master")


@pytest.fixture(scope="module")
def shared_master() -> Iterator[tuple[Topology, AgentDriver]]:
    """One namespace for the forms below: each form leaves the interface as it found it
    (which the test asserts), so they need not pay for a fresh namespace each."""
    with topology(("master",), networks=("main",), has_client=False) as built:
        yield built, AgentDriver(built, "master")


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
    shared_master: tuple[Topology, AgentDriver], spec: str, prefix_length: int, broadcast: str
) -> None:
    net, master = shared_master
    before = interface_addresses(net, "master")
    started = master.act("start", spec)
    assert started["outcome"] == "success", started
    entry = address_entry(net, "master", "198.18.0.60")
    assert entry is not None, interface_addresses(net, "master")
    assert entry["prefixlen"] == prefix_length
    assert entry["broadcast"] == broadcast
    is_ipaddr = not spec.startswith("IPaddr2")
    assert entry["label"] == ("eth0:0" if is_ipaddr else "eth0")
    assert master.act("status", spec)["outcome"] == "success"
    stopped = master.act("stop", spec)
    assert stopped["outcome"] == "success", stopped
    assert interface_addresses(net, "master") == before  # the node's own address untouched
    assert master.act("status", spec)["outcome"] == "not-running"


def test_start_and_stop_are_idempotent(net: Topology, master: AgentDriver) -> None:
    spec = "IPaddr::198.18.0.61/24/eth0"
    assert master.act("probe", spec)["outcome"] == "not-running"
    assert master.act("start", spec)["outcome"] == "success"
    again = master.act("start", spec)
    assert again["outcome"] == "success"
    assert "already present" in again["detail"]
    assert [e["local"] for e in interface_addresses(net, "master")].count("198.18.0.61") == 1
    assert master.act("monitor", spec)["outcome"] == "success"
    assert master.act("stop", spec)["outcome"] == "success"
    stopped_again = master.act("stop", spec)
    assert stopped_again["outcome"] == "success"
    assert "nothing to do" in stopped_again["detail"]
    assert master.act("monitor", spec)["outcome"] == "not-running"


def test_ipaddr_takes_the_first_free_alias_and_release_removes_only_its_address(
    net: Topology, master: AgentDriver
) -> None:
    # eth0:0 is taken by an address someone else put there; ours must not touch it
    net.run("master", ["ip", "addr", "add", "198.18.0.70/24", "dev", "eth0", "label", "eth0:0"],
            check=True)  # fmt: skip
    assert master.act("start", "IPaddr::198.18.0.71")["outcome"] == "success"
    assert master.act("start", "IPaddr::198.18.0.72")["outcome"] == "success"
    assert address_entry(net, "master", "198.18.0.71")["label"] == "eth0:1"  # type: ignore[index]
    assert address_entry(net, "master", "198.18.0.72")["label"] == "eth0:2"  # type: ignore[index]
    assert master.act("stop", "IPaddr::198.18.0.71")["outcome"] == "success"
    remaining = sorted(entry["local"] for entry in interface_addresses(net, "master"))
    assert remaining == ["198.18.0.10", "198.18.0.70", "198.18.0.72"]
    assert master.act("start", "IPaddr::198.18.0.73")["outcome"] == "success"
    assert address_entry(net, "master", "198.18.0.73")["label"] == "eth0:1"  # type: ignore[index]


def test_alias_label_longer_than_15_characters_is_refused(
    net: Topology, master: AgentDriver
) -> None:
    net.run("master", ["ip", "link", "set", "eth0", "name", "hactl-longnic0"], check=True)
    result = master.act("start", "IPaddr::198.18.0.74/24/hactl-longnic0")
    assert result["outcome"] == "not-configured"
    assert "'hactl-longnic0:0' is longer than 15 characters" in result["detail"]
    assert address_entry(net, "master", "198.18.0.74", "hactl-longnic0") is None
    assert master.act("start", "IPaddr2::198.18.0.74/24/hactl-longnic0")["outcome"] == "success"


def test_no_covering_route_is_a_clear_error_naming_the_address(
    net: Topology, master: AgentDriver
) -> None:
    result = master.act("start", "IPaddr::198.19.7.7")
    assert result["outcome"] == "not-configured"
    assert result["detail"].startswith("198.19.7.7: no route on this node covers the address")
    assert address_entry(net, "master", "198.19.7.7") is None


def test_unknown_interface_is_a_clear_error(master: AgentDriver) -> None:
    result = master.act("start", "IPaddr2::198.18.0.62/24/eth9")
    assert result["outcome"] == "not-configured"
    assert "interface 'eth9' does not exist" in result["detail"]


def test_ipv6_address_is_added_without_dad_found_from_its_route_and_removed(
    net: Topology, master: AgentDriver
) -> None:
    add_ipv6(net, "master", "fd00:18::10/64")
    spec = "IPaddr2::fd00:18::60"
    started = master.act("start", spec)
    assert started["outcome"] == "success", started
    entry = address_entry(net, "master", "fd00:18::60")
    assert entry is not None
    assert entry["prefixlen"] == 64
    assert entry.get("nodad") is True
    assert not entry.get("tentative", False)
    assert master.act("status", spec)["outcome"] == "success"
    assert master.act("stop", spec)["outcome"] == "success"
    assert address_entry(net, "master", "fd00:18::60") is None
    assert address_entry(net, "master", "fd00:18::10") is not None


def test_validate_resolves_the_placement_without_adding(net: Topology, master: AgentDriver) -> None:
    before = interface_addresses(net, "master")
    good = master.ask(op="validate", spec="IPaddr::198.18.0.63")
    assert good == {"outcome": "success", "detail": "would add 198.18.0.63/24 on eth0 label eth0:0"}
    bad = master.ask(op="validate", spec="IPaddr2::198.19.7.7")
    assert bad["outcome"] == "not-configured"
    assert interface_addresses(net, "master") == before
