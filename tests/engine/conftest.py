"""`--rewrite`: re-record the expected outputs of the scenario scripts (tests/scenarios/).

Same as HACTL_REWRITE_SCENARIOS=1. Pass it with the scenario test on the command line
(`pytest tests/engine/test_scenarios.py --rewrite`), then review the diff: a recorded
wrong behaviour is a bug to report, not an expectation.
"""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--rewrite",
        action="store_true",
        default=False,
        help="rewrite tests/scenarios/*.out from the current engine (review the diff!)",
    )
