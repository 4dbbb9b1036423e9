"""The steady-keepalive memos give exactly what the codec gives, and redo it on change."""

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
from engine.core.events import HeartbeatReceived
from engine.core.messages import NodePhase, StatusPayload
from hactl.daemon.steady import IncomingStatus, SealBytes
from journal import Seal

STATUS = StatusPayload(phase=NodePhase.ACTIVE, status_version=4, running_groups=("g1",),
                       live_members=("master", "backup"))  # fmt: skip
NEWER = StatusPayload(phase=NodePhase.ACTIVE, status_version=5, live_members=("master",))


def heartbeat(seq: int, status: StatusPayload, *, now_ms: int = 1000) -> HeartbeatReceived:
    return HeartbeatReceived(now_ms=now_ms, from_node="backup", link="bcast eth0",
                             generation=3, seq=seq, status=status)  # fmt: skip


@given(st.lists(st.tuples(st.integers(0, 2**40), st.integers(0, 2**31), st.booleans()),
                min_size=1, max_size=20))  # fmt: skip
def test_heartbeat_records_of_a_decoded_status_equal_a_fresh_encoding(
    steps: list[tuple[int, int, bool]],
) -> None:
    """The status object the memo hands out is packed once by the codec, and every record
    still encodes exactly as a status built anew would."""
    statuses = IncomingStatus()
    for now_ms, seq, is_newer in steps:
        status = statuses.decode("backup", encode_status(NEWER if is_newer else STATUS))
        event = heartbeat(seq, status, now_ms=now_ms)
        fresh = heartbeat(seq, NEWER if is_newer else STATUS, now_ms=now_ms)
        kind, payload = encode_event(event)
        assert (kind, payload) == encode_event(fresh)
        assert decode_event(kind, payload) == fresh


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


def test_seal_bytes_are_serialized_again_only_for_a_new_seal() -> None:
    seal_bytes = SealBytes()
    seal = Seal(node="master", seq=7, head=b"\x01" * 32, epoch=0, signature=b"\x02" * 64)
    later = Seal(node="master", seq=9, head=b"\x03" * 32, epoch=0, signature=b"\x04" * 64)
    assert seal_bytes.of(seal) == seal.to_bytes()
    assert seal_bytes.of(seal) is seal_bytes.of(seal)
    assert seal_bytes.of(later) == later.to_bytes()
