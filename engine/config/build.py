"""Assemble one `ClusterConfig` from the three Heartbeat files, given as text.

This is the pure entry point that tests, the simulator and the I/O loader share: it runs the
three readers, collects every problem from all of them, then checks what only the files
together can tell (the local node and every preferred node are `node`s, each `monitor`
names a resource in haresources, each OCF resource has its parameter file). One
`ConfigError` carries everything found; otherwise the frozen configuration comes back
with all warnings attached.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from functools import partial
from typing import TypeVar

from engine.config.authkeys import Authkeys, parse_authkeys
from engine.config.errors import ConfigError, ConfigProblem, ProblemLog
from engine.config.hacf import HaCf, read_hacf
from engine.config.haresources import read_haresources
from engine.config.model import (
    ClusterConfig,
    IPAddressResource,
    MonitorPolicy,
    OcfResource,
    Resource,
    ResourceGroup,
)
from engine.config.ocf_parameters import parse_ocf_parameters

T = TypeVar("T")


def ocf_parameter_key(resource: OcfResource) -> str:
    """The key of `ocf_parameter_texts`: `TYPE/INSTANCE`, the path under conf/OCF/."""
    return f"{resource.agent_type}/{resource.instance}"


def parse_cluster_config(
    hacf_text: str,
    haresources_text: str,
    authkeys_text: str,
    *,
    local_node: str,
    local_addresses: Iterable[str] = (),
    authkeys_mode: int = 0o600,
    ocf_parameter_texts: Mapping[str, str] | None = None,
    hacf_file: str = "ha.cf",
    haresources_file: str = "haresources",
    authkeys_file: str = "authkeys",
    ocf_directory: str = "conf/OCF",
) -> ClusterConfig:
    """Build the configuration or raise ConfigError with every problem in every file.

    `ocf_parameter_texts` maps `TYPE/INSTANCE` (see `ocf_parameter_key`) to the text of
    `<ocf_directory>/TYPE/INSTANCE`; a missing entry is reported as a missing file.
    """
    hacf, hacf_problems = read_hacf(hacf_text, file_name=hacf_file, local_addresses=local_addresses)
    groups, haresources_problems = read_haresources(haresources_text, file_name=haresources_file)
    problems = [*hacf_problems, *haresources_problems]
    authkeys = _collect(
        problems, lambda: parse_authkeys(authkeys_text, file_name=authkeys_file, mode=authkeys_mode)
    )
    cross_log = ProblemLog(haresources_file)
    groups = _with_ocf_parameters(
        groups, ocf_parameter_texts or {}, ocf_directory, problems, cross_log
    )
    # Cross-file checks run on whatever could be read, so one run shows everything; a check
    # is skipped only where a problem already reported would make it misleading.
    if not any(problem.directive == "node" for problem in hacf_problems):
        _check_local_node(hacf, local_node, problems)
        _check_preferred_nodes(hacf, groups, cross_log)
    monitors: tuple[MonitorPolicy, ...] = ()
    if not haresources_problems:
        monitors = _resolve_monitors(hacf, groups, problems)
    problems.extend(cross_log.problems)
    if problems:
        raise ConfigError(_in_file_order(problems, hacf_file, haresources_file))
    assert authkeys is not None
    return _assemble(hacf, groups, authkeys, local_node.lower(), monitors)


def _in_file_order(
    problems: list[ConfigProblem], hacf_file: str, haresources_file: str
) -> list[ConfigProblem]:
    """ha.cf, then haresources, then the other files (OCF parameters, authkeys); by line."""
    rank = {hacf_file: 0, haresources_file: 1}
    return sorted(problems, key=lambda problem: (rank.get(problem.file, 2), problem.line or 0))


def _collect(problems: list[ConfigProblem], read: Callable[[], T]) -> T | None:
    try:
        return read()
    except ConfigError as error:
        problems.extend(error.problems)
        return None


def _with_ocf_parameters(
    groups: tuple[ResourceGroup, ...],
    texts: Mapping[str, str],
    ocf_directory: str,
    problems: list[ConfigProblem],
    log: ProblemLog,
) -> tuple[ResourceGroup, ...]:
    """Fill each OCF resource's parameters from its file, reporting missing or bad files."""
    return tuple(
        replace(
            group,
            resources=tuple(
                _with_parameters(resource, group, texts, ocf_directory, problems, log)
                for resource in group.resources
            ),
        )
        for group in groups
    )


