"""Carrying out the engine's slow commands: resource actions, fencing, pings.

Each runs as a task in the root nursery, under its own deadline, and reports its end by
posting the engine event back to the main loop (`ResourceActionCompleted`,
`FenceCompleted`, `PingResultReceived`), which journals it like any other input. Nothing
here decides anything: which device, what to retry are the engine's or the configuration's
answers; how long a device may take is the device type's nature (a human answering a
meatware call takes minutes, a power switch seconds).

Fencing keeps two things across attempts: the opened devices (opening an `external` or
`fence_*` device probes the agent, which need not be repeated every 5 s; a reload drops
them) and the pending fences (`PendingFence`: target, reason, attempts, last result) that
`hactl status` shows, since the engine's view does not carry them.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import trio

from engine.config.model import ClusterConfig, IPAddressResource, Resource, StonithDevice
from engine.core.commands import FenceNode, RunResourceAction, SendPing
from engine.core.events import (
    ActionOutcome,
    Event,
    FenceCompleted,
    PingResultReceived,
    ResourceAction,
    ResourceActionCompleted,
)
from engine.core.messages import NodePhase
from engine.core.state import GroupPhase, NodeState
from hactl.agents import (
    AgentAction,
    AgentContext,
    AgentOutcome,
    keep_announcing,
    run_agent_action,
)
from hactl.agents.ip_address import announce_adopted, query_address
from hactl.stonith import (
    DeviceSettings,
    FenceAction,
    FenceDevice,
    FenceResult,
    StonithConfigError,
    applies_to,
    make_device,
)

FENCE_TIMEOUT_MS = 60_000
# A meatware fence ends when an operator confirms: Heartbeat waited for as long as it took.
# A week stands for "as long as it takes" while keeping the call bounded.
FENCE_TIMEOUT_MS_BY_DEVICE = {"meatware": 7 * 24 * 3_600_000}
# Test-only: extra directories searched for `external/*` scripts, so namespace tests can
# run the protocol test agents under tests/hactl/stonith/agents. Ignored in production.
TEST_EXTERNAL_DIRECTORIES_VARIABLE = "HACTL_TEST_STONITH_EXTERNAL_DIRS"
PING_TIMEOUT_S = 2
EXCERPT_CHARS = 400

Post = Callable[[Event], Awaitable[None]]
logger = logging.getLogger("hactl.daemon")


def monotonic_ms() -> int:
    return time.monotonic_ns() // 1_000_000


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


def fence_timeout_ms(device_type: str) -> int:
    return FENCE_TIMEOUT_MS_BY_DEVICE.get(device_type, FENCE_TIMEOUT_MS)


def with_test_directories(
    settings: DeviceSettings, environment: Mapping[str, str]
) -> DeviceSettings:
    """`settings` plus the test-only external script directories, outside production."""
    extra = environment.get(TEST_EXTERNAL_DIRECTORIES_VARIABLE, "")
    if settings.is_production or not extra:
        return settings
    directories = tuple(Path(item) for item in extra.split(os.pathsep) if item)
    return dataclasses.replace(
        settings, external_directories=directories + settings.external_directories
    )


def result_detail(result: FenceResult) -> str:
    """The journaled detail of an attempt: the admin's line, exit code and agent output."""
    exit_text = "timed out" if result.is_timed_out else f"exit {result.exit_code}"
    output = f"; output: {result.output_excerpt}" if result.output_excerpt else ""
    return f"{result.detail} ({exit_text}){output}"


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingFence:
    """A fence ordered by the engine and not yet successful: what `hactl status` shows."""

    target: str
    reason: str
    first_wall_ms: int
    attempts: int = 0
    is_in_flight: bool = False
    device: str | None = None  # the device being tried, or that the last attempt tried
    last_result: str | None = None  # "failed: ..." of the last finished attempt

    def to_json(self) -> dict[str, object]:
        return {
            "target": self.target, "reason": self.reason, "attempts": self.attempts,
            "is_in_flight": self.is_in_flight, "device": self.device,
            "last_result": self.last_result, "first_wall_ms": self.first_wall_ms,
        }  # fmt: skip


def find_resource(config: ClusterConfig, group_name: str, resource_id: str) -> Resource:
    for resource in config.group(group_name).resources:
        if resource.resource_id == resource_id:
            return resource
    raise AssertionError(f"the engine named {resource_id!r} which {group_name!r} lacks")


def action_outcome(outcome: AgentOutcome) -> ActionOutcome:
    if outcome is AgentOutcome.SUCCESS:
        return ActionOutcome.SUCCESS
    if outcome is AgentOutcome.NOT_RUNNING:
        return ActionOutcome.NOT_RUNNING
    if outcome is AgentOutcome.TIMEOUT:
        return ActionOutcome.TIMED_OUT
    return ActionOutcome.FAILED


