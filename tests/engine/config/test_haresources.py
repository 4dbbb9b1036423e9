"""haresources: groups, continuation, comments and every resource form, good and bad."""

from __future__ import annotations

import pytest

from engine.config.errors import ConfigError
from engine.config.haresources import parse_haresources
from engine.config.model import (
    IPAddressResource,
    IPAgent,
    OcfResource,
    Resource,
    ScriptResource,
    SourceLocation,
)
from engine.config.resources import parse_resource_spec


def ip(
    spec: str,
    address: str,
    *,
    agent: IPAgent = IPAgent.IPADDR,
    prefix_length: int | None = None,
    interface: str | None = None,
    broadcast: str | None = None,
) -> IPAddressResource:
    return IPAddressResource(
        agent=agent,
        address=address,
        prefix_length=prefix_length,
        interface=interface,
        broadcast=broadcast,
        spec=spec,
    )


RESOURCES: list[tuple[str, Resource]] = [
    ("198.18.0.50", ip("198.18.0.50", "198.18.0.50")),
    ("198.18.0.50/24", ip("198.18.0.50/24", "198.18.0.50", prefix_length=24)),
    ("IPaddr::198.18.0.50", ip("IPaddr::198.18.0.50", "198.18.0.50")),
    ("IPaddr::198.18.0.50/24", ip("IPaddr::198.18.0.50/24", "198.18.0.50", prefix_length=24)),
    (
        "IPaddr::198.18.0.50/24/eth0",
        ip("IPaddr::198.18.0.50/24/eth0", "198.18.0.50", prefix_length=24, interface="eth0"),
    ),
    (
        "IPaddr::198.18.0.50/24/198.18.0.255",
        ip(
            "IPaddr::198.18.0.50/24/198.18.0.255",
            "198.18.0.50",
            prefix_length=24,
            broadcast="198.18.0.255",
        ),
    ),
    (
        "IPaddr::198.18.0.50/24/eth0/198.18.0.255",
        ip(
            "IPaddr::198.18.0.50/24/eth0/198.18.0.255",
            "198.18.0.50",
            prefix_length=24,
            interface="eth0",
            broadcast="198.18.0.255",
        ),
    ),
    (
        "IPaddr::198.18.0.50/255.255.255.0",
        ip("IPaddr::198.18.0.50/255.255.255.0", "198.18.0.50", prefix_length=24),
    ),
    (
        "IPaddr2::198.18.0.51/24/eth1",
        ip(
            "IPaddr2::198.18.0.51/24/eth1",
            "198.18.0.51",
            agent=IPAgent.IPADDR2,
            prefix_length=24,
            interface="eth1",
        ),
    ),
    (
        "IPaddr2::fd00::51/64/eth1",
        ip(
            "IPaddr2::fd00::51/64/eth1",
            "fd00::51",
            agent=IPAgent.IPADDR2,
            prefix_length=64,
            interface="eth1",
        ),
    ),
    ("httpd", ScriptResource(script="httpd", arguments=(), spec="httpd")),
    (
        "Filesystem::/dev/sdb1::/data::ext4",
        ScriptResource(
            script="Filesystem",
            arguments=("/dev/sdb1", "/data", "ext4"),
            spec="Filesystem::/dev/sdb1::/data::ext4",
        ),
    ),
    ("drbddisk::r0", ScriptResource(script="drbddisk", arguments=("r0",), spec="drbddisk::r0")),
    (
        "OCF::IPaddr2::web_ip",
        OcfResource(
            provider="heartbeat",
            agent_type="IPaddr2",
            instance="web_ip",
            parameters=(),
            spec="OCF::IPaddr2::web_ip",
        ),
    ),
    (
        "OCF::pacemaker:Dummy::d1",
        OcfResource(
            provider="pacemaker",
            agent_type="Dummy",
            instance="d1",
            parameters=(),
            spec="OCF::pacemaker:Dummy::d1",
        ),
    ),
]


@pytest.mark.parametrize(("spec", "expected"), RESOURCES)
def test_resource_forms(spec: str, expected: Resource) -> None:
    assert parse_resource_spec(spec) == expected


def test_article_line() -> None:
    (group,) = parse_haresources("master IPaddr::198.18.0.50 httpd smb\n")
    assert group.name == "IPaddr::198.18.0.50"
    assert group.preferred_node == "master"
    assert [resource.resource_id for resource in group.resources] == [
        "IPaddr::198.18.0.50",
        "httpd",
        "smb",
    ]
    assert group.location == SourceLocation(file="haresources", line=1)


def test_continuation_comments_and_case() -> None:
    text = (
        "# the web group\n"
        "\n"
        "Alpha 198.18.0.50 \\\n"
        "      httpd \\   \n"
        "      # a comment inside the group\n"
        "beta 198.18.0.60 smb  # samba\n"
    )
    web, files = parse_haresources(text)
    assert (web.preferred_node, web.location.line) == ("alpha", 3)
    assert [resource.resource_id for resource in web.resources] == ["198.18.0.50", "httpd"]
    assert (files.preferred_node, files.location.line) == ("beta", 6)
    assert [resource.resource_id for resource in files.resources] == ["198.18.0.60", "smb"]


