"""Simulated fence devices and resource agents: how long actions take and whether they work.

The shell hands every fence and resource action to these models and is told the outcome
and its duration; the scenario and the fault injector change their behaviour (`fence-device
fail 3`, `resource fail-start node1 g1`). A hanging fence device never answers; the shell
gives up at its timeout and reports a failure, as the daemon's shell does with the real
stonith command, so the engine's 5 s retry loop is exercised either way.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class DeviceMode(enum.Enum):
    WORKS = "works"
    FAILS = "fails"  # the next `failures_left` attempts fail, then it works again
    HANGS = "hangs"  # every attempt runs into the shell's timeout
    LIES = "lies"  # reports success but leaves the target running (a broken device)


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionOutcome:
    is_success: bool
    duration_ms: int


@dataclass(slots=True, kw_only=True)
class FenceDeviceModel:
    """The cluster's (test) fence device."""

    duration_ms: int = 500
    timeout_ms: int = 3000
    mode: DeviceMode = DeviceMode.WORKS
    failures_left: int = 0
    attempts: int = 0

    def attempt(self) -> ActionOutcome:
        self.attempts += 1
        match self.mode:
            case DeviceMode.WORKS:
                return ActionOutcome(is_success=True, duration_ms=self.duration_ms)
            case DeviceMode.FAILS:
                self.failures_left -= 1
                if self.failures_left <= 0:
                    self.mode = DeviceMode.WORKS
                return ActionOutcome(is_success=False, duration_ms=self.duration_ms)
            case DeviceMode.HANGS:
                return ActionOutcome(is_success=False, duration_ms=self.timeout_ms)
            case DeviceMode.LIES:
                return ActionOutcome(is_success=True, duration_ms=self.duration_ms)

    def fail_next(self, count: int) -> None:
        assert count > 0
        self.mode = DeviceMode.FAILS
        self.failures_left = count

    def hang(self) -> None:
        self.mode = DeviceMode.HANGS

    def lie(self) -> None:
        self.mode = DeviceMode.LIES

    @property
    def is_lying(self) -> bool:
        return self.mode is DeviceMode.LIES

    def repair(self) -> None:
        self.mode = DeviceMode.WORKS
        self.failures_left = 0


class ResourceAction(enum.Enum):
    START = "start"
    STOP = "stop"
    STATUS = "status"
    MONITOR = "monitor"
    PROBE = "probe"


@dataclass(slots=True, kw_only=True)
class ResourceAgentModel:
    """Every resource agent of the cluster: durations, and the failures a scenario asked for.

    Failures are keyed by (node, resource id, action) and count down: `fail(..., 2)` makes
    the next two such actions fail. A negative count fails forever.
    """

    start_ms: int = 100
    stop_ms: int = 100
    status_ms: int = 20
    failures: dict[tuple[str, str, ResourceAction], int] = field(default_factory=dict)

    def fail(self, node: str, resource_id: str, action: ResourceAction, count: int) -> None:
        assert count != 0
        self.failures[(node, resource_id, action)] = count

    def clear(self) -> None:
        self.failures.clear()

    def duration_ms(self, action: ResourceAction) -> int:
        match action:
            case ResourceAction.START:
                return self.start_ms
            case ResourceAction.STOP:
                return self.stop_ms
            case ResourceAction.STATUS | ResourceAction.MONITOR | ResourceAction.PROBE:
                return self.status_ms

    def attempt(self, node: str, resource_id: str, action: ResourceAction) -> ActionOutcome:
        key = (node, resource_id, action)
        remaining = self.failures.get(key, 0)
        if remaining == 0:
            return ActionOutcome(is_success=True, duration_ms=self.duration_ms(action))
        if remaining > 0:
            if remaining == 1:
                del self.failures[key]
            else:
                self.failures[key] = remaining - 1
        return ActionOutcome(is_success=False, duration_ms=self.duration_ms(action))
