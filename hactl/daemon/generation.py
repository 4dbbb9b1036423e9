"""The generation number: incremented and made durable at every start.

Peers refuse packets from a lower generation than they last saw (replay protection), and
a higher one tells them we restarted. The number therefore must never go backwards: the
new value is written to a temporary file, fsynced, renamed over the old one, and the
directory is fsynced too, before the daemon sends a single packet.
"""

from __future__ import annotations

import os
from pathlib import Path

GENERATION_FILE_NAME = "generation"


class GenerationFileError(Exception):
    """The generation file exists but does not hold a number: refuse to guess."""


def read_generation(state_dir: Path) -> int:
    """The last generation used (0 when this node never started)."""
    path = state_dir / GENERATION_FILE_NAME
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return 0
    except (OSError, UnicodeDecodeError) as error:
        raise GenerationFileError(f"{path}: cannot read: {error}") from None
    if not text.isdigit():
        raise GenerationFileError(
            f"{path}: expected a generation number, found {text[:40]!r}; "
            "restore it or set it above every value the peers have seen"
        )
    return int(text)


def advance_generation(state_dir: Path) -> int:
    """Increment the stored generation durably and return the new value."""
    state_dir.mkdir(parents=True, exist_ok=True)
    generation = read_generation(state_dir) + 1
    path = state_dir / GENERATION_FILE_NAME
    temporary = state_dir / (GENERATION_FILE_NAME + ".tmp")
    with open(temporary, "w", encoding="ascii") as file:
        file.write(f"{generation}\n")
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)
    directory = os.open(state_dir, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    assert read_generation(state_dir) == generation
    return generation
