"""Reading the configuration files for a start or a reload, off the event loop.

A reload that fails (a typo in ha.cf, an authkeys with the wrong mode) must leave the
running configuration untouched and say exactly what is wrong; the parsers' ConfigError
already names file, line and directive, so it is passed through as the message.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import trio

from engine.config.errors import ConfigError
from engine.config.model import ClusterConfig
from hactl.config_files import load_config


class ReloadError(Exception):
    """The configuration could not be (re)loaded; the message is for the admin."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfigLoader:
    config_dir: Path
    node: str | None

    def load_now(self) -> ClusterConfig:
        try:
            return load_config(self.config_dir, node=self.node)
        except ConfigError as error:
            raise ReloadError(str(error)) from None

    async def load(self) -> ClusterConfig:
        return await trio.to_thread.run_sync(self.load_now)
