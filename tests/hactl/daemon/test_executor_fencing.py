"""The executor's fencing without namespaces: attempts, pending fences, device reuse.

The device is the real `external` device running the `flaky` test agent (cluster-glue's
external protocol) from tests/hactl/stonith/agents, found through the test-only script
directory setting the daemon honours outside production.
"""

from __future__ import annotations

from pathlib import Path

from engine.config.build import parse_cluster_config
from engine.config.model import ClusterConfig
from engine.core.commands import FenceNode
from engine.core.events import Event, FenceCompleted
from hactl.agents import AgentContext
from hactl.daemon.executor import (
    FENCE_TIMEOUT_MS,
    TEST_EXTERNAL_DIRECTORIES_VARIABLE,
    Executor,
    fence_timeout_ms,
    with_test_directories,
)
from hactl.stonith import DeviceSettings

AGENTS_DIRECTORY = Path(__file__).resolve().parents[1] / "stonith" / "agents"
REASON = "node master is dead and may still hold g1"


def flaky_config(attempts_file: Path, *, failures: int) -> ClusterConfig:
    hacf = (
        "node master\nnode backup\nkeepalive 1\ndeadtime 10\nbcast eth0\n"
        f"stonith_host * external/flaky hostlist=master failures={failures} "
        f"state_file={attempts_file}\n"
    )
    return parse_cluster_config(hacf, "master 198.18.0.50\n", "auth 1\n1 sha1 secret\n",
                                local_node="backup")  # fmt: skip


def flaky_executor(tmp_path: Path, *, failures: int, posted: list[Event]) -> Executor:
    async def post(event: Event) -> None:
        posted.append(event)

    settings = with_test_directories(
        DeviceSettings(local_node="backup", run_directory=tmp_path),
        {TEST_EXTERNAL_DIRECTORIES_VARIABLE: str(AGENTS_DIRECTORY)},
    )
    return Executor(config=flaky_config(tmp_path / "attempts", failures=failures),
                    context=AgentContext(), device_settings=settings, post=post)  # fmt: skip


async def test_failed_attempts_stay_pending_with_their_result_until_one_succeeds(
    tmp_path: Path,
) -> None:
    posted: list[Event] = []
    executor = flaky_executor(tmp_path, failures=2, posted=posted)
    command = FenceNode(target="master", reason=REASON)

    await executor.fence(command)
    await executor.fence(command)
    pending = executor.pending_fences["master"]
    assert (pending.attempts, pending.is_in_flight, pending.device) == (
        2, False, "external/flaky")  # fmt: skip
    assert pending.reason == REASON
    assert pending.last_result is not None
    assert "attempt 2 fails on purpose" in pending.last_result
    assert pending.to_json()["attempts"] == 2

    await executor.fence(command)
    assert "master" not in executor.pending_fences
    fences = [event for event in posted if isinstance(event, FenceCompleted)]
    assert [(f.device, f.target, f.is_success) for f in fences] == [
        ("external/flaky", "master", False), ("external/flaky", "master", False),
        ("external/flaky", "master", True),
    ]  # fmt: skip
    assert "(exit 1)" in fences[0].detail and "attempt 3 succeeds" in fences[2].detail
    assert len(executor.opened_devices) == 1  # opened (and probed) once, reused


async def test_a_reload_drops_opened_devices_and_forget_drops_a_finished_fence(
    tmp_path: Path,
) -> None:
    posted: list[Event] = []
    executor = flaky_executor(tmp_path, failures=5, posted=posted)
    await executor.fence(FenceNode(target="master", reason=REASON))
    assert len(executor.opened_devices) == 1
    executor.reconfigure(executor.config)
    assert executor.opened_devices == {}
    executor.forget_fence("master")
    assert executor.pending_fences == {}


def test_test_directories_are_ignored_in_production_and_meatware_waits_long() -> None:
    environment = {TEST_EXTERNAL_DIRECTORIES_VARIABLE: "/somewhere/agents"}
    production = DeviceSettings(is_production=True)
    assert with_test_directories(production, environment) == production
    test = with_test_directories(DeviceSettings(), environment)
    assert test.external_directories[0] == Path("/somewhere/agents")
    plain = DeviceSettings()
    assert with_test_directories(plain, {}) is plain
    assert fence_timeout_ms("external/ipmi") == FENCE_TIMEOUT_MS
    assert fence_timeout_ms("meatware") > 24 * 3_600_000
