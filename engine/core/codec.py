"""The journal codec of engine events and the wire codec of node-to-node messages.

`encode_event(event) -> (kind, payload)` and `decode_event(kind, payload) -> Event`: kinds
100..199 are the engine's (the journal reserves 0..99, the daemon owns 900..949); payloads
are lists of msgpack-friendly values, packed field by field in declaration order (see
packing.py), so a heartbeat record stays a few dozen bytes. The configuration travels whole
inside NodeStarted and ConfigReloaded: a journal replays with nothing else.

Kind numbers are forever: never reuse or renumber one; add new kinds at the end.
"""

from __future__ import annotations

from typing import Any, TypeVar

from engine.config.model import ClusterConfig
from engine.core.events import (
    AdminCommandReceived,
    ConfigReloaded,
    ControlMessageReceived,
    Event,
    FenceCompleted,
    HeartbeatReceived,
    NodeStarted,
    PingResultReceived,
    ResourceActionCompleted,
    ShutdownRequested,
    TimeAdvanced,
)
from engine.core.messages import ControlMessage, StatusPayload
from engine.core.packing import PackingError, pack, unpack_dataclass

T = TypeVar("T")


class MalformedMessageError(PackingError):
    """A record or packet body that does not decode: count it and drop it."""


EVENT_KINDS: dict[type, int] = {
    NodeStarted: 100,
    ConfigReloaded: 101,
    TimeAdvanced: 102,
    HeartbeatReceived: 103,
    ControlMessageReceived: 104,
    ResourceActionCompleted: 105,
    FenceCompleted: 106,
    PingResultReceived: 107,
    AdminCommandReceived: 108,
    ShutdownRequested: 109,
}
ENGINE_KINDS = range(100, 200)  # a journal also holds its own and the daemon's kinds
_EVENT_CLASSES: dict[int, type] = {kind: cls for cls, kind in EVENT_KINDS.items()}
EVENT_KIND_NAMES: dict[int, str] = {kind: cls.__name__ for cls, kind in EVENT_KINDS.items()}


def is_engine_kind(kind: int) -> bool:
    """Whether a journal record of this kind is an engine event (replay skips the others)."""
    return kind in ENGINE_KINDS


def _pack_list(cls: type[T], value: T) -> list[Any]:
    packed = pack(cls, value)
    assert isinstance(packed, list), "dataclasses pack to lists"
    return packed


def _unpack_or_malformed(cls: type[T], raw: Any, what: str) -> T:
    """Unpack `raw` as `cls`; garbage from a peer or a file is a MalformedMessageError."""
    try:
        value: T = unpack_dataclass(cls, raw)
    except PackingError as error:
        raise MalformedMessageError(f"{what}: {error}") from error
    return value


def encode_event(event: Event) -> tuple[int, list[Any]]:
    return EVENT_KINDS[type(event)], _pack_list(type(event), event)


def decode_event(kind: int, payload: list[Any]) -> Event:
    cls = _EVENT_CLASSES.get(kind)
    if cls is None:
        raise MalformedMessageError(f"unknown engine event kind {kind}")
    event: Event = _unpack_or_malformed(cls, payload, cls.__name__)
    return event


def encode_config(config: ClusterConfig) -> list[Any]:
    return _pack_list(ClusterConfig, config)


def decode_config(raw: list[Any]) -> ClusterConfig:
    return _unpack_or_malformed(ClusterConfig, raw, "ClusterConfig")


def encode_status(payload: StatusPayload) -> list[Any]:
    return _pack_list(StatusPayload, payload)


def decode_status(body: Any) -> StatusPayload:
    return _unpack_or_malformed(StatusPayload, body, "status payload")


def encode_control(message: ControlMessage) -> list[Any]:
    return _pack_list(ControlMessage, message)


def decode_control(body: Any) -> ControlMessage:
    return _unpack_or_malformed(ControlMessage, body, "control message")


def summarize_event(kind: int, payload: list[Any]) -> str:
    """One line for `hactl journal show`; never raises, even on a damaged payload."""
    try:
        event = decode_event(kind, payload)
    except MalformedMessageError as error:
        return f"{EVENT_KIND_NAMES.get(kind, f'kind {kind}')}: undecodable ({error})"
    return _summary(event)


def _summary(event: Event) -> str:
    at = f"@{event.now_ms}ms"
    match event:
        case NodeStarted():
            config = event.config
            return (
                f"{at} NodeStarted {config.local_node} generation {event.generation} "
                f"({len(config.nodes)} nodes, {len(config.groups)} groups)"
            )
        case ConfigReloaded():
            return f"{at} ConfigReloaded ({len(event.config.groups)} groups)"
        case TimeAdvanced():
            return f"{at} TimeAdvanced"
        case HeartbeatReceived():
            status = event.status
            return (
                f"{at} HeartbeatReceived from {event.from_node} "
                f"on {', '.join((event.link, *event.also_links))} "
                f"gen {event.generation} seq {event.seq} {status.phase.value} "
                f"v{status.status_version} running [{', '.join(status.running_groups)}]"
            )
        case ControlMessageReceived():
            message = event.message
            extra = f" ack {message.acked_message_id}" if message.acked_message_id else ""
            groups = f" [{', '.join(message.groups)}]" if message.groups else ""
            return (
                f"{at} ControlMessageReceived {message.kind.value} #{event.message_id} "
                f"from {event.from_node}{groups}{extra}"
            )
        case ResourceActionCompleted():
            return (
                f"{at} ResourceActionCompleted {event.action.value} {event.resource_id} "
                f"({event.group}) {event.outcome.value} exit {event.exit_code} "
                f"in {event.duration_ms} ms"
            )
        case FenceCompleted():
            result = "succeeded" if event.is_success else f"failed: {event.detail}"
            return f"{at} FenceCompleted {event.target} via {event.device} {result}"
        case PingResultReceived():
            reach = "reachable" if event.is_reachable else "unreachable"
            return f"{at} PingResultReceived {event.address} {reach}"
        case AdminCommandReceived():
            return (
                f"{at} AdminCommandReceived {event.action.value} {event.scope.value} "
                f"by uid {event.uid} pid {event.pid}"
            )
        case ShutdownRequested():
            return f"{at} ShutdownRequested"
