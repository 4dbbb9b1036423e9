"""State snapshots: a replay resumed from a decoded snapshot is the replay from the start."""

from __future__ import annotations

from pathlib import Path

import msgpack
import pytest

from engine.core.codec import decode_event, is_engine_kind
from engine.core.events import Event
from engine.core.machine import initial_state, step
from engine.core.packing import PackingError
from engine.core.snapshot import (
    decode_command,
    decode_state,
    encode_command,
    encode_state,
)
from engine.sim import faults
from journal import read_records
from tests.hactl.postmortem.simulated import simulate


def _events(tmp_path: Path) -> list[Event]:
    simulate(tmp_path, end_ms=40_000, script=[
        (10_000, faults.Crash(node="node1")), (20_000, ("boot", "node1"))])  # fmt: skip
    return [decode_event(record.kind, record.payload)  # type: ignore[arg-type]
            for record in read_records(tmp_path / "node2") if is_engine_kind(record.kind)]


def test_replay_from_any_snapshot_equals_replay_from_the_start(tmp_path: Path) -> None:
    events = _events(tmp_path)
    states, outputs = [], []
    state = initial_state()
    for event in events:
        state, commands = step(state, event)
        states.append(state)
        outputs.append(commands)
    assert len(events) > 100
    for cut in range(0, len(events), max(1, len(events) // 25)):
        raw = msgpack.unpackb(msgpack.packb(encode_state(states[cut]), use_bin_type=True),
                              raw=False)
        resumed = decode_state(raw)
        assert resumed == states[cut]
        for position in range(cut + 1, min(len(events), cut + 40)):
            resumed, commands = step(resumed, events[position])
            assert resumed == states[position]
            assert commands == outputs[position]
            for command in commands:
                packed = msgpack.packb(encode_command(command), use_bin_type=True)
                assert decode_command(msgpack.unpackb(packed, raw=False)) == command


def test_a_snapshot_of_another_version_is_refused(tmp_path: Path) -> None:
    encoded = encode_state(initial_state())
    with pytest.raises(PackingError):
        decode_state([encoded[0] + 1, *encoded[1:]])
    with pytest.raises(PackingError):
        decode_state([encoded[0], encoded[1] - 1, encoded[2]])
    with pytest.raises(PackingError):
        decode_state("garbage")
