"""UDP sockets for the ha.cf media: one per (interface, port), bound to its device.

Several media may share an interface (`bcast eth0` and `ucast eth0 PEER`): they share one
socket, so a packet received on it is attributed to one link, named after the first
medium on that interface the way the engine names links (`bcast eth1`): that is what
per-link status means to an admin ("bcast eth1 to backup is dead"). Each socket is bound
with SO_BINDTODEVICE so a packet for eth1 can never leave through eth0, and so that two
heartbeat links stay two independent paths. IPv4 only for now: an IPv6 medium is refused
with a clear error rather than half-working.
"""

from __future__ import annotations

import dataclasses
import fcntl
import ipaddress
import socket
import struct

from engine.config.model import BcastMedium, McastMedium, Medium, SerialMedium, UcastMedium
from engine.core.links import link_name

_SIOCGIFBRDADDR = 0x8919  # <linux/sockios.h>: get an interface's broadcast address
_IFNAMSIZ = 16
LIMITED_BROADCAST = "255.255.255.255"


class MediumError(Exception):
    """A configured medium cannot be opened (missing interface, address in use, ...)."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class MulticastGroup:
    group: str
    ttl: int
    is_loopback: bool


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class LinkPlan:
    """What one socket does: its interface and port, where it sends, which groups it joins."""

    link: str  # the engine's name for it ("bcast eth0"): the first medium on this socket
    interface: str
    port: int
    is_broadcast: bool
    unicast_peers: tuple[str, ...]
    multicast_groups: tuple[MulticastGroup, ...]


def plan_links(media: tuple[Medium, ...]) -> tuple[LinkPlan, ...]:
    """Group media by (interface, port); serial media are not supported by this daemon."""
    plans: dict[tuple[str, int], LinkPlan] = {}
    for medium in media:
        match medium:
            case SerialMedium():
                raise MediumError(f"serial {medium.device}: serial links are not supported yet")
            case BcastMedium() | UcastMedium() | McastMedium():
                pass
        key = (medium.interface, medium.port)
        plan = plans.get(key) or LinkPlan(
            link=link_name(medium), interface=medium.interface, port=medium.port,
            is_broadcast=False, unicast_peers=(), multicast_groups=(),
        )  # fmt: skip
        plans[key] = _with_medium(plan, medium)
    return tuple(plans.values())


def _with_medium(plan: LinkPlan, medium: BcastMedium | UcastMedium | McastMedium) -> LinkPlan:
    match medium:
        case BcastMedium():
            return dataclasses.replace(plan, is_broadcast=True)
        case UcastMedium():
            _require_ipv4(medium.peer_address, f"ucast {medium.interface}")
            peers = (*plan.unicast_peers, medium.peer_address)
            return dataclasses.replace(plan, unicast_peers=peers)
        case McastMedium():
            _require_ipv4(medium.group, f"mcast {medium.interface}")
            group = MulticastGroup(group=medium.group, ttl=medium.ttl,
                                   is_loopback=medium.is_loopback)  # fmt: skip
            return dataclasses.replace(plan, multicast_groups=(*plan.multicast_groups, group))


def _require_ipv4(address: str, where: str) -> None:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        raise MediumError(f"{where}: {address!r} is not an IP address") from None
    if parsed.version != 4:
        raise MediumError(f"{where}: {address}: IPv6 media are not supported yet")


def broadcast_address(interface: str) -> str:
    """The IPv4 broadcast address configured on `interface` (as `ip addr` shows `brd`)."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        request = struct.pack("256s", interface.encode()[: _IFNAMSIZ - 1])
        answer = fcntl.ioctl(probe.fileno(), _SIOCGIFBRDADDR, request)
    except OSError as error:
        raise MediumError(
            f"bcast {interface}: no IPv4 broadcast address on {interface}: {error.strerror}"
        ) from None
    finally:
        probe.close()
    address = socket.inet_ntoa(answer[20:24])
    # An address added without `brd` has none: the limited broadcast, which the bound
    # device keeps on this interface, reaches the same segment.
    return LIMITED_BROADCAST if address == "0.0.0.0" else address


def destinations(plan: LinkPlan) -> tuple[tuple[str, int], ...]:
    """Every (address, port) a packet goes to on this link."""
    targets: list[str] = []
    if plan.is_broadcast:
        targets.append(broadcast_address(plan.interface))
    targets.extend(plan.unicast_peers)
    targets.extend(group.group for group in plan.multicast_groups)
    return tuple((target, plan.port) for target in targets)


def open_link_socket(plan: LinkPlan) -> socket.socket:
    """A non-blocking UDP socket bound to `plan.port` on `plan.interface`, for its media.

    A plain socket rather than trio's: the transport tries each send and receive at once
    and waits on the descriptor only when the kernel says it would block, which a
    heartbeat datagram almost never does (trio's wrapper goes through the scheduler on
    every call, a loop turn per packet).
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        _configure(sock, plan)
        sock.bind(("", plan.port))
        sock.setblocking(False)
    except OSError as error:
        sock.close()
        raise MediumError(
            f"{plan.interface} port {plan.port}: cannot open the heartbeat socket: "
            f"{error.strerror or error}"
        ) from None
    return sock


# The loop reads its sockets itself (hactl/daemon/input_wait.py), so packets wait in the
# kernel while it is busy (a slow commit). The default ~208 KiB holds under a second of a
# 32-node cluster's heartbeats at keepalive 100 ms; 4 MiB holds many seconds. FORCE passes
# net.core.rmem_max, and needs CAP_NET_ADMIN, which the daemon has as root.
RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024
_SO_RCVBUFFORCE = 33  # <asm-generic/socket.h>; Python's socket module does not name it


def _configure(sock: socket.socket, plan: LinkPlan) -> None:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.setsockopt(socket.SOL_SOCKET, _SO_RCVBUFFORCE, RECEIVE_BUFFER_BYTES)
    except PermissionError:  # not root: as large as rmem_max allows
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER_BYTES)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, plan.interface.encode())
    if plan.is_broadcast:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    if not plan.multicast_groups:
        return
    interface_index = socket.if_nametoindex(plan.interface)
    request_interface = struct.pack("4s4si", b"\0" * 4, b"\0" * 4, interface_index)
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, request_interface)
    first = plan.multicast_groups[0]
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, first.ttl)
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, int(first.is_loopback))
    for group in plan.multicast_groups:
        membership = struct.pack("4s4si", socket.inet_aton(group.group), b"\0" * 4,
                                 interface_index)  # fmt: skip
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, membership)
