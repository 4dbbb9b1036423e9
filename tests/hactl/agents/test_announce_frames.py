"""The announcement frames, byte for byte (the wire format is the contract with every
switch and client stack out there)."""

from __future__ import annotations

import ipaddress

from hactl.agents.announce import ARP_REPLY, ARP_REQUEST, arp_frame, neighbour_advertisement

MAC = bytes.fromhex("020000000001")
ADDRESS = ipaddress.IPv4Address("198.18.0.60")


def test_gratuitous_arp_request() -> None:
    frame = arp_frame(mac=MAC, address=ADDRESS, operation=ARP_REQUEST)
    assert frame.hex() == (
        "ffffffffffff" "020000000001" "0806"  # broadcast, from us, ARP
        "0001" "0800" "06" "04" "0001"  # Ethernet/IPv4, request
        "020000000001" "c612003c"  # sender: our MAC, the cluster IP
        "000000000000" "c612003c"  # target: unknown MAC, the same IP (gratuitous)
    )  # fmt: skip


def test_gratuitous_arp_reply() -> None:
    frame = arp_frame(mac=MAC, address=ADDRESS, operation=ARP_REPLY)
    assert frame[20:22].hex() == "0002"
    assert frame[32:38] == b"\xff" * 6
    assert frame[28:32] == frame[38:42] == ADDRESS.packed


def test_unsolicited_neighbour_advertisement() -> None:
    target = ipaddress.IPv6Address("fd00:18::60")
    packet = neighbour_advertisement(mac=MAC, address=target)
    assert packet.hex() == (
        "88" "00" "0000"  # type 136, code 0, checksum (filled by the kernel)
        "20000000"  # Override set; Router and Solicited clear
        + target.packed.hex()
        + "0201" "020000000001"  # option 2 (target link-layer address), 8 bytes
    )  # fmt: skip
