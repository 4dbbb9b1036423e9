"""Small durable-file helpers: fsync a directory, write a file atomically, erase securely.

New files and directories are only durable once their directory entry is: every helper
here fsyncs the directory after creating, renaming or unlinking. With `sync=False`
(simulator and tests) the same files are written but nothing is flushed.
"""

from __future__ import annotations

import os
from pathlib import Path


def fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def make_directory(directory: Path, *, mode: int, sync: bool) -> None:
    """Create `directory` (and parents) and make the new entries durable."""
    missing: list[Path] = []
    probe = directory
    while not probe.exists():
        missing.append(probe)
        probe = probe.parent
    for path in reversed(missing):
        path.mkdir(mode=mode)
        if sync:
            fsync_directory(path.parent)


def write_file_atomically(path: Path, data: bytes, *, mode: int, sync: bool) -> None:
    """Write to a temporary name, flush, then rename: readers see all of it or none."""
    temporary = path.with_name(path.name + ".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.fchmod(descriptor, mode)  # the umask must not widen or narrow what we asked for
        _write_all(descriptor, data)
        if sync:
            os.fsync(descriptor)
    finally:
        os.close(descriptor)
    os.replace(temporary, path)
    if sync:
        fsync_directory(path.parent)


def secure_erase(path: Path, *, sync: bool) -> None:
    """Overwrite with zeros, flush, unlink, flush the directory.

    On copy-on-write or flash storage the old blocks may survive the overwrite; this is
    the best a user-space process can do, and it is why keys live in their own small files.
    """
    try:
        descriptor = os.open(path, os.O_WRONLY)
    except FileNotFoundError:
        return
    try:
        size = os.fstat(descriptor).st_size
        _write_all(descriptor, bytes(size))
        if sync:
            os.fsync(descriptor)  # the zeros must reach the disk before the name goes
    finally:
        os.close(descriptor)
    path.unlink()
    if sync:
        fsync_directory(path.parent)


def _write_all(descriptor: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(descriptor, view)
        view = view[written:]
