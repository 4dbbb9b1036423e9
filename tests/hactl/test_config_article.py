"""The article's two-node cluster (docs/examples/article-cluster) loads unchanged."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from engine.config.errors import ConfigError
from engine.config.model import (
    AuthMethod,
    AutoFailback,
    BcastMedium,
    IPAddressResource,
    IPAgent,
    ScriptResource,
    ValueSource,
)
from hactl.config_files import load_config

# The article's files as shipped in ../shared/reference, kept in the repo so CI has them.
ARTICLE_DIR = Path(__file__).resolve().parents[2] / "docs" / "examples" / "article-cluster"


@pytest.fixture
def article_dir(tmp_path: Path) -> Path:
    config_dir = tmp_path / "ha.d"
    config_dir.mkdir()
    for name in ("ha.cf", "haresources", "authkeys"):
        shutil.copyfile(ARTICLE_DIR / name, config_dir / name)
    (config_dir / "authkeys").chmod(0o600)
    (tmp_path / "init.d").mkdir()
    return config_dir


def test_article_config_is_accepted(article_dir: Path) -> None:
    config = load_config(
        article_dir, node="master", local_addresses=(), init_dir=article_dir.parent / "init.d"
    )
    assert config.nodes == ("master", "backup")
    assert config.local_node == "master"
    assert config.timings.deadtime.value_ms == 30_000
    assert config.timings.deadtime.source is ValueSource.SET
    assert config.timings.warntime.value_ms == 10_000
    assert config.timings.warntime.source is ValueSource.SET
    assert config.timings.keepalive.value_ms == 1_000
    assert config.timings.keepalive.source is ValueSource.DEFAULT
    assert config.timings.initdead.value_ms == 30_000  # deadtime > 10 s: initdead = deadtime
    assert config.timings.initdead.source is ValueSource.DERIVED
    assert config.media == (BcastMedium(interface="eth0", port=694),)
    assert config.udpport == 694
    assert config.auto_failback is AutoFailback.ON
    assert config.auth.active_key.method is AuthMethod.SHA1
    (group,) = config.groups
    assert group.preferred_node == "master"
    ip, httpd, smb = group.resources
    assert isinstance(ip, IPAddressResource)
    assert (ip.agent, ip.address, ip.prefix_length, ip.interface) == (
        IPAgent.IPADDR,
        "198.18.0.50",
        None,
        None,
    )
    assert httpd == ScriptResource(script="httpd", arguments=(), spec="httpd")
    assert smb == ScriptResource(script="smb", arguments=(), spec="smb")
    messages = [warning.message for warning in config.warnings]
    assert any(message.startswith("httpd: script not found") for message in messages)
    assert any(message.startswith("smb: script not found") for message in messages)
    assert len(messages) == 2


def test_script_found_in_resource_d_is_not_warned_about(article_dir: Path) -> None:
    resource_dir = article_dir / "resource.d"
    resource_dir.mkdir()
    for name in ("httpd", "smb"):
        (resource_dir / name).write_text("#!/bin/sh\nexit 0\n")
        (resource_dir / name).chmod(0o755)
    config = load_config(
        article_dir, node="master", local_addresses=(), init_dir=article_dir.parent / "init.d"
    )
    assert config.warnings == ()


def test_article_authkeys_readable_by_others_is_refused(article_dir: Path) -> None:
    authkeys = article_dir / "authkeys"
    authkeys.chmod(0o644)
    with pytest.raises(ConfigError) as raised:
        load_config(article_dir, node="master", local_addresses=())
    (problem,) = raised.value.problems
    assert problem.file == str(authkeys)
    assert f"chmod 600 {authkeys}" in str(raised.value)
    assert "0644" in str(raised.value)