@dataclass(slots=True, kw_only=True)
class Executor:
    config: ClusterConfig
    context: AgentContext
    device_settings: DeviceSettings
    post: Post
    refresh_scopes: dict[str, trio.CancelScope] = field(default_factory=dict)
    opened_devices: dict[StonithDevice, FenceDevice] = field(default_factory=dict)
    pending_fences: dict[str, PendingFence] = field(default_factory=dict)
    # Addresses a start-up probe found up, by resource id (with their group): announced
    # again once the engine keeps them here (`announce_adopted_addresses`).
    probed_addresses: dict[str, tuple[str, IPAddressResource]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.device_settings = with_test_directories(self.device_settings, os.environ)

    def reconfigure(self, config: ClusterConfig) -> None:
        """A reload: new resources, devices and ARP settings apply to the next action."""
        announcement = config.address_announcement
        self.config = config
        self.opened_devices.clear()  # reopened (and re-probed) as the new config says
        self.context = dataclasses.replace(
            self.context, arp_count=announcement.count,
            arp_interval_ms=announcement.interval_ms, arp_refresh_ms=announcement.refresh_ms,
        )  # fmt: skip

    async def run_resource_action(self, command: RunResourceAction) -> None:
        resource = find_resource(self.config, command.group, command.resource_id)
        if command.action is ResourceAction.STOP:
            self._stop_refreshing(command.resource_id)  # never announce what we let go
        result = await run_agent_action(
            resource, AgentAction(command.action.value), timeout_ms=command.timeout_ms,
            context=self.context,
        )  # fmt: skip
        logger.info("%s %s: %s (%s)", command.action.value, command.resource_id,
                    result.outcome.value, result.detail)  # fmt: skip
        if (command.action is ResourceAction.START and result.outcome is AgentOutcome.SUCCESS
                and isinstance(resource, IPAddressResource)):  # fmt: skip
            await self._start_refreshing(resource)
        if isinstance(resource, IPAddressResource):
            if command.action is ResourceAction.PROBE and result.outcome is AgentOutcome.SUCCESS:
                self.probed_addresses[resource.resource_id] = (command.group, resource)
            elif command.action in (ResourceAction.START, ResourceAction.STOP):
                self.probed_addresses.pop(resource.resource_id, None)  # announced, or let go
        await self.post(
            ResourceActionCompleted(
                now_ms=monotonic_ms(), action_id=command.action_id, group=command.group,
                resource_id=command.resource_id, action=command.action,
                outcome=action_outcome(result.outcome), exit_code=result.exit_code,
                duration_ms=result.duration_ms,
                output_excerpt=(result.detail + " " + result.output)[:EXCERPT_CHARS],
            )
        )  # fmt: skip

    def announce_adopted_addresses(self, state: NodeState) -> None:
        """After a step: announce the probed addresses the engine kept (adopted).

        Once the node is active and the group runs here with no live peer still occupying
        it (a peer holding a duplicate stops first, or its refresh could pull clients back),
        the address gets a start's ARP burst and its refresh; a group that stops forgets it.
        """
        if state.phase is not NodePhase.ACTIVE:
            return
        nursery = self.context.announcement_nursery
        for resource_id, (group, resource) in list(self.probed_addresses.items()):
            run = state.groups.get(group)
            if run is None or run.phase in (GroupPhase.STOPPING, GroupPhase.STOPPED,
                                            GroupPhase.STOP_FAILED):  # fmt: skip
                del self.probed_addresses[resource_id]
                continue
            if run.phase is not GroupPhase.RUNNING or any(
                peer.is_live and peer.payload is not None
                and group in peer.payload.occupied_groups()
                for peer in state.peers.values()
            ):  # fmt: skip
                continue  # still completing the group, or a peer still holds it
            del self.probed_addresses[resource_id]
            if nursery is not None:
                nursery.start_soon(self._announce_adopted, resource)

    async def _announce_adopted(self, resource: IPAddressResource) -> None:
        try:
            detail = await announce_adopted(resource, self.context)
        except OSError as error:
            detail = f"{resource.spec}: netlink: {error}"
        logger.info("announce %s after start-up: %s", resource.resource_id, detail)
        await self._start_refreshing(resource)

    async def _start_refreshing(self, resource: IPAddressResource) -> None:
        """ha.cf `arp_refresh`: re-announce a held address until it is stopped."""
        refresh_ms = self.config.address_announcement.refresh_ms
        nursery = self.context.announcement_nursery
        if refresh_ms is None or nursery is None:
            return
        placement = await trio.to_thread.run_sync(query_address, resource)
        if placement is None:
            return
        self._stop_refreshing(resource.resource_id)
        scope = trio.CancelScope()
        self.refresh_scopes[resource.resource_id] = scope

        async def refresh() -> None:
            with scope:
                await keep_announcing(str(placement.address), placement.interface,
                                      refresh_ms=refresh_ms)  # fmt: skip

        nursery.start_soon(refresh)

    def _stop_refreshing(self, resource_id: str) -> None:
        scope = self.refresh_scopes.pop(resource_id, None)
        if scope is not None:
            scope.cancel()

    async def fence(self, command: FenceNode) -> None:
        previous = self.pending_fences.get(command.target)
        self.pending_fences[command.target] = dataclasses.replace(
            previous or PendingFence(target=command.target, reason=command.reason,
                                     first_wall_ms=wall_ms()),
            reason=command.reason, attempts=(previous.attempts if previous else 0) + 1,
            is_in_flight=True,
        )  # fmt: skip
        started_ms = monotonic_ms()
        try:
            device_type, is_success, detail = await self._fence_with_first_device(command.target)
        finally:
            pending = self.pending_fences.pop(command.target)
        logger.warning("fence %s with %s: %s (%s); attempt %d", command.target, device_type,
                       "succeeded" if is_success else "FAILED", detail,
                       pending.attempts)  # fmt: skip
        if not is_success:  # shown until a later attempt succeeds or the peer returns
            self.pending_fences[command.target] = dataclasses.replace(
                pending, is_in_flight=False, device=device_type,
                last_result=f"failed: {detail}"[:EXCERPT_CHARS],
            )  # fmt: skip
        await self.post(
            FenceCompleted(
                now_ms=monotonic_ms(), target=command.target, device=device_type,
                is_success=is_success, duration_ms=monotonic_ms() - started_ms,
                detail=detail[:EXCERPT_CHARS],
            )
        )  # fmt: skip

    def forget_fence(self, target: str) -> None:
        """The target came back or left: its fence is no longer pending."""
        pending = self.pending_fences.get(target)
        if pending is not None and not pending.is_in_flight:
            del self.pending_fences[target]

    async def _open_device(self, stonith: StonithDevice) -> FenceDevice:
        device = self.opened_devices.get(stonith)
        if device is None:
            device = await make_device(stonith, settings=self.device_settings)
            self.opened_devices[stonith] = device
        return device

    async def _fence_with_first_device(self, target: str) -> tuple[str, bool, str]:
        local = self.config.local_node
        devices = [d for d in self.config.stonith_devices if applies_to(d, local)]
        if not devices:
            return "none", False, f"no stonith device configured for {local}"
        problems: list[str] = []
        for stonith in devices:
            pending = self.pending_fences.get(target)
            if pending is not None:  # show the device being tried right now
                self.pending_fences[target] = dataclasses.replace(
                    pending, device=stonith.device_type
                )
            try:
                device = await self._open_device(stonith)
                timeout_ms = fence_timeout_ms(device.device_type)
                result = await device.fence(target, FenceAction.RESET, timeout_ms=timeout_ms)
            except StonithConfigError as error:
                problems.append(f"{stonith.device_type}: {error}")
                continue
            if result.is_success:
                return stonith.device_type, True, result_detail(result)
            problems.append(f"{stonith.device_type}: {result_detail(result)}")
        return devices[-1].device_type, False, "; ".join(problems)

    async def self_fence(self, reason: str) -> None:
        """Reset this machine in production; elsewhere the caller just stops the daemon."""
        if not self.device_settings.is_production:
            logger.critical("self-fence (%s): not production, the daemon stops instead", reason)
            return
        from hactl.stonith.self_fence import production_power_action

        power_action = production_power_action(is_production=True)
        await power_action(FenceAction.RESET)

    async def ping(self, command: SendPing) -> None:
        with trio.move_on_after(PING_TIMEOUT_S + 1):
            try:
                completed = await trio.run_process(
                    ["ping", "-n", "-q", "-c", "1", "-W", str(PING_TIMEOUT_S), command.address],
                    capture_stdout=True, capture_stderr=True, check=False,
                )  # fmt: skip
                is_reachable = completed.returncode == 0
            except OSError:
                is_reachable = False
            await self.post(PingResultReceived(now_ms=monotonic_ms(), address=command.address,
                                         is_reachable=is_reachable))  # fmt: skip
            return
        await self.post(PingResultReceived(now_ms=monotonic_ms(), address=command.address,
                                     is_reachable=False))  # fmt: skip
