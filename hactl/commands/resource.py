"""`hactl resource debug start|stop|status|monitor SPEC`: run one agent by hand.

Admins test an agent before trusting the cluster with it (Pacemaker's `pcs resource
debug-start`). SPEC is written exactly as in haresources, so what works here works there.
The command uses the same code path as the daemon (`hactl.agents.run_agent_action`), and
prints what it did, the outcome, the exit status and the agent's output.

Exit status: 0 success (for status/monitor: running); 3 status/monitor answered "not
running" (the LSB status convention, so scripts can test it); 1 any failure (including a
timeout); 2 a SPEC or option that cannot be used.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import assert_never

import trio
import typer

from engine.config.errors import ConfigError, ValueProblem
from engine.config.model import IPAddressResource, OcfResource, Resource, ScriptResource
from engine.config.ocf_parameters import parse_ocf_parameters
from engine.config.resources import parse_resource_spec
from engine.config.timeparse import parse_duration_ms
from hactl.agents import (
    AgentAction,
    AgentContext,
    AgentOutcome,
    AgentResult,
    default_timeout_ms,
    run_agent_action,
)

EXIT_NOT_RUNNING = 3
EXIT_FAILED = 1
EXIT_USAGE = 2

resource_app = typer.Typer(help="Resource agents: try them by hand, outside the cluster.")
debug_app = typer.Typer(
    help="Run one agent action outside the cluster, as haresources would run it. "
    "Exit 0 success (status/monitor: running), 3 not running, 1 failure, 2 bad SPEC."
)
resource_app.add_typer(debug_app, name="debug")

SPEC_HELP = (
    "The resource as written in haresources: IPaddr::198.18.0.60/24/eth0, httpd, OCF::Dummy::d1"
)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class DebugOptions:
    config_dir: Path
    init_dir: Path
    ocf_root: Path
    timeout: str | None
    arp_count: int
    arp_interval_ms: int


def _fail_usage(message: str) -> typer.Exit:
    typer.echo(f"hactl resource debug: {message}", err=True)
    return typer.Exit(EXIT_USAGE)


def load_resource(spec: str, config_dir: Path) -> tuple[Resource, list[str]]:
    """Parse SPEC as haresources does; OCF parameters come from conf/OCF/TYPE/INSTANCE."""
    try:
        resource = parse_resource_spec(spec)
    except ValueProblem as problem:
        hint = f" ({problem.hint})" if problem.hint else ""
        raise _fail_usage(f"{spec}: {problem.message}{hint}") from None
    notes: list[str] = []
    if isinstance(resource, OcfResource):
        path = config_dir / "conf" / "OCF" / resource.agent_type / resource.instance
        if not path.is_file():
            notes.append(f"no parameter file {path}: running with no OCF_RESKEY_ parameters")
            return resource, notes
        try:
            parameters = parse_ocf_parameters(path.read_text(), file_name=str(path))
        except ConfigError as error:
            raise _fail_usage(str(error)) from None
        notes.append(
            f"parameters from {path}: {', '.join(name for name, _ in parameters) or 'none'}"
        )
        resource = dataclasses.replace(resource, parameters=parameters)
    return resource, notes


def describe_kind(resource: Resource) -> str:
    match resource:
        case IPAddressResource():
            return f"{resource.agent.value}, native through netlink"
        case ScriptResource():
            return "Heartbeat resource.d or LSB init script"
        case OcfResource():
            return f"OCF agent {resource.provider}/{resource.agent_type}"
        case _:
            assert_never(resource)


def exit_code_for(result: AgentResult) -> int:
    if result.outcome is AgentOutcome.SUCCESS:
        return 0
    if result.outcome is AgentOutcome.NOT_RUNNING and result.action is not AgentAction.START:
        return EXIT_NOT_RUNNING
    return EXIT_FAILED


def print_result(
    resource: Resource, result: AgentResult, timeout_ms: int, notes: list[str]
) -> None:
    typer.echo(f"resource: {resource.spec} ({describe_kind(resource)})")
    for note in notes:
        typer.echo(f"note:     {note}")
    typer.echo(f"action:   {result.action.value} (timeout {timeout_ms} ms)")
    typer.echo(f"did:      {result.detail}")
    exit_text = "none (native agent)" if result.exit_code is None else str(result.exit_code)
    if result.outcome is AgentOutcome.TIMEOUT:
        exit_text = "none (killed after the timeout)"
    typer.echo(f"exit:     {exit_text}")
    typer.echo(f"duration: {result.duration_ms} ms")
    typer.echo(f"outcome:  {result.outcome.value}")
    if result.output:
        typer.echo("output:")
        for line in result.output.rstrip("\n").split("\n"):
            typer.echo(f"  | {line}")


def run_debug(action: AgentAction, spec: str, options: DebugOptions) -> None:
    resource, notes = load_resource(spec, options.config_dir)
    context = AgentContext(
        config_dir=options.config_dir,
        init_dir=options.init_dir,
        ocf_root=options.ocf_root,
        arp_count=options.arp_count,
        arp_interval_ms=options.arp_interval_ms,
    )
    timeout_ms: int | None = None
    if options.timeout is not None:
        try:
            timeout_ms = parse_duration_ms(options.timeout)
        except ValueProblem as problem:
            raise _fail_usage(f"--timeout: {problem.message}") from None
        if timeout_ms == 0:
            raise _fail_usage("--timeout: must be more than 0")

    async def carry_out() -> tuple[AgentResult, int]:
        chosen_ms = timeout_ms or await default_timeout_ms(resource, action, context)
        result = await run_agent_action(resource, action, timeout_ms=chosen_ms, context=context)
        return result, chosen_ms

    result, chosen_ms = trio.run(carry_out)
    print_result(resource, result, chosen_ms, notes)
    raise typer.Exit(exit_code_for(result))


def _make_command(action: AgentAction, summary: str) -> None:
    def command(
        spec: str = typer.Argument(..., help=SPEC_HELP, metavar="SPEC"),
        config_dir: Path = typer.Option(
            Path("/etc/ha.d"), "--config-dir", help="Where resource.d/ and conf/OCF/ live."
        ),
        init_dir: Path = typer.Option(
            Path("/etc/init.d"), "--init-dir", help="LSB init scripts, searched after resource.d/."
        ),
        ocf_root: Path = typer.Option(Path("/usr/lib/ocf"), "--ocf-root", help="OCF_ROOT."),
        timeout: str | None = typer.Option(
            None, "--timeout", help="Heartbeat time syntax (20, 500ms); default: the agent's."
        ),
        arp_count: int = typer.Option(
            5, "--arp-count", min=1, help="Gratuitous ARP pairs (IPv6: advertisements)."
        ),
        arp_interval_ms: int = typer.Option(
            200, "--arp-interval-ms", min=0, help="Spacing of the announcements."
        ),
    ) -> None:
        options = DebugOptions(
            config_dir=config_dir,
            init_dir=init_dir,
            ocf_root=ocf_root,
            timeout=timeout,
            arp_count=arp_count,
            arp_interval_ms=arp_interval_ms,
        )
        run_debug(action, spec, options)

    command.__doc__ = summary
    debug_app.command(action.value)(command)


_make_command(AgentAction.START, "Start the resource (idempotent: a running resource stays).")
_make_command(AgentAction.STOP, "Stop the resource (idempotent: a stopped resource stays).")
_make_command(AgentAction.STATUS, "Ask whether the resource runs here (exit 0 yes, 3 no).")
_make_command(
    AgentAction.MONITOR, "Run the health check the cluster runs periodically (0 ok, 3 stopped)."
)


def register(app: typer.Typer) -> None:
    app.add_typer(resource_app, name="resource")


if __name__ == "__main__":
    # `python -m hactl.commands.resource debug ...` runs this command group alone: the
    # namespace tests use it so that they load only the agents' code, not every command.
    resource_app()
