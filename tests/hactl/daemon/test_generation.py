"""The generation number only ever goes up, and garbage in its file is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from hactl.daemon.generation import GenerationFileError, advance_generation, read_generation


def test_starts_at_one_and_increments_on_each_start(tmp_path: Path) -> None:
    assert read_generation(tmp_path) == 0
    assert [advance_generation(tmp_path) for _ in range(3)] == [1, 2, 3]
    assert (tmp_path / "generation").read_text() == "3\n"
    assert not (tmp_path / "generation.tmp").exists()


def test_creates_the_state_dir(tmp_path: Path) -> None:
    assert advance_generation(tmp_path / "new" / "state") == 1


def test_garbage_is_refused_with_the_path(tmp_path: Path) -> None:
    (tmp_path / "generation").write_text("seven\n")
    with pytest.raises(GenerationFileError, match="generation: expected a generation number"):
        advance_generation(tmp_path)
