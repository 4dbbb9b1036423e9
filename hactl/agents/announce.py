"""Tell the segment that an address moved: gratuitous ARP (IPv4) and unsolicited NA (IPv6).

After a takeover, clients and switches still map the cluster IP to the dead node's MAC until
their cache times out, minutes on some equipment. We send what IPaddr2's send_arp sends:
request+reply pairs, both broadcast, sender = the new node's MAC and the cluster IP
(5 pairs 200 ms apart by default). A request with sender IP = target IP refreshes every
cache that holds the address; the reply form reaches old stacks that only learn from
replies. For IPv6 we send unsolicited Neighbour Advertisements (RFC 4861 7.2.6) to
all-nodes with the Override flag, which replaces a neighbour's cached link-layer address.

Frames are built by pure functions (tested byte for byte); sending is a thin layer over an
AF_PACKET socket (ARP) or a raw ICMPv6 socket (the kernel fills in the IPv6 header and
checksum). `announce_address` sends one burst; `keep_announcing` is the optional periodic
refresh, a plain cancellable trio task for the daemon to own.
"""

from __future__ import annotations

import fcntl
import ipaddress
import socket
import struct
from typing import NoReturn

import trio

ETH_P_ARP = 0x0806
ARP_REQUEST = 1
ARP_REPLY = 2
BROADCAST_MAC = b"\xff" * 6
ZERO_MAC = b"\x00" * 6
ICMPV6_NEIGHBOUR_ADVERTISEMENT = 136
NA_OVERRIDE_FLAG = 0x20
OPTION_TARGET_LINK_LAYER_ADDRESS = 2
ALL_NODES = "ff02::1"
SIOCGIFHWADDR = 0x8927


def arp_frame(*, mac: bytes, address: ipaddress.IPv4Address, operation: int) -> bytes:
    """An Ethernet broadcast ARP frame announcing that `address` is at `mac`.

    Requests carry a zero target MAC (RFC 5227 announcement); replies carry the broadcast
    MAC as target, as send_arp did. Sender and target IP are both the announced address.
    """
    assert len(mac) == 6 and operation in (ARP_REQUEST, ARP_REPLY)
    target_mac = ZERO_MAC if operation == ARP_REQUEST else BROADCAST_MAC
    ethernet = BROADCAST_MAC + mac + struct.pack("!H", ETH_P_ARP)
    arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, operation)
    arp += mac + address.packed + target_mac + address.packed
    return ethernet + arp


def neighbour_advertisement(*, mac: bytes, address: ipaddress.IPv6Address) -> bytes:
    """An ICMPv6 unsolicited NA for `address` (checksum left 0: the kernel computes it)."""
    assert len(mac) == 6
    header = struct.pack("!BBHB3x", ICMPV6_NEIGHBOUR_ADVERTISEMENT, 0, 0, NA_OVERRIDE_FLAG)
    option = struct.pack("!BB", OPTION_TARGET_LINK_LAYER_ADDRESS, 1) + mac
    return header + address.packed + option


def interface_mac(interface: str) -> bytes:
    """The interface's hardware address, from the kernel of this process's namespace."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        request = struct.pack("256s", interface.encode()[:15])
        answer = fcntl.ioctl(probe.fileno(), SIOCGIFHWADDR, request)
    return answer[18:24]


class _Sender:
    """One open socket that sends announcements of one address on one interface."""

    def __init__(self, address: str, interface: str) -> None:
        self.address = ipaddress.ip_address(address)
        self.interface = interface
        self.mac = interface_mac(interface)
        self.interface_index = socket.if_nametoindex(interface)
        if isinstance(self.address, ipaddress.IPv4Address):
            self.socket = _shared_packet_socket()
        else:
            self.socket = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
            self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
            self.socket.setsockopt(
                socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, self.interface_index
            )
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, interface.encode())
            self.socket.bind((str(self.address), 0, 0, self.interface_index))

    def send_once(self) -> None:
        """One ARP request+reply pair, or one neighbour advertisement."""
        if isinstance(self.address, ipaddress.IPv4Address):
            for operation in (ARP_REQUEST, ARP_REPLY):
                frame = arp_frame(mac=self.mac, address=self.address, operation=operation)
                self.socket.sendto(frame, (self.interface, ETH_P_ARP))
        else:
            packet = neighbour_advertisement(mac=self.mac, address=self.address)
            self.socket.sendto(packet, (ALL_NODES, 0, 0, self.interface_index))

    def close(self) -> None:
        if self.socket.family != socket.AF_PACKET:  # the packet socket is shared, kept open
            self.socket.close()


_packet_sockets: list[socket.socket] = []


def _shared_packet_socket() -> socket.socket:
    """One send-only AF_PACKET socket for every ARP announcement of this process.

    Protocol 0 keeps it out of the receive path. It is opened once and never closed
    because closing a packet socket waits for an RCU grace period (synchronize_net): 10+ ms
    on a busy machine, which a takeover cannot spare. Sending names the interface per frame.
    """
    if not _packet_sockets:
        _packet_sockets.append(socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0))
    return _packet_sockets[0]


async def announce_address(address: str, interface: str, *, count: int, interval_ms: int) -> None:
    """Send `count` announcements (ARP pairs or NAs) `interval_ms` apart; the first at once.

    Raises OSError when the interface or socket is unusable (the caller decides whether that
    fails anything: the address itself is already up).
    """
    assert count >= 1 and interval_ms >= 0
    sender = _Sender(address, interface)
    try:
        for number in range(count):
            if number:
                await trio.sleep(interval_ms / 1000)
            sender.send_once()
    finally:
        sender.close()


async def keep_announcing(
    address: str,
    interface: str,
    *,
    refresh_ms: int,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> NoReturn:
    """Re-announce every `refresh_ms` until cancelled (for switches that age entries out).

    Send errors are survived and retried at the next period: a refresh is a courtesy, and a
    flapping link must not kill the daemon's nursery.
    """
    assert refresh_ms > 0
    task_status.started()
    while True:
        await trio.sleep(refresh_ms / 1000)
        try:
            await announce_address(address, interface, count=1, interval_ms=0)
        except OSError:
            continue
