"""Runs a parsed scenario script and writes its transcript: each command, then what happened.

The transcript is what `tests/scenarios/NAME.out` records and what a reviewer reads: the
command as written, then the timeline lines it caused (simulated time, node, fact), then
for `expect` lines `ok` or `FAILED: ...`. The run ends with the safety and replay verdicts,
so a recorded transcript can never hide a violated invariant.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.config.model import ClusterConfig
from engine.sim.bridge import Bridge
from engine.sim.cluster import SimulatedCluster
from engine.sim.generated_config import generate_config
from engine.sim.replay_check import check_replay
from engine.sim.scenario_language import (
    Admin,
    ApplyFault,
    ClusterSetup,
    ExpectHolder,
    ExpectLink,
    ExpectMember,
    PingReach,
    Run,
    ScriptLine,
    Shutdown,
    Step,
)
from engine.sim.settings import build_cluster


@dataclass(frozen=True, slots=True, kw_only=True)
class ScenarioResult:
    transcript: str
    failures: tuple[str, ...]  # failed expectations and invariant violations


def run_scenario(script: tuple[ScriptLine, ...], *, bridge: Bridge | None = None) -> ScenarioResult:
    setup = script[0].step
    assert isinstance(setup, ClusterSetup), "the parser guarantees a leading cluster line"
    config = _named_config(setup)
    cluster = build_cluster(config, seed=0, action_ms=setup.action_ms, bridge=bridge)
    output: list[str] = []
    failures: list[str] = []
    for line in script:
        output.append(f"> {line.text}")
        failure = _run_step(cluster, config, line.step)
        output.extend(f"  {entry.render()}" for entry in cluster.timeline.take_new())
        if isinstance(line.step, ExpectHolder | ExpectMember | ExpectLink):
            output.append("  ok" if failure is None else f"  FAILED: {failure}")
        if failure is not None:
            failures.append(f"line {line.number}: {line.text}: {failure}")
    check_replay(cluster)
    violations = [str(violation) for violation in cluster.checker.violations]
    output.extend(violations or ["no safety or replay violation"])
    failures.extend(violations)
    return ScenarioResult(transcript="\n".join(output) + "\n", failures=tuple(failures))


def _named_config(setup: ClusterSetup) -> ClusterConfig:
    """The generated config, with the script's node names in place of node1..nodeN."""
    generated = generate_config(setup.shape)
    renames = dict(zip(generated.nodes, setup.node_names, strict=True))
    groups = tuple(
        group.__class__(
            name=group.name,
            preferred_node=renames[group.preferred_node],
            resources=group.resources,
            location=group.location,
        )
        for group in generated.groups
    )
    return _replace(
        generated, nodes=setup.node_names, local_node=setup.node_names[0], groups=groups
    )


def _replace(config: ClusterConfig, **changes: object) -> ClusterConfig:
    import dataclasses

    return dataclasses.replace(config, **changes)  # type: ignore[arg-type]


def _run_step(cluster: SimulatedCluster, config: ClusterConfig, step: Step) -> str | None:
    match step:
        case ClusterSetup():
            if step.start_daemons:
                for node in config.nodes:
                    cluster.boot(node)
        case Run():
            cluster.run_until(cluster.now_ms + step.duration_ms)
        case ApplyFault():
            cluster.apply(step.fault)
        case Admin():
            cluster.stimulate_admin(step.node, step.verb, step.scope)
        case Shutdown():
            cluster.stimulate_shutdown(step.node)
        case PingReach():
            cluster.stimulate_ping(step.node, is_reachable=step.is_reachable)
        case ExpectHolder():
            return _check_holder(cluster, config, step)
        case ExpectMember():
            view = cluster.view(step.observer)
            if view is None:
                return f"{step.observer}'s daemon is not running"
            seen = view.members.get(step.node)
            return None if seen == step.status else f"{step.observer} sees {step.node} {seen}"
        case ExpectLink():
            view = cluster.view(step.observer)
            if view is None:
                return f"{step.observer}'s daemon is not running"
            seen = view.links.get(f"{step.node} bcast {step.link}")
            return None if seen == step.status else f"{step.observer} sees that link {seen}"
    return None


def _check_holder(
    cluster: SimulatedCluster, config: ClusterConfig, step: ExpectHolder
) -> str | None:
    index = int(step.group.removeprefix("g")) - 1 if step.group[1:].isdigit() else -1
    if not 0 <= index < len(config.groups):
        return f"no group {step.group} (groups are g1..g{len(config.groups)})"
    group = config.groups[index]
    holders = sorted(cluster.world.group_holders(group.name))
    if step.node is None:
        return None if not holders else f"held by {holders}"
    missing = [
        resource.resource_id
        for resource in group.resources
        if not cluster.world.is_running(step.node, resource.resource_id)
    ]
    if holders == [step.node] and not missing:
        return _check_beliefs(cluster, group.name, step.node)
    return f"held by {holders or 'nobody'}" + (f", {step.node} lacks {missing}" if missing else "")


def _check_beliefs(cluster: SimulatedCluster, group: str, holder: str) -> str | None:
    """Every running daemon must agree with the world about who holds the group."""
    wrong = {}
    for name in cluster.nodes:
        view = cluster.view(name)
        if view is not None and view.holders.get(group) != holder:
            wrong[name] = view.holders.get(group)
    return None if not wrong else f"held by {holder}, but these nodes believe {wrong}"
