"""The event codec: every event survives msgpack unchanged; garbage fails clearly."""

from __future__ import annotations

import contextlib
from dataclasses import replace

import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.config.model import AutoFailback, MonitorPolicy, PingGroup
from engine.core.codec import (
    EVENT_KIND_NAMES,
    MalformedMessageError,
    decode_config,
    decode_control,
    decode_event,
    decode_status,
    encode_config,
    encode_control,
    encode_event,
    encode_status,
    is_engine_kind,
    summarize_event,
)
from engine.core.events import (
    ActionOutcome,
    AdminAction,
    AdminCommandReceived,
    ConfigReloaded,
    ControlMessageReceived,
    Event,
    FenceCompleted,
    HeartbeatReceived,
    NodeStarted,
    PingResultReceived,
    ResourceAction,
    ResourceActionCompleted,
    ShutdownRequested,
    TimeAdvanced,
)
from engine.core.messages import ControlKind, ControlMessage, NodePhase, Scope, StatusPayload
from tests.engine.core.core_helpers import make_config

times = st.integers(min_value=0, max_value=2**53)
names = st.text(min_size=1, max_size=12)
name_tuples = st.lists(names, max_size=4).map(tuple)

statuses = st.builds(
    StatusPayload,
    phase=st.sampled_from([NodePhase.BOOTING, NodePhase.ACTIVE, NodePhase.LEAVING]),
    status_version=st.integers(min_value=0, max_value=2**40),
    running_groups=name_tuples,
    starting_groups=name_tuples,
    stopping_groups=name_tuples,
    declined_groups=name_tuples,
    failed_groups=name_tuples,
    ping_reachable_count=st.integers(min_value=0, max_value=10),
    live_members=name_tuples,
    probing_groups=name_tuples,
)


@st.composite
def control_messages(draw: st.DrawFn) -> ControlMessage:
    kind = draw(st.sampled_from(list(ControlKind)))
    if kind is ControlKind.ACK:
        acked_id = draw(st.integers(0, 2**40))
        return ControlMessage(kind=kind, acked_message_id=acked_id, groups=draw(name_tuples))
    return ControlMessage(kind=kind, groups=draw(name_tuples))


configs = st.builds(
    make_config,
    auto_failback=st.sampled_from(list(AutoFailback)),
    is_fencing_configured=st.booleans(),
    monitors=st.lists(
        st.builds(
            MonitorPolicy,
            resource_id=names,
            interval_ms=st.integers(1, 10**6),
            timeout_ms=st.integers(1, 10**6),
            max_restarts=st.integers(0, 9),
        ),
        max_size=2,
    ),
    ping_nodes=st.lists(names, max_size=2),
    ping_groups=st.lists(st.builds(PingGroup, name=names, addresses=name_tuples), max_size=2),
)

events: st.SearchStrategy[Event] = st.one_of(
    st.builds(
        NodeStarted,
        now_ms=times,
        wall_time_ms=times,
        generation=times,
        config=configs,
        believed_groups=name_tuples,
        incidents=name_tuples,
    ),
    st.builds(ConfigReloaded, now_ms=times, wall_time_ms=times, config=configs),
    st.builds(TimeAdvanced, now_ms=times),
    st.builds(
        HeartbeatReceived,
        now_ms=times,
        from_node=names,
        link=names,
        generation=times,
        seq=times,
        status=statuses,
    ),
    st.builds(
        ControlMessageReceived,
        now_ms=times,
        from_node=names,
        generation=times,
        message_id=times,
        message=control_messages(),
    ),
    st.builds(
        ResourceActionCompleted,
        now_ms=times,
        action_id=times,
        group=names,
        resource_id=names,
        action=st.sampled_from(list(ResourceAction)),
        outcome=st.sampled_from(list(ActionOutcome)),
        exit_code=st.none() | st.integers(-255, 255),
        duration_ms=times,
        output_excerpt=st.text(max_size=40),
    ),
    st.builds(
        FenceCompleted,
        now_ms=times,
        target=names,
        device=names,
        is_success=st.booleans(),
        duration_ms=times,
        detail=st.text(max_size=40),
    ),
    st.builds(PingResultReceived, now_ms=times, address=names, is_reachable=st.booleans()),
    st.builds(
        AdminCommandReceived,
        now_ms=times,
        wall_time_ms=times,
        action=st.sampled_from(list(AdminAction)),
        scope=st.sampled_from(list(Scope)),
        uid=st.integers(0, 2**31),
        pid=st.integers(0, 2**31),
    ),
    st.builds(ShutdownRequested, now_ms=times),
)


@given(events)
def test_every_event_round_trips_through_msgpack(event: Event) -> None:
    kind, payload = encode_event(event)
    assert is_engine_kind(kind) and kind in EVENT_KIND_NAMES
    wire = msgpack.unpackb(msgpack.packb(payload, use_bin_type=True), raw=False)
    assert decode_event(kind, wire) == event
    assert EVENT_KIND_NAMES[kind] in summarize_event(kind, wire)


@given(statuses, control_messages())
def test_wire_messages_round_trip(status: StatusPayload, message: ControlMessage) -> None:
    assert decode_status(msgpack.unpackb(msgpack.packb(encode_status(status)))) == status
    assert decode_control(msgpack.unpackb(msgpack.packb(encode_control(message)))) == message


def test_the_config_round_trips_with_secrets_and_tagged_unions() -> None:
    config = make_config(is_fencing_configured=True)
    assert decode_config(msgpack.unpackb(msgpack.packb(encode_config(config)))) == config


HEARTBEAT = HeartbeatReceived(
    now_ms=123_456_789,
    from_node="beta",
    link="bcast eth0",
    generation=17,
    seq=123_456,
    status=StatusPayload(
        phase=NodePhase.ACTIVE,
        status_version=12,
        running_groups=("IPaddr::198.18.0.50",),
        live_members=("alpha", "beta"),
    ),
)


def test_a_heartbeat_record_stays_small() -> None:
    assert len(msgpack.packb(encode_event(HEARTBEAT)[1])) < 100


@pytest.mark.parametrize(
    ("kind", "payload"),
    [
        (999, []),
        (103, []),
        (103, [1, "beta", "eth0", 1, 2, ["active"]]),
        (103, [1, "beta", "eth0", 1, 2, ["exploded", 1, [], [], [], [], [], 0, []]]),
        (109, ["soon"]),
        (104, [1, "beta", 1, 2, ["ack", [], None]]),  # an ACK without the acked id
        (108, [1, 2, "standby", "everything", 0, 0]),
        (102, [True]),
    ],
)
def test_malformed_records_raise_a_clear_error(kind: int, payload: list[object]) -> None:
    with pytest.raises(MalformedMessageError):
        decode_event(kind, payload)
    assert "undecodable" in summarize_event(kind, payload)


@given(st.recursive(st.none() | st.integers() | st.text() | st.booleans(), st.lists, max_leaves=8))
def test_garbage_status_bodies_never_crash_the_decoder(body: object) -> None:
    with contextlib.suppress(MalformedMessageError):
        decode_status(body)


def test_a_heartbeat_record_from_before_also_links_still_decodes() -> None:
    event = replace(HEARTBEAT, also_links=("bcast eth1",))
    kind, payload = encode_event(event)
    older = payload[:-1]  # a record written before the field existed
    assert decode_event(kind, older) == replace(event, also_links=())
    assert "on bcast eth0, bcast eth1 " in summarize_event(kind, payload)
