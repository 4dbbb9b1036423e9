"""Postmortem: explain incidents from journals, merge nodes' journals, replay with other timings.

Everything here is derived from the journals alone: each node's engine events are stepped
again through the real engine (`trace`), so the decisions the node took (dead declarations,
fences, resource actions) are recomputed exactly as they were taken live, with their causes.

    from hactl.postmortem import load_journals, postmortem, merge_journals, run_what_if

    journals = load_journals([Path("alpha"), Path("beta")])    # verified, one per node
    report = postmortem(journals)                              # incidents, merged timeline
    merged = merge_journals(journals)                          # order, clock offsets, equivocation
    what_if = run_what_if([Path("beta")], {"deadtime": 5000})  # WhatIfReport
"""

from hactl.postmortem.chain import Incident, IncidentKind
from hactl.postmortem.merge import MergedTimeline, merge_journals
from hactl.postmortem.report import PostmortemReport, postmortem
from hactl.postmortem.sources import NodeJournal, load_journals
from hactl.postmortem.whatif import WhatIfReport, render_what_if, run_what_if

__all__ = [
    "Incident",
    "IncidentKind",
    "MergedTimeline",
    "NodeJournal",
    "PostmortemReport",
    "WhatIfReport",
    "load_journals",
    "merge_journals",
    "postmortem",
    "render_what_if",
    "run_what_if",
]
