"""Cluster configurations the simulator makes up when it is not given a config directory.

`hactl sim --nodes 5 --groups 8` needs a whole `ClusterConfig` without any files: nodes
`node1..nodeN`, groups spread round-robin over their preferred nodes (each one floating IP
in the test range plus one service), two heartbeat links, a test fence device and short
timings so that a simulated minute holds many failovers. It builds the typed model
directly (no parser), with every value marked as set.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.config.model import (
    AuthConfig,
    AuthKey,
    AuthMethod,
    AutoFailback,
    BcastMedium,
    ClusterConfig,
    IPAddressResource,
    IPAgent,
    MonitorPolicy,
    QuorumLossPolicy,
    ResourceGroup,
    ScriptResource,
    SourceLocation,
    StonithDevice,
    Timed,
    Timings,
    ValueSource,
)

# A device only the simulator drives: never a real power switch.
TEST_FENCE_DEVICE_TYPE = "hactl-sim"


@dataclass(frozen=True, slots=True, kw_only=True)
class ClusterShape:
    """What a generated cluster looks like; the defaults are the CI seed sweep's."""

    node_count: int = 2
    group_count: int = 2
    resources_per_group: int = 2
    link_count: int = 2
    is_fencing: bool = True
    auto_failback: AutoFailback = AutoFailback.ON
    keepalive_ms: int = 200
    deadtime_ms: int = 2000
    warntime_ms: int = 1000
    initdead_ms: int = 4000
    ping_nodes: tuple[str, ...] = ()
    quorum_loss_policy: QuorumLossPolicy = QuorumLossPolicy.STOP
    monitor_interval_ms: int | None = None  # monitor every service resource (not the IPs)
    monitor_max_restarts: int = 2

    def __post_init__(self) -> None:
        assert 2 <= self.node_count <= 32, self.node_count
        assert self.group_count >= 0 and self.resources_per_group >= 1
        assert 1 <= self.link_count <= 2
        assert self.deadtime_ms > 2 * self.keepalive_ms
        assert self.initdead_ms >= self.deadtime_ms


def _timed(value_ms: int) -> Timed:
    return Timed(value_ms=value_ms, source=ValueSource.SET)


def _group(index: int, shape: ClusterShape, nodes: tuple[str, ...]) -> ResourceGroup:
    # 198.18.0.0/15 is the benchmarking range: never a real address. 256 groups per /24.
    address = f"198.18.{1 + index // 250}.{1 + index % 250}"
    ip_spec = f"IPaddr2::{address}/24/eth0"
    resources: list[IPAddressResource | ScriptResource] = [
        IPAddressResource(
            agent=IPAgent.IPADDR2,
            address=address,
            prefix_length=24,
            interface="eth0",
            broadcast=None,
            spec=ip_spec,
        )
    ]
    for service in range(1, shape.resources_per_group):
        name = f"service{index + 1}" + (
            "" if service == 1 else "abcdefghijklmnopqrstuvwxyz"[service - 1]
        )
        resources.append(ScriptResource(script=name, arguments=(), spec=name))
    return ResourceGroup(
        name=ip_spec,
        preferred_node=nodes[index % len(nodes)],
        resources=tuple(resources),
        location=SourceLocation(file="haresources", line=index + 1),
    )


def _monitors(shape: ClusterShape, groups: tuple[ResourceGroup, ...]) -> tuple[MonitorPolicy, ...]:
    if shape.monitor_interval_ms is None:
        return ()
    return tuple(
        MonitorPolicy(
            resource_id=resource.resource_id,
            interval_ms=shape.monitor_interval_ms,
            timeout_ms=shape.monitor_interval_ms,
            max_restarts=shape.monitor_max_restarts,
        )
        for group in groups
        for resource in group.resources
        if isinstance(resource, ScriptResource)
    )


def generate_config(shape: ClusterShape) -> ClusterConfig:
    """The configuration as node1 sees it; `for_node` gives the other nodes' copies."""
    nodes = tuple(f"node{number}" for number in range(1, shape.node_count + 1))
    groups = tuple(_group(index, shape, nodes) for index in range(shape.group_count))
    media = tuple(BcastMedium(interface=f"eth{link}", port=694) for link in range(shape.link_count))
    fence_devices = (
        (
            StonithDevice(
                device_type=TEST_FENCE_DEVICE_TYPE,
                from_node="*",
                parameters=(),
                named_parameters=(),
                config_file=None,
                location=SourceLocation(file="ha.cf", line=1),
            ),
        )
        if shape.is_fencing
        else ()
    )
    return ClusterConfig(
        nodes=nodes,
        local_node=nodes[0],
        timings=Timings(
            keepalive=_timed(shape.keepalive_ms),
            deadtime=_timed(shape.deadtime_ms),
            warntime=_timed(shape.warntime_ms),
            initdead=_timed(shape.initdead_ms),
            deadping=_timed(shape.deadtime_ms),
        ),
        udpport=694,
        media=media,
        auto_failback=shape.auto_failback,
        ping_nodes=shape.ping_nodes,
        ping_groups=(),
        respawns=(),
        stonith_devices=fence_devices,
        monitors=_monitors(shape, groups),
        quorum_loss_policy=shape.quorum_loss_policy,
        auth=AuthConfig(
            active_index=1,
            keys=(AuthKey(index=1, method=AuthMethod.SHA256, secret=b"simulated cluster"),),
        ),
        groups=groups,
        logfile=None,
        debugfile=None,
        logfacility=None,
        watchdog_device=None,
        is_realtime=False,
    )


def link_names(config: ClusterConfig) -> tuple[str, ...]:
    """One simulated link per distinct medium, named exactly as the engine and daemon name them."""
    from engine.core.links import link_names as engine_link_names

    return engine_link_names(config)
