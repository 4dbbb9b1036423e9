"""Register the engine's and the shell's record kind names so renderings can name every record.

The journal package never imports the engine; whoever prints records registers the names.
`hactl journal show` does the same for its own output; this keeps the postmortem package
usable without importing another command's private helpers.
"""

from __future__ import annotations

from engine.core.codec import EVENT_KIND_NAMES, summarize_event
from journal.kinds import register_kind_names

_is_registered = False


def register_record_names() -> None:
    global _is_registered
    if _is_registered:
        return
    import hactl.daemon.records  # noqa: F401 - registers the shell's kinds on import

    def summarize(kind: int, payload: object) -> str:
        if kind in EVENT_KIND_NAMES and isinstance(payload, list):
            return summarize_event(kind, payload)
        return ""

    register_kind_names(EVENT_KIND_NAMES, summarize)
    _is_registered = True
