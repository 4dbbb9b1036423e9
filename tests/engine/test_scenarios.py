"""Runs every scenario script in tests/scenarios/ and compares its transcript to NAME.out.

Each script must also pass its own `expect` lines and end without a safety or replay
violation, whatever the recorded output says, so a wrong behaviour cannot be recorded as
expected. Re-record with `--rewrite` or HACTL_REWRITE_SCENARIOS=1, then read the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.sim.scenario_language import parse_script
from engine.sim.scenario_runner import run_scenario

SCENARIO_DIRECTORY = Path(__file__).resolve().parent.parent / "scenarios"
SCRIPTS = sorted(SCENARIO_DIRECTORY.glob("*.txt"))


def _is_rewriting(config: pytest.Config) -> bool:
    option = bool(config.getoption("--rewrite", default=False))
    return option or os.environ.get("HACTL_REWRITE_SCENARIOS") == "1"


def test_there_are_at_least_thirty_scenarios() -> None:
    assert len(SCRIPTS) >= 30


@pytest.mark.parametrize("script", SCRIPTS, ids=[path.stem for path in SCRIPTS])
def test_scenario(script: Path, pytestconfig: pytest.Config) -> None:
    steps = parse_script(script.read_text(encoding="utf-8"), file=str(script.name))
    result = run_scenario(steps)
    expected_path = script.with_suffix(".out")
    if _is_rewriting(pytestconfig):
        expected_path.write_text(result.transcript, encoding="utf-8")
    assert not result.failures, "\n".join(result.failures) + "\n\n" + result.transcript
    assert expected_path.exists(), f"no {expected_path.name}: run with --rewrite and review it"
    assert result.transcript == expected_path.read_text(encoding="utf-8")