def test_empty_file_has_no_groups() -> None:
    assert parse_haresources("# nothing here\n\n") == ()


def test_continuation_on_last_line_keeps_the_group() -> None:
    (group,) = parse_haresources("alpha httpd \\")
    assert group.name == "httpd"


ERRORS: list[tuple[str, str]] = [
    ("alpha\n", "haresources:1: alpha: a group needs a preferred node and at least one resource"),
    ("alpha 198.18.0.300\n", "haresources:1: 198.18.0.300: '198.18.0.300' is not an IP address"),
    ("alpha IPaddr::\n", "haresources:1: IPaddr::: 'IPaddr::' is not an address argument"),
    ("alpha IPaddr::nowhere\n", "haresources:1: IPaddr::nowhere: 'nowhere' is not an IP address"),
    (
        "alpha IPaddr::198.18.0.50/33\n",
        "haresources:1: IPaddr::198.18.0.50/33: cidr 33 is out of range (1..32)",
    ),
    (
        "alpha IPaddr::198.18.0.50/x\n",
        "haresources:1: IPaddr::198.18.0.50/x: cidr 'x' is not a whole number",
    ),
    (
        "alpha IPaddr::198.18.0.50/255.0.255.0\n",
        "haresources:1: IPaddr::198.18.0.50/255.0.255.0: '255.0.255.0' is not a netmask",
    ),
    (
        "alpha IPaddr::198.18.0.50//eth0\n",
        "haresources:1: IPaddr::198.18.0.50//eth0: "
        "'IPaddr::198.18.0.50//eth0' is not an address argument",
    ),
    (
        "alpha IPaddr::198.18.0.50/24/eth0/198.18.0.255/x\n",
        "haresources:1: "
        "IPaddr::198.18.0.50/24/eth0/198.18.0.255/x: 'IPaddr::198.18.0.50/24/eth0/198.18.0.255/x' "
        "is not an address argument",
    ),
    (
        "alpha IPaddr::198.18.0.50/24/9nope\n",
        "haresources:1: IPaddr::198.18.0.50/24/9nope: '9nope' is not an IPv4 address",
    ),
    (
        "alpha IPaddr::198.18.0.50/24/eth0/bcast\n",
        "haresources:1: IPaddr::198.18.0.50/24/eth0/bcast: 'bcast' is not an IPv4 address",
    ),
    (
        "alpha IPaddr::198.18.0.50/24/averyveryverylongname\n",
        "haresources:1: "
        "IPaddr::198.18.0.50/24/averyveryverylongname: 'averyveryverylongname' is not a network "
        "interface name",
    ),
    (
        "alpha IPaddr::fd00::1\n",
        "haresources:1: IPaddr::fd00::1: IPaddr handles IPv4 only "
        "(use IPaddr2 for an IPv6 address)",
    ),
    (
        "alpha OCF::IPaddr2\n",
        "haresources:1: OCF::IPaddr2: 'OCF::IPaddr2' is not OCF::TYPE::INSTANCE",
    ),
    (
        "alpha OCF::IPaddr2::a::b\n",
        "haresources:1: OCF::IPaddr2::a::b: 'OCF::IPaddr2::a::b' is not OCF::TYPE::INSTANCE",
    ),
    (
        "alpha OCF:::Dummy::d1\n",
        "haresources:1: OCF:::Dummy::d1: '' in 'OCF:::Dummy::d1' is not a valid OCF name",
    ),
    (
        "alpha OCF::Dummy::..\n",
        "haresources:1: OCF::Dummy::..: '..' in 'OCF::Dummy::..' is not a valid OCF name",
    ),
    ("alpha ::start\n", "haresources:1: ::start: '' is not a resource script name"),
    (
        "alpha ../../bin/sh\n",
        "haresources:1: ../../bin/sh: '../../bin/sh' is not a resource script name",
    ),
    ("alpha httpd::\n", "haresources:1: httpd::: 'httpd::' has an empty argument"),
    ("alpha httpd\nbeta httpd\n", "haresources:2: httpd: group httpd is already defined on line 1"),
    (
        "alpha 198.18.0.50 httpd\nbeta smb httpd\n",
        "haresources:2: httpd: resource is already used on line 1",
    ),
    ("alpha httpd smb smb\n", "haresources:1: smb: resource is already used on line 1"),
]


@pytest.mark.parametrize(("text", "expected"), ERRORS)
def test_errors(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_haresources(text)
    problems = [str(problem) for problem in raised.value.problems]
    assert any(problem.startswith(expected) for problem in problems), problems


def test_all_bad_lines_are_reported() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_haresources("alpha 198.18.0.300\nbeta\nalpha OCF::x\ngamma ok\n")
    assert [problem.line for problem in raised.value.problems] == [1, 2, 3]
