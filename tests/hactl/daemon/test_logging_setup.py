"""Daemon logs go to stderr and to ha.cf's `logfile`, each line naming the node."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from hactl.config_files import load_config
from hactl.daemon.logging_setup import add_configured_destinations, setup_logging


@pytest.fixture
def restored_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def test_logfile_from_ha_cf_receives_lines_naming_the_node(
    tmp_path: Path, restored_root_logger: None
) -> None:
    logfile = tmp_path / "log" / "ha-log"
    (tmp_path / "ha.cf").write_text(
        f"logfile {logfile}\nlogfacility local7\nnode master\nnode backup\nbcast eth0\n"
    )
    (tmp_path / "haresources").write_text("master 198.18.0.50\n")
    (tmp_path / "authkeys").write_text("auth 1\n1 sha256 secret\n")
    (tmp_path / "authkeys").chmod(0o600)
    config = load_config(tmp_path, node="master", local_addresses=())
    setup_logging("master")
    problems = add_configured_destinations(config)
    assert all("logfacility" in problem for problem in problems)  # no /dev/log in a container
    logging.getLogger("hactl.daemon").warning("node backup is dead")
    for handler in logging.getLogger().handlers:
        handler.flush()
    assert "master WARNING hactl.daemon: node backup is dead" in logfile.read_text()
