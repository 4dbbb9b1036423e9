"""IPaddr and IPaddr2, native: the cluster IP added and removed through netlink (pyroute2).

Heartbeat shelled out to ifconfig/ip and findif; we speak netlink directly, which is both
faster (the address is up within a millisecond or two of the decision) and exact: release
removes precisely the address we added, never the interface's other addresses. Every
netlink call runs in a worker thread, so a slow kernel never costs a heartbeat.

Where the address goes (findif): an explicit interface and prefix are used as written;
otherwise the connected route (no gateway, not the default route) that covers the address
gives the interface and, when missing, the prefix length; the longest prefix wins, as with
Heartbeat's findif. No covering route is a configuration error that names the address.

IPaddr labels the address with the first free alias (`eth0:0`, `eth0:1`, ...; at most 15
characters, the kernel's limit); IPaddr2 adds a plain secondary address. IPv6 addresses are
added with IFA_F_NODAD: a takeover cannot wait a second for duplicate address detection,
and the node that owned the address is dead or fenced. Adding an address that is present
and removing one that is absent both succeed. status means "the address is on an interface".
"""

from __future__ import annotations

import errno
import ipaddress
import socket
from dataclasses import dataclass
from typing import Any

import trio

from engine.config.model import IPAddressResource, IPAgent
from hactl.agents.announce import announce_address
from hactl.agents.netlink import NetlinkError, netlink_session
from hactl.agents.results import AgentAction, AgentContext, AgentOutcome, AgentResult

IFA_F_NODAD = 0x02
INTERFACE_NAME_MAX = 15
MAIN_ROUTING_TABLE = 254
RTN_UNICAST = 1


class PlacementError(Exception):
    """The address cannot be placed: no covering route, unknown interface, label too long."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Placement:
    """Where an address goes (or is): interface, prefix, broadcast, alias label."""

    address: ipaddress.IPv4Address | ipaddress.IPv6Address
    prefix_length: int
    interface: str
    interface_index: int
    broadcast: str | None
    label: str | None

    def describe(self) -> str:
        label = f" label {self.label}" if self.label else ""
        return f"{self.address}/{self.prefix_length} on {self.interface}{label}"


# ---- netlink, synchronous (always called through trio.to_thread) -----------------------


def _interface_name(index: int) -> str:
    return socket.if_indextoname(index)


def _interface_index(name: str, address: str) -> int:
    try:
        return socket.if_nametoindex(name)
    except OSError:
        raise PlacementError(f"{address}: interface {name!r} does not exist on this node") from None


def find_covering_route(
    ipr: Any, address: ipaddress.IPv4Address | ipaddress.IPv6Address
) -> tuple[int, int]:
    """(interface index, prefix length) of the longest connected route covering `address`."""
    family = socket.AF_INET if address.version == 4 else socket.AF_INET6
    best: tuple[int, int] | None = None
    for route in ipr.get_routes(family=family, table=MAIN_ROUTING_TABLE):
        destination, length = route.get("RTA_DST"), int(route["dst_len"])
        if destination is None or length == 0 or route.get("RTA_GATEWAY") is not None:
            continue  # the default route or a route via a gateway: not "on the wire"
        if route["type"] != RTN_UNICAST or route.get("RTA_OIF") is None:
            continue
        if address in ipaddress.ip_network(f"{destination}/{length}", strict=False) and (
            best is None or length > best[1]
        ):
            best = (int(route.get("RTA_OIF")), length)
    if best is None:
        raise PlacementError(
            f"{address}: no route on this node covers the address, so its interface and "
            f"netmask cannot be found (write them: IPaddr::{address}/PREFIX/INTERFACE)"
        )
    return best


def find_assigned(
    ipr: Any, address: ipaddress.IPv4Address | ipaddress.IPv6Address, interface_index: int | None
) -> Placement | None:
    """Where `address` is assigned now (on `interface_index` when given), or None."""
    return _assigned_in(_addresses_of_family(ipr, address), address, interface_index)


def _addresses_of_family(ipr: Any, address: ipaddress.IPv4Address | ipaddress.IPv6Address
                         ) -> list[Any]:  # fmt: skip
    """One dump of the kernel's addresses of `address`'s family, on every interface."""
    return list(ipr.get_addr(family=socket.AF_INET if address.version == 4 else socket.AF_INET6))


def _assigned_in(
    entries: list[Any],
    address: ipaddress.IPv4Address | ipaddress.IPv6Address,
    interface_index: int | None,
) -> Placement | None:
    for entry in entries:
        if interface_index is not None and entry["index"] != interface_index:
            continue
        if ipaddress.ip_address(entry.get("IFA_ADDRESS")) != address:
            continue
        index = int(entry["index"])
        return Placement(
            address=address,
            prefix_length=int(entry["prefixlen"]),
            interface=_interface_name(index),
            interface_index=index,
            broadcast=entry.get("IFA_BROADCAST"),
            label=entry.get("IFA_LABEL"),
        )
    return None


def _first_free_label(entries: list[Any], interface: str, interface_index: int) -> str:
    """The lowest `interface:N` that no address of the interface in `entries` (a dump) has."""
    used = {entry.get("IFA_LABEL") for entry in entries if entry["index"] == interface_index}
    number = 0
    while f"{interface}:{number}" in used:
        number += 1
    label = f"{interface}:{number}"
    if len(label) > INTERFACE_NAME_MAX:
        raise PlacementError(
            f"alias label {label!r} is longer than {INTERFACE_NAME_MAX} "
            f"characters (use IPaddr2, which needs no label)"
        )
    return label


def plan_placement(ipr: Any, resource: IPAddressResource,
                   addresses: list[Any] | None = None) -> Placement:  # fmt: skip
    """Resolve interface, prefix, broadcast and label for adding `resource` (findif).

    `addresses`: the dump of the address's family, when the caller has one. With the
    interface and prefix written (the usual production form) this asks the kernel
    nothing for IPaddr2, and for IPaddr's label only the dump it was not given: the
    takeover's hot path.
    """
    address = ipaddress.ip_address(resource.address)
    prefix_length, interface = resource.prefix_length, resource.interface
    if interface is None or prefix_length is None:
        route_index, route_length = find_covering_route(ipr, address)
        prefix_length = route_length if prefix_length is None else prefix_length
        interface = _interface_name(route_index) if interface is None else interface
    interface_index = _interface_index(interface, resource.address)
    broadcast = resource.broadcast
    if broadcast is None and address.version == 4 and prefix_length <= 30:
        network = ipaddress.ip_network(f"{address}/{prefix_length}", strict=False)
        broadcast = str(network.broadcast_address)
    is_labelled = resource.agent is IPAgent.IPADDR and address.version == 4
    label = None
    if is_labelled:
        if addresses is None:
            addresses = _addresses_of_family(ipr, address)
        label = _first_free_label(addresses, interface, interface_index)
    return Placement(
        address=address,
        prefix_length=prefix_length,
        interface=interface,
        interface_index=interface_index,
        broadcast=broadcast,
        label=label,
    )


def _wanted_interface_index(resource: IPAddressResource) -> int | None:
    """The written interface's index; None when none is written or it does not exist."""
    if resource.interface is None:
        return None
    try:
        return socket.if_nametoindex(resource.interface)
    except OSError:
        return None


