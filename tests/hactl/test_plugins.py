"""The plugin registry: kinds, names, loading, broken plugins, and third-party packages.

Third-party plugins are installed for real here: a `*.dist-info` directory with an
`entry_points.txt` on sys.path is exactly what pip leaves behind, so discovery runs the
same code path a site's package would.
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hactl.cli import app
from hactl.plugins import (
    BrokenPluginError,
    PluginKind,
    PluginRegistry,
    UnknownPluginError,
    installed_registry,
)

BUILT_IN_DEVICES = ("external", "fence_agent", "meatware", "netns_test", "null", "ssh", "suicide")


def _entry_point(name: str, value: str, kind: PluginKind) -> importlib.metadata.EntryPoint:
    return importlib.metadata.EntryPoint(name=name, value=value, group=kind.value)


@pytest.fixture
def plugin_modules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "hactl_test_good.py").write_text("MEDIUM = ('a', 'medium')\n")
    (tmp_path / "hactl_test_broken.py").write_text("import hactl_no_such_dependency\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def test_registry_maps_kind_and_name_to_the_loaded_object(plugin_modules: Path) -> None:
    registry = PluginRegistry([
        _entry_point("good", "hactl_test_good:MEDIUM", PluginKind.MEDIA),
        _entry_point("good", "hactl_test_good:MEDIUM", PluginKind.AUTH),
    ])  # fmt: skip
    assert registry.load(PluginKind.MEDIA, "good") == ("a", "medium")
    assert registry.load(PluginKind.MEDIA, "good") is registry.load(PluginKind.AUTH, "good")
    assert registry.names(PluginKind.MEDIA) == ("good",)
    assert registry.names(PluginKind.AGENTS) == ()


def test_unknown_names_list_what_exists(plugin_modules: Path) -> None:
    registry = PluginRegistry([_entry_point("bcast", "hactl_test_good:MEDIUM", PluginKind.MEDIA),
                               _entry_point("ucast", "hactl_test_good:MEDIUM", PluginKind.MEDIA)])
    with pytest.raises(UnknownPluginError) as raised:
        registry.load(PluginKind.MEDIA, "mcast")
    assert str(raised.value) == "unknown media plugin 'mcast'; available: bcast, ucast"
    with pytest.raises(UnknownPluginError, match="none are installed"):
        registry.load(PluginKind.AGENTS, "ocf")


def test_broken_plugins_are_reported_not_crashed_on(plugin_modules: Path) -> None:
    registry = PluginRegistry([
        _entry_point("import", "hactl_test_broken:THING", PluginKind.STONITH),
        _entry_point("attribute", "hactl_test_good:NOTHING", PluginKind.STONITH),
        _entry_point("fine", "hactl_test_good:MEDIUM", PluginKind.STONITH),
    ])  # fmt: skip
    with pytest.raises(BrokenPluginError) as raised:
        registry.load(PluginKind.STONITH, "import")
    assert "hactl_test_broken:THING" in str(raised.value)
    assert "hactl_no_such_dependency" in str(raised.value)
    reports = {report.name: report for report in registry.describe(PluginKind.STONITH)}
    assert reports["fine"].is_loadable
    assert reports["import"].problem is not None
    assert reports["import"].problem.startswith("ModuleNotFoundError")
    assert reports["attribute"].problem is not None
    assert reports["attribute"].problem.startswith("AttributeError")


def test_built_in_devices_register_through_entry_points() -> None:
    registry = installed_registry()
    assert set(BUILT_IN_DEVICES) <= set(registry.names(PluginKind.STONITH))
    for report in registry.describe(PluginKind.STONITH):
        if report.name in BUILT_IN_DEVICES:
            assert report.is_loadable, report
            assert report.distribution == "hactl"
            assert callable(registry.load(PluginKind.STONITH, report.name))


@pytest.fixture
def third_party_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """What `pip install acme-fence` would leave on sys.path."""
    (tmp_path / "acme_fence.py").write_text(
        "from hactl.stonith.null import NullDevice\n\n"
        "async def open_device(request):\n"
        "    return NullDevice(hosts=('master',), device_type='acme_pdu')\n"
    )
    dist_info = tmp_path / "acme_fence-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-fence\nVersion: 1.0\n")
    (dist_info / "entry_points.txt").write_text(
        "[hactl.stonith]\nacme_pdu = acme_fence:open_device\n\n"
        "[hactl.media]\nbroken_radio = acme_radio_missing:Medium\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def test_a_third_party_package_shows_in_hactl_plugins_and_stonith(
    third_party_package: Path,
) -> None:
    listing = CliRunner().invoke(app, ["plugins"])
    assert listing.exit_code == 1  # one broken plugin
    lines = listing.output.splitlines()
    assert any("acme_pdu" in line and "[acme-fence]" in line and line.endswith("ok")
               for line in lines)  # fmt: skip
    assert any("broken_radio" in line and "BROKEN: ModuleNotFoundError" in line
               for line in lines)  # fmt: skip
    types = CliRunner().invoke(app, ["stonith", "-L"])
    assert types.exit_code == 0 and "acme_pdu" in types.output.split()
    fenced = CliRunner().invoke(app, ["stonith", "-t", "acme_pdu", "-T", "off", "master"])
    assert fenced.exit_code == 0 and "acme_pdu off master succeeded" in fenced.output


def test_hactl_plugins_filters_by_kind() -> None:
    listing = CliRunner().invoke(app, ["plugins", "stonith"])
    assert listing.exit_code == 0
    assert listing.output.startswith("stonith (hactl.stonith):")
    assert "media" not in listing.output
    assert CliRunner().invoke(app, ["plugins", "bogus"]).exit_code == 2
