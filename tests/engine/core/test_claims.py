"""Claims: no start before every live peer agreed it does not hold the group."""

from __future__ import annotations

from engine.core.commands import SendControlMessage
from engine.core.events import ControlMessageReceived
from engine.core.messages import ControlKind, ControlMessage
from engine.core.state import GroupPhase
from tests.engine.core.core_helpers import (
    DEADTIME_MS,
    Node,
    actions,
    controls,
    make_config,
    payload,
)


def claiming_node() -> tuple[Node, SendControlMessage]:
    node = Node(does_peer_agree=False)
    node.start(make_config())
    commands = node.hear("beta", payload(running=["ip_b"]))
    (claim,) = [c for c in controls(commands) if c.message.kind is ControlKind.ACQUIRE]
    return node, claim


def answer(node: Node, claim: SendControlMessage, *, refused: tuple[str, ...] = ()) -> object:
    return node.feed(
        ControlMessageReceived(
            now_ms=node.now_ms,
            from_node="beta",
            generation=1,
            message_id=500,
            message=ControlMessage(
                kind=ControlKind.ACK, acked_message_id=claim.message_id, groups=refused
            ),
        )
    )


def acquire(node: Node, group: str, message_id: int = 600) -> tuple[object, ...]:
    return node.feed(
        ControlMessageReceived(
            now_ms=node.now_ms,
            from_node="beta",
            generation=1,
            message_id=message_id,
            message=ControlMessage(kind=ControlKind.ACQUIRE, groups=(group,)),
        )
    )


def acks(commands: object) -> list[tuple[int | None, tuple[str, ...]]]:
    return [
        (c.message.acked_message_id, c.message.groups)
        for c in controls(commands)  # type: ignore[arg-type]
        if c.message.kind is ControlKind.ACK
    ]


def test_a_group_is_claimed_and_started_only_after_the_peer_agreed() -> None:
    node, claim = claiming_node()
    assert (claim.to_node, claim.message.groups) == ("beta", ("ip_a",))
    assert node.state.groups["ip_a"].phase is GroupPhase.CLAIMING
    assert actions(node.commands) == [a for a in actions(node.commands) if a[0] == "probe"]
    commands = answer(node, claim)
    assert actions(commands) == [("status", "ip_a", "ip_a")]


def test_a_refused_claim_is_withdrawn_and_nothing_starts() -> None:
    node, claim = claiming_node()
    commands = answer(node, claim, refused=("ip_a",))
    assert actions(commands) == []
    assert node.state.groups["ip_a"].phase is GroupPhase.STOPPED
    peer = node.state.peers["beta"]
    assert peer.payload is not None and "ip_a" in peer.payload.occupied_groups()


def test_a_claim_is_retransmitted_until_answered_and_completes_if_the_peer_dies() -> None:
    node, claim = claiming_node()
    again = controls(node.advance_to(node.now_ms + 1_000))
    assert [c.message_id for c in again] == [claim.message_id]
    commands = node.advance_to(DEADTIME_MS + 100)
    assert ("status", "ip_a", "ip_a") in actions(commands)


def test_a_stopped_node_agrees_and_then_leaves_the_group_to_the_claimant() -> None:
    node2 = Node(does_peer_agree=False)
    node2.start(make_config())
    node2.hear("beta", payload(running=["ip_a", "ip_b"]))  # beta holds everything
    commands = acquire(node2, "ip_b")
    assert acks(commands) == [(600, ())]


def test_a_claim_on_a_group_running_here_is_refused() -> None:
    node = Node()
    node.start(make_config())
    node.hear("beta", payload(running=["ip_b"]))
    node.run_actions(node.commands)
    assert node.state.groups["ip_a"].phase is GroupPhase.RUNNING
    commands = acquire(node, "ip_a")
    assert acks(commands) == [(600, ("ip_a",))]
    assert acks(acquire(node, "ip_a")) == [(600, ("ip_a",))]  # a repeat gets the same answer


