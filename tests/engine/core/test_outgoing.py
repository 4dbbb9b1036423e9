"""The outgoing queue: its earliest retransmission, derived per change, equals a fresh scan."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from engine.core.messages import ControlKind, ControlMessage
from engine.core.outgoing import earliest_send_ms, frozen_outgoing, with_item, without_item
from engine.core.state import OutgoingControl

MESSAGE = ControlMessage(kind=ControlKind.RELEASE_DONE, groups=("g1",))

# Each change: queue a message due at this time, or acknowledge the message at this index.
changes = st.lists(
    st.tuples(st.booleans(), st.integers(min_value=0, max_value=5)), max_size=60
)


@given(changes)
def test_the_derived_earliest_time_equals_a_fresh_scan(steps: list[tuple[bool, int]]) -> None:
    queue = frozen_outgoing(())
    for message_id, (is_queued, number) in enumerate(steps, start=1):
        if is_queued or not queue:
            item = OutgoingControl(
                message_id=message_id, to_node="beta", message=MESSAGE, next_send_ms=number
            )
            queue = with_item(queue, item)
        else:
            queue = without_item(queue, number % len(queue))
        assert earliest_send_ms(queue) == earliest_send_ms(tuple(queue))
