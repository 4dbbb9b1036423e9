"""Journal records the shell writes itself (kinds 900-949), beside the engine's events.

These are facts about the node process rather than inputs to the engine: refused packets
(rate-limited security reports), equivocation alarms raised by peers' seals, and reload
failures. Replay skips them (they change no engine state); `hactl journal show` prints
them by name, which is why their names and summaries are registered here.
"""

from __future__ import annotations

from journal.kinds import register_kind_names

PACKETS_REFUSED = 900  # [reason, count, link, claimed_sender, detail]
RELOAD_FAILED = 901  # [problem]
DAEMON_STOPPING = 902  # [reason]
WATCHDOG = 903  # [what ("armed", "cannot open", "cannot write", "disarmed"), device, detail]

SHELL_KIND_NAMES = {
    PACKETS_REFUSED: "packets refused",
    RELOAD_FAILED: "reload failed",
    DAEMON_STOPPING: "daemon stopping",
    WATCHDOG: "watchdog",
}


def _summarize(kind: int, payload: object) -> str:
    if kind == PACKETS_REFUSED and isinstance(payload, list) and len(payload) == 5:
        reason, count, link, sender, detail = payload
        return f"{count} packet(s) refused ({reason}) on {link} from {sender or '?'}: {detail}"
    if kind in (RELOAD_FAILED, DAEMON_STOPPING) and isinstance(payload, list) and payload:
        return str(payload[0])
    if kind == WATCHDOG and isinstance(payload, list) and len(payload) == 3:
        what, device, detail = payload
        return f"watchdog {device}: {what}" + (f" ({detail})" if detail else "")
    return ""


def register_shell_kinds() -> None:
    register_kind_names(SHELL_KIND_NAMES, _summarize)


register_shell_kinds()
