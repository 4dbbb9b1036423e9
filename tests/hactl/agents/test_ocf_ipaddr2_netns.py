"""Debian's real OCF IPaddr2 agent, driven by hactl in a namespace.

It shows that OCF agents which touch the kernel work under our runner (environment,
parameters from conf/OCF/IPaddr2/INSTANCE, exit codes) inside a namespace. The agent needs
`ip` and resource-agents' own send_arp (/usr/libexec/heartbeat/send_arp), both installed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hactl.testbed.netns import topology
from tests.hactl.agents.netns_helpers import address_entry, debug, interface_addresses
from tests.hactl.agents.test_ocf import require_resource_agents

pytestmark = pytest.mark.needs_root


def test_real_ipaddr2_agent_start_monitor_stop(tmp_path: Path) -> None:
    require_resource_agents()
    config_dir = tmp_path / "ha.d"
    parameters = config_dir / "conf" / "OCF" / "IPaddr2" / "vip"
    parameters.parent.mkdir(parents=True)
    parameters.write_text("ip=198.18.0.80\ncidr_netmask=24\nnic=eth0\n")
    options = ("--config-dir", str(config_dir))
    with topology(("master",), networks=("main",), has_client=False) as net:
        before = interface_addresses(net, "master")
        assert debug(net, "master", "monitor", "OCF::IPaddr2::vip", *options).returncode == 3
        started = debug(net, "master", "start", "OCF::IPaddr2::vip", *options)
        assert started.returncode == 0, started.stdout + started.stderr
        assert "(timeout 20000 ms)" in started.stdout  # IPaddr2's meta-data, not our fallback
        entry = address_entry(net, "master", "198.18.0.80")
        assert entry is not None and entry["prefixlen"] == 24
        assert debug(net, "master", "monitor", "OCF::IPaddr2::vip", *options).returncode == 0
        stopped = debug(net, "master", "stop", "OCF::IPaddr2::vip", *options)
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr
        assert interface_addresses(net, "master") == before
        assert debug(net, "master", "monitor", "OCF::IPaddr2::vip", *options).returncode == 3
