"""The steady-keepalive memos give exactly what the codec gives, and re-encode on change."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.core.codec import (
    MalformedMessageError,
    decode_event,
    encode_event,
    encode_status,
)
from engine.core.events import HeartbeatReceived, TimeAdvanced
from engine.core.messages import NodePhase, StatusPayload
from hactl.daemon.steady import EventEncoder, IncomingStatus, OutgoingHeartbeat
from journal import Seal

STATUS = StatusPayload(phase=NodePhase.ACTIVE, status_version=4, running_groups=("g1",),
                       live_members=("master", "backup"))  # fmt: skip
NEWER = StatusPayload(phase=NodePhase.ACTIVE, status_version=5, live_members=("master",))


def heartbeat(seq: int, status: StatusPayload, *, now_ms: int = 1000) -> HeartbeatReceived:
    return HeartbeatReceived(now_ms=now_ms, from_node="backup", link="bcast eth0",
                             generation=3, seq=seq, status=status)  # fmt: skip


@given(st.lists(st.tuples(st.integers(0, 2**40), st.integers(0, 2**31), st.booleans()),
                min_size=1, max_size=20))  # fmt: skip
def test_heartbeat_records_equal_the_codecs_whatever_the_sequence(
    steps: list[tuple[int, int, bool]],
) -> None:
    encoder = EventEncoder()
    for now_ms, seq, is_newer in steps:
        event = heartbeat(seq, NEWER if is_newer else STATUS, now_ms=now_ms)
        kind, payload = encoder.encode(event)
        assert (kind, payload) == encode_event(event)
        assert decode_event(kind, payload) == event


def test_other_events_go_through_the_codec_and_keep_the_remembered_status() -> None:
    encoder = EventEncoder()
    encoder.encode(heartbeat(1, STATUS))
    tick = TimeAdvanced(now_ms=1100)
    assert encoder.encode(tick) == encode_event(tick)
    assert encoder.encode(heartbeat(2, STATUS)) == encode_event(heartbeat(2, STATUS))


def test_an_equal_body_decodes_to_the_same_status_object_per_sender() -> None:
    statuses = IncomingStatus()
    first = statuses.decode("backup", encode_status(STATUS))
    again = statuses.decode("backup", encode_status(STATUS))
    assert first == STATUS and again is first
    other_sender = statuses.decode("third", encode_status(STATUS))
    assert other_sender == STATUS and other_sender is not first
    assert statuses.decode("backup", encode_status(NEWER)) == NEWER


def test_a_malformed_body_raises_and_is_not_remembered() -> None:
    statuses = IncomingStatus()
    statuses.decode("backup", encode_status(STATUS))
    with pytest.raises(MalformedMessageError):
        statuses.decode("backup", ["garbage"])
    with pytest.raises(MalformedMessageError):
        statuses.decode("backup", ["garbage"])  # still refused the second time
    assert statuses.decode("backup", encode_status(STATUS)) == STATUS


def test_outgoing_body_and_seal_bytes_are_re_encoded_only_for_a_new_object() -> None:
    outgoing = OutgoingHeartbeat()
    body = outgoing.body(STATUS)
    assert body == encode_status(STATUS) and outgoing.body(STATUS) is body
    assert outgoing.body(NEWER) == encode_status(NEWER)
    seal = Seal(node="master", seq=7, head=b"\x01" * 32, epoch=0, signature=b"\x02" * 64)
    later = Seal(node="master", seq=9, head=b"\x03" * 32, epoch=0, signature=b"\x04" * 64)
    assert outgoing.seal_bytes(seal) == seal.to_bytes()
    assert outgoing.seal_bytes(seal) is outgoing.seal_bytes(seal)
    assert outgoing.seal_bytes(later) == later.to_bytes()
