"""Receive-side policy: replay guard, link copies, refusals counted, reports rate-limited."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from engine.config.model import AuthConfig, AuthKey, AuthMethod
from hactl.daemon.transport.envelope import Envelope, encode_envelope
from hactl.daemon.transport.receiver import (
    Delivered,
    Ignored,
    Receiver,
    Refused,
    SecurityReporter,
)
from hactl.daemon.transport.replay_guard import WINDOW_SEQS, ReplayGuard, Verdict

KEY = AuthKey(index=1, method=AuthMethod.SHA256, secret=b"cluster secret")
AUTH = AuthConfig(active_index=1, keys=(KEY,))


def make_receiver() -> Receiver:
    return Receiver(local_node="backup", nodes=("master", "backup"), udpport=694, auth=AUTH)


def packet(*, sender: str = "master", generation: int = 1, seq: int = 1,
           destination: str | None = None, udpport: int = 694,
           key: AuthKey = KEY) -> bytes:  # fmt: skip
    envelope = Envelope(
        udpport=udpport, sender=sender, destination=destination, generation=generation,
        seq=seq, kind=1, body=None, seal=None,
    )  # fmt: skip
    return encode_envelope(envelope, key)


def test_first_copy_delivered_second_link_noted_same_link_refused() -> None:
    receiver = make_receiver()
    first = receiver.receive(packet(seq=5), "eth0")
    assert isinstance(first, Delivered) and first.link == "eth0"
    copy = receiver.receive(packet(seq=5), "eth1")
    assert isinstance(copy, Delivered) and copy.link == "eth1" and not copy.is_first_copy
    assert first.is_first_copy
    again = receiver.receive(packet(seq=5), "eth0")
    assert isinstance(again, Refused) and again.reason == "replayed"
    assert receiver.refused_counts == {"replayed": 1}


def test_lower_generation_refused_higher_generation_is_a_restart() -> None:
    receiver = make_receiver()
    assert isinstance(receiver.receive(packet(generation=4, seq=100), "eth0"), Delivered)
    stale = receiver.receive(packet(generation=3, seq=101), "eth0")
    assert isinstance(stale, Refused) and stale.reason == "stale_generation"
    restarted = receiver.receive(packet(generation=5, seq=1), "eth0")
    assert isinstance(restarted, Delivered) and restarted.is_sender_restart


def test_older_than_window_refused_out_of_order_within_window_delivered() -> None:
    receiver = make_receiver()
    receiver.receive(packet(seq=WINDOW_SEQS + 10), "eth0")
    assert isinstance(receiver.receive(packet(seq=WINDOW_SEQS + 9), "eth0"), Delivered)
    old = receiver.receive(packet(seq=5), "eth0")
    assert isinstance(old, Refused) and old.reason == "too_old"


def test_wrong_key_and_unknown_sender_are_refused_and_counted() -> None:
    receiver = make_receiver()
    wrong = AuthKey(index=1, method=AuthMethod.SHA256, secret=b"wrong")
    assert isinstance(receiver.receive(packet(key=wrong), "eth0"), Refused)
    assert isinstance(receiver.receive(packet(sender="intruder"), "eth0"), Refused)
    assert receiver.refused_counts == {"bad_signature": 1, "unknown_sender": 1}


def test_own_echo_other_destination_other_cluster_are_ignored_not_counted() -> None:
    receiver = make_receiver()
    assert receiver.receive(packet(sender="backup"), "eth0") == Ignored(reason="own_packet")
    assert receiver.receive(packet(destination="master"), "eth0") == Ignored(
        reason="other_destination"
    )
    assert receiver.receive(packet(udpport=695), "eth0") == Ignored(reason="other_cluster")
    assert receiver.refused_counts == {}


@given(st.lists(st.tuples(st.integers(1, 3), st.integers(0, 3000), st.sampled_from("ab")),
                max_size=200))  # fmt: skip
def test_guard_never_delivers_the_same_generation_and_seq_twice(
    arrivals: list[tuple[int, int, str]],
) -> None:
    guard = ReplayGuard()
    delivered: set[tuple[int, int]] = set()
    for generation, seq, link in arrivals:
        verdict = guard.check("master", generation, seq, link)
        if verdict in {Verdict.FIRST, Verdict.FIRST_AFTER_RESTART}:
            assert (generation, seq) not in delivered
            delivered.add((generation, seq))


@given(st.lists(st.binary(max_size=300), max_size=50))
def test_random_packets_never_raise(packets: list[bytes]) -> None:
    receiver = make_receiver()
    for data in packets:
        assert isinstance(receiver.receive(data, "eth0"), Refused | Ignored | Delivered)


def test_security_reports_are_rate_limited_and_carry_the_count() -> None:
    reporter = SecurityReporter(interval_ms=10_000)
    refused = Refused(reason="bad_signature", link="eth0", sender="master", detail="x")
    first = reporter.note(refused, now_ms=0)
    assert first is not None and first.count == 1
    assert all(reporter.note(refused, now_ms=t) is None for t in range(1, 100))
    assert reporter.flush(now_ms=5_000) == []
    (later,) = reporter.flush(now_ms=10_000)
    assert later.count == 99 and later.reason == "bad_signature"
