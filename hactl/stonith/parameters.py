"""Turning Heartbeat-style device parameters into named ones.

ha.cf's `stonith_host * TYPE v1 v2 ...`, `stonith TYPE FILE` and `stonith -p "v1 v2"` give
values by position; they are named in the order the device lists its parameter names
(cluster-glue's rule, so existing lines keep their meaning), and the last name takes the
rest of the values, joined by spaces: `stonith_host * meatware node1 node2` gives
`hostlist="node1 node2"`. Named `name=value` parameters (a hactl extension in ha.cf, the
usual form on the `stonith` command line) are used as given and win over positional ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from hactl.stonith.device import DeviceRequest


def assign_parameters(
    request: DeviceRequest, names: Sequence[str], *, required: Iterable[str] = ()
) -> dict[str, str]:
    """Name the request's positional values by `names`, merge the named ones, check required."""
    positional = list(request.positional_parameters)
    if positional and not names:
        raise request.error(
            f"takes no positional parameters, got {len(positional)}; use name=value"
        )
    assigned: dict[str, str] = {}
    for index, name in enumerate(names):
        if not positional:
            break
        if index == len(names) - 1:
            assigned[name] = " ".join(positional)
            positional = []
        else:
            assigned[name] = positional.pop(0)
    assigned.update(dict(request.named_parameters))
    missing = [name for name in required if not assigned.get(name)]
    if missing and not request.is_describe_only:
        raise request.error(
            f"missing parameter {', '.join(missing)} (parameters: {' '.join(names) or 'none'})"
        )
    return assigned


def split_hostlist(hostlist: str) -> tuple[str, ...]:
    """cluster-glue hostlists are separated by spaces or commas; names compare lower-case."""
    return tuple(host.lower() for host in hostlist.replace(",", " ").split())


def parse_config_text(text: str) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """A `stonith TYPE FILE` / `-F FILE` body: values by position; `name=value` tokens named.

    Blank lines and `#` comments are skipped, so one parameter per line also works.
    """
    positional: list[str] = []
    named: list[tuple[str, str]] = []
    for line in text.splitlines():
        stripped = line.split("#", 1)[0].strip()
        for token in stripped.split():
            name, equals, value = token.partition("=")
            if equals and name.isidentifier():
                named.append((name, value))
            else:
                positional.append(token)
    return tuple(positional), tuple(named)


def parse_named_arguments(arguments: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """`name=value` command-line arguments, in order."""
    named = []
    for argument in arguments:
        name, equals, value = argument.partition("=")
        assert equals, argument
        named.append((name, value))
    return tuple(named)
