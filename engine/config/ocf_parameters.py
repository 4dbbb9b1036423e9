"""An OCF instance's parameter file (`conf/OCF/TYPE/INSTANCE`): `name=value` lines.

Heartbeat passed these to the agent as `OCF_RESKEY_name=value`. Blank lines and lines
starting with `#` are skipped; a value may be wrapped in matching quotes, which are removed
(the file was shell-sourced in some setups, so quoting is common).
"""

from __future__ import annotations

import re

from engine.config.errors import ProblemLog

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def parse_ocf_parameters(text: str, *, file_name: str) -> tuple[tuple[str, str], ...]:
    """Read a parameter file; raises ConfigError listing every bad line."""
    log = ProblemLog(file_name)
    parameters: dict[str, tuple[str, int]] = {}
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip(" \t\r\f\v")
        if not line or line.startswith("#"):
            continue
        name, is_assignment, value = line.partition("=")
        name = name.strip(" \t")
        if not is_assignment or _NAME.fullmatch(name) is None:
            log.error(number, name or line, "is not a name=value line", "ip=198.18.0.50")
            continue
        if name in parameters:
            log.error(number, name, f"is already set on line {parameters[name][1]}")
            continue
        parameters[name] = (_unquote(value.strip(" \t")), number)
    log.raise_if_errors()
    return tuple((name, value) for name, (value, _) in parameters.items())
