"""The simulator's one virtual clock and its event queue.

Every simulated node, link and device shares this clock: time is an integer number of
milliseconds that only moves forward when the queue hands out the next item. Items due at
the same millisecond come out in the order they were scheduled (a sequence number breaks
ties), so a run depends on nothing but its seed: heapq never compares the payloads.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Generic, TypeVar

Item = TypeVar("Item")


@dataclass(slots=True)
class EventQueue(Generic[Item]):
    """A time-ordered queue of simulator work items on a virtual millisecond clock."""

    now_ms: int = 0
    _heap: list[tuple[int, int, Item]] = field(default_factory=list)
    _sequence: int = 0

    def schedule(self, at_ms: int, item: Item) -> None:
        assert at_ms >= self.now_ms, f"cannot schedule into the past: {at_ms} < {self.now_ms}"
        heapq.heappush(self._heap, (at_ms, self._sequence, item))
        self._sequence += 1

    def schedule_after(self, delay_ms: int, item: Item) -> None:
        assert delay_ms >= 0
        self.schedule(self.now_ms + delay_ms, item)

    def next_time_ms(self) -> int | None:
        return self._heap[0][0] if self._heap else None

    def pop(self) -> Item:
        """Advance the clock to the earliest item and return it."""
        at_ms, _, item = heapq.heappop(self._heap)
        assert at_ms >= self.now_ms
        self.now_ms = at_ms
        return item

    def advance_to(self, at_ms: int) -> None:
        """Move the clock forward with nothing due (the end of a `run` period)."""
        assert at_ms >= self.now_ms
        assert not self._heap or self._heap[0][0] >= at_ms, "items due before at_ms remain"
        self.now_ms = at_ms

    def __len__(self) -> int:
        return len(self._heap)