def _with_parameters(
    resource: Resource,
    group: ResourceGroup,
    texts: Mapping[str, str],
    ocf_directory: str,
    problems: list[ConfigProblem],
    log: ProblemLog,
) -> Resource:
    if not isinstance(resource, OcfResource):
        return resource
    key = ocf_parameter_key(resource)
    path = f"{ocf_directory}/{key}"
    if key not in texts:
        log.error(
            group.location.line,
            resource.spec,
            f"parameter file {path} not found",
            "create it with name=value lines, one per OCF parameter",
        )
        return resource
    parameters = _collect(problems, partial(parse_ocf_parameters, texts[key], file_name=path))
    return resource if parameters is None else replace(resource, parameters=parameters)


def _check_local_node(hacf: HaCf, local_node: str, problems: list[ConfigProblem]) -> None:
    if local_node.lower() not in hacf.nodes:
        problems.append(
            ConfigProblem(
                file=hacf.file,
                line=None,
                directive="node",
                message=f"this node, {local_node.lower()!r}, is not one of the nodes "
                f"({', '.join(hacf.nodes)})",
                hint=f"add `node {local_node.lower()}` or pass --node with this node's name",
            )
        )


def _check_preferred_nodes(hacf: HaCf, groups: tuple[ResourceGroup, ...], log: ProblemLog) -> None:
    for group in groups:
        if group.preferred_node not in hacf.nodes:
            log.error(
                group.location.line,
                group.preferred_node,
                f"preferred node of group {group.name} is not a node in {hacf.file}",
                f"one of: {', '.join(hacf.nodes)}",
            )


def _find_resource(groups: tuple[ResourceGroup, ...], spec: str) -> Resource | None:
    for group in groups:
        for resource in group.resources:
            if resource.resource_id == spec:
                return resource
            # A bare address in haresources is IPaddr::ADDRESS; accept either spelling.
            if (
                isinstance(resource, IPAddressResource)
                and "::" not in resource.spec
                and (spec == f"IPaddr::{resource.spec}")
            ):
                return resource
    return None


def _resolve_monitors(
    hacf: HaCf, groups: tuple[ResourceGroup, ...], problems: list[ConfigProblem]
) -> tuple[MonitorPolicy, ...]:
    specs = [resource.resource_id for group in groups for resource in group.resources]
    policies: dict[str, MonitorPolicy] = {}
    for request in hacf.monitors:
        resource = _find_resource(groups, request.resource_spec)
        location = request.location
        if resource is None:
            close = difflib.get_close_matches(request.resource_spec, specs, n=1)
            problems.append(
                ConfigProblem(
                    file=location.file,
                    line=location.line,
                    directive="monitor",
                    message=f"{request.resource_spec} is not a resource in haresources",
                    hint=f"did you mean {close[0]}?"
                    if close
                    else "write the resource as in haresources",
                )
            )
            continue
        if resource.resource_id in policies:
            problems.append(
                ConfigProblem(
                    file=location.file,
                    line=location.line,
                    directive="monitor",
                    message=f"{resource.resource_id} already has a monitor line",
                    hint="keep one monitor line per resource",
                )
            )
            continue
        policies[resource.resource_id] = MonitorPolicy(
            resource_id=resource.resource_id,
            interval_ms=request.interval_ms,
            timeout_ms=request.timeout_ms,
            max_restarts=request.max_restarts,
        )
    return tuple(policies.values())


def _assemble(
    hacf: HaCf,
    groups: tuple[ResourceGroup, ...],
    authkeys: Authkeys,
    local_node: str,
    monitors: tuple[MonitorPolicy, ...],
) -> ClusterConfig:
    return ClusterConfig(
        nodes=hacf.nodes,
        local_node=local_node,
        timings=hacf.timings,
        udpport=hacf.udpport,
        media=hacf.media,
        auto_failback=hacf.auto_failback,
        ping_nodes=hacf.ping_nodes,
        ping_groups=hacf.ping_groups,
        respawns=hacf.respawns,
        stonith_devices=hacf.stonith_devices,
        monitors=monitors,
        quorum_loss_policy=hacf.quorum_loss_policy,
        auth=authkeys.auth,
        groups=groups,
        logfile=hacf.logfile,
        debugfile=hacf.debugfile,
        logfacility=hacf.logfacility,
        watchdog_device=hacf.watchdog_device,
        is_realtime=hacf.is_realtime,
        warnings=hacf.warnings + authkeys.warnings,
        address_announcement=hacf.announcement,
    )
