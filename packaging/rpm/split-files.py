#!/usr/bin/env python3
"""Split the installed Python tree into the three RPMs' file lists.

Usage (from the spec's %install): split-files.py BUILDROOT SITE_DIR OUTPUT_DIR
Writes pils.files, stonith.files and hactl.files. The rules mirror Heartbeat's split:
- hactl-pils: the vendored runtime, the journal, the plugin loader and the `hactl`
  command frame (with the `journal` and `plugins` commands), so that the other two can
  plug into it;
- hactl-stonith: the fencing devices and `hactl stonith`;
- hactl: everything else (engine, daemon, resource agents, the remaining commands).
Shared directories belong to hactl-pils, the package everything else requires.
"""

from __future__ import annotations

import sys
from pathlib import Path, PurePosixPath

STONITH_MODULES = ("hactl/stonith", "hactl/commands/stonith")
PILS_HACTL_MODULES = (
    "hactl/__init__",
    "hactl/__main__",
    "hactl/cli",
    "hactl/entry",
    "hactl/plugins",
    "hactl/commands/__init__",
    "hactl/commands/journal",
    "hactl/commands/plugins",
)


def module_of(relative: PurePosixPath) -> str:
    """'hactl/__pycache__/cli.cpython-311.pyc' and 'hactl/cli.py' both give 'hactl/cli'."""
    parts = list(relative.parts)
    if "__pycache__" in parts:
        index = parts.index("__pycache__")
        parts = [*parts[:index], parts[-1].split(".")[0]]
    else:
        parts[-1] = parts[-1].rsplit(".", 1)[0] if "." in parts[-1] else parts[-1]
    return "/".join(parts)


def package_of_file(relative: PurePosixPath) -> str:
    module = module_of(relative)
    if any(module == m or module.startswith(m + "/") for m in STONITH_MODULES):
        return "stonith"
    top = relative.parts[0]
    if top == "engine":
        return "hactl"
    if top == "hactl":
        return "pils" if module in PILS_HACTL_MODULES else "hactl"
    return "pils"  # vendored wheels, journal/, hactl's dist-info


def package_of_directory(relative: PurePosixPath) -> str:
    text = str(relative)
    if any(text == m or text.startswith(m + "/") for m in STONITH_MODULES):
        return "stonith"
    if relative.parts[0] == "engine":
        return "hactl"
    if relative.parts[0] == "hactl" and text not in (
        "hactl",
        "hactl/commands",
        "hactl/__pycache__",
        "hactl/commands/__pycache__",
    ):
        return "hactl"
    return "pils"


def main() -> None:
    buildroot, site, output = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
    site_root = buildroot / site.lstrip("/")
    lists: dict[str, list[str]] = {"pils": [], "stonith": [], "hactl": []}
    for path in sorted(site_root.rglob("*")):
        relative = PurePosixPath(path.relative_to(site_root).as_posix())
        installed = f'"{site}/{relative}"'
        if path.is_dir():
            lists[package_of_directory(relative)].append(f"%dir {installed}")
        else:
            lists[package_of_file(relative)].append(installed)
    for name, lines in lists.items():
        (output / f"{name}.files").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
