"""What `hactl config check` shows: a `ClusterConfig` as readable text or a JSON document.

Pure, so the CLI stays a thin shell and the rendering is tested from strings. Both forms say
where each timing came from (set, default, derived) and never show a secret: authkeys
secrets are left out entirely, and STONITH parameters (which usually hold a password) show
only their names and count.
"""

from __future__ import annotations

import re
from typing import Any

from engine.config.model import (
    AddressAnnouncement,
    BcastMedium,
    ClusterConfig,
    IPAddressResource,
    McastMedium,
    Medium,
    OcfResource,
    Resource,
    ScriptResource,
    SerialMedium,
    StonithDevice,
    Timed,
    UcastMedium,
)
from engine.config.timings import TIMING_DIRECTIVES, format_duration

_SECRET_NAME = re.compile(r"pass|secret|key|token|community", re.IGNORECASE)


def _timing(config: ClusterConfig, name: str) -> Timed:
    timed = getattr(config.timings, name)
    assert isinstance(timed, Timed)
    return timed


def medium_document(medium: Medium) -> dict[str, Any]:
    match medium:
        case BcastMedium():
            return {"type": "bcast", "interface": medium.interface, "port": medium.port}
        case UcastMedium():
            return {
                "type": "ucast",
                "interface": medium.interface,
                "peer_address": medium.peer_address,
                "port": medium.port,
            }
        case McastMedium():
            return {
                "type": "mcast",
                "interface": medium.interface,
                "group": medium.group,
                "port": medium.port,
                "ttl": medium.ttl,
                "is_loopback": medium.is_loopback,
            }
        case SerialMedium():
            return {"type": "serial", "device": medium.device, "baud": medium.baud}


def resource_document(resource: Resource) -> dict[str, Any]:
    match resource:
        case IPAddressResource():
            return {
                "spec": resource.spec,
                "kind": resource.agent.value,
                "address": resource.address,
                "prefix_length": resource.prefix_length,
                "interface": resource.interface,
                "broadcast": resource.broadcast,
            }
        case ScriptResource():
            return {
                "spec": resource.spec,
                "kind": "script",
                "script": resource.script,
                "arguments": list(resource.arguments),
            }
        case OcfResource():
            return {
                "spec": resource.spec,
                "kind": "ocf",
                "provider": resource.provider,
                "type": resource.agent_type,
                "instance": resource.instance,
                "parameters": dict(resource.parameters),
            }


def _shown_value(name: str, value: str) -> str:
    return "<hidden>" if _SECRET_NAME.search(name) else value


def stonith_document(device: StonithDevice) -> dict[str, Any]:
    return {
        "device_type": device.device_type,
        "from_node": device.from_node,
        "positional_parameter_count": len(device.parameters),  # may hold passwords
        "named_parameters": {
            name: _shown_value(name, value) for name, value in device.named_parameters
        },
        "config_file": device.config_file,
        "line": device.location.line,
    }


def config_document(config: ClusterConfig) -> dict[str, Any]:
    """The JSON form: times in milliseconds under `*_ms` keys, sources under `*_source`."""
    timings: dict[str, Any] = {}
    for name in TIMING_DIRECTIVES:
        timed = _timing(config, name)
        timings[f"{name}_ms"] = timed.value_ms
        timings[f"{name}_source"] = timed.source.value
    return {
        "valid": True,
        "local_node": config.local_node,
        "nodes": list(config.nodes),
        "timings": timings,
        "udpport": config.udpport,
        "media": [medium_document(medium) for medium in config.media],
        "auth": {
            "active_index": config.auth.active_index,
            "method": config.auth.active_key.method.value,
            "keys": [{"index": key.index, "method": key.method.value} for key in config.auth.keys],
        },
        "auto_failback": config.auto_failback.value,
        "no_quorum_policy": config.quorum_loss_policy.value,
        "address_announcement": {
            "count": config.address_announcement.count,
            "interval_ms": config.address_announcement.interval_ms,
            "refresh_ms": config.address_announcement.refresh_ms,
        },
        "ping_nodes": list(config.ping_nodes),
        "ping_groups": [
            {"name": group.name, "addresses": list(group.addresses)} for group in config.ping_groups
        ],
        "groups": [
            {
                "name": group.name,
                "preferred_node": group.preferred_node,
                "resources": [resource_document(resource) for resource in group.resources],
                "line": group.location.line,
            }
            for group in config.groups
        ],
        "fencing": [stonith_document(device) for device in config.stonith_devices],
        "monitors": [
            {
                "resource": monitor.resource_id,
                "interval_ms": monitor.interval_ms,
                "timeout_ms": monitor.timeout_ms,
                "max_restarts": monitor.max_restarts,
            }
            for monitor in config.monitors
        ],
        "respawns": [
            {"user": respawn.user, "command": list(respawn.command)} for respawn in config.respawns
        ],
        "logfile": config.logfile,
        "debugfile": config.debugfile,
        "logfacility": config.logfacility,
        "watchdog_device": config.watchdog_device,
        "is_realtime": config.is_realtime,
        "warnings": [str(warning) for warning in config.warnings],
    }


