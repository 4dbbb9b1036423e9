"""The ha.cf media lines (bcast, ucast, mcast, serial) turned into typed media.

Each function takes the tokens after the directive plus the port or baud rate in force at
that point of the file (Heartbeat applies `udpport` and `baud` to the media lines that come
after them), and returns media or raises `ValueProblem`. A `ucast` line naming one of this
node's own addresses yields no medium, so the same ha.cf works on every node.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from engine.config.errors import ValueProblem
from engine.config.model import BcastMedium, McastMedium, SerialMedium, UcastMedium
from engine.config.values import (
    check_interface_name,
    parse_integer,
    parse_ip_address,
    parse_port,
)

# termios speeds Heartbeat's serial medium accepts.
BAUD_RATES = (9600, 19200, 38400, 57600, 115200, 230400, 460800)
DEFAULT_BAUD = 19200
MAX_MCAST_TTL = 4  # Heartbeat refuses more: heartbeats should not wander far


def parse_bcast(values: Sequence[str], *, port: int) -> list[BcastMedium]:
    if not values:
        raise ValueProblem("needs at least one interface", "bcast eth0 [eth1 ...]")
    return [BcastMedium(interface=check_interface_name(name), port=port) for name in values]


def parse_ucast(
    values: Sequence[str],
    *,
    port: int,
    local_addresses: frozenset[ipaddress.IPv4Address | ipaddress.IPv6Address],
) -> list[UcastMedium]:
    if len(values) < 2:
        raise ValueProblem("needs an interface and a peer address", "ucast eth0 198.18.0.2")
    interface = check_interface_name(values[0])
    media = []
    for text in values[1:]:
        address = parse_ip_address(text)
        if address in local_addresses:
            continue  # this node's own address: the line is for the peer's benefit
        media.append(UcastMedium(interface=interface, peer_address=str(address), port=port))
    return media


def parse_mcast(values: Sequence[str]) -> McastMedium:
    if len(values) != 5:
        raise ValueProblem(
            f"needs 5 fields, got {len(values)}",
            "mcast INTERFACE GROUP PORT TTL LOOP, e.g. mcast eth0 239.0.0.1 694 1 0",
        )
    interface_text, group_text, port_text, ttl_text, loop_text = values
    group = parse_ip_address(group_text)
    if not group.is_multicast or group.version != 4:
        raise ValueProblem(f"{group_text} is not an IPv4 multicast group", "224.0.0.0/4")
    ttl = parse_integer(ttl_text, minimum=1, maximum=MAX_MCAST_TTL, what="ttl")
    if loop_text not in ("0", "1"):
        raise ValueProblem(f"loop {loop_text!r} must be 0 or 1", "0 unless testing on one host")
    return McastMedium(
        interface=check_interface_name(interface_text),
        group=str(group),
        port=parse_port(port_text),
        ttl=ttl,
        is_loopback=loop_text == "1",
    )


def parse_serial(values: Sequence[str], *, baud: int) -> list[SerialMedium]:
    if not values:
        raise ValueProblem("needs at least one device", "serial /dev/ttyS0")
    for device in values:
        if not device.startswith("/dev/"):
            raise ValueProblem(f"{device!r} is not a device path", "like /dev/ttyS0")
    return [SerialMedium(device=device, baud=baud) for device in values]


def parse_baud(text: str) -> int:
    rate = parse_integer(text, minimum=1, maximum=10_000_000, what="baud rate")
    if rate not in BAUD_RATES:
        raise ValueProblem(
            f"baud rate {rate} is not supported",
            "one of " + ", ".join(str(known) for known in BAUD_RATES),
        )
    return rate
