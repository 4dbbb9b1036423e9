"""Where a node daemon finds its configuration and keeps its state: one value, passed down.

Several daemons run side by side on one machine (one per network namespace in tests and
`make demo`), so nothing below reads a global path: everything comes from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DEFAULT_CONFIG_DIR = Path("/etc/ha.d")
DEFAULT_STATE_DIR = Path("/var/lib/hactl")
DEFAULT_RUN_DIR = Path("/run/hactl")
PID_FILE_NAME = "hactl.pid"


@dataclass(frozen=True, slots=True, kw_only=True)
class DaemonOptions:
    config_dir: Path = DEFAULT_CONFIG_DIR
    state_dir: Path = DEFAULT_STATE_DIR
    run_dir: Path = DEFAULT_RUN_DIR
    node: str | None = None  # None: `uname -n`
    is_production: bool = True  # False only in tests and the demo: no real self-fence reboot

    @property
    def journal_dir(self) -> Path:
        return self.state_dir / "journal"

    @property
    def pid_file(self) -> Path:
        return self.run_dir / PID_FILE_NAME
