"""load_config: reading /etc/ha.d-shaped directories from disk, with every failure reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.config.errors import ConfigError
from engine.config.model import OcfResource, UcastMedium
from hactl.config_files import find_local_addresses, load_config

HACF = "node alpha beta\nauto_failback on\nucast eth0 198.18.0.1\nucast eth0 198.18.0.2\n"
HARESOURCES = "alpha OCF::Dummy::d1 OCF::ocfprov:Thing::t1\n"


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "ha.d"
    (directory / "conf" / "OCF" / "Dummy").mkdir(parents=True)
    (directory / "conf" / "OCF" / "Thing").mkdir(parents=True)
    (directory / "ha.cf").write_text(HACF)
    (directory / "haresources").write_text(HARESOURCES)
    (directory / "authkeys").write_bytes(b"auth 1\n1 sha256 caf\xe9 secret\n")
    (directory / "authkeys").chmod(0o600)
    (directory / "conf" / "OCF" / "Dummy" / "d1").write_text("state=/run/d1\n")
    (directory / "conf" / "OCF" / "Thing" / "t1").write_text("# none\n")
    ocf_agents = tmp_path / "ocf" / "resource.d" / "heartbeat"
    ocf_agents.mkdir(parents=True)
    (ocf_agents / "Dummy").write_text("#!/bin/sh\nexit 0\n")
    (ocf_agents / "Dummy").chmod(0o755)
    return directory


def test_ocf_parameters_are_read_and_missing_agents_warned(config_dir: Path) -> None:
    config = load_config(
        config_dir, node="alpha", local_addresses=["198.18.0.1"], ocf_root=config_dir.parent / "ocf"
    )
    dummy, thing = config.groups[0].resources
    assert isinstance(dummy, OcfResource) and isinstance(thing, OcfResource)
    assert dummy.parameters == (("state", "/run/d1"),)
    assert thing.provider == "ocfprov"
    (warning,) = config.warnings
    assert "OCF::ocfprov:Thing::t1: OCF agent" in warning.message
    assert str(config_dir.parent / "ocf" / "resource.d" / "ocfprov" / "Thing") in warning.message


def test_ucast_to_the_given_local_address_is_ignored(config_dir: Path) -> None:
    config = load_config(config_dir, node="alpha", local_addresses=["198.18.0.1"])
    assert config.media == (UcastMedium(interface="eth0", peer_address="198.18.0.2", port=694),)


def test_secret_bytes_survive_reading(config_dir: Path) -> None:
    config = load_config(config_dir, node="alpha", local_addresses=[])
    assert config.auth.active_key.secret == b"caf\xe9 secret"


def test_missing_ocf_parameter_file_names_its_full_path(config_dir: Path) -> None:
    (config_dir / "conf" / "OCF" / "Dummy" / "d1").unlink()
    with pytest.raises(ConfigError) as raised:
        load_config(config_dir, node="alpha", local_addresses=[])
    (problem,) = raised.value.problems
    assert f"parameter file {config_dir}/conf/OCF/Dummy/d1 not found" in str(problem)
    assert problem.file == str(config_dir / "haresources")


def test_unreadable_paths_are_problems_not_crashes(config_dir: Path) -> None:
    (config_dir / "ha.cf").unlink()
    (config_dir / "ha.cf").mkdir()
    (config_dir / "authkeys").unlink()
    with pytest.raises(ConfigError) as raised:
        load_config(config_dir, node="alpha", local_addresses=[])
    assert [str(problem) for problem in raised.value.problems] == [
        f"{config_dir}/ha.cf: ha.cf is a directory, not a file",
        f"{config_dir}/authkeys: authkeys not found (create {config_dir}/authkeys)",
    ]


def test_parameter_file_that_is_a_directory_is_reported(config_dir: Path) -> None:
    (config_dir / "conf" / "OCF" / "Dummy" / "d1").unlink()
    (config_dir / "conf" / "OCF" / "Dummy" / "d1").mkdir()
    with pytest.raises(ConfigError) as raised:
        load_config(config_dir, node="alpha", local_addresses=[])
    (problem,) = raised.value.problems
    assert str(problem) == (
        f"{config_dir}/conf/OCF/Dummy/d1: OCF parameter file is a directory, not a file"
    )


def test_local_addresses_are_found_with_netlink() -> None:
    addresses = find_local_addresses()
    assert "127.0.0.1" in addresses