def add_address(resource: IPAddressResource) -> tuple[Placement, bool]:
    """Add the address (idempotent); returns where it is and whether it was already there.

    "Already there" means on the written interface (any prefix), or anywhere when no
    interface is written. "File exists" from the add itself (a race with another tool) is
    read the same way.
    """
    address = ipaddress.ip_address(resource.address)
    with netlink_session() as ipr:
        addresses = _addresses_of_family(ipr, address)  # one dump: presence and the label
        present = _assigned_in(addresses, address, _wanted_interface_index(resource))
        if present is not None:
            return present, True
        placement = plan_placement(ipr, resource, addresses)
        options: dict[str, Any] = {
            "index": placement.interface_index,
            "address": str(address),
            "prefixlen": placement.prefix_length,
        }
        if placement.broadcast is not None:
            options["broadcast"] = placement.broadcast
        if placement.label is not None:
            options["label"] = placement.label
        if address.version == 6:
            options["flags"] = IFA_F_NODAD
        try:
            ipr.addr("add", **options)
        except NetlinkError as error:
            if error.code != errno.EEXIST:
                raise
            present = find_assigned(ipr, address, placement.interface_index)
            assert present is not None, "the kernel said the address exists"
            return present, True
    return placement, False


def remove_address(resource: IPAddressResource) -> Placement | None:
    """Remove exactly this address (idempotent); returns where it was, or None if absent."""
    address = ipaddress.ip_address(resource.address)
    with netlink_session() as ipr:
        present = find_assigned(ipr, address, _wanted_interface_index(resource))
        if present is None:
            return None
        ipr.addr(
            "del",
            index=present.interface_index,
            address=str(address),
            prefixlen=present.prefix_length,
        )
    return present


def query_address(resource: IPAddressResource) -> Placement | None:
    address = ipaddress.ip_address(resource.address)
    with netlink_session() as ipr:
        return find_assigned(ipr, address, _wanted_interface_index(resource))


def check_placement(resource: IPAddressResource) -> Placement:
    with netlink_session() as ipr:
        return plan_placement(ipr, resource)


# ---- the agent ------------------------------------------------------------------------


async def run_ip_action(
    resource: IPAddressResource, action: AgentAction, *, timeout_ms: int, context: AgentContext
) -> AgentResult:
    """Netlink under the timeout; a start's announcements after it, never failing the start."""
    started_s = trio.current_time()
    outcome, detail = (
        AgentOutcome.TIMEOUT,
        f"{resource.spec}: no answer from netlink in {timeout_ms} ms",
    )
    added: Placement | None = None
    with trio.move_on_after(timeout_ms / 1000):
        try:
            outcome, detail, added = await _carry_out(resource, action)
        except PlacementError as error:
            outcome, detail = AgentOutcome.NOT_CONFIGURED, str(error)
        except OSError as error:  # NetlinkError is an OSError: permission, no such device...
            outcome, detail = AgentOutcome.FAILED, f"{resource.spec}: netlink: {error}"
    if added is not None:
        detail += await _announce(added, context)
    duration_ms = round((trio.current_time() - started_s) * 1000)
    return AgentResult(
        action=action,
        outcome=outcome,
        exit_code=None,
        duration_ms=duration_ms,
        output="",
        detail=detail,
    )


