"""The scenario language: prose-like scripts that drive a simulated cluster.

Shaped after etcd raft's testdata scripts and Pacemaker's named scheduler tests: one
command per line, `#` comments, read top to bottom. Parsing is separate from running so a
typo is reported with file and line before anything is simulated:

    cluster nodes=master,backup groups=1 fencing=yes auto_failback=on links=2
    run 10s
    crash master
    cut link master backup eth1        # both directions; `cut oneway` for one
    partition node1 | node2 node3
    heal
    fence-device fail 3 | hang | lie | ok
    resource fail-start backup g1 [COUNT]   # also fail-stop, fail-monitor, fail-status
    admin backup standby local         # standby|takeover all|local|foreign
    shutdown master | boot master | crash-daemon master
    ping lose backup | ping restore backup
    clock master jump -1h
    expect holder g1 backup            # or `none`
    expect member backup master dead   # backup's view of master
    expect link backup master eth1 dead

Groups are named g1, g2, ... in haresources order; `cluster` must come first.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TypeVar

from engine.config.model import AutoFailback, QuorumLossPolicy
from engine.sim import faults
from engine.sim.devices import ResourceAction
from engine.sim.durations import DurationError, parse_duration_ms
from engine.sim.generated_config import ClusterShape
from engine.sim.network import DirectedLink


class ScenarioError(ValueError):
    """A script that cannot be run; the message names file, line and what was expected."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ClusterSetup:
    shape: ClusterShape
    node_names: tuple[str, ...]
    start_daemons: bool  # false: `cluster ... boot=no`, the script boots nodes itself
    action_ms: int  # start and stop durations of every resource agent


@dataclass(frozen=True, slots=True, kw_only=True)
class Run:
    duration_ms: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ApplyFault:
    fault: faults.Fault


class AdminVerb(enum.Enum):
    STANDBY = "standby"
    TAKEOVER = "takeover"


class AdminScope(enum.Enum):
    ALL = "all"
    LOCAL = "local"
    FOREIGN = "foreign"


@dataclass(frozen=True, slots=True, kw_only=True)
class Admin:
    node: str
    verb: AdminVerb
    scope: AdminScope


@dataclass(frozen=True, slots=True, kw_only=True)
class Shutdown:
    node: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PingReach:
    node: str
    is_reachable: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class ExpectHolder:
    group: str  # g1, g2, ...
    node: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ExpectMember:
    observer: str
    node: str
    status: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ExpectLink:
    observer: str
    node: str
    link: str  # the interface, e.g. eth1
    status: str


