"""Small value checks shared by the ha.cf, haresources and authkeys readers.

Each helper takes one token and returns the typed value or raises `ValueProblem` with a
hint; the caller knows the file and line and turns the problem into a `ConfigProblem`.
"""

from __future__ import annotations

import ipaddress

from engine.config.errors import ValueProblem

_TRUE_WORDS = frozenset({"true", "on", "yes", "y", "1"})
_FALSE_WORDS = frozenset({"false", "off", "no", "n", "0"})
MAX_INTERFACE_NAME_LENGTH = 15  # IFNAMSIZ - 1 on Linux


def parse_boolean(text: str) -> bool:
    word = text.lower()
    if word in _TRUE_WORDS:
        return True
    if word in _FALSE_WORDS:
        return False
    raise ValueProblem(f"{text!r} is not a yes/no value", "use on or off")


def parse_integer(text: str, *, minimum: int, maximum: int, what: str) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > 12:
        raise ValueProblem(f"{what} {text!r} is not a whole number", f"{minimum}..{maximum}")
    value = int(text)
    if not minimum <= value <= maximum:
        raise ValueProblem(f"{what} {value} is out of range", f"{minimum}..{maximum}")
    return value


def parse_port(text: str) -> int:
    return parse_integer(text, minimum=1, maximum=65535, what="port")


def parse_ip_address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        raise ValueProblem(f"{text!r} is not an IP address", "like 198.18.0.1") from None


def parse_ipv4_address(text: str) -> ipaddress.IPv4Address:
    try:
        return ipaddress.IPv4Address(text)
    except ValueError:
        raise ValueProblem(f"{text!r} is not an IPv4 address", "like 198.18.0.1") from None


def check_interface_name(text: str) -> str:
    """Linux interface names: 1-15 characters, no `/`, no blanks (the kernel's rule)."""
    if not text or len(text) > MAX_INTERFACE_NAME_LENGTH or "/" in text or not text.isprintable():
        raise ValueProblem(
            f"{text!r} is not a network interface name", "at most 15 characters, no '/'"
        )
    return text
