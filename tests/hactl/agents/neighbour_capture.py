"""Test helper, run inside a client namespace: print the ARP and IPv6 NA frames it sees.

It opens an AF_PACKET socket on one interface, prints `ready` once the socket is bound
(so the test starts the takeover only when nothing can be missed), then one JSON line per
incoming ARP frame or ICMPv6 Neighbour Advertisement, with the time it arrived, until it
has printed `--count` frames about `--address` or `--timeout-s` passed. Outgoing frames
(the client's own) are skipped. It is a plain script so that it can run under `ip netns exec`.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import select
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
ETH_P_ARP = 0x0806
ETH_P_IPV6 = 0x86DD
PACKET_OUTGOING = 4
ICMPV6 = 58


def describe(frame: bytes) -> dict[str, object] | None:
    if len(frame) < 14:
        return None
    (ethertype,) = struct.unpack("!H", frame[12:14])
    source_mac = frame[6:12].hex(":")
    if ethertype == ETH_P_ARP and len(frame) >= 42:
        (operation,) = struct.unpack("!H", frame[20:22])
        return {
            "kind": {1: "arp-request", 2: "arp-reply"}.get(operation, f"arp-{operation}"),
            "ethernet_source": source_mac,
            "ethernet_destination": frame[0:6].hex(":"),
            "sender_mac": frame[22:28].hex(":"),
            "sender_ip": str(ipaddress.IPv4Address(frame[28:32])),
            "target_mac": frame[32:38].hex(":"),
            "target_ip": str(ipaddress.IPv4Address(frame[38:42])),
        }
    if ethertype == ETH_P_IPV6 and len(frame) >= 14 + 40 + 24:
        ip = frame[14:54]
        if ip[6] != ICMPV6 or frame[54] != 136:
            return None
        icmp = frame[54:]
        option_mac = icmp[26:32].hex(":") if len(icmp) >= 32 and icmp[24] == 2 else None
        return {
            "kind": "neighbour-advertisement",
            "ethernet_source": source_mac,
            "hop_limit": ip[7],
            "destination": str(ipaddress.IPv6Address(ip[24:40])),
            "flags": icmp[4],
            "target": str(ipaddress.IPv6Address(icmp[8:24])),
            "target_mac": option_mac,
        }
    return None


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--interface", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--address", required=True, help="only frames announcing this address")
    parser.add_argument("--timeout-s", type=float, default=20)
    arguments = parser.parse_args()
    capture = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    capture.bind((arguments.interface, ETH_P_ALL))
    print("ready", flush=True)
    deadline = time.monotonic() + arguments.timeout_s
    printed = 0
    while printed < arguments.count and time.monotonic() < deadline:
        readable, _, _ = select.select([capture], [], [], max(0.0, deadline - time.monotonic()))
        if not readable:
            break
        frame, address = capture.recvfrom(65535)
        if address[2] == PACKET_OUTGOING:
            continue
        seen = describe(frame)
        if seen is None or arguments.address not in (seen.get("sender_ip"), seen.get("target")):
            continue
        seen["time_s"] = time.monotonic()
        print(json.dumps(seen), flush=True)
        printed += 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
