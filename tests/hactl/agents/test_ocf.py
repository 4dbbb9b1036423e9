"""OCF agents: Debian's real `Dummy` end to end, and the OCF contract checked with a real
agent script of our own (environment, exit codes, meta-data timeouts)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.config.model import OcfResource
from hactl.agents import (
    AgentAction,
    AgentContext,
    AgentOutcome,
    default_timeout_ms,
    run_agent_action,
    validate,
)
from hactl.agents.ocf import parse_action_timeouts_ms, parse_ocf_duration_ms
from tests.hactl.agents.conftest import write_script

SYSTEM_OCF_ROOT = Path("/usr/lib/ocf")
DUMMY = SYSTEM_OCF_ROOT / "resource.d" / "heartbeat" / "Dummy"


def require_resource_agents() -> None:
    """Skip on a laptop without resource-agents; in CI (.ci/run installs it) that is a failure."""
    if DUMMY.is_file():
        return
    if os.environ.get("HACTL_REQUIRE_ROOT_TESTS") == "1":
        pytest.fail(f"{DUMMY} missing: install Debian's resource-agents package")
    pytest.skip(f"{DUMMY} missing (Debian package resource-agents)")


def ocf(agent_type: str, instance: str, *parameters: tuple[str, str],
        provider: str = "heartbeat") -> OcfResource:  # fmt: skip
    return OcfResource(provider=provider, agent_type=agent_type, instance=instance,
                       parameters=parameters, spec=f"OCF::{agent_type}::{instance}")  # fmt: skip


async def test_real_dummy_through_probe_start_monitor_stop(
    context: AgentContext, tmp_path: Path
) -> None:
    require_resource_agents()
    state = tmp_path / "dummy.state"
    dummy = ocf("Dummy", "d1", ("state", str(state)))

    async def do(action: AgentAction) -> AgentOutcome:
        result = await run_agent_action(dummy, action, timeout_ms=20_000, context=context)
        return result.outcome

    assert await do(AgentAction.PROBE) is AgentOutcome.NOT_RUNNING
    assert await do(AgentAction.START) is AgentOutcome.SUCCESS
    assert state.exists(), "Dummy keeps its state in the file our parameter named"
    assert await do(AgentAction.START) is AgentOutcome.SUCCESS  # idempotent
    assert await do(AgentAction.MONITOR) is AgentOutcome.SUCCESS
    assert await do(AgentAction.STATUS) is AgentOutcome.SUCCESS
    assert await do(AgentAction.STOP) is AgentOutcome.SUCCESS
    assert not state.exists()
    assert await do(AgentAction.MONITOR) is AgentOutcome.NOT_RUNNING
    assert await do(AgentAction.STOP) is AgentOutcome.SUCCESS  # idempotent


async def test_real_dummy_meta_data_timeout_and_validate(context: AgentContext) -> None:
    require_resource_agents()
    dummy = ocf("Dummy", "d2")
    assert await default_timeout_ms(dummy, AgentAction.START, context) == 20_000
    assert (await validate(dummy, context)).outcome is AgentOutcome.SUCCESS


@pytest.fixture
def ocf_context(context: AgentContext, tmp_path: Path) -> AgentContext:
    """An OCF root holding `probe`, an agent that prints its environment and exits with the
    code its `rc` parameter names, and advertises its own timeouts in meta-data (after a
    long description, as real agents have: meta-data is longer than a result's output)."""
    root = tmp_path / "ocf"
    provider = root / "resource.d" / "acme"
    provider.mkdir(parents=True)
    write_script(provider, "probe", """
if [ "$1" = meta-data ]; then cat <<XML
<?xml version="1.0"?>
<resource-agent name="probe">
<longdesc>$(head -c 9000 /dev/zero | tr '\\0' x)</longdesc><actions>
<action name="start" timeout="7s"/><action name="stop" timeout="2min"/>
<action name="monitor" timeout="1500ms" interval="10s" depth="0"/>
<action name="monitor" timeout="99s" depth="10"/>
</actions></resource-agent>
XML
exit 0; fi
echo "action=$1"; env | grep '^OCF_' | sort
exit "${OCF_RESKEY_rc:-0}"
""")  # fmt: skip
    return AgentContext(config_dir=context.config_dir, init_dir=context.init_dir, ocf_root=root)


async def test_ocf_environment(ocf_context: AgentContext) -> None:
    resource = ocf("probe", "p1", ("ip", "198.18.0.9"), ("rc", "0"), provider="acme")
    result = await run_agent_action(resource, AgentAction.MONITOR, timeout_ms=4000,
                                    context=ocf_context)  # fmt: skip
    lines = result.output.splitlines()
    assert lines[0] == "action=monitor"
    environment = dict(line.split("=", 1) for line in lines[1:])
    assert environment["OCF_RESKEY_ip"] == "198.18.0.9"
    assert environment["OCF_ROOT"] == str(ocf_context.ocf_root)
    assert environment["OCF_RESOURCE_INSTANCE"] == "p1"
    assert environment["OCF_RESOURCE_TYPE"] == "probe"
    assert environment["OCF_RESOURCE_PROVIDER"] == "acme"
    assert environment["OCF_RA_VERSION_MAJOR"] == "1"
    assert environment["OCF_RA_VERSION_MINOR"] == "0"
    assert environment["OCF_CHECK_LEVEL"] == "0"
    assert environment["OCF_RESKEY_CRM_meta_timeout"] == "4000"


@pytest.mark.parametrize(
    ("exit_code", "action", "outcome"),
    [
        (0, AgentAction.START, AgentOutcome.SUCCESS),
        (1, AgentAction.START, AgentOutcome.FAILED),
        (2, AgentAction.START, AgentOutcome.INVALID_ARGUMENTS),
        (3, AgentAction.START, AgentOutcome.UNIMPLEMENTED),
        (4, AgentAction.START, AgentOutcome.INSUFFICIENT_PRIVILEGE),
        (5, AgentAction.START, AgentOutcome.NOT_INSTALLED),
        (6, AgentAction.START, AgentOutcome.NOT_CONFIGURED),
        (7, AgentAction.START, AgentOutcome.FAILED),  # a start that ends stopped failed
        (7, AgentAction.MONITOR, AgentOutcome.NOT_RUNNING),
        (7, AgentAction.STOP, AgentOutcome.SUCCESS),  # stopping a stopped resource succeeds
        (1, AgentAction.MONITOR, AgentOutcome.FAILED),
        (42, AgentAction.MONITOR, AgentOutcome.FAILED),
    ],
)
async def test_ocf_exit_codes(
    ocf_context: AgentContext, exit_code: int, action: AgentAction, outcome: AgentOutcome
) -> None:
    resource = ocf("probe", "p1", ("rc", str(exit_code)), provider="acme")
    result = await run_agent_action(resource, action, timeout_ms=10_000, context=ocf_context)
    assert result.outcome is outcome
    assert result.exit_code == exit_code


async def test_default_timeouts_come_from_meta_data(ocf_context: AgentContext) -> None:
    resource = ocf("probe", "p1", provider="acme")
    assert await default_timeout_ms(resource, AgentAction.START, ocf_context) == 7_000
    assert await default_timeout_ms(resource, AgentAction.STOP, ocf_context) == 120_000
    assert await default_timeout_ms(resource, AgentAction.MONITOR, ocf_context) == 1_500
    assert await default_timeout_ms(resource, AgentAction.PROBE, ocf_context) == 1_500


async def test_missing_agent_is_not_installed(ocf_context: AgentContext) -> None:
    result = await run_agent_action(ocf("Nope", "n1"), AgentAction.START, timeout_ms=1000,
                                    context=ocf_context)  # fmt: skip
    assert result.outcome is AgentOutcome.NOT_INSTALLED
    assert "resource.d/heartbeat/Nope" in result.detail


def test_meta_data_parsing_skips_what_it_cannot_read() -> None:
    assert parse_action_timeouts_ms("not xml <") == {}
    text = '<r><actions><action name="start" timeout="soon"/><action name="stop"/></actions></r>'
    assert parse_action_timeouts_ms(text) == {}


@pytest.mark.parametrize(
    ("text", "value_ms"),
    [("20s", 20_000), ("20", 20_000), ("100ms", 100), ("2min", 120_000), ("1h", 3_600_000),
     ("", None), ("fast", None)],
)  # fmt: skip
def test_ocf_durations(text: str, value_ms: int | None) -> None:
    assert parse_ocf_duration_ms(text) == value_ms
