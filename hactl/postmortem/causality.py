"""Cross-node happens-before edges, read from the journals themselves.

Wall clocks cannot order two nodes' records (a node's clock may be minutes off); causality
can. Three kinds of evidence say "record X on node A happened before record Y on node B":

- entanglement: B journaled A's seal for seq s (a PEER_SEAL record), so A's record s was
  written before B's PEER_SEAL record (the seal rode in a heartbeat A sent after it);
- status: A's engine first sent status version v of its run g at record X (found by
  re-stepping A's journal), and B first received that version from A at record Y;
- control messages: A sent message #m of run g at record X, B received it at record Y.

Only edges whose cause is really in the cause's journal are kept: a peer seal that names
a head A's journal does not hold is evidence of equivocation (see `equivocation`), not of
order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from engine.core.commands import SendControlMessage
from engine.core.events import ControlMessageReceived
from hactl.postmortem.sources import NodeJournal
from hactl.postmortem.trace import NodeTrace
from journal import kinds as journal_kinds


@dataclass(frozen=True, slots=True, kw_only=True)
class CausalEdge:
    cause_node: str
    cause_seq: int
    effect_node: str
    effect_seq: int
    evidence: str  # "peer seal", "status", "control message"


def causal_edges(journals: Mapping[str, NodeJournal],
                 traces: Mapping[str, NodeTrace]) -> list[CausalEdge]:
    edges = _peer_seal_edges(journals)
    edges += _status_edges(traces)
    edges += _control_edges(traces)
    return edges


def _peer_seal_edges(journals: Mapping[str, NodeJournal]) -> list[CausalEdge]:
    edges = []
    heads = {node: {record.seq: record.head for record in journal.records}
             for node, journal in journals.items()}  # fmt: skip
    for witness, journal in journals.items():
        for record in journal.records:
            if record.kind != journal_kinds.PEER_SEAL or not isinstance(record.payload, list):
                continue
            peer, seq, head = record.payload[0], record.payload[1], record.payload[2]
            if peer in heads and heads[peer].get(seq) == head:
                edges.append(CausalEdge(cause_node=peer, cause_seq=seq, effect_node=witness,
                                        effect_seq=record.seq, evidence="peer seal"))
    return edges


def _status_edges(traces: Mapping[str, NodeTrace]) -> list[CausalEdge]:
    edges = []
    for sender, trace in traces.items():
        for sent in trace.status_sent:
            for receiver, other in traces.items():
                arrival = other.status_received.get((sender, sent.generation, sent.version))
                if receiver != sender and arrival is not None:
                    edges.append(CausalEdge(cause_node=sender, cause_seq=sent.seq,
                                            effect_node=receiver, effect_seq=arrival[0],
                                            evidence="status"))
    return edges


def _control_edges(traces: Mapping[str, NodeTrace]) -> list[CausalEdge]:
    sent: dict[tuple[str, str, int, int], int] = {}
    for sender, trace in traces.items():
        for entry in trace.entries:
            for command in entry.commands:
                if isinstance(command, SendControlMessage):
                    key = (sender, command.to_node, entry.generation, command.message_id)
                    sent.setdefault(key, entry.record.seq)
    edges = []
    for receiver, trace in traces.items():
        for entry in trace.entries:
            event = entry.event
            if isinstance(event, ControlMessageReceived):
                key = (event.from_node, receiver, event.generation, event.message_id)
                if key in sent:
                    edges.append(CausalEdge(cause_node=event.from_node, cause_seq=sent[key],
                                            effect_node=receiver, effect_seq=entry.record.seq,
                                            evidence="control message"))
    return edges
