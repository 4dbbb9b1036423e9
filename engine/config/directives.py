"""The ha.cf vocabulary: which directives hactl implements and which it knowingly ignores.

Heartbeat grew many directives; a v1 cluster's ha.cf may carry any of them. hactl parses
the ones that decide membership, media, timing, failback and fencing, and accepts the rest
with one warning each (saying why it is safe to ignore), so an existing file loads
unchanged. A word in neither table is a typo or a foreign file: an error with a
"did you mean". Keeping the tables here, apart from the reader, makes the vocabulary easy
to audit against Heartbeat's `config.c` and docs/config.md.
"""

from __future__ import annotations

import difflib

# Parsed into ClusterConfig (the hactl extensions are marked).
IMPLEMENTED = frozenset(
    {
        "node",
        "keepalive",
        "deadtime",
        "warntime",
        "initdead",
        "deadping",
        "udpport",
        "bcast",
        "ucast",
        "mcast",
        "serial",
        "baud",
        "auto_failback",
        "nice_failback",
        "ping",
        "ping_group",
        "respawn",
        "stonith",
        "stonith_host",
        "logfacility",
        "logfile",
        "debugfile",
        "watchdog",
        "realtime",
        "crm",
        "monitor",  # hactl extension
        "no_quorum_policy",  # hactl extension
        "arp_count",  # hactl extension
        "arp_interval",  # hactl extension
        "arp_refresh",  # hactl extension
    }
)

# Heartbeat directives hactl accepts and ignores, with the reason given in the warning.
NOT_IMPLEMENTED: dict[str, str] = {
    "apiauth": "hactl has no Heartbeat client API; its admin interface is the hactl CLI",
    "autojoin": "hactl clusters have a fixed node list; new nodes are added with `node`",
    "compression": "hactl packets are small and never compressed",
    "compression_threshold": "hactl packets are small and never compressed",
    "traditional_compression": "hactl packets are small and never compressed",
    "conn_logd_time": "hactl logs to its journal and syslog, not to ha_logd",
    "use_logd": "hactl logs to its journal and syslog, not to ha_logd",
    "coredumps": "core dump handling is left to the system (systemd-coredump)",
    "coreroot": "core dump handling is left to the system (systemd-coredump)",
    "debug": "hactl's detail level is chosen with the CLI and its journal is always complete",
    "env": "resource environments come from the agents' own configuration",
    "hbgenmethod": "hactl keeps its generation number in its signed journal",
    "hopfudge": "hactl does not forward packets between rings",
    "log_badpack": "hactl always counts malformed packets and logs them once per peer",
    "max_rexmit_delay": "hactl does not retransmit Heartbeat messages",
    "memreserve": "hactl does not lock memory pools",
    "msgfmt": "hactl has its own signed wire format",
    "normalpoll": "hactl is event-driven and does not poll",
    "rtprio": "hactl runs with the priority its service unit gives it",
    "uuidfrom": "hactl identifies nodes by name",
    "use_apphbd": "apphbd is not part of hactl",
    "syslogmsgfmt": "hactl chooses its own syslog format",
    "enable_config_writes": "these belong to Pacemaker (crm on), which hactl does not run",
    "record_config_changes": "these belong to Pacemaker (crm on), which hactl does not run",
    "record_pengine_inputs": "these belong to Pacemaker (crm on), which hactl does not run",
    "quorum_server": "hactl computes quorum from its node list",
    "mcast6": "hactl's mcast medium is IPv4 only for now; use ucast for IPv6 peers",
}

# Directives whose whole line goes to one handler: split on blanks only, so commas in
# STONITH parameters, commands and resource specs survive.
WHOLE_LINE = frozenset({"mcast", "ucast", "stonith", "stonith_host", "respawn", "monitor"})

KNOWN = IMPLEMENTED | frozenset(NOT_IMPLEMENTED)


def suggestion_hint(word: str) -> str:
    """A "did you mean" hint for an unknown directive, or a pointer to the docs."""
    matches = difflib.get_close_matches(word.lower(), sorted(KNOWN), n=1, cutoff=0.6)
    if matches:
        return f"did you mean {matches[0]}?"
    return "see docs/config.md for the directives hactl reads"
