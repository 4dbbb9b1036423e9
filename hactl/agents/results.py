"""What an agent is asked to do, what came of it, and the context it runs in.

These types are the contract between the agents package and its callers (the node daemon
and `hactl resource debug`). The daemon turns an `AgentResult` into an engine event and a
journal record, so a result is plain data: the action, one outcome from a closed set the
engine can `match` on, the raw exit code for the record, the duration and the first few KiB
of output for the admin. Every agent kind (IP address, Heartbeat/LSB script, OCF agent)
maps its own exit conventions onto `AgentOutcome`, so the engine never needs to know which
kind of agent it is talking to.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path

import trio

OUTPUT_LIMIT_BYTES = 4096  # enough for an error message, small enough for a journal record


class AgentAction(enum.Enum):
    START = "start"
    STOP = "stop"
    STATUS = "status"
    MONITOR = "monitor"  # the periodic health check the engine schedules (a hactl extension)
    PROBE = "probe"  # status at start-up, to learn what already runs on this node


class AgentOutcome(enum.Enum):
    """How an action ended, in terms the engine decides on.

    SUCCESS means "done" for start/stop and "running" for status/monitor/probe.
    NOT_RUNNING is the clean "stopped" answer of status/monitor/probe (OCF 7, LSB status 3).
    The rest are failures; they are told apart because an admin fixes them differently.
    """

    SUCCESS = "success"
    NOT_RUNNING = "not-running"
    FAILED = "failed"  # OCF 1 / LSB generic error, or LSB status 4 (unknown)
    TIMEOUT = "timeout"  # killed after its timeout
    INVALID_ARGUMENTS = "invalid-arguments"  # OCF 2
    UNIMPLEMENTED = "unimplemented"  # OCF 3: the agent lacks this action
    INSUFFICIENT_PRIVILEGE = "insufficient-privilege"  # OCF 4
    NOT_INSTALLED = "not-installed"  # OCF 5, or no script/agent found at all
    NOT_CONFIGURED = "not-configured"  # OCF 6, or the resource cannot be resolved (findif)

    @property
    def is_failure(self) -> bool:
        return self not in (AgentOutcome.SUCCESS, AgentOutcome.NOT_RUNNING)


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentResult:
    action: AgentAction
    outcome: AgentOutcome
    exit_code: int | None  # None: no process ran (native agent) or it was killed
    duration_ms: int
    output: str  # first OUTPUT_LIMIT_BYTES of stdout+stderr, decoded leniently
    detail: str  # one line for the admin: what was done or what went wrong

    @property
    def is_running(self) -> bool:
        """For status/monitor/probe: the resource runs here."""
        return self.outcome is AgentOutcome.SUCCESS


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentContext:
    """Where agents live on this node and how IP takeovers are announced.

    `announcement_nursery`: when given, an IP start adds the address, sends the first ARP
    pair, and leaves the remaining pairs to a task in this nursery, so the daemon can start
    the next resource at once (Heartbeat ran send_arp in the background for the same reason).
    Without it, start returns after the last pair. Periodic refresh (`arp_refresh_ms`) is
    never started here: the daemon owns it through `keep_announcing`, so it can cancel it
    before stopping the address.
    """

    config_dir: Path = Path("/etc/ha.d")
    init_dir: Path = Path("/etc/init.d")
    ocf_root: Path = Path("/usr/lib/ocf")
    arp_count: int = 5  # request+reply pairs, as IPaddr2
    arp_interval_ms: int = 200
    arp_refresh_ms: int | None = None
    kill_grace_ms: int = 5000  # SIGTERM -> SIGKILL grace after a timeout
    script_path: str = "/usr/sbin:/usr/bin:/sbin:/bin"
    announcement_nursery: trio.Nursery | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        assert self.arp_count >= 1, self.arp_count
        assert self.arp_interval_ms >= 0, self.arp_interval_ms
        assert self.arp_refresh_ms is None or self.arp_refresh_ms > 0, self.arp_refresh_ms
        assert self.kill_grace_ms >= 0, self.kill_grace_ms
