"""Reading /etc/ha.d from disk: the thin I/O shell around the pure `engine.config` parsers.

Everything that touches the machine lives here and nothing else does: reading the three
files (and OCF parameter files), the authkeys permission bits, this node's name and
addresses (for the ucast rule), and looking for resource scripts in `resource.d/` then the
init directory (a missing script is a warning, not an error: the package that provides it
may be installed after the cluster is configured). Parsing and every rule stay in
`engine.config`, so they can be tested from strings.

Files are decoded as UTF-8 with surrogateescape so any bytes (an authkeys secret in Latin-1)
survive the round trip to the parser unchanged.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import stat
from collections.abc import Iterable
from pathlib import Path

from engine.config.build import ocf_parameter_key, parse_cluster_config
from engine.config.errors import ConfigError, ConfigProblem
from engine.config.haresources import parse_haresources
from engine.config.model import (
    ClusterConfig,
    ConfigWarning,
    OcfResource,
    ResourceGroup,
    ScriptResource,
)

DEFAULT_CONFIG_DIR = Path("/etc/ha.d")
DEFAULT_INIT_DIR = Path("/etc/init.d")
DEFAULT_OCF_ROOT = Path("/usr/lib/ocf")


def local_node_name() -> str:
    """This node's name as Heartbeat saw it: `uname -n`, lower-cased."""
    return os.uname().nodename.lower()


def find_local_addresses() -> tuple[str, ...]:
    """Every address configured on this host (any interface), for the ucast rule.

    Without netlink (a restricted container) the answer is empty: every ucast line is then
    kept, which costs at most a heartbeat sent to ourselves.
    """
    from hactl.agents.netlink import IPRoute  # imported here: the parsers need no netlink

    try:
        with IPRoute() as netlink:
            texts = [str(message.get_attr("IFA_ADDRESS")) for message in netlink.get_addr()]
    except OSError:
        return ()
    return tuple(text for text in texts if _is_ip_address(text))


def _is_ip_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False  # netlink can report what the ucast rule cannot use; skip it
    return True


class _Reader:
    """Reads files, turning each failure into a ConfigProblem instead of an exception."""

    def __init__(self) -> None:
        self.problems: list[ConfigProblem] = []

    def read(self, path: Path, *, what: str) -> str | None:
        try:
            return path.read_bytes().decode("utf-8", "surrogateescape")
        except FileNotFoundError:
            self._fail(path, f"{what} not found", f"create {path}")
        except IsADirectoryError:
            self._fail(path, f"{what} is a directory, not a file", None)
        except PermissionError:
            self._fail(path, f"{what} cannot be read (permission denied)", "run as root")
        except OSError as error:
            self._fail(path, f"{what} cannot be read: {error.strerror}", None)
        return None

    def mode(self, path: Path) -> int:
        try:
            return stat.S_IMODE(path.stat().st_mode)
        except OSError:
            return 0o600  # the read already reported why the file is unusable

    def _fail(self, path: Path, message: str, hint: str | None) -> None:
        self.problems.append(
            ConfigProblem(file=str(path), line=None, directive="", message=message, hint=hint)
        )


def _ocf_parameter_texts(
    config_dir: Path, haresources_text: str, reader: _Reader
) -> dict[str, str]:
    try:
        groups = parse_haresources(haresources_text)
    except ConfigError:
        return {}  # parse_cluster_config reports the haresources problems
    texts: dict[str, str] = {}
    for group in groups:
        for resource in group.resources:
            if not isinstance(resource, OcfResource):
                continue
            key = ocf_parameter_key(resource)
            path = config_dir / "conf" / "OCF" / key
            if path.exists():  # a missing file is reported by the parser, at its line
                text = reader.read(path, what="OCF parameter file")
                # Unreadable: the reader reported why; "" keeps a second "not found" away.
                texts[key] = "" if text is None else text
    return texts


def load_config(
    config_dir: Path = DEFAULT_CONFIG_DIR,
    *,
    node: str | None = None,
    local_addresses: Iterable[str] | None = None,
    init_dir: Path = DEFAULT_INIT_DIR,
    ocf_root: Path = DEFAULT_OCF_ROOT,
) -> ClusterConfig:
    """Read and check ha.cf, haresources and authkeys in `config_dir`; raises ConfigError.

    `node` defaults to `uname -n`, `local_addresses` to this host's addresses. The returned
    configuration carries warnings for resource scripts and OCF agents not found on disk.
    """
    reader = _Reader()
    hacf_path = config_dir / "ha.cf"
    haresources_path = config_dir / "haresources"
    authkeys_path = config_dir / "authkeys"
    hacf_text = reader.read(hacf_path, what="ha.cf")
    haresources_text = reader.read(haresources_path, what="haresources")
    authkeys_text = reader.read(authkeys_path, what="authkeys")
    if hacf_text is None or haresources_text is None or authkeys_text is None:
        raise ConfigError(reader.problems)
    ocf_texts = _ocf_parameter_texts(config_dir, haresources_text, reader)
    try:
        config = parse_cluster_config(
            hacf_text,
            haresources_text,
            authkeys_text,
            local_node=node if node is not None else local_node_name(),
            local_addresses=(
                find_local_addresses() if local_addresses is None else tuple(local_addresses)
            ),
            authkeys_mode=reader.mode(authkeys_path),
            ocf_parameter_texts=ocf_texts,
            hacf_file=str(hacf_path),
            haresources_file=str(haresources_path),
            authkeys_file=str(authkeys_path),
            ocf_directory=str(config_dir / "conf" / "OCF"),
        )
    except ConfigError as error:
        raise ConfigError([*reader.problems, *error.problems]) from None
    if reader.problems:
        raise ConfigError(reader.problems)
    warnings = _missing_program_warnings(config.groups, config_dir, init_dir, ocf_root)
    return dataclasses.replace(config, warnings=config.warnings + tuple(warnings))


def _is_executable_file(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _missing_program_warnings(
    groups: Iterable[ResourceGroup], config_dir: Path, init_dir: Path, ocf_root: Path
) -> list[ConfigWarning]:
    warnings = []
    for group in groups:
        for resource in group.resources:
            message = None
            if isinstance(resource, ScriptResource):
                candidates = (
                    config_dir / "resource.d" / resource.script,
                    init_dir / resource.script,
                )
                if not any(_is_executable_file(path) for path in candidates):
                    message = (
                        f"{resource.script}: script not found in "
                        f"{candidates[0].parent}/ or {init_dir}/ (or not executable)"
                    )
            elif isinstance(resource, OcfResource):
                agent = ocf_root / "resource.d" / resource.provider / resource.agent_type
                if not _is_executable_file(agent):
                    message = f"{resource.spec}: OCF agent {agent} not found (or not executable)"
            if message is not None:
                warnings.append(ConfigWarning(location=group.location, message=message))
    return warnings
