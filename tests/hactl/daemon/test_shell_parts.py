"""The shell's pure parts: wire mapping, status JSON, agent outcomes, records, sd_notify."""

from __future__ import annotations

import enum
import socket
from dataclasses import dataclass
from pathlib import Path

import pytest

from engine.core.events import ActionOutcome, ControlMessageReceived, HeartbeatReceived
from engine.core.messages import ControlKind, ControlMessage, NodePhase, StatusPayload
from hactl.agents import AgentOutcome
from hactl.daemon import records
from hactl.daemon.executor import action_outcome
from hactl.daemon.notify import notify, watchdog_interval_s
from hactl.daemon.status import to_json_value
from hactl.daemon.transport.envelope import Envelope
from hactl.daemon.transport.receiver import Delivered
from hactl.daemon.wire import (
    CONTROL_KIND,
    STATUS_KIND,
    BodyError,
    control_body,
    event_from_delivery,
    status_body,
)
from journal.kinds import kind_name, summarize

STATUS = StatusPayload(phase=NodePhase.ACTIVE, status_version=4, running_groups=("g1",),
                       live_members=("master", "backup"))  # fmt: skip


def delivered(kind: int, body: object, *, is_first_copy: bool = True) -> Delivered:
    envelope = Envelope(udpport=694, sender="master", destination=None, generation=2, seq=9,
                        kind=kind, body=body, seal=None)  # fmt: skip
    return Delivered(envelope=envelope, link="bcast eth1", is_sender_restart=False,
                     is_first_copy=is_first_copy)  # fmt: skip


def test_status_body_becomes_a_heartbeat_event_per_link() -> None:
    event = event_from_delivery(delivered(STATUS_KIND, status_body(STATUS)), now_ms=500)
    assert event == HeartbeatReceived(now_ms=500, from_node="master", link="bcast eth1",
                                      generation=2, seq=9, status=STATUS)  # fmt: skip
    copy = event_from_delivery(
        delivered(STATUS_KIND, status_body(STATUS), is_first_copy=False), now_ms=501
    )
    assert isinstance(copy, HeartbeatReceived) and copy.link == "bcast eth1"


def test_control_body_round_trips_and_copies_on_other_links_are_dropped() -> None:
    message = ControlMessage(kind=ControlKind.STANDBY_REQUEST, groups=("g1",))
    body = control_body(7, message)
    event = event_from_delivery(delivered(CONTROL_KIND, body), now_ms=10)
    assert event == ControlMessageReceived(now_ms=10, from_node="master", generation=2,
                                           message_id=7, message=message)  # fmt: skip
    assert event_from_delivery(delivered(CONTROL_KIND, body, is_first_copy=False), 11) is None


@pytest.mark.parametrize(
    ("kind", "body"),
    [(STATUS_KIND, "garbage"), (STATUS_KIND, [1, 2]), (CONTROL_KIND, [1]),
     (CONTROL_KIND, [-1, []]), (CONTROL_KIND, "x"), (99, None)],
)  # fmt: skip
def test_bodies_the_engine_cannot_read_are_body_errors(kind: int, body: object) -> None:
    with pytest.raises(BodyError):
        event_from_delivery(delivered(kind, body), now_ms=1)


class Colour(enum.Enum):
    RED = "red"


@dataclass(frozen=True)
class Sample:
    colour: Colour
    pairs: tuple[tuple[str, str], ...]
    tags: frozenset[str]
    raw: bytes
    nested: dict[str, object]


def test_status_json_turns_dataclasses_enums_and_bytes_into_plain_values() -> None:
    sample = Sample(colour=Colour.RED, pairs=(("a", "b"),), tags=frozenset({"y", "x"}),
                    raw=b"\x01\xff", nested={"k": Colour.RED})  # fmt: skip
    assert to_json_value(sample) == {
        "colour": "red", "pairs": [["a", "b"]], "tags": ["x", "y"], "raw": "01ff",
        "nested": {"k": "red"},
    }  # fmt: skip


@pytest.mark.parametrize(
    ("agent", "engine"),
    [(AgentOutcome.SUCCESS, ActionOutcome.SUCCESS),
     (AgentOutcome.NOT_RUNNING, ActionOutcome.NOT_RUNNING),
     (AgentOutcome.TIMEOUT, ActionOutcome.TIMED_OUT),
     (AgentOutcome.NOT_INSTALLED, ActionOutcome.FAILED),
     (AgentOutcome.FAILED, ActionOutcome.FAILED)],
)  # fmt: skip
def test_agent_outcomes_map_onto_the_engines(agent: AgentOutcome, engine: ActionOutcome) -> None:
    assert action_outcome(agent) is engine


def test_shell_records_have_names_and_summaries() -> None:
    assert kind_name(records.PACKETS_REFUSED) == "packets refused"
    line = summarize(records.PACKETS_REFUSED, ["bad_signature", 12, "bcast eth0", None, "x"])
    assert line == "12 packet(s) refused (bad_signature) on bcast eth0 from ?: x"


def test_sd_notify_sends_datagrams_only_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert notify("READY=1") is False
    path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as supervisor:
        supervisor.bind(str(path))
        monkeypatch.setenv("NOTIFY_SOCKET", str(path))
        assert notify("READY=1") is True
        assert supervisor.recv(64) == b"READY=1"
    monkeypatch.setenv("WATCHDOG_USEC", "4000000")
    assert watchdog_interval_s() == 2.0
