"""The daemon exempts its start-up objects from Python's full garbage collections."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from hactl.daemon.collector import freeze_start_up_objects


@pytest.fixture
def unfrozen_afterwards() -> Iterator[None]:
    yield
    gc.unfreeze()  # the rest of the test run collects as usual


@pytest.mark.usefixtures("unfrozen_afterwards")
def test_start_up_objects_leave_the_collected_generations() -> None:
    kept = [object() for _ in range(5)], {"config": ["a", "b"]}  # alive through start-up
    tracked_before = len(gc.get_objects())
    frozen = freeze_start_up_objects()
    assert frozen == gc.get_freeze_count() >= tracked_before // 2
    collected_now = gc.get_objects()  # what a full collection would still walk
    assert len(collected_now) < tracked_before // 2
    assert all(item is not kept[1] for item in collected_now)


@pytest.mark.usefixtures("unfrozen_afterwards")
def test_garbage_made_after_start_up_is_still_collected() -> None:
    freeze_start_up_objects()

    class Node:
        def __init__(self) -> None:
            self.peer: Node | None = None

    first, second = Node(), Node()
    first.peer, second.peer = second, first  # a cycle only the collector can free
    del first, second
    assert gc.collect() >= 2
