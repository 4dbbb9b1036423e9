"""Fencing devices for tests (as `trio.testing` is for trio's users); never registered.

`FlakyDevice` fails a set number of times, then succeeds: the "fails three times, then
succeeds" case for the daemon's and this package's tests, in process. It is a real
FenceDevice, not a mock, and keeps every attempt's result, which is what those tests assert
on. For tests that configure devices through ha.cf, `tests/hactl/stonith/agents/flaky`
does the same through the external/* protocol. Register it in a test with
`PluginRegistry([EntryPoint(name="flaky", value="hactl.stonith.testing:open_device",
group="hactl.stonith")])`; it is deliberately absent from pyproject.toml.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hactl.stonith.device import DeviceOperation, DeviceRequest, FenceAction, FenceResult


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


async def open_device(request: DeviceRequest) -> FlakyDevice:
    """A factory, so tests can register FlakyDevice as a `hactl.stonith` plugin."""
    parameters = dict(request.named_parameters)
    return FlakyDevice(failures_before_success=int(parameters.get("failures", "3")))
