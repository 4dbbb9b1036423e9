"""The typed, immutable cluster configuration that ha.cf, haresources and authkeys parse into.

This module is the contract between the parsers (which build it from text), the engine
(which reads timings, nodes and groups from it) and the shell (which reads media, auth
and fencing from it). It holds data only: no parsing, no I/O, no defaults logic; the
parsers derive every default and record where each timing came from, so that
`hactl config check` can say "set" or "default" for each.

All times are integer milliseconds (`*_ms`); node names are stored lower-case, as
Heartbeat compares them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class ValueSource(enum.Enum):
    """Where a configuration value came from, for `hactl config check`."""

    SET = "set"  # written in the file
    DEFAULT = "default"  # Heartbeat's default
    DERIVED = "derived"  # computed from other values (warntime = deadtime / 2, initdead rule)


class AutoFailback(enum.Enum):
    ON = "on"
    OFF = "off"
    LEGACY = "legacy"  # Heartbeat's default: behaves as `on` unless a node runs nice_failback


class AuthMethod(enum.Enum):
    CRC = "crc"  # integrity only, no secret
    MD5 = "md5"  # HMAC-MD5
    SHA1 = "sha1"  # HMAC-SHA1
    SHA256 = "sha256"  # HMAC-SHA256, a hactl extension and the recommended choice


class QuorumLossPolicy(enum.Enum):
    """hactl extension (ha.cf `no_quorum_policy`), for clusters of three or more nodes."""

    STOP = "stop"  # stop this node's groups when quorum is lost (the safe default)
    FREEZE = "freeze"  # keep what runs, start nothing new


class IPAgent(enum.Enum):
    IPADDR = "IPaddr"  # alias-labelled address (eth0:0), 10 ARP pairs at 500 ms in Heartbeat
    IPADDR2 = "IPaddr2"  # plain secondary address, 5 ARP pairs at 200 ms


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceLocation:
    """A place in a configuration file, for warnings and errors."""

    file: str
    line: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Timed:
    """A millisecond value and where it came from."""

    value_ms: int
    source: ValueSource


@dataclass(frozen=True, slots=True, kw_only=True)
class Timings:
    keepalive: Timed
    deadtime: Timed
    warntime: Timed
    initdead: Timed
    deadping: Timed


# ---- media -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class BcastMedium:
    interface: str
    port: int


@dataclass(frozen=True, slots=True, kw_only=True)
class UcastMedium:
    interface: str
    peer_address: str
    port: int


@dataclass(frozen=True, slots=True, kw_only=True)
class McastMedium:
    interface: str
    group: str
    port: int
    ttl: int  # 1..4
    is_loopback: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class SerialMedium:
    device: str
    baud: int


Medium = BcastMedium | UcastMedium | McastMedium | SerialMedium


# ---- authentication ------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthKey:
    index: int  # 1..15
    method: AuthMethod
    secret: bytes  # empty for crc

    def __repr__(self) -> str:  # never print a secret into a log or a test failure
        return f"AuthKey(index={self.index}, method={self.method.value}, secret=<hidden>)"


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthConfig:
    active_index: int  # the key that signs outgoing packets (`auth N`)
    keys: tuple[AuthKey, ...]  # every listed key is accepted on receipt (key rotation)

    @property
    def active_key(self) -> AuthKey:
        for key in self.keys:
            if key.index == self.active_index:
                return key
        raise AssertionError("the parser guarantees that `auth N` names a listed key")


# ---- resources ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class IPAddressResource:
    """IPaddr::ip[/cidr[/iface][/broadcast]] or a bare IPv4 address in haresources."""

    agent: IPAgent
    address: str  # IPv4 or IPv6 text, as written
    prefix_length: int | None  # None: found from the covering route at start time (findif)
    interface: str | None  # None: found from the covering route at start time
    broadcast: str | None
    spec: str  # the resource as written in haresources, e.g. "IPaddr::198.18.0.50/24/eth0"

    @property
    def resource_id(self) -> str:
        return self.spec


@dataclass(frozen=True, slots=True, kw_only=True)
class ScriptResource:
    """A Heartbeat resource.d script or an LSB init script: SCRIPT[::ARG...]."""

    script: str
    arguments: tuple[str, ...]
    spec: str

    @property
    def resource_id(self) -> str:
        return self.spec


@dataclass(frozen=True, slots=True, kw_only=True)
class OcfResource:
    """OCF::TYPE::INSTANCE; parameters come from conf/OCF/TYPE/INSTANCE (name=value lines)."""

    provider: str  # "heartbeat" unless written OCF::PROVIDER:TYPE::INSTANCE (hactl extension)
    agent_type: str
    instance: str
    parameters: tuple[tuple[str, str], ...]
    spec: str

    @property
    def resource_id(self) -> str:
        return self.spec


Resource = IPAddressResource | ScriptResource | OcfResource


@dataclass(frozen=True, slots=True, kw_only=True)
class MonitorPolicy:
    """hactl extension (ha.cf `monitor RESOURCE INTERVAL [timeout=T] [restarts=N]`).

    The resource is checked every `interval_ms`; after `max_restarts` failed restarts in
    place the group fails over.
    """

    resource_id: str
    interval_ms: int
    timeout_ms: int
    max_restarts: int


@dataclass(frozen=True, slots=True, kw_only=True)
class AddressAnnouncement:
    """hactl extension (ha.cf `arp_count`, `arp_interval`, `arp_refresh`).

    How a node announces a floating address it has just taken: `count` gratuitous ARP
    request+reply pairs (or IPv6 neighbour advertisements) `interval_ms` apart, as IPaddr2
    does by default; then, if `refresh_ms` is set, one more every `refresh_ms` while it holds
    the address, for switches and clients that missed the burst.
    """

    count: int = 5
    interval_ms: int = 200
    refresh_ms: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ResourceGroup:
    name: str  # the first resource's spec, as Heartbeat keys groups
    preferred_node: str
    resources: tuple[Resource, ...]  # in start order; stop runs in reverse
    location: SourceLocation


# ---- fencing ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class StonithDevice:
    """`stonith TYPE FILE` or `stonith_host FROM|* TYPE PARAMS...`."""

    device_type: str
    from_node: str  # "*" for any node
    parameters: tuple[str, ...]  # positional parameters as written
    named_parameters: tuple[tuple[str, str], ...]  # hactl extension: name=value pairs
    config_file: str | None  # for `stonith TYPE FILE`
    location: SourceLocation


# ---- the whole cluster ----------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class PingGroup:
    name: str
    addresses: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Respawn:
    user: str
    command: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfigWarning:
    location: SourceLocation
    message: str

    def __str__(self) -> str:
        return f"{self.location.file}:{self.location.line}: {self.message}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ClusterConfig:
    nodes: tuple[str, ...]  # lower-case, in ha.cf order
    local_node: str  # lower-case; must be one of `nodes`
    timings: Timings
    udpport: int
    media: tuple[Medium, ...]
    auto_failback: AutoFailback
    ping_nodes: tuple[str, ...]
    ping_groups: tuple[PingGroup, ...]
    respawns: tuple[Respawn, ...]
    stonith_devices: tuple[StonithDevice, ...]
    monitors: tuple[MonitorPolicy, ...]
    quorum_loss_policy: QuorumLossPolicy
    auth: AuthConfig
    groups: tuple[ResourceGroup, ...]
    logfile: str | None
    debugfile: str | None
    logfacility: str | None
    watchdog_device: str | None
    is_realtime: bool
    warnings: tuple[ConfigWarning, ...] = field(default=())
    # Fields added after the first release keep defaults and stay last, so configurations
    # journaled by an older hactl still decode.
    address_announcement: AddressAnnouncement = field(default=AddressAnnouncement())

    @property
    def is_fencing_configured(self) -> bool:
        return bool(self.stonith_devices)

    def group(self, name: str) -> ResourceGroup:
        for group in self.groups:
            if group.name == name:
                return group
        raise KeyError(name)
