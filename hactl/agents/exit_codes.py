"""Exit-code conventions of LSB init scripts and OCF agents, mapped onto `AgentOutcome`.

Pure functions, kept apart from the runners so that the tables can be read (and tested)
whole. LSB (for actions other than status) and OCF share the codes 0-7; LSB `status` has
its own table, and Heartbeat's v1 scripts often exit 0 whatever happened and only say in
words whether the resource runs, which `script_status_outcome` honours as Heartbeat did.
"""

from __future__ import annotations

import re
import signal

from hactl.agents.results import AgentOutcome

# OCF (and LSB non-status) exit codes, from the OCF resource agent API.
OCF_CODES: dict[int, tuple[AgentOutcome, str]] = {
    0: (AgentOutcome.SUCCESS, "success"),
    1: (AgentOutcome.FAILED, "generic error"),
    2: (AgentOutcome.INVALID_ARGUMENTS, "invalid arguments"),
    3: (AgentOutcome.UNIMPLEMENTED, "action not implemented"),
    4: (AgentOutcome.INSUFFICIENT_PRIVILEGE, "insufficient privilege"),
    5: (AgentOutcome.NOT_INSTALLED, "not installed"),
    6: (AgentOutcome.NOT_CONFIGURED, "not configured"),
    7: (AgentOutcome.NOT_RUNNING, "not running"),
}

# LSB `status` exit codes (LSB core, init script actions).
LSB_STATUS_CODES: dict[int, tuple[AgentOutcome, str]] = {
    0: (AgentOutcome.SUCCESS, "running"),
    1: (AgentOutcome.NOT_RUNNING, "not running, but a pid file exists (program is dead)"),
    2: (AgentOutcome.NOT_RUNNING, "not running, but a lock file exists (program is dead)"),
    3: (AgentOutcome.NOT_RUNNING, "not running"),
    4: (AgentOutcome.FAILED, "status unknown"),
}

# Heartbeat judged old scripts by their words; "not running" must win over "running".
_STOPPED_TEXT = re.compile(r"\b(not\s+running|stopped|is\s+dead)\b", re.IGNORECASE)
_RUNNING_TEXT = re.compile(r"\b(running|ok)\b", re.IGNORECASE)


def killed_meaning(exit_code: int) -> str:
    """A negative exit code is trio's way of saying a signal ended the process."""
    assert exit_code < 0
    try:
        name = signal.Signals(-exit_code).name
    except ValueError:
        name = f"signal {-exit_code}"
    return f"killed by {name}"


def ocf_outcome(exit_code: int, *, is_stop: bool) -> tuple[AgentOutcome, str]:
    """Outcome of an OCF action, or of an LSB/Heartbeat start or stop.

    A stop that answers "not running" has reached its goal: stopping a stopped resource
    must succeed (OCF and LSB both say so), and some agents answer 7 anyway.
    """
    if exit_code < 0:
        return AgentOutcome.FAILED, killed_meaning(exit_code)
    outcome, meaning = OCF_CODES.get(exit_code, (AgentOutcome.FAILED, "unknown exit code"))
    if is_stop and outcome is AgentOutcome.NOT_RUNNING:
        return AgentOutcome.SUCCESS, "already stopped"
    return outcome, meaning


def script_status_outcome(exit_code: int, output: str) -> tuple[AgentOutcome, str]:
    """Outcome of a Heartbeat or LSB script's `status`.

    Exit 0 with words that say stopped is "not running": Heartbeat v1 scripts commonly exit
    0 whatever and print the state, and Heartbeat believed the words. Other codes follow
    LSB; codes outside LSB's table are failures.
    """
    if exit_code < 0:
        return AgentOutcome.FAILED, killed_meaning(exit_code)
    if exit_code == 0 and _STOPPED_TEXT.search(output):
        return AgentOutcome.NOT_RUNNING, "exit 0 but the output says stopped (Heartbeat text rule)"
    if exit_code == 0 and not _RUNNING_TEXT.search(output) and output.strip():
        return AgentOutcome.SUCCESS, "running (exit 0; output has neither running nor OK)"
    return LSB_STATUS_CODES.get(exit_code, (AgentOutcome.FAILED, "status exit code outside LSB"))
