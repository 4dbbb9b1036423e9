"""`hactl status [--json]`: what a running node believes, readable at a glance.

In the spirit of `cl_status` and `crm_mon -1`: this node, every node's state and links,
quorum, each group's holder and state, the last failover and the journal head. `--json`
prints the daemon's document unchanged, for scripts and tests. Exit codes: 0 the node
answered, 1 no daemon answers (the message names the socket and how to start one).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer

from hactl.control_client import DEFAULT_RUN_DIR, ControlClientError, request


def status(
    run_dir: Path = typer.Option(
        DEFAULT_RUN_DIR, "--run-dir", help="The node's run directory (its control socket)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the status as one JSON document."),
) -> None:
    """Show this node's view of the cluster."""
    try:
        document = request(run_dir, "status", timeout_s=10)
    except ControlClientError as error:
        typer.echo(f"hactl status: {error}", err=True)
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps(document, indent=2, sort_keys=True))
        return
    assert isinstance(document, dict), "the daemon answers status with an object"
    typer.echo(render_status(document))


def render_status(document: dict[str, object]) -> str:
    """The human form of a status document."""
    cluster = _dict(document.get("cluster"))
    journal = _dict(document.get("journal"))
    transport = _dict(document.get("transport"))
    lines = [
        f"Node {document.get('node')}: {cluster.get('phase')}, "
        f"{'quorate' if cluster.get('is_quorate') else 'NO QUORUM'} "
        f"(pid {document.get('pid')}, generation {document.get('generation')}, "
        f"up {_duration(document.get('uptime_ms'))})",
        f"Journal: {journal.get('directory')} seq {_int(journal.get('next_seq')) - 1}, "
        f"sealed at {journal.get('sealed_seq')} head {str(journal.get('sealed_head'))[:16]}",
        "",
        "Nodes:",
    ]
    lines += [_member_line(_dict(member), str(document.get("node")))
              for member in _list(cluster.get("members"))]  # fmt: skip
    lines += ["", "Resource groups:"]
    for group in _list(cluster.get("groups")):
        lines += _group_lines(_dict(group))
    if not _list(cluster.get("groups")):
        lines.append("  (none configured)")
    incidents = _list(cluster.get("incidents"))
    if incidents:
        lines += ["", f"INCIDENTS ({len(incidents)}, clear with `hactl acknowledge`):"]
        lines += [f"  {incident}" for incident in incidents]
    fences = _list(document.get("pending_fences"))
    if fences:
        lines += ["", f"PENDING FENCES ({len(fences)}, takeover waits for them):"]
        lines += [_fence_line(_dict(fence)) for fence in fences]
    lines += ["", _failover_line(document.get("last_failover")), _packets_line(transport)]
    return "\n".join(lines)


def _fence_line(fence: dict[str, object]) -> str:
    state = "attempt in progress" if fence.get("is_in_flight") else "waiting to retry"
    last = fence.get("last_result") or "no attempt finished yet"
    return (f"  {fence.get('target')}: {fence.get('attempts')} attempt(s), {state}; "
            f"last: {fence.get('device') or '-'} {last}; why: {fence.get('reason')}")  # fmt: skip


def _member_line(member: dict[str, object], local_node: str) -> str:
    name = str(member.get("name"))
    if name == local_node:
        return f"  {name:<12} {member.get('status'):<8} (this node)"
    links = ", ".join(f"{link} {state}" for link, state in
                      (_pair(entry) for entry in _list(member.get("links"))))  # fmt: skip
    phase = member.get("phase") or "-"
    generation = member.get("generation")
    return (f"  {name:<12} {member.get('status'):<8} {phase:<9} "
            f"gen {generation if generation is not None else '-':<4} "
            f"links: {links or 'none heard'}")  # fmt: skip


def _group_lines(group: dict[str, object]) -> list[str]:
    holder = group.get("holder") or "nobody"
    resources = ", ".join(f"{resource} {state}" for resource, state in
                          (_pair(entry) for entry in _list(group.get("resources"))))  # fmt: skip
    return [
        f"  {group.get('name')}: held by {holder} (preferred {group.get('preferred_node')}; "
        f"here {group.get('local_phase')})",
        f"      {resources}",
    ]


def _failover_line(failover: object) -> str:
    if not isinstance(failover, dict):
        return "Last failover: none since this daemon started"
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(_int(failover["wall_time_ms"]) / 1000))
    return (f"Last failover: {failover.get('group')} from {failover.get('from_node')} to "
            f"{failover.get('to_node')} at {when}")  # fmt: skip


def _packets_line(transport: dict[str, object]) -> str:
    refused = _dict(transport.get("refused_packets"))
    refused_text = ", ".join(f"{reason} {count}" for reason, count in sorted(refused.items()))
    errors = _dict(transport.get("send_errors"))
    errors_text = ", ".join(f"{link} {count}" for link, count in sorted(errors.items()))
    return (f"Packets: sent {transport.get('sent_packets')}; refused: {refused_text or 'none'}; "
            f"send errors: {errors_text or 'none'}")  # fmt: skip


def _duration(value: object) -> str:
    seconds = _int(value) // 1000
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m{seconds:02d}s" if hours else f"{minutes}m{seconds:02d}s"


def _dict(value: object) -> dict[str, object]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def _pair(value: object) -> tuple[object, object]:
    if isinstance(value, list) and len(value) == 2:
        return value[0], value[1]
    return value, "?"


def _int(value: object) -> int:
    return value if isinstance(value, int) else 0


def register(app: typer.Typer) -> None:
    app.command("status")(status)
