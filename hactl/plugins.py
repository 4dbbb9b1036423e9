"""The plugin registry: the successor of Heartbeat's PILS, built on Python entry points.

Heartbeat loaded every communication medium, authentication method and STONITH device
through PILS, so that a site could add its own without rebuilding. hactl keeps the idea
with the standard mechanism: each plugin kind is an entry-point group (`hactl.media`,
`hactl.auth`, `hactl.stonith`, `hactl.agents`), and the built-ins register in
pyproject.toml exactly as a third-party package would. The registry is generic: it maps
kind -> name -> loaded object and knows nothing about what a kind's objects are.

Two kinds of failure are kept apart: asking for a name that nobody registered is the
caller's mistake (`UnknownPluginError`, listing what exists), while a registered plugin
that fails to import is the installation's (`BrokenPluginError`, naming the module and the
cause). Neither crashes a listing: `describe()` reports broken plugins alongside good ones.
"""

from __future__ import annotations

import enum
import importlib.metadata
from collections.abc import Iterable
from dataclasses import dataclass


class PluginKind(enum.Enum):
    """One entry-point group per kind of plugin."""

    MEDIA = "hactl.media"
    AUTH = "hactl.auth"
    STONITH = "hactl.stonith"
    AGENTS = "hactl.agents"

    @property
    def label(self) -> str:
        """The short name admins see (`stonith`), without the `hactl.` group prefix."""
        return self.value.removeprefix("hactl.")


class PluginError(Exception):
    """Base class for plugin lookup and loading failures."""


class UnknownPluginError(PluginError):
    """No plugin of this kind is registered under the name asked for."""

    def __init__(self, kind: PluginKind, name: str, available: tuple[str, ...]) -> None:
        self.kind = kind
        self.name = name
        self.available = available
        known = ", ".join(available) if available else "none are installed"
        super().__init__(f"unknown {kind.label} plugin {name!r}; available: {known}")


class BrokenPluginError(PluginError):
    """A registered plugin could not be loaded (import error, missing attribute, ...)."""

    def __init__(self, kind: PluginKind, name: str, target: str, cause: BaseException) -> None:
        self.kind = kind
        self.name = name
        self.target = target
        self.cause = cause
        super().__init__(
            f"{kind.label} plugin {name!r} ({target}) is broken: {type(cause).__name__}: {cause}"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class PluginReport:
    """What `hactl plugins` shows for one registered plugin."""

    kind: PluginKind
    name: str
    target: str  # "module:attribute", as registered
    distribution: str  # the package that registered it, "" when unknown
    problem: str | None  # None when it loads

    @property
    def is_loadable(self) -> bool:
        return self.problem is None


def _distribution_name(entry_point: importlib.metadata.EntryPoint) -> str:
    distribution = getattr(entry_point, "dist", None)
    if distribution is None:
        return ""
    return str(distribution.metadata["Name"] or "")


class PluginRegistry:
    """Plugins by kind and name, loaded on first use.

    `entry_points` defaults to everything installed; tests and embedders may pass their own
    `importlib.metadata.EntryPoint` objects, which load through the same code path.
    """

    def __init__(self, entry_points: Iterable[importlib.metadata.EntryPoint] | None = None):
        if entry_points is None:
            entry_points = [
                entry_point
                for kind in PluginKind
                for entry_point in importlib.metadata.entry_points(group=kind.value)
            ]
        self._entry_points: dict[PluginKind, dict[str, importlib.metadata.EntryPoint]] = {
            kind: {} for kind in PluginKind
        }
        for entry_point in entry_points:
            kind = PluginKind(entry_point.group)
            # The first registration of a name wins, as on PATH; duplicates are rare and a
            # listing shows which package supplied the one in use.
            self._entry_points[kind].setdefault(entry_point.name, entry_point)
        self._loaded: dict[tuple[PluginKind, str], object] = {}

    def names(self, kind: PluginKind) -> tuple[str, ...]:
        return tuple(sorted(self._entry_points[kind]))

    def load(self, kind: PluginKind, name: str) -> object:
        """The object registered as `name`; raises UnknownPluginError or BrokenPluginError."""
        key = (kind, name)
        if key in self._loaded:
            return self._loaded[key]
        entry_point = self._entry_points[kind].get(name)
        if entry_point is None:
            raise UnknownPluginError(kind, name, self.names(kind))
        try:
            loaded = entry_point.load()
        except Exception as error:  # any import-time failure is the plugin's, not ours
            raise BrokenPluginError(kind, name, entry_point.value, error) from error
        self._loaded[key] = loaded
        return loaded

    def describe(self, kind: PluginKind) -> tuple[PluginReport, ...]:
        """Every plugin of `kind`, each tried once: broken ones are reported, not raised."""
        reports = []
        for name in self.names(kind):
            entry_point = self._entry_points[kind][name]
            try:
                self.load(kind, name)
                problem = None
            except BrokenPluginError as error:
                problem = f"{type(error.cause).__name__}: {error.cause}"
            reports.append(
                PluginReport(
                    kind=kind,
                    name=name,
                    target=entry_point.value,
                    distribution=_distribution_name(entry_point),
                    problem=problem,
                )
            )
        return tuple(reports)


def installed_registry() -> PluginRegistry:
    """A registry of every plugin installed in this Python environment, read now."""
    return PluginRegistry()
