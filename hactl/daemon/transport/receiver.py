"""Turn received bytes into one verdict: deliver, ignore, or refuse and count.

This is the whole receive-side policy in one pure object, so a Hypothesis test can feed it
random bytes and know that nothing reaches the engine unless it is well formed, signed
with a listed key, from a configured peer of this cluster, addressed to us, and new.
Refusals are counted per reason; `SecurityReporter` turns them into rate-limited reports
that the shell journals, so a flood costs a counter increment, not a journal record.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.config.model import AuthConfig
from hactl.daemon.transport.envelope import Envelope, EnvelopeError, decode_envelope
from hactl.daemon.transport.replay_guard import ReplayGuard, Verdict

SECURITY_REPORT_INTERVAL_MS = 10_000


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivered:
    """A new packet, or its first copy on another link (`is_first_copy` False).

    The engine keeps per-link liveness, so each link's copy is delivered once; only a
    second copy on the same link is refused.
    """

    envelope: Envelope
    link: str
    is_sender_restart: bool
    is_first_copy: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Ignored:
    """Not for us, but nothing wrong: our own broadcast echoed back, or another's unicast."""

    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Refused:
    reason: str
    link: str
    sender: str | None  # as claimed by the packet, when it got that far
    detail: str


Reception = Delivered | Ignored | Refused


@dataclass(slots=True, kw_only=True)
class Receiver:
    local_node: str
    nodes: tuple[str, ...]
    udpport: int
    auth: AuthConfig
    guard: ReplayGuard = field(default_factory=ReplayGuard)
    refused_counts: dict[str, int] = field(default_factory=dict)

    def receive(self, packet: bytes, link: str) -> Reception:
        try:
            envelope = decode_envelope(packet, self.auth)
        except EnvelopeError as error:
            return self._refuse(error.reason, link, None, error.detail)
        if envelope.udpport != self.udpport:
            return Ignored(reason="other_cluster")
        if envelope.sender == self.local_node:
            return Ignored(reason="own_packet")
        if envelope.sender not in self.nodes:
            return self._refuse("unknown_sender", link, envelope.sender, "not a configured node")
        if envelope.destination is not None and envelope.destination != self.local_node:
            return Ignored(reason="other_destination")
        verdict = self.guard.check(envelope.sender, envelope.generation, envelope.seq, link)
        match verdict:
            case Verdict.FIRST | Verdict.FIRST_AFTER_RESTART | Verdict.OTHER_LINK_COPY:
                return Delivered(
                    envelope=envelope, link=link,
                    is_sender_restart=verdict is Verdict.FIRST_AFTER_RESTART,
                    is_first_copy=verdict is not Verdict.OTHER_LINK_COPY,
                )  # fmt: skip
            case Verdict.REPLAYED | Verdict.TOO_OLD | Verdict.STALE_GENERATION:
                detail = f"generation {envelope.generation} seq {envelope.seq}"
                return self._refuse(verdict.value, link, envelope.sender, detail)

    def _refuse(self, reason: str, link: str, sender: str | None, detail: str) -> Refused:
        self.refused_counts[reason] = self.refused_counts.get(reason, 0) + 1
        return Refused(reason=reason, link=link, sender=sender, detail=detail)


@dataclass(frozen=True, slots=True, kw_only=True)
class SecurityReport:
    """`count` packets refused for `reason` since the last report; one example given."""

    reason: str
    count: int
    example: Refused


@dataclass(slots=True, kw_only=True)
class SecurityReporter:
    """At most one report per reason per interval, carrying the count it summarizes."""

    interval_ms: int = SECURITY_REPORT_INTERVAL_MS
    last_report_ms: dict[str, int] = field(default_factory=dict)
    pending_counts: dict[str, int] = field(default_factory=dict)
    pending_examples: dict[str, Refused] = field(default_factory=dict)

    def note(self, refused: Refused, now_ms: int) -> SecurityReport | None:
        reason = refused.reason
        self.pending_counts[reason] = self.pending_counts.get(reason, 0) + 1
        self.pending_examples.setdefault(reason, refused)
        last_ms = self.last_report_ms.get(reason)
        if last_ms is not None and now_ms - last_ms < self.interval_ms:
            return None
        return self._report(reason, now_ms)

    def flush(self, now_ms: int) -> list[SecurityReport]:
        """Reports for counts still pending once their interval has passed."""
        due = [
            reason
            for reason in self.pending_counts
            if now_ms - self.last_report_ms.get(reason, now_ms) >= self.interval_ms
        ]
        return [self._report(reason, now_ms) for reason in due]

    def _report(self, reason: str, now_ms: int) -> SecurityReport:
        report = SecurityReport(
            reason=reason,
            count=self.pending_counts.pop(reason),
            example=self.pending_examples.pop(reason),
        )
        self.last_report_ms[reason] = now_ms
        return report
