"""Building a fencing device from ha.cf or the command line, through the plugin registry.

A device type as written names a `hactl.stonith` plugin, optionally with a subtype after a
slash: `external/ipmi` is the `external` plugin running the script `ipmi`, and
`fence_agent/fence_ipmilan` (or just `fence_ipmilan`, as admins say it) is the
`fence_agent` plugin running that agent. Everything else (`null`, `meatware`, `ssh`,
`suicide`, a third party's `acme_pdu`) is looked up by its own name. Built-ins and
third-party devices take the same path, so a site's plugin is a first-class device.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import trio

from hactl.plugins import PluginError, PluginKind, PluginRegistry, installed_registry
from hactl.stonith.device import (
    DeviceRequest,
    DeviceSettings,
    FenceDevice,
    StonithConfigError,
)
from hactl.stonith.external import list_scripts
from hactl.stonith.fence_agent import list_agents
from hactl.stonith.parameters import parse_config_text

if TYPE_CHECKING:  # only a type here: hactl-stonith installs without the engine package
    from engine.config.model import StonithDevice

SCRIPT_PLUGINS = ("external", "fence_agent")  # listed by what they run, not by themselves


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceSpec:
    """A device as the command line (or an embedding program) describes it."""

    device_type: str
    positional_parameters: tuple[str, ...] = ()
    named_parameters: tuple[tuple[str, str], ...] = ()
    origin: str = "stonith"


def split_device_type(device_type: str) -> tuple[str, str | None]:
    """("plugin name", subtype) for a type as written."""
    if device_type.startswith("fence_") and "/" not in device_type:
        return "fence_agent", device_type
    plugin, slash, subtype = device_type.partition("/")
    return plugin, (subtype if slash else None)


def applies_to(stonith: StonithDevice, local_node: str) -> bool:
    """Whether `stonith_host FROM ...` lets `local_node` use this device (`*`: any node)."""
    return stonith.from_node == "*" or stonith.from_node.lower() == local_node.lower()


async def _read_config_file(stonith: StonithDevice, origin: str) -> str:
    assert stonith.config_file is not None
    path = Path(stonith.config_file)
    if not path.is_absolute():  # relative to ha.cf's directory, where admins keep it
        path = Path(stonith.location.file).parent / path
    try:
        return await trio.Path(path).read_text()
    except OSError as error:
        raise StonithConfigError(
            f"{origin}: stonith {stonith.device_type} {stonith.config_file}: cannot read "
            f"{path}: {error.strerror}"
        ) from error


async def _spec_of(stonith: StonithDevice | DeviceSpec | tuple[str, Sequence[str]]) -> DeviceSpec:
    if isinstance(stonith, DeviceSpec):
        return stonith
    if isinstance(stonith, tuple):
        device_type, words = stonith
        return spec_from_words(device_type, words, origin="command line")
    origin = f"{stonith.location.file}:{stonith.location.line}"
    positional, named = stonith.parameters, stonith.named_parameters
    if stonith.config_file is not None:
        file_positional, file_named = parse_config_text(await _read_config_file(stonith, origin))
        positional, named = positional + file_positional, file_named + named
    return DeviceSpec(device_type=stonith.device_type, positional_parameters=positional,
                      named_parameters=named, origin=origin)  # fmt: skip


async def make_device(
    stonith: StonithDevice | DeviceSpec | tuple[str, Sequence[str]],
    *,
    settings: DeviceSettings | None = None,
    registry: PluginRegistry | None = None,
    is_describe_only: bool = False,
) -> FenceDevice:
    """Open the device `stonith` describes; raises StonithConfigError naming where and why.

    `stonith` is a parsed ha.cf line, a DeviceSpec, or (TYPE, words) as on a command line:
    `("external/ipmi", ["master", "ipaddr=198.18.0.201"])`; `name=value` words are named.
    """
    spec = await _spec_of(stonith)
    plugin_name, subtype = split_device_type(spec.device_type)
    request = DeviceRequest(
        device_type=spec.device_type,
        subtype=subtype,
        positional_parameters=spec.positional_parameters,
        named_parameters=spec.named_parameters,
        settings=settings or DeviceSettings(),
        origin=spec.origin,
        is_describe_only=is_describe_only,
    )
    try:
        factory = (registry or installed_registry()).load(PluginKind.STONITH, plugin_name)
    except PluginError as error:
        raise request.error(str(error)) from error
    if not callable(factory):
        raise request.error(f"plugin {plugin_name!r} is not a device factory: {factory!r}")
    try:
        opened = factory(request)
        device = await opened if inspect.isawaitable(opened) else opened
    except StonithConfigError:
        raise
    except Exception as error:  # a third party's bug: report it, do not crash the caller
        raise request.error(
            f"plugin {plugin_name!r} failed to open: {type(error).__name__}: {error}"
        ) from error
    if not isinstance(device, FenceDevice):
        raise request.error(f"plugin {plugin_name!r} returned {device!r}, not a fence device")
    return device


def list_device_types(
    settings: DeviceSettings | None = None, registry: PluginRegistry | None = None
) -> tuple[str, ...]:
    """Every device type this host can run, as `stonith -L` prints them."""
    settings = settings or DeviceSettings()
    registry = registry or installed_registry()
    names: list[str] = [
        name for name in registry.names(PluginKind.STONITH) if name not in SCRIPT_PLUGINS
    ]
    if "external" in registry.names(PluginKind.STONITH):
        names += list_scripts(settings.external_directories)
    if "fence_agent" in registry.names(PluginKind.STONITH):
        names += list_agents(settings.fence_agent_directories)
    return tuple(sorted(names))


def spec_from_words(device_type: str, words: Sequence[str], origin: str) -> DeviceSpec:
    """A spec from command-line words: `name=value` are named, the rest positional."""
    positional = tuple(word for word in words if "=" not in word)
    named = tuple(
        (name, value) for name, _, value in (word.partition("=") for word in words if "=" in word)
    )
    return DeviceSpec(device_type=device_type, positional_parameters=positional,
                      named_parameters=named, origin=origin)  # fmt: skip
