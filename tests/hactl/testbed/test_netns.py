"""The namespace topology really connects its hosts, cuts links, and leaves nothing behind."""

from __future__ import annotations

import subprocess

import pytest

from hactl.testbed.netns import Topology, topology
from tests.hactl.agents.conftest import is_process_alive


def _namespaces() -> set[str]:
    listing = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return {line.split()[0] for line in listing.splitlines() if line.strip()}


def _pings_once(net: Topology, role: str, address: str) -> bool:
    return net.run(role, ["ping", "-c", "1", "-W", "1", address]).returncode == 0


@pytest.mark.needs_root
def test_hosts_reach_each_other_and_a_cut_link_isolates() -> None:
    with topology(("master", "backup"), networks=("main", "hb")) as net:
        assert net.address("master") == "198.18.0.10"
        assert net.address("backup", "hb") == "198.18.1.11"
        assert net.wait_reachable("client", net.address("master"))
        assert net.wait_reachable("master", net.address("backup", "hb"))
        net.set_link("master", "hb", is_up=False)
        assert not _pings_once(net, "master", net.address("backup", "hb"))
        assert net.wait_reachable("master", net.address("backup"))  # the main link still works
        net.restore_links("master")
        assert net.wait_reachable("master", net.address("backup", "hb"))


@pytest.mark.needs_root
def test_everything_is_removed_even_when_the_body_fails() -> None:
    created: set[str] = set()
    with pytest.raises(RuntimeError, match="boom"), topology(("a", "b")) as net:
        created = {
            net.switch_namespace,
            net.namespace("a"),
            net.namespace("b"),
            net.namespace("client"),
        }
        sleeper = net.start("a", ["sleep", "600"])
        assert created <= _namespaces()
        raise RuntimeError("boom")
    assert not created & _namespaces()
    assert sleeper.poll() is not None  # the process we started was stopped


@pytest.mark.needs_root
def test_destroy_stops_what_detached_from_the_sessions_it_started() -> None:
    """A daemon's services leave our sessions (setsid); they must not outlive the test."""
    with topology(("master",)) as net:
        started = net.run("master", ["sh", "-c",
                                     "setsid sleep 600 >/dev/null 2>&1 </dev/null & echo $!"])
        pid = int(started.stdout)
        assert is_process_alive(pid)
    assert not is_process_alive(pid)
