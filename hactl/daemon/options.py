"""Where a node daemon finds its configuration and keeps its state: one value, passed down.

Several daemons run side by side on one machine (one per network namespace in tests and
`make demo`), so nothing below reads a global path: everything comes from here.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

DEFAULT_CONFIG_DIR = Path("/etc/ha.d")
DEFAULT_STATE_DIR = Path("/var/lib/hactl")
DEFAULT_RUN_DIR = Path("/run/hactl")
PID_FILE_NAME = "hactl.pid"
# Set by tests and `make demo`: self-fencing then stops the daemon instead of resetting
# the machine (the stonith package refuses the real reboot under this variable too).
TEST_NO_REBOOT_VARIABLE = "HACTL_TEST_FORBID_REBOOT"
# `hactl daemon`'s options (hactl/commands/daemon.py declares them for typer) and the
# DaemonOptions field each sets; a test checks that both declare the same ones.
OPTION_FIELDS = {"--config-dir": "config_dir", "--state-dir": "state_dir",
                 "--run-dir": "run_dir", "--node": "node"}


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


def daemon_options(*, config_dir: Path = DEFAULT_CONFIG_DIR, state_dir: Path = DEFAULT_STATE_DIR,
                   run_dir: Path = DEFAULT_RUN_DIR, node: str | None = None) -> DaemonOptions:
    """The options of `hactl daemon ...` as given on its command line."""
    return DaemonOptions(config_dir=config_dir, state_dir=state_dir, run_dir=run_dir,
                         node=node.lower() if node else None,
                         is_production=TEST_NO_REBOOT_VARIABLE not in os.environ)


def parse_daemon_arguments(words: Sequence[str]) -> DaemonOptions | None:
    """`hactl daemon`'s words (after `daemon`) read without the CLI framework, or None.

    The daemon is a long-lived process and every module it imports stays resident: typer
    with its coercion layer (pydantic) costs about 17 MB. So `hactl daemon` with plain
    `--option VALUE` / `--option=VALUE` words starts from here (hactl/entry.py); anything
    else (`--help`, an unknown option, a missing value) answers None and goes to typer,
    which prints its usual help or usage error.
    """
    values: dict[str, str] = {}
    position = 0
    while position < len(words):
        name, equals, value = words[position].partition("=")
        if not equals:
            if position + 1 >= len(words):
                return None
            value = words[position + 1]
            position += 1
        position += 1
        if name not in OPTION_FIELDS or not value or value.startswith("-"):
            return None
        values[OPTION_FIELDS[name]] = value
    node = values.pop("node", None)
    return daemon_options(node=node, **{field: Path(text) for field, text in values.items()})