Step = (
    ClusterSetup
    | Run
    | ApplyFault
    | Admin
    | Shutdown
    | PingReach
    | ExpectHolder
    | ExpectMember
    | ExpectLink
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ScriptLine:
    number: int
    text: str
    step: Step


_BOOLEANS = {"yes": True, "on": True, "true": True, "no": False, "off": False, "false": False}


def parse_script(text: str, *, file: str) -> tuple[ScriptLine, ...]:
    lines: list[ScriptLine] = []
    nodes: tuple[str, ...] = ()
    links: tuple[str, ...] = ()
    for number, raw in enumerate(text.splitlines(), start=1):
        content = raw.split("#", 1)[0].strip()
        if not content:
            continue
        try:
            step = _parse_line(content.split(), nodes, links, is_first=not lines)
        except (ScenarioError, DurationError) as error:
            raise ScenarioError(f"{file}:{number}: {content}: {error}") from None
        if isinstance(step, ClusterSetup):
            nodes = step.node_names
            links = tuple(f"bcast eth{index}" for index in range(step.shape.link_count))
        lines.append(ScriptLine(number=number, text=content, step=step))
    if not lines:
        raise ScenarioError(f"{file}: the script is empty (start with a `cluster` line)")
    return tuple(lines)


def _parse_line(
    words: list[str], nodes: tuple[str, ...], links: tuple[str, ...], *, is_first: bool
) -> Step:
    verb, arguments = words[0], words[1:]
    if is_first != (verb == "cluster"):
        raise ScenarioError("a script starts with exactly one `cluster` line")
    if verb == "cluster":
        return _parse_cluster(arguments)

    def node(name: str) -> str:
        if name not in nodes:
            raise ScenarioError(f"unknown node {name!r} (nodes: {', '.join(nodes)})")
        return name

    match verb, arguments:
        case "run", [duration]:
            return Run(duration_ms=parse_duration_ms(duration))
        case "crash", [name]:
            return ApplyFault(fault=faults.Crash(node=node(name)))
        case "crash-daemon", [name]:
            return ApplyFault(fault=faults.CrashDaemon(node=node(name)))
        case "boot", [name]:
            return ApplyFault(fault=faults.Boot(node=node(name)))
        case "shutdown", [name]:
            return Shutdown(node=node(name))
        case ("cut" | "restore") as action, ["link" | "oneway" as how, first, second, *rest]:
            directed = _directed_links(node(first), node(second), rest, links, how == "link")
            if action == "cut":
                return ApplyFault(fault=faults.CutLinks(links=directed))
            return ApplyFault(fault=faults.RestoreLinks(links=directed))
        case "partition", _:
            return ApplyFault(fault=faults.Partition(sides=_sides(arguments, node)))
        case "heal", []:
            return ApplyFault(fault=faults.Heal())
        case "fence-device", ["fail", count]:
            return ApplyFault(fault=faults.FenceDeviceFails(count=_count(count)))
        case "fence-device", ["hang"]:
            return ApplyFault(fault=faults.FenceDeviceHangs())
        case "fence-device", ["lie"]:
            return ApplyFault(fault=faults.FenceDeviceLies())
        case "fence-device", ["ok"]:
            return ApplyFault(fault=faults.FenceDeviceRepaired())
        case "resource", [failure, name, resource, *count]:
            return ApplyFault(fault=_resource_failure(failure, node(name), resource, count))
        case "resource", ["repair"]:
            return ApplyFault(fault=faults.ResourcesRepaired())
        case "admin", [name, action, scope]:
            admin_verb, admin_scope = _enum(AdminVerb, action), _enum(AdminScope, scope)
            return Admin(node=node(name), verb=admin_verb, scope=admin_scope)
        case "ping", ["lose" | "restore" as action, name]:
            return PingReach(node=node(name), is_reachable=action == "restore")
        case "clock", [name, "jump" | "skew", delta]:
            sign = -1 if delta.startswith("-") else 1
            delta_ms = sign * parse_duration_ms(delta.lstrip("+-"))
            return ApplyFault(fault=faults.ClockJump(node=node(name), delta_ms=delta_ms))
        case "expect", ["holder", group, holder]:
            return ExpectHolder(group=group, node=None if holder == "none" else node(holder))
        case "expect", ["member", observer, name, status]:
            return ExpectMember(observer=node(observer), node=node(name), status=status)
        case "expect", ["link", observer, name, link, status]:
            if f"bcast {link}" not in links:
                raise ScenarioError(f"unknown link {link!r}")
            return ExpectLink(observer=node(observer), node=node(name), link=link, status=status)
    raise ScenarioError("unknown command or wrong arguments (see docs/simulator.md)")


def _parse_cluster(arguments: list[str]) -> ClusterSetup:
    options = dict(argument.split("=", 1) for argument in arguments if "=" in argument)
    if len(options) != len(arguments):
        raise ScenarioError("cluster options are written name=value")
    known = {
        "nodes",
        "groups",
        "fencing",
        "auto_failback",
        "links",
        "resources",
        "ping",
        "boot",
        "action_time",
        "deadtime",
        "keepalive",
        "initdead",
        "monitor",
        "restarts",
        "quorum_policy",
    }
    if unknown := set(options) - known:
        raise ScenarioError(f"unknown cluster option(s) {sorted(unknown)}; known: {sorted(known)}")
    node_text = options.get("nodes", "2")
    names = (
        tuple(f"node{n}" for n in range(1, int(node_text) + 1))
        if node_text.isdigit()
        else tuple(node_text.split(","))
    )
    deadtime_ms = parse_duration_ms(options.get("deadtime", "2s"))
    shape = ClusterShape(
        node_count=len(names),
        group_count=int(options.get("groups", "1")),
        resources_per_group=int(options.get("resources", "2")),
        link_count=int(options.get("links", "2")),
        is_fencing=_boolean(options.get("fencing", "yes")),
        auto_failback=_enum(AutoFailback, options.get("auto_failback", "on")),
        keepalive_ms=parse_duration_ms(options.get("keepalive", "200ms")),
        deadtime_ms=deadtime_ms,
        warntime_ms=deadtime_ms // 2,
        initdead_ms=parse_duration_ms(options.get("initdead", str(deadtime_ms * 2) + "ms")),
        ping_nodes=("198.18.255.1",) if _boolean(options.get("ping", "no")) else (),
        quorum_loss_policy=_enum(QuorumLossPolicy, options.get("quorum_policy", "stop")),
        monitor_interval_ms=(
            parse_duration_ms(options["monitor"]) if "monitor" in options else None
        ),
        monitor_max_restarts=int(options.get("restarts", "2")),
    )
    return ClusterSetup(
        shape=shape,
        node_names=names,
        start_daemons=_boolean(options.get("boot", "yes")),
        action_ms=parse_duration_ms(options.get("action_time", "100ms")),
    )


def _directed_links(
    first: str, second: str, rest: list[str], links: tuple[str, ...], is_both_ways: bool
) -> tuple[DirectedLink, ...]:
    by_interface = {link.split()[-1]: link for link in links}
    for name in rest:
        if name not in by_interface:
            raise ScenarioError(f"unknown link {name!r} (links: {', '.join(by_interface)})")
    names = tuple(by_interface[name] for name in rest) if rest else links
    pairs = ((first, second), (second, first)) if is_both_ways else ((first, second),)
    return tuple(
        DirectedLink(source=source, destination=destination, link=name)
        for name in names
        for source, destination in pairs
    )


def _sides(arguments: list[str], node: object) -> tuple[tuple[str, ...], ...]:
    assert callable(node)
    sides: list[list[str]] = [[]]
    for word in arguments:
        if word == "|":
            sides.append([])
        else:
            sides[-1].append(node(word))
    if len(sides) < 2 or not all(sides):
        raise ScenarioError("write the sides separated by `|`: partition a b | c")
    return tuple(tuple(side) for side in sides)


_FAILURES = {
    "fail-start": ResourceAction.START,
    "fail-stop": ResourceAction.STOP,
    "fail-status": ResourceAction.STATUS,
    "fail-monitor": ResourceAction.MONITOR,
}


def _resource_failure(failure: str, node: str, resource: str, count: list[str]) -> faults.Fault:
    if failure not in _FAILURES:
        raise ScenarioError(f"resource failures are {', '.join(_FAILURES)}")
    if len(count) > 1:
        raise ScenarioError("at most one count after the resource")
    times = -1 if not count or count[0] == "always" else _count(count[0])
    return faults.ResourceFails(
        node=node, resource_id=resource, action=_FAILURES[failure], count=times
    )


def _count(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise ScenarioError(f"{text!r} is not a positive count")
    return int(text)


def _boolean(text: str) -> bool:
    if text.lower() not in _BOOLEANS:
        raise ScenarioError(f"{text!r} is not yes/no")
    return _BOOLEANS[text.lower()]


EnumMember = TypeVar("EnumMember", bound=enum.Enum)


def _enum(kind: type[EnumMember], text: str) -> EnumMember:
    try:
        return kind(text.lower())
    except ValueError:
        choices = "|".join(str(member.value) for member in kind)
        raise ScenarioError(f"{text!r} is not one of {choices}") from None
