"""`make demo`: its simulator story (what runs without root) and its journal excerpt."""

from __future__ import annotations

import pytest

from hactl import demo


def test_the_simulated_story_fails_over_and_back(capsys: pytest.CaptureFixture[str]) -> None:
    demo.run_simulated_demo()
    shown = capsys.readouterr().out
    assert "backup: sees master dead" in shown
    assert shown.count("  ok") == 3
    assert "no safety or replay violation" in shown


def test_takeover_lines_keep_the_decision_and_the_actions() -> None:
    lines = [
        "t1 100 TimeAdvanced", "t2 101 HeartbeatReceived", "t3 102 TimeAdvanced",
        "t4 103 ResourceActionCompleted start ip", "t5 104 peer seal",
        "t6 105 ResourceActionCompleted start httpd", "t7 106 TimeAdvanced",
    ]  # fmt: skip
    assert demo.takeover_lines(lines) == [
        "t3 102 TimeAdvanced   <- deadtime expired: master declared dead",
        "t4 103 ResourceActionCompleted start ip",
        "t6 105 ResourceActionCompleted start httpd",
    ]
