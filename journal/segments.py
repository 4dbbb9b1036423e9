"""Segment file names and discovery.

Segments are named by their index (`segment-00000000.journal`, ...), so a gap in the
numbering is visible to `ls` and to the verifier ("missing segment").
"""

from __future__ import annotations

import re
from pathlib import Path

_SEGMENT_NAME = re.compile(r"^segment-(\d{8})\.journal$")


def segment_name(segment_index: int) -> str:
    assert 0 <= segment_index <= 99_999_999
    return f"segment-{segment_index:08d}.journal"


def list_segments(directory: Path) -> list[tuple[int, Path]]:
    """(index, path) of every segment file in `directory`, in index order."""
    if not directory.is_dir():
        return []
    found: list[tuple[int, Path]] = []
    for path in directory.iterdir():
        match = _SEGMENT_NAME.match(path.name)
        if match is not None:
            found.append((int(match.group(1)), path))
    found.sort()
    return found
