"""Resource agents: how hactl starts, stops and checks the resources it moves.

One async entry point, `run_agent_action`, for every kind of resource in haresources:
native IP addresses (IPaddr/IPaddr2 through netlink, announced by gratuitous ARP or
unsolicited neighbour advertisements), Heartbeat `resource.d` and LSB init scripts, and
OCF agents. See docs/agents.md for the behaviour and the choices behind it.
"""

from hactl.agents.announce import announce_address, keep_announcing
from hactl.agents.dispatch import default_timeout_ms, run_agent_action, validate
from hactl.agents.results import AgentAction, AgentContext, AgentOutcome, AgentResult

__all__ = [
    "AgentAction",
    "AgentContext",
    "AgentOutcome",
    "AgentResult",
    "announce_address",
    "default_timeout_ms",
    "keep_announcing",
    "run_agent_action",
    "validate",
]
