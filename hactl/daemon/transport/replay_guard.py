"""Per-sender (generation, seq) bookkeeping: refuse replays, spot redundant-link copies.

Heartbeat's rule: a lower generation than the one last seen from a sender is a replay
(or an old packet) and is refused; a higher one means the sender restarted, so its seq
starts again. Within a generation we remember, for the last `WINDOW_SEQS` sequence
numbers, which links each one arrived on: the first copy is delivered, a copy on another
link only proves that link alive, and a second copy on the same link is a replay (or a
network duplicate, which is indistinguishable and just as harmless to drop).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

WINDOW_SEQS = 1024


class Verdict(enum.Enum):
    FIRST = "first"  # deliver
    FIRST_AFTER_RESTART = "first_after_restart"  # deliver; the sender restarted
    OTHER_LINK_COPY = "other_link_copy"  # not delivered; the link is alive
    REPLAYED = "replayed"  # refused: same (generation, seq) again on this link
    TOO_OLD = "too_old"  # refused: older than the window
    STALE_GENERATION = "stale_generation"  # refused: lower generation than known


@dataclass(slots=True)
class _SenderWindow:
    generation: int
    highest_seq: int
    links_by_seq: dict[int, set[str]] = field(default_factory=dict)


@dataclass(slots=True)
class ReplayGuard:
    """Remembers every sender's generation and recent sequence numbers."""

    windows: dict[str, _SenderWindow] = field(default_factory=dict)

    def check(self, sender: str, generation: int, seq: int, link: str) -> Verdict:
        window = self.windows.get(sender)
        if window is None or generation > window.generation:
            is_restart = window is not None
            self.windows[sender] = _SenderWindow(generation, seq, {seq: {link}})
            return Verdict.FIRST_AFTER_RESTART if is_restart else Verdict.FIRST
        if generation < window.generation:
            return Verdict.STALE_GENERATION
        if seq <= window.highest_seq - WINDOW_SEQS:
            return Verdict.TOO_OLD
        links = window.links_by_seq.get(seq)
        if links is None:
            self._remember(window, seq, link)
            return Verdict.FIRST
        if link in links:
            return Verdict.REPLAYED
        links.add(link)
        return Verdict.OTHER_LINK_COPY

    def forget(self, sender: str) -> None:
        """Drop what we know of `sender` (used only when a config reload removes it)."""
        self.windows.pop(sender, None)

    @staticmethod
    def _remember(window: _SenderWindow, seq: int, link: str) -> None:
        window.links_by_seq[seq] = {link}
        if seq > window.highest_seq:
            window.highest_seq = seq
            oldest_kept = seq - WINDOW_SEQS
            if len(window.links_by_seq) > 2 * WINDOW_SEQS:  # prune in batches, not per packet
                window.links_by_seq = {
                    kept: links
                    for kept, links in window.links_by_seq.items()
                    if kept > oldest_kept
                }