def test_two_claims_on_one_group_the_keeper_wins_and_the_other_yields() -> None:
    node, _ = claiming_node()  # alpha claims ip_a, its preferred node: alpha wins
    commands = acquire(node, "ip_a")
    assert acks(commands) == [(600, ("ip_a",))]
    assert node.state.groups["ip_a"].phase is GroupPhase.CLAIMING
    loser = Node(does_peer_agree=False)
    loser.start(make_config())
    loser.hear("beta", payload(version=1, declined=["ip_b"]))  # alpha claims beta's ip_b
    assert loser.state.groups["ip_b"].phase is GroupPhase.CLAIMING
    commands = acquire(loser, "ip_b")  # beta, ip_b's preferred node, claims it too
    assert acks(commands) == [(600, ())]
    assert loser.state.groups["ip_b"].phase is GroupPhase.STOPPED
    assert not [i for i in loser.state.outgoing if "ip_b" in i.message.groups]


def test_with_three_nodes_every_live_peer_must_agree() -> None:
    config = make_config(nodes=("alpha", "beta", "gamma"))
    node = Node(does_peer_agree=False)
    node.start(config)
    node.hear("beta", payload(running=["ip_b"]))
    commands = node.hear("gamma", payload())
    claims = [c for c in controls(node.commands) if c.message.kind is ControlKind.ACQUIRE]
    assert sorted(c.to_node for c in claims) == ["beta", "gamma"]
    assert actions(commands) == []
    by_node = {c.to_node: c for c in claims}
    assert actions(answer(node, by_node["beta"])) == []
    commands = node.feed(
        ControlMessageReceived(
            now_ms=node.now_ms,
            from_node="gamma",
            generation=1,
            message_id=501,
            message=ControlMessage(
                kind=ControlKind.ACK, acked_message_id=by_node["gamma"].message_id
            ),
        )
    )
    assert actions(commands) == [("status", "ip_a", "ip_a")]


def claiming_both() -> tuple[Node, SendControlMessage]:
    """alpha claims ip_a and beta's ip_b (beta stands by for it) in one reconcile."""
    node = Node(does_peer_agree=False)
    node.start(make_config())
    node.hear("beta", payload(version=1, declined=["ip_b"]))
    claims = [c for c in controls(node.commands) if c.message.kind is ControlKind.ACQUIRE]
    assert len(claims) == 1, claims
    return node, claims[0]


def test_one_acquire_names_every_group_claimed_at_once() -> None:
    node, claim = claiming_both()
    assert (claim.to_node, claim.message.groups) == ("beta", ("ip_a", "ip_b"))
    assert node.state.groups["ip_a"].phase is GroupPhase.CLAIMING
    assert node.state.groups["ip_b"].phase is GroupPhase.CLAIMING
    answer(node, claim)
    assert node.state.groups["ip_a"].phase is GroupPhase.STARTING
    assert node.state.groups["ip_b"].phase is GroupPhase.STARTING


def test_a_refusal_of_one_claimed_group_starts_only_the_others() -> None:
    node, claim = claiming_both()
    commands = answer(node, claim, refused=("ip_b",))
    assert actions(commands) == [("status", "ip_a", "ip_a")]
    assert node.state.groups["ip_b"].phase is GroupPhase.STOPPED


def test_withdrawing_one_claimed_group_keeps_waiting_for_the_others() -> None:
    node, claim = claiming_both()
    commands = acquire(node, "ip_b")  # beta, ip_b's preferred node, claims it too and wins
    assert acks(commands) == [(600, ())]
    assert node.state.groups["ip_b"].phase is GroupPhase.STOPPED
    assert node.state.groups["ip_a"].phase is GroupPhase.CLAIMING  # still unanswered
    (waiting,) = [i for i in node.state.outgoing if i.message.kind is ControlKind.ACQUIRE]
    assert (waiting.message_id, waiting.message.groups) == (claim.message_id, ("ip_a",))
    again = controls(node.advance_to(node.now_ms + 1_000))
    assert [(c.message_id, c.message.groups) for c in again] == [(claim.message_id, ("ip_a",))]
    assert node.state.groups["ip_a"].phase is GroupPhase.CLAIMING
    commands = answer(node, claim)  # the answer to the first transmission covers ip_a
    assert actions(commands) == [("status", "ip_a", "ip_a")]
    assert node.state.groups["ip_b"].phase is GroupPhase.STOPPED
