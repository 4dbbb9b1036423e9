"""The haresources reader: one resource group per logical line.

    PREFERRED_NODE RESOURCE [RESOURCE ...]

A group is named by its first resource, as Heartbeat keys groups, so a name may appear only
once; resources start left to right and stop right to left. The file is the same on every
node, so checking preferred nodes against ha.cf's node list and reading OCF parameter files
happen in `engine.config.build`, which sees all files; this module checks what one file can.
"""

from __future__ import annotations

from engine.config.errors import ConfigError, ConfigProblem, ProblemLog, ValueProblem
from engine.config.lines import ConfigLine, read_continued_lines
from engine.config.model import Resource, ResourceGroup, SourceLocation
from engine.config.resources import parse_resource_spec


def parse_haresources(text: str, *, file_name: str = "haresources") -> tuple[ResourceGroup, ...]:
    """Read haresources text; raises ConfigError listing every problem in the file."""
    groups, problems = read_haresources(text, file_name=file_name)
    if problems:
        raise ConfigError(problems)
    return groups


def read_haresources(
    text: str, *, file_name: str = "haresources"
) -> tuple[tuple[ResourceGroup, ...], tuple[ConfigProblem, ...]]:
    """The groups that are well formed, plus every problem (in line order).

    `build` checks the well-formed groups against ha.cf even when other lines are bad.
    """
    log = ProblemLog(file_name)
    groups: list[ResourceGroup] = []
    group_lines: dict[str, int] = {}
    resource_lines: dict[str, int] = {}
    for line in read_continued_lines(text):
        group = _parse_group(line, log)
        if group is None:
            continue
        if group.name in group_lines:
            log.error(
                line.number,
                group.name,
                f"group {group.name} is already defined on line {group_lines[group.name]}",
                "a group is named by its first resource; merge or rename the lines",
            )
            continue
        if _has_repeated_resource(group, line.number, resource_lines, log):
            continue
        group_lines[group.name] = line.number
        groups.append(group)
    return tuple(groups), log.sorted_problems()


def _parse_group(line: ConfigLine, log: ProblemLog) -> ResourceGroup | None:
    node, *specs = line.tokens(split_commas=False)
    if not specs:
        log.error(
            line.number,
            node,
            "a group needs a preferred node and at least one resource",
            "node1 IPaddr::198.18.0.50 httpd",
        )
        return None
    resources: list[Resource] = []
    for spec in specs:
        try:
            resources.append(parse_resource_spec(spec))
        except ValueProblem as problem:
            log.value_error(line.number, spec, problem)
    if len(resources) != len(specs):
        return None
    return ResourceGroup(
        name=resources[0].resource_id,
        preferred_node=node.lower(),
        resources=tuple(resources),
        location=SourceLocation(file=log.file, line=line.number),
    )


def _has_repeated_resource(
    group: ResourceGroup, line: int, resource_lines: dict[str, int], log: ProblemLog
) -> bool:
    """A resource started by two groups (or twice by one) would fight itself."""
    is_repeated = False
    seen_here: set[str] = set()
    for resource in group.resources:
        resource_id = resource.resource_id
        if resource_id in seen_here or resource_id in resource_lines:
            where = resource_lines.get(resource_id, line)
            log.error(
                line,
                resource_id,
                f"resource is already used on line {where}",
                "each resource belongs to one group, once",
            )
            is_repeated = True
        seen_here.add(resource_id)
    if not is_repeated:
        resource_lines.update(dict.fromkeys(seen_here, line))
    return is_repeated
