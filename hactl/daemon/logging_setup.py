"""Daemon logging: stderr always, plus ha.cf's `logfile` and `logfacility` (syslog).

Heartbeat admins read `/var/log/ha-log` and syslog; the daemon writes to the same places
so their habits (and log watchers) keep working. Every line names the node, because in
tests and the demo several daemons share one terminal.
"""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from engine.config.model import ClusterConfig

LOG_FORMAT = "%(asctime)s hactl[%(process)d] %(node)s %(levelname)s %(name)s: %(message)s"
SYSLOG_FORMAT = "hactl[%(process)d]: %(node)s %(levelname)s: %(message)s"


class _NodeFilter(logging.Filter):
    def __init__(self, node: str) -> None:
        super().__init__()
        self.node = node

    def filter(self, record: logging.LogRecord) -> bool:
        record.node = self.node
        return True


def setup_logging(node: str, *, is_debug: bool = False) -> None:
    """Log to stderr until the configuration says more."""
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if is_debug else logging.INFO)
    for handler in list(root.handlers):
        root.removeHandler(handler)
    stderr = logging.StreamHandler()
    _add(root, stderr, LOG_FORMAT, node)


def add_configured_destinations(config: ClusterConfig) -> list[str]:
    """Add ha.cf's logfile and syslog facility; return problems (never raise)."""
    root = logging.getLogger()
    problems: list[str] = []
    if config.logfile:
        try:
            Path(config.logfile).parent.mkdir(parents=True, exist_ok=True)
            _add(root, logging.FileHandler(config.logfile), LOG_FORMAT, config.local_node)
        except OSError as error:
            problems.append(f"logfile {config.logfile}: {error.strerror}")
    if config.logfacility and config.logfacility.lower() != "none":
        facility = logging.handlers.SysLogHandler.facility_names.get(config.logfacility.lower())
        if facility is None:
            problems.append(f"logfacility {config.logfacility}: unknown syslog facility")
        else:
            try:
                handler = logging.handlers.SysLogHandler(address="/dev/log", facility=facility)
                _add(root, handler, SYSLOG_FORMAT, config.local_node)
            except OSError as error:
                problems.append(f"logfacility {config.logfacility}: /dev/log: {error.strerror}")
    return problems


def _add(root: logging.Logger, handler: logging.Handler, layout: str, node: str) -> None:
    handler.setFormatter(logging.Formatter(layout))
    handler.addFilter(_NodeFilter(node))
    root.addHandler(handler)
