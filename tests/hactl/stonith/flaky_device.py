"""An in-process fencing device that fails a set number of times, then succeeds.

For tests (this package's, the daemon's) that need "fails three times, then succeeds"
without a subprocess; the `agents/flaky` script does the same through the external/*
protocol for tests that configure devices through ha.cf. It is a real FenceDevice, not a
mock: it keeps every attempt's result, which is what those tests assert on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hactl.stonith.device import DeviceOperation, FenceAction, FenceResult


@dataclass(slots=True, kw_only=True)
class FlakyDevice:
    failures_before_success: int = 3
    hosts: tuple[str, ...] = ("master", "backup")
    attempts: list[FenceResult] = field(default_factory=list)
    device_type: str = "flaky"

    def parameter_names(self) -> tuple[str, ...]:
        return ()

    def metadata(self) -> str:
        return '<resource-agent name="flaky"><parameters/></resource-agent>'

    async def fence(self, target: str, action: FenceAction, *, timeout_ms: int) -> FenceResult:
        is_success = len(self.attempts) >= self.failures_before_success
        result = FenceResult(
            device_type=self.device_type, target=target, operation=DeviceOperation.of(action),
            is_success=is_success, exit_code=0 if is_success else 1, duration_ms=0,
            output_excerpt="", detail=f"attempt {len(self.attempts) + 1}",
        )  # fmt: skip
        self.attempts.append(result)
        return result

    async def status(self, *, timeout_ms: int) -> FenceResult:
        return FenceResult(
            device_type=self.device_type, target=None, operation=DeviceOperation.STATUS,
            is_success=True, exit_code=0, duration_ms=0, output_excerpt="", detail="ok",
        )  # fmt: skip

    async def list_hosts(self, *, timeout_ms: int) -> tuple[str, ...]:
        return self.hosts
