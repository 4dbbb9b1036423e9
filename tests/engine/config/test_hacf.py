"""ha.cf, directive by directive: what each line yields, warns about, or is refused for."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from engine.config.directives import NOT_IMPLEMENTED
from engine.config.errors import ConfigError
from engine.config.hacf import HaCf, parse_hacf
from engine.config.model import (
    AddressAnnouncement,
    AutoFailback,
    BcastMedium,
    McastMedium,
    PingGroup,
    QuorumLossPolicy,
    Respawn,
    SerialMedium,
    Timed,
    UcastMedium,
    ValueSource,
)

HEAD = "node alpha beta\nauto_failback on\n"  # lines 1-2; test lines start at line 3
TAIL_MEDIUM = "mcast hb0 239.1.1.1 694 1 0\n"
TAIL = McastMedium(interface="hb0", group="239.1.1.1", port=694, ttl=1, is_loopback=False)


def parse(extra: str, *, local_addresses: tuple[str, ...] = ()) -> HaCf:
    return parse_hacf(HEAD + extra + TAIL_MEDIUM, local_addresses=local_addresses)


def problems_of(extra: str, *, head: str = HEAD, tail: str = TAIL_MEDIUM) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        parse_hacf(head + extra + tail)
    return [str(problem) for problem in raised.value.problems]


def set_ms(value_ms: int) -> Timed:
    return Timed(value_ms=value_ms, source=ValueSource.SET)


def derived_ms(value_ms: int) -> Timed:
    return Timed(value_ms=value_ms, source=ValueSource.DERIVED)


Getter = Callable[[HaCf], Any]

ACCEPTED: list[tuple[str, Getter, Any]] = [
    ("", lambda c: c.nodes, ("alpha", "beta")),
    ("node Gamma\n", lambda c: c.nodes, ("alpha", "beta", "gamma")),
    ("node gamma,delta\n", lambda c: c.nodes, ("alpha", "beta", "gamma", "delta")),
    ("", lambda c: c.timings.keepalive, Timed(value_ms=1000, source=ValueSource.DEFAULT)),
    ("", lambda c: c.timings.deadtime, Timed(value_ms=30000, source=ValueSource.DEFAULT)),
    ("", lambda c: c.timings.warntime, derived_ms(15000)),
    ("", lambda c: c.timings.initdead, derived_ms(30000)),
    ("", lambda c: c.timings.deadping, derived_ms(30000)),
    ("keepalive 2\n", lambda c: c.timings.keepalive, set_ms(2000)),
    ("keepalive 500ms\n", lambda c: c.timings.keepalive, set_ms(500)),
    ("keepalive 0.25\n", lambda c: c.timings.keepalive, set_ms(250)),
    ("keepalive 200us\n", lambda c: c.timings.keepalive, set_ms(1)),
    ("deadtime 10\n", lambda c: c.timings.deadtime, set_ms(10000)),
    ("deadtime 10\n", lambda c: c.timings.warntime, derived_ms(5000)),
    ("deadtime 10\n", lambda c: c.timings.deadping, derived_ms(10000)),
    ("deadtime 11\n", lambda c: c.timings.initdead, derived_ms(11000)),  # > 10 s: deadtime
    ("deadtime 10\n", lambda c: c.timings.initdead, derived_ms(20000)),  # 6..10 s: 2 x
    ("deadtime 6\n", lambda c: c.timings.initdead, derived_ms(12000)),
    ("deadtime 5\n", lambda c: c.timings.initdead, derived_ms(12000)),  # < 6 s: 12 s
    ("deadtime 3\n", lambda c: c.timings.initdead, derived_ms(12000)),
    ("warntime 7\n", lambda c: c.timings.warntime, set_ms(7000)),
    ("initdead 60\n", lambda c: c.timings.initdead, set_ms(60000)),
    ("deadping 20\n", lambda c: c.timings.deadping, set_ms(20000)),
    ("deadtime 10\ndeadtime 12\n", lambda c: c.timings.deadtime, set_ms(12000)),
    ("", lambda c: c.udpport, 694),
    ("udpport 695\n", lambda c: c.udpport, 695),
    ("udpport 695\nbcast eth0\n", lambda c: c.media[0], BcastMedium(interface="eth0", port=695)),
    (
        "bcast eth0 eth1\n",
        lambda c: c.media[:2],
        (BcastMedium(interface="eth0", port=694), BcastMedium(interface="eth1", port=694)),
    ),
    ("bcast eth0,eth1\n", lambda c: len(c.media), 3),
    (
        "ucast eth0 198.18.0.2\n",
        lambda c: c.media[0],
        UcastMedium(interface="eth0", peer_address="198.18.0.2", port=694),
    ),
    (
        "ucast eth0 fd00::2\n",
        lambda c: c.media[0],
        UcastMedium(interface="eth0", peer_address="fd00::2", port=694),
    ),
    (
        "mcast eth0 239.0.0.1 700 4 1\n",
        lambda c: c.media[0],
        McastMedium(interface="eth0", group="239.0.0.1", port=700, ttl=4, is_loopback=True),
    ),
    ("", lambda c: c.media, (TAIL,)),
    ("serial /dev/ttyS0\n", lambda c: c.media[0], SerialMedium(device="/dev/ttyS0", baud=19200)),
    (
        "baud 115200\nserial /dev/ttyS0\n",
        lambda c: c.media[0],
        SerialMedium(device="/dev/ttyS0", baud=115200),
    ),
    ("auto_failback off\n", lambda c: c.auto_failback, AutoFailback.OFF),
    ("auto_failback legacy\n", lambda c: c.auto_failback, AutoFailback.LEGACY),
    ("auto_failback yes\n", lambda c: c.auto_failback, AutoFailback.ON),
    ("ping 198.18.0.1 198.18.0.254\n", lambda c: c.ping_nodes, ("198.18.0.1", "198.18.0.254")),
    (
        "ping_group uplink 198.18.0.1 198.18.0.2\n",
        lambda c: c.ping_groups,
        (PingGroup(name="uplink", addresses=("198.18.0.1", "198.18.0.2")),),
    ),
    (
        "respawn hacluster /usr/lib/heartbeat/ipfail -v\n",
        lambda c: c.respawns,
        (Respawn(user="hacluster", command=("/usr/lib/heartbeat/ipfail", "-v")),),
    ),
    ("logfacility local0\n", lambda c: c.logfacility, "local0"),
    ("logfacility none\n", lambda c: c.logfacility, "none"),
    ("", lambda c: c.logfacility, None),
    ("logfile /var/log/ha-log\n", lambda c: c.logfile, "/var/log/ha-log"),
    ("debugfile /var/log/ha-debug\n", lambda c: c.debugfile, "/var/log/ha-debug"),
    ("watchdog /dev/watchdog\n", lambda c: c.watchdog_device, "/dev/watchdog"),
    ("", lambda c: c.is_realtime, True),
    ("realtime off\n", lambda c: c.is_realtime, False),
    ("crm off\n", lambda c: c.nodes, ("alpha", "beta")),
    ("crm no\n", lambda c: c.nodes, ("alpha", "beta")),
    ("", lambda c: c.quorum_loss_policy, QuorumLossPolicy.STOP),
    ("no_quorum_policy freeze\n", lambda c: c.quorum_loss_policy, QuorumLossPolicy.FREEZE),
    ("", lambda c: c.announcement, AddressAnnouncement(count=5, interval_ms=200, refresh_ms=None)),
    (
        "arp_count 10\narp_interval 500ms\narp_refresh 60\n",
        lambda c: c.announcement,
        AddressAnnouncement(count=10, interval_ms=500, refresh_ms=60000),
    ),
    ("arp_refresh 60\narp_refresh off\n", lambda c: c.announcement.refresh_ms, None),
    ("  keepalive   3 # every three seconds\n", lambda c: c.timings.keepalive, set_ms(3000)),
    ("KeepAlive 3\n", lambda c: c.timings.keepalive, set_ms(3000)),
    ("\tdeadtime\t40\r\n", lambda c: c.timings.deadtime, set_ms(40000)),
    ("# a comment only\n\n   \n", lambda c: c.nodes, ("alpha", "beta")),
]


@pytest.mark.parametrize(("extra", "getter", "expected"), ACCEPTED)
def test_directive_is_parsed(extra: str, getter: Getter, expected: Any) -> None:
    assert getter(parse(extra)) == expected


def test_nice_failback_on_means_auto_failback_off() -> None:
    config = parse_hacf("node a b\nnice_failback on\nbcast eth0\n")
    assert config.auto_failback is AutoFailback.OFF
    assert any("obsolete; read as auto_failback off" in w.message for w in config.warnings)


def test_auto_failback_absent_is_legacy_with_a_warning() -> None:
    config = parse_hacf("node a b\nbcast eth0\n")
    assert config.auto_failback is AutoFailback.LEGACY
    assert any("auto_failback: not set" in w.message for w in config.warnings)


def test_ucast_to_own_address_is_ignored() -> None:
    text = "node a b\nauto_failback on\nucast eth0 198.18.0.1\nucast eth0 198.18.0.2\n"
    on_first = parse_hacf(text, local_addresses=["198.18.0.1"])
    on_second = parse_hacf(text, local_addresses=["198.18.0.2", "fd00::9"])
    assert on_first.media == (UcastMedium(interface="eth0", peer_address="198.18.0.2", port=694),)
    assert on_second.media == (UcastMedium(interface="eth0", peer_address="198.18.0.1", port=694),)


def test_udpport_applies_only_to_later_media() -> None:
    config = parse_hacf("node a b\nauto_failback on\nbcast eth0\nudpport 700\nbcast eth1\n")
    assert config.media == (
        BcastMedium(interface="eth0", port=694),
        BcastMedium(interface="eth1", port=700),
    )
    assert config.udpport == 700
    (warning,) = [w for w in config.warnings if w.message.startswith("udpport")]
    assert warning.location.line == 4
    assert "does not apply to the media lines above it (line 3)" in warning.message


def test_baud_applies_only_to_later_serial_lines() -> None:
    config = parse_hacf(
        "node a b\nauto_failback on\nserial /dev/ttyS0\nbaud 38400\nserial /dev/ttyS1\n"
    )
    assert config.media == (
        SerialMedium(device="/dev/ttyS0", baud=19200),
        SerialMedium(device="/dev/ttyS1", baud=38400),
    )
    assert any("baud: 38400 does not apply" in w.message for w in config.warnings)


def test_stonith_directives() -> None:
    config = parse(
        "stonith external/ipmi /etc/ha.d/ipmi.cfg\n"
        "stonith_host alpha external/ipmi beta 198.18.0.9 admin s3,cret lanplus\n"
        "stonith_host * fence_ipmilan ip=198.18.0.9 username=admin password=a=b port\n"
    )
    whole, positional, named = config.stonith_devices
    assert (whole.device_type, whole.from_node, whole.config_file) == (
        "external/ipmi",
        "*",
        "/etc/ha.d/ipmi.cfg",
    )
    assert positional.from_node == "alpha"
    assert positional.parameters == ("beta", "198.18.0.9", "admin", "s3,cret", "lanplus")
    assert positional.named_parameters == ()
    assert named.from_node == "*"
    assert named.parameters == ("port",)
    assert named.named_parameters == (
        ("ip", "198.18.0.9"),
        ("username", "admin"),
        ("password", "a=b"),
    )
    assert named.location.line == 5


@pytest.mark.parametrize("directive", sorted(NOT_IMPLEMENTED))
def test_known_unimplemented_directive_is_accepted_with_one_warning(directive: str) -> None:
    config = parse(f"{directive} some value\n{directive} other value\n")
    warnings = [w for w in config.warnings if w.message.startswith(f"{directive}:")]
    assert len(warnings) == 1
    assert warnings[0].location.line == 3
    assert "not implemented by hactl, ignored" in warnings[0].message


WARNED: list[tuple[str, str]] = [
    (
        "deadtime 10\ndeadtime 12\n",
        "ha.cf:4: deadtime: set again; the value on line 3 is overridden",
    ),
    ("node alpha\n", "ha.cf:3: node: alpha is listed more than once"),
    ("baud 38400\n", "ha.cf:3: baud: has no effect without a serial line"),
    ("warntime 30\n", "ha.cf:3: warntime: is not shorter than deadtime"),
    ("warntime 1\n", "ha.cf:3: warntime: is not longer than keepalive"),
]


@pytest.mark.parametrize(("extra", "expected"), WARNED)
def test_warnings(extra: str, expected: str) -> None:
    warnings = [str(warning) for warning in parse(extra).warnings]
    assert any(warning.startswith(expected) for warning in warnings), warnings


def test_nice_failback_off_means_auto_failback_on() -> None:
    config = parse_hacf("node a b\nnice_failback off\nbcast eth0\n")
    assert config.auto_failback is AutoFailback.ON
    assert "ha.cf:2: nice_failback: is obsolete; read as auto_failback on" in [
        str(warning) for warning in config.warnings
    ]


ERRORS: list[tuple[str, str]] = [
    (
        "keepalive 500 ms\n",
        "ha.cf:3: keepalive 500 ms: the unit must follow the number without a space (500ms)",
    ),
    (
        "deadtime 30 s\n",
        "ha.cf:3: deadtime 30 s: the unit must follow the number without a space (30s)",
    ),
    ("keepalive\n", "ha.cf:3: keepalive: needs a value"),
    ("keepalive 1 2\n", "ha.cf:3: keepalive: takes one value, got 2: 1 2"),
    ("keepalive fast\n", "ha.cf:3: keepalive: 'fast' is not a time"),
    ("keepalive 5min\n", "ha.cf:3: keepalive: '5min' has an unknown unit 'min' (use ms or us)"),
    ("keepalive 0\n", "ha.cf:3: keepalive: must be longer than 0"),
    (
        "keepalive 2\ndeadtime 4\n",
        "ha.cf:4: deadtime: deadtime 4s must be more than twice "
        "keepalive 2s (raise deadtime above 4s or lower keepalive)",
    ),
    ("keepalive 20\n", "ha.cf:3: deadtime: deadtime 30s must be more than twice keepalive 20s"),
    ("initdead 20\n", "ha.cf:3: initdead: initdead 20s is shorter than deadtime 30s"),
    ("deadping 2\n", "ha.cf:3: deadping: deadping 2s must be more than twice keepalive 1s"),
    ("udpport 0\n", "ha.cf:3: udpport: port 0 is out of range (1..65535)"),
    ("udpport 65536\n", "ha.cf:3: udpport: port 65536 is out of range (1..65535)"),
    ("udpport http\n", "ha.cf:3: udpport: port 'http' is not a whole number"),
    ("bcast\n", "ha.cf:3: bcast: needs at least one interface"),
    (
        "bcast averyveryverylongname\n",
        "ha.cf:3: bcast: 'averyveryverylongname' is not a network interface name",
    ),
    ("ucast eth0\n", "ha.cf:3: ucast: needs an interface and a peer address"),
    ("ucast eth0 peer\n", "ha.cf:3: ucast: 'peer' is not an IP address"),
    ("mcast eth0 239.0.0.1 694 1\n", "ha.cf:3: mcast: needs 5 fields, got 4"),
    ("mcast eth0 239.0.0.1 694 1 0 9\n", "ha.cf:3: mcast: needs 5 fields, got 6"),
    (
        "mcast eth0 198.18.0.1 694 1 0\n",
        "ha.cf:3: mcast: 198.18.0.1 is not an IPv4 multicast group",
    ),
    ("mcast eth0 239.0.0.1 694 5 0\n", "ha.cf:3: mcast: ttl 5 is out of range (1..4)"),
    ("mcast eth0 239.0.0.1 694 0 0\n", "ha.cf:3: mcast: ttl 0 is out of range (1..4)"),
    ("mcast eth0 239.0.0.1 694 1 2\n", "ha.cf:3: mcast: loop '2' must be 0 or 1"),
    ("mcast eth0 239.0.0.1 99999 1 0\n", "ha.cf:3: mcast: port 99999 is out of range"),
    ("serial ttyS0\n", "ha.cf:3: serial: 'ttyS0' is not a device path"),
    ("baud 12345\n", "ha.cf:3: baud: baud rate 12345 is not supported"),
    ("auto_failback maybe\n", "ha.cf:3: auto_failback: 'maybe' is not on, off or legacy"),
    ("nice_failback on\n", "ha.cf:3: nice_failback: conflicts with auto_failback on line 2"),
    (
        "crm on\n",
        "ha.cf:3: crm: crm on asks for Pacemaker mode, which ignores haresources; "
        "hactl runs haresources (Heartbeat v1) clusters",
    ),
    ("crm respawn\n", "ha.cf:3: crm: crm respawn asks for Pacemaker mode"),
    ("crm yes\n", "ha.cf:3: crm: crm yes asks for Pacemaker mode"),
    ("crm sometimes\n", "ha.cf:3: crm: 'sometimes' is not on or off"),
    ("realtime perhaps\n", "ha.cf:3: realtime: 'perhaps' is not a yes/no value (use on or off)"),
    ("ping\n", "ha.cf:3: ping: needs an address"),
    ("ping router\n", "ha.cf:3: ping: 'router' is not an IP address"),
    ("ping_group uplink\n", "ha.cf:3: ping_group: needs a name and an address"),
    ("respawn hacluster\n", "ha.cf:3: respawn: needs a user and a program"),
    ("stonith external/ipmi\n", "ha.cf:3: stonith: needs a device type and a config file"),
    ("stonith_host *\n", "ha.cf:3: stonith_host: needs a node (or *) and a device type"),
    ("stonith_host gamma null\n", "ha.cf:3: stonith_host: gamma is not a node of this cluster"),
    ("logfacility local9\n", "ha.cf:3: logfacility: 'local9' is not a syslog facility"),
    ("logfile\n", "ha.cf:3: logfile: needs a value"),
    ("no_quorum_policy ignore\n", "ha.cf:3: no_quorum_policy: 'ignore' is not stop or freeze"),
    ("monitor httpd\n", "ha.cf:3: monitor: needs a resource and an interval"),
    ("monitor httpd 0\n", "ha.cf:3: monitor: interval must be longer than 0"),
    ("monitor httpd 10 retries=3\n", "ha.cf:3: monitor: unknown option 'retries=3'"),
    ("monitor httpd 10 restarts=-1\n", "ha.cf:3: monitor: restarts '-1' is not a whole number"),
    ("monitor httpd 10 timeout=5 timeout=6\n", "ha.cf:3: monitor: timeout is given twice"),
    ("keeplive 2\n", "ha.cf:3: keeplive: unknown directive (did you mean keepalive?)"),
    ("dedtime 2\n", "ha.cf:3: dedtime: unknown directive (did you mean deadtime?)"),
    ("frobnicate\n", "ha.cf:3: frobnicate: unknown directive (see docs/config.md"),
    ("node\n", "ha.cf:3: node: needs at least one node name"),
    ("node alpha/2\n", "ha.cf:3: node: 'alpha/2' is not a host name"),
    ("serial\n", "ha.cf:3: serial: needs at least one device"),
    ("baud fast\n", "ha.cf:3: baud: baud rate 'fast' is not a whole number"),
    ("nice_failback maybe\n", "ha.cf:3: nice_failback: 'maybe' is not a yes/no value"),
    (
        "ping_group uplink 198.18.0.1 gateway\n",
        "ha.cf:3: ping_group: 'gateway' is not an IP address",
    ),
    ("watchdog\n", "ha.cf:3: watchdog: needs a value"),
    ("debugfile a b\n", "ha.cf:3: debugfile: takes one value, got 2: a b"),
    ("no_quorum_policy\n", "ha.cf:3: no_quorum_policy: needs a value"),
    ("arp_count 0\n", "ha.cf:3: arp_count: announcement count 0 is"),
    ("arp_count many\n", "ha.cf:3: arp_count: announcement count 'many' is not a whole number"),
    ("arp_interval 5ms\n", "ha.cf:3: arp_interval: 5ms is outside 10ms..10s"),
    (
        "arp_interval 200 ms\n",
        "ha.cf:3: arp_interval 200 ms: the unit must follow the number without a space (200ms)",
    ),
    ("arp_refresh 100ms\n", "ha.cf:3: arp_refresh: 100ms is too often"),
    ("udpport 1 2\n", "ha.cf:3: udpport: takes one value, got 2: 1 2"),
    ("mcast eth0 ff02::1 694 1 0\n", "ha.cf:3: mcast: ff02::1 is not an IPv4 multicast group"),
    ("mcast eth0 239.0.0.1 694 x 0\n", "ha.cf:3: mcast: ttl 'x' is not a whole number"),
    (
        "ucast averyveryverylongname 198.18.0.2\n",
        "ha.cf:3: ucast: 'averyveryverylongname' is not a network interface name",
    ),
    ("bcast eth/0\n", "ha.cf:3: bcast: 'eth/0' is not a network interface name"),
    ("warntime 0\n", "ha.cf:3: warntime: must be longer than 0"),
    ("initdead 0us\n", "ha.cf:3: initdead: must be longer than 0"),
    ("deadtime 100000\n", "ha.cf:3: deadtime: '100000' is longer than a day"),
    ("realtime\n", "ha.cf:3: realtime: needs a value"),
    ("crm\n", "ha.cf:3: crm: needs a value"),
    ("monitor httpd 10 timeout=0\n", "ha.cf:3: monitor: timeout must be longer than 0"),
    ("monitor httpd 10 restarts=101\n", "ha.cf:3: monitor: restarts 101 is out of range"),
    ("monitor httpd 10 timeout\n", "ha.cf:3: monitor: unknown option 'timeout'"),
]


@pytest.mark.parametrize(("extra", "expected"), ERRORS)
def test_errors(extra: str, expected: str) -> None:
    problems = problems_of(extra)
    assert any(problem.startswith(expected) for problem in problems), problems


def test_no_node_and_no_medium_are_errors() -> None:
    assert problems_of("", head="", tail="") == [
        "ha.cf: node: no node is listed (add a `node NAME` line for each member)",
        "ha.cf: media: no communication medium (bcast, ucast, mcast or serial) "
        "(add a medium, e.g. bcast eth0)",
    ]


def test_only_own_ucast_addresses_is_no_medium() -> None:
    with pytest.raises(ConfigError, match="every ucast line names this node's own address"):
        parse_hacf("node a b\nucast eth0 198.18.0.1\n", local_addresses=["198.18.0.1"])


def test_all_problems_are_reported_in_one_run_in_line_order() -> None:
    problems = problems_of(
        "keepalive 500 ms\nbcst eth0\nmcast eth0 239.0.0.1 694 9 0\ncrm on\nudpport 0\n"
    )
    lines = [problem.split(":")[1] for problem in problems]
    assert lines == ["3", "4", "5", "6", "7"]


def test_file_name_is_used_in_messages() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_hacf("bogus 1\n", file_name="/etc/ha.d/ha.cf")
    assert "/etc/ha.d/ha.cf:1: bogus: unknown directive" in str(raised.value).splitlines()[2]


@pytest.mark.parametrize("name", ["keepalive", "deadtime", "warntime", "initdead", "deadping"])
def test_a_zero_time_is_one_error(name: str) -> None:
    assert problems_of(f"{name} 0\n") == [
        f"ha.cf:3: {name}: must be longer than 0 (e.g. 2 or 500ms)"
    ]
