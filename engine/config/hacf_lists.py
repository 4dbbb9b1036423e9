"""ha.cf handlers for directives that add to a list: nodes, media, ping, respawn, fencing.

Media take the `udpport` or `baud` in force at their line (Heartbeat's ordering rule), and
a `ucast` to one of this node's own addresses adds nothing. `stonith_host` keeps
`name=value` tokens as named parameters (a hactl extension) and the rest positional.
"""

from __future__ import annotations

from engine.config import media as media_lines
from engine.config.errors import ValueProblem
from engine.config.hacf_draft import Directive, Draft
from engine.config.model import Medium, PingGroup, Respawn, StonithDevice
from engine.config.monitor import parse_monitor
from engine.config.values import parse_ip_address


def handle_node(draft: Draft, directive: Directive) -> None:
    if not directive.values:
        draft.log.error(directive.line, "node", "needs at least one node name", "node alpha")
    for name in directive.values:
        lowered = name.lower()
        if lowered in draft.nodes:
            draft.log.warn(directive.line, "node", f"{lowered} is listed more than once")
            continue
        if "/" in name or not name.isprintable():
            draft.log.error(directive.line, "node", f"{name!r} is not a host name")
            continue
        draft.nodes.append(lowered)


def handle_media(draft: Draft, directive: Directive) -> None:
    try:
        match directive.name:
            case "bcast":
                new: list[Medium] = list(
                    media_lines.parse_bcast(directive.values, port=draft.udpport)
                )
            case "ucast":
                new = list(
                    media_lines.parse_ucast(
                        directive.values, port=draft.udpport, local_addresses=draft.local_addresses
                    )
                )
                if not new:
                    draft.ucast_lines_all_local.append(directive.line)
            case "mcast":
                new = [media_lines.parse_mcast(directive.values)]
            case "serial":
                new = list(media_lines.parse_serial(directive.values, baud=draft.baud))
            case _:
                raise AssertionError(directive.name)
    except ValueProblem as problem:
        draft.log.value_error(directive.line, directive.name, problem)
        return
    if directive.name in ("bcast", "ucast"):
        draft.udp_media_lines.append(directive.line)
    if directive.name == "serial":
        draft.serial_lines.append(directive.line)
    draft.media.extend(new)


def handle_ping(draft: Draft, directive: Directive) -> None:
    if directive.name == "ping_group":
        if len(directive.values) < 2:
            draft.log.error(
                directive.line,
                "ping_group",
                "needs a name and an address",
                "ping_group uplink 198.18.0.1 198.18.0.2",
            )
            return
        name, addresses = directive.values[0], directive.values[1:]
    else:
        if not directive.values:
            draft.log.error(directive.line, "ping", "needs an address", "ping 198.18.0.1")
            return
        name, addresses = "", directive.values
    try:
        checked = tuple(str(parse_ip_address(text)) for text in addresses)
    except ValueProblem as problem:
        draft.log.value_error(directive.line, directive.name, problem)
        return
    if name:
        draft.ping_groups.append(PingGroup(name=name, addresses=checked))
    else:
        draft.ping_nodes.extend(checked)


def handle_respawn(draft: Draft, directive: Directive) -> None:
    if len(directive.values) < 2:
        draft.log.error(
            directive.line,
            "respawn",
            "needs a user and a program",
            "respawn hacluster /usr/lib/heartbeat/ipfail",
        )
        return
    user, *command = directive.values
    draft.respawns.append(Respawn(user=user, command=tuple(command)))


def handle_stonith(draft: Draft, directive: Directive) -> None:
    location = draft.location(directive.line)
    if directive.name == "stonith":
        if len(directive.values) != 2:
            draft.log.error(
                directive.line,
                "stonith",
                "needs a device type and a config file",
                "stonith external/ipmi /etc/ha.d/stonith.cfg",
            )
            return
        device_type, config_file = directive.values
        draft.stonith_devices.append(
            StonithDevice(
                device_type=device_type,
                from_node="*",
                parameters=(),
                named_parameters=(),
                config_file=config_file,
                location=location,
            )
        )
        return
    if len(directive.values) < 2:
        draft.log.error(
            directive.line,
            "stonith_host",
            "needs a node (or *) and a device type",
            "stonith_host * external/ipmi ...",
        )
        return
    from_node, device_type, *rest = directive.values
    named = tuple(tuple(token.split("=", 1)) for token in rest if "=" in token[1:])
    draft.stonith_devices.append(
        StonithDevice(
            device_type=device_type,
            from_node=from_node.lower(),
            parameters=tuple(token for token in rest if "=" not in token[1:]),
            named_parameters=tuple((name, value) for name, value in named),
            config_file=None,
            location=location,
        )
    )


def handle_monitor(draft: Draft, directive: Directive) -> None:
    try:
        draft.monitors.append(parse_monitor(directive.values, draft.location(directive.line)))
    except ValueProblem as problem:
        draft.log.value_error(directive.line, "monitor", problem)
