"""One haresources resource spec (`IPaddr::198.18.0.50/24/eth0`, `httpd`, `OCF::...`) typed.

Heartbeat's rule: split on `::`; the first field is the script, the rest its arguments. A
spec that starts with a digit and has no `::` is an address for IPaddr (Heartbeat's
ResourceManager did the same with a shell pattern). For IPaddr and IPaddr2 everything after
the first `::` is one argument, `ip[/cidr[/iface][/broadcast]]`, which also lets an IPv6
address (itself full of `::`) through to IPaddr2. OCF parameters are filled in by `build`,
which has the parameter files.
"""

from __future__ import annotations

import ipaddress

from engine.config.errors import ValueProblem
from engine.config.model import IPAddressResource, IPAgent, OcfResource, Resource, ScriptResource
from engine.config.values import check_interface_name, parse_integer, parse_ipv4_address

DEFAULT_OCF_PROVIDER = "heartbeat"
_IP_FORMS = "ip, ip/cidr, ip/cidr/iface, ip/cidr/broadcast or ip/cidr/iface/broadcast"


def parse_resource_spec(spec: str) -> Resource:
    if "::" not in spec and spec[:1].isdigit():
        return _parse_ip_argument(IPAgent.IPADDR, spec, spec)
    script, _, rest = spec.partition("::")
    for agent in IPAgent:
        if script == agent.value:
            return _parse_ip_argument(agent, rest, spec)
    if script == "OCF":
        return _parse_ocf(rest, spec)
    arguments = tuple(rest.split("::")) if rest or spec.endswith("::") else ()
    if not script or "/" in script or not script.isprintable():
        raise ValueProblem(f"{script!r} is not a resource script name", "SCRIPT::ARG::ARG")
    if any(argument == "" for argument in arguments):
        raise ValueProblem(f"{spec!r} has an empty argument", "SCRIPT::ARG::ARG, no empty ARG")
    return ScriptResource(script=script, arguments=arguments, spec=spec)


def _parse_ocf(rest: str, spec: str) -> OcfResource:
    fields = rest.split("::")
    if len(fields) != 2 or not all(fields):
        raise ValueProblem(f"{spec!r} is not OCF::TYPE::INSTANCE", "OCF::IPaddr2::web_ip")
    type_field, instance = fields
    provider, has_provider, agent_type = type_field.partition(":")
    if not has_provider:
        provider, agent_type = DEFAULT_OCF_PROVIDER, type_field
    for name in (provider, agent_type, instance):
        if not name or "/" in name or name in (".", "..") or not name.isprintable():
            raise ValueProblem(
                f"{name!r} in {spec!r} is not a valid OCF name", "OCF::[PROVIDER:]TYPE::INSTANCE"
            )
    return OcfResource(
        provider=provider, agent_type=agent_type, instance=instance, parameters=(), spec=spec
    )


def _parse_prefix_length(text: str, version: int) -> int:
    if version == 4 and text.count(".") == 3:  # a dotted netmask, as old configs write
        try:
            return ipaddress.IPv4Network(f"0.0.0.0/{text}").prefixlen
        except ValueError:
            raise ValueProblem(f"{text!r} is not a netmask", "a prefix length like 24") from None
    return parse_integer(text, minimum=1, maximum=32 if version == 4 else 128, what="cidr")


def _parse_ip_argument(agent: IPAgent, argument: str, spec: str) -> IPAddressResource:
    fields = argument.split("/")
    if len(fields) > 4 or not all(fields):
        raise ValueProblem(f"{spec!r} is not an address argument", _IP_FORMS)
    try:
        address = ipaddress.ip_address(fields[0])
    except ValueError:
        raise ValueProblem(f"{fields[0]!r} is not an IP address", _IP_FORMS) from None
    if address.version == 6 and agent is IPAgent.IPADDR:
        raise ValueProblem("IPaddr handles IPv4 only", "use IPaddr2 for an IPv6 address")
    prefix_length = None if len(fields) < 2 else _parse_prefix_length(fields[1], address.version)
    interface: str | None = None
    broadcast: str | None = None
    if len(fields) == 3:  # Heartbeat's rule: a third field starting with a digit is broadcast
        if fields[2][0].isdigit():
            broadcast = str(parse_ipv4_address(fields[2]))
        else:
            interface = check_interface_name(fields[2])
    elif len(fields) == 4:
        interface = check_interface_name(fields[2])
        broadcast = str(parse_ipv4_address(fields[3]))
    return IPAddressResource(
        agent=agent,
        address=str(address),
        prefix_length=prefix_length,
        interface=interface,
        broadcast=broadcast,
        spec=spec,
    )