def describe_medium(medium: Medium) -> str:
    match medium:
        case BcastMedium():
            return f"bcast {medium.interface} port {medium.port}"
        case UcastMedium():
            return f"ucast {medium.interface} to {medium.peer_address} port {medium.port}"
        case McastMedium():
            loop = "on" if medium.is_loopback else "off"
            return (
                f"mcast {medium.interface} group {medium.group} port {medium.port} "
                f"ttl {medium.ttl} loop {loop}"
            )
        case SerialMedium():
            return f"serial {medium.device} at {medium.baud} baud"


def describe_resource(resource: Resource) -> str:
    match resource:
        case IPAddressResource():
            details = [f"{resource.agent.value} {resource.address}"]
            if resource.prefix_length is not None:
                details[0] += f"/{resource.prefix_length}"
            details.append(
                f"on {resource.interface}"
                if resource.interface
                else "interface from the covering route"
            )
            if resource.broadcast is not None:
                details.append(f"broadcast {resource.broadcast}")
            return ", ".join(details)
        case ScriptResource():
            arguments = " ".join(resource.arguments)
            return f"script {resource.script}" + (f" {arguments}" if arguments else "")
        case OcfResource():
            return (
                f"OCF {resource.provider}:{resource.agent_type} instance "
                f"{resource.instance} ({len(resource.parameters)} parameters)"
            )


def _describe_device(device: StonithDevice) -> str:
    source = (
        f"config file {device.config_file}"
        if device.config_file
        else (f"{len(device.parameters)} positional parameters")
    )
    named = ", ".join(
        f"{name}={_shown_value(name, value)}" for name, value in device.named_parameters
    )
    where = "any node" if device.from_node == "*" else device.from_node
    return f"{device.device_type} used from {where}: {source}" + (f"; {named}" if named else "")


def _section(title: str, items: list[str], empty: str) -> list[str]:
    if not items:
        return [f"{title}: {empty}"]
    return [f"{title}:", *(f"  {item}" for item in items)]


def render_summary(config: ClusterConfig, *, config_dir: str) -> str:
    """The readable form printed by `hactl config check`."""
    nodes = ", ".join(
        f"{node} (this node)" if node == config.local_node else node for node in config.nodes
    )
    timings = [
        f"{name:<10} {format_duration(_timing(config, name).value_ms):>8}  "
        f"({_timing(config, name).source.value})"
        for name in TIMING_DIRECTIVES
    ]
    key = config.auth.active_key
    groups: list[str] = []
    for group in config.groups:
        groups.append(f"{group.name} (preferred node {group.preferred_node}), start order:")
        groups.extend(
            f"  {position}. {resource.spec}: {describe_resource(resource)}"
            for position, resource in enumerate(group.resources, start=1)
        )
    monitors = [
        f"{monitor.resource_id} every {format_duration(monitor.interval_ms)}, "
        f"timeout {format_duration(monitor.timeout_ms)}, "
        f"{monitor.max_restarts} restarts before failover"
        for monitor in config.monitors
    ]
    lines = [
        f"Configuration in {config_dir} is valid for node {config.local_node}.",
        f"Nodes: {nodes}",
        *_section("Timings", timings, "none"),
        f"UDP port: {config.udpport}",
        *_section("Media", [describe_medium(medium) for medium in config.media], "none"),
        f"Authentication: key {key.index}, {key.method.value} "
        f"({len(config.auth.keys)} key(s) accepted on receipt)",
        f"auto_failback: {config.auto_failback.value}",
        f"no_quorum_policy: {config.quorum_loss_policy.value}",
        f"Address announcement: {_describe_announcement(config.address_announcement)}",
        *_section(
            "Ping nodes",
            [
                *config.ping_nodes,
                *(
                    f"group {group.name}: {' '.join(group.addresses)}"
                    for group in config.ping_groups
                ),
            ],
            "none",
        ),
        *_section("Resource groups", groups, "none"),
        *_section(
            "Fencing",
            [_describe_device(device) for device in config.stonith_devices],
            "none configured (a takeover cannot protect shared data)",
        ),
        *_section("Monitors", monitors, "none"),
        *_section(
            f"Warnings ({len(config.warnings)})",
            [str(warning) for warning in config.warnings],
            "none",
        ),
    ]
    return "\n".join(lines)


def _describe_announcement(announcement: AddressAnnouncement) -> str:
    burst = f"{announcement.count} ARP pair(s) {announcement.interval_ms} ms apart"
    if announcement.refresh_ms is None:
        return f"{burst}, no refresh"
    return f"{burst}, refreshed every {announcement.refresh_ms} ms"
