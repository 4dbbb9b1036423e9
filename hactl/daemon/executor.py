"""Carrying out the engine's slow commands: resource actions, fencing, pings.

Each runs as a task in the root nursery, under its own deadline, and reports its end by
posting the engine event back to the main loop (`ResourceActionCompleted`,
`FenceCompleted`, `PingResultReceived`), which journals it like any other input. Nothing
here decides anything: which device, how long, what to retry are the engine's or the
configuration's answers.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import trio

from engine.config.model import ClusterConfig, IPAddressResource, Resource
from engine.core.commands import FenceNode, RunResourceAction, SendPing
from engine.core.events import (
    ActionOutcome,
    Event,
    FenceCompleted,
    PingResultReceived,
    ResourceAction,
    ResourceActionCompleted,
)
from hactl.agents import (
    AgentAction,
    AgentContext,
    AgentOutcome,
    keep_announcing,
    run_agent_action,
)
from hactl.agents.ip_address import query_address
from hactl.stonith import DeviceSettings, FenceAction, StonithConfigError, applies_to, make_device

FENCE_TIMEOUT_MS = 60_000
PING_TIMEOUT_S = 2
EXCERPT_CHARS = 400

Post = Callable[[Event], Awaitable[None]]
logger = logging.getLogger("hactl.daemon")


def monotonic_ms() -> int:
    return time.monotonic_ns() // 1_000_000


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

    def reconfigure(self, config: ClusterConfig) -> None:
        """A reload: new resources, devices and ARP settings apply to the next action."""
        announcement = config.address_announcement
        self.config = config
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
        await self.post(
            ResourceActionCompleted(
                now_ms=monotonic_ms(), action_id=command.action_id, group=command.group,
                resource_id=command.resource_id, action=command.action,
                outcome=action_outcome(result.outcome), exit_code=result.exit_code,
                duration_ms=result.duration_ms,
                output_excerpt=(result.detail + " " + result.output)[:EXCERPT_CHARS],
            )
        )  # fmt: skip

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
        started_ms = monotonic_ms()
        device_type, is_success, detail = await self._fence_with_first_device(command.target)
        logger.warning("fence %s with %s: %s (%s)", command.target, device_type,
                       "succeeded" if is_success else "FAILED", detail)  # fmt: skip
        await self.post(
            FenceCompleted(
                now_ms=monotonic_ms(), target=command.target, device=device_type,
                is_success=is_success, duration_ms=monotonic_ms() - started_ms,
                detail=detail[:EXCERPT_CHARS],
            )
        )  # fmt: skip

    async def _fence_with_first_device(self, target: str) -> tuple[str, bool, str]:
        local = self.config.local_node
        devices = [d for d in self.config.stonith_devices if applies_to(d, local)]
        if not devices:
            return "none", False, f"no stonith device configured for {local}"
        problems: list[str] = []
        for stonith in devices:
            try:
                device = await make_device(stonith, settings=self.device_settings)
                result = await device.fence(target, FenceAction.RESET,
                                            timeout_ms=FENCE_TIMEOUT_MS)  # fmt: skip
            except StonithConfigError as error:
                problems.append(f"{stonith.device_type}: {error}")
                continue
            if result.is_success:
                return stonith.device_type, True, result.detail
            problems.append(f"{stonith.device_type}: {result.detail}")
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