async def _carry_out(
    resource: IPAddressResource, action: AgentAction
) -> tuple[AgentOutcome, str, Placement | None]:
    """(outcome, detail, where a start put the address: to be announced)."""
    match action:
        case AgentAction.START:
            placement, was_present = await trio.to_thread.run_sync(
                add_address, resource, abandon_on_cancel=True
            )
            verb = "already present:" if was_present else "added"
            return AgentOutcome.SUCCESS, f"{verb} {placement.describe()}", placement
        case AgentAction.STOP:
            _cancel_background_burst(resource.address)  # never announce what we let go
            removed = await trio.to_thread.run_sync(
                remove_address, resource, abandon_on_cancel=True
            )
            if removed is None:
                detail = f"{resource.address} was not assigned: nothing to do"
                return AgentOutcome.SUCCESS, detail, None
            return AgentOutcome.SUCCESS, f"removed {removed.describe()}", None
        case AgentAction.STATUS | AgentAction.MONITOR | AgentAction.PROBE:
            found = await trio.to_thread.run_sync(query_address, resource, abandon_on_cancel=True)
            if found is None:
                return AgentOutcome.NOT_RUNNING, f"{resource.address} is not assigned here", None
            return AgentOutcome.SUCCESS, found.describe(), None


async def announce_adopted(resource: IPAddressResource, context: AgentContext) -> str:
    """An address found already up at start-up and kept (issue 9): announce it again.

    A peer may have held it while this node's daemon was down, so switches and clients can
    still map it to the peer's MAC; the same burst as a start puts that right.
    """
    found = await trio.to_thread.run_sync(query_address, resource, abandon_on_cancel=True)
    if found is None:
        return f"{resource.address} is no longer assigned here: not announced"
    return f"adopted {found.describe()}" + await _announce(found, context)


# Background ARP bursts in flight, by address: a stop cancels its address's burst, or a
# quick failback would have the old owner keep pulling clients to itself.
_background_bursts: dict[str, trio.CancelScope] = {}


def _cancel_background_burst(address: str) -> None:
    scope = _background_bursts.pop(str(ipaddress.ip_address(address)), None)
    if scope is not None:
        scope.cancel()


async def _announce(placement: Placement, context: AgentContext) -> str:
    """First announcement inline, the rest in the daemon's nursery when it gave one.

    An announcement failure does not fail the start: the address is up and serves local
    clients; the detail tells the admin that neighbours may lag.
    """
    address, interface = str(placement.address), placement.interface
    count, interval_ms = context.arp_count, context.arp_interval_ms
    kind = "ARP pairs" if placement.address.version == 4 else "neighbour advertisements"
    _cancel_background_burst(address)  # a restart's burst replaces an older one
    try:
        if context.announcement_nursery is None:
            await announce_address(address, interface, count=count, interval_ms=interval_ms)
            return f"; sent {count} {kind} {interval_ms} ms apart"
        await announce_address(address, interface, count=1, interval_ms=interval_ms)
    except OSError as error:
        return f"; announcement FAILED ({error}), neighbours may keep a stale entry"
    if count > 1:
        scope = trio.CancelScope()
        _background_bursts[address] = scope
        context.announcement_nursery.start_soon(
            _announce_rest, scope, address, interface, count - 1, interval_ms
        )
    return f"; sent 1 of {count} {kind}, the rest {interval_ms} ms apart in the background"


async def _announce_rest(
    scope: trio.CancelScope, address: str, interface: str, count: int, interval_ms: int
) -> None:
    with scope:
        try:
            await trio.sleep(interval_ms / 1000)
            await announce_address(address, interface, count=count, interval_ms=interval_ms)
        except OSError:
            pass  # the start result, already delivered, said the first one went out
        finally:
            if _background_bursts.get(address) is scope:
                del _background_bursts[address]


async def validate_ip_resource(resource: IPAddressResource) -> AgentResult:
    try:
        placement = await trio.to_thread.run_sync(check_placement, resource)
    except PlacementError as error:
        outcome, detail = AgentOutcome.NOT_CONFIGURED, str(error)
    except OSError as error:
        outcome, detail = AgentOutcome.FAILED, f"{resource.spec}: netlink: {error}"
    else:
        outcome, detail = AgentOutcome.SUCCESS, f"would add {placement.describe()}"
    return AgentResult(
        action=AgentAction.STATUS,
        outcome=outcome,
        exit_code=None,
        duration_ms=0,
        output="",
        detail=detail,
    )
