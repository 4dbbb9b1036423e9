"""What this node's journal says it held before this start (issue 9's start-up probes).

The engine compares that belief with what the start-up probes find and raises an incident
when they differ (a resource running that the journal says was stopped, or the reverse).
The belief is folded from the journal by replaying it through the engine, exactly as
`hactl replay` does, and handed to the engine inside `NodeStarted`, so that a later replay
(even of a pruned journal) sees the same input.

A journal that cannot be replayed (records of an older, incompatible format) must not keep
a node from starting: the belief is then empty, which the log says, and the probes alone
decide what runs here.
"""

from __future__ import annotations

import logging
from pathlib import Path

from engine.core.codec import decode_event
from engine.core.events import Event
from engine.core.replay import prior_belief, replay
from journal import read_records

ENGINE_KINDS = range(100, 200)
logger = logging.getLogger("hactl.daemon")


def belief_from_journal(directory: Path) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(believed_groups, incidents) from the journal in `directory`."""
    try:
        events = list(_engine_events(directory))
        state = replay(events)
    except Exception as error:  # an unreadable past must not stop today's start
        logger.warning("journal %s cannot be replayed (%s): starting without prior belief",
                       directory, error)  # fmt: skip
        return (), ()
    believed, incidents = prior_belief(state)
    if believed or incidents:
        logger.info("journal says this node held %s; open incidents: %s",
                    ", ".join(believed) or "nothing", len(incidents))  # fmt: skip
    return believed, incidents


def _engine_events(directory: Path) -> list[Event]:
    return [
        decode_event(record.kind, record.payload)  # type: ignore[arg-type]
        for record in read_records(directory)
        if record.kind in ENGINE_KINDS
    ]
