"""Kind names and summaries: the engine registers its own; unknown kinds still print."""

from __future__ import annotations

import pytest

from journal import kinds


def test_registered_names_and_summaries_are_used_and_unknown_kinds_fall_back() -> None:
    kinds.register_kind_names(
        {930: "test heartbeat run"},
        lambda kind, payload: f"run of {payload}" if kind == 930 else "",
    )
    assert kinds.kind_name(930) == "test heartbeat run"
    assert kinds.kind_from_name("test-heartbeat-run") == 930
    assert kinds.summarize(930, [3]) == "run of [3]"
    assert kinds.kind_name(931) == "kind 931"
    assert kinds.summarize(931, ["peer", 1]) == "['peer', 1]"
    assert kinds.kind_name(kinds.SEAL) == "seal"


def test_a_failing_summarizer_never_hides_a_record() -> None:
    def broken(kind: int, payload: object) -> str:
        raise RuntimeError("bug")

    kinds.register_kind_names({940: "broken summary"}, broken)
    assert kinds.summarize(940, [1]) == "[1]"


def test_journal_kinds_cannot_be_renamed() -> None:
    with pytest.raises(ValueError, match="reserved"):
        kinds.register_kind_names({kinds.SEAL: "mine"})
