"""Record kinds: the journal's own (0..99) and a registry for the engine's (>= 100).

The journal only needs integers on disk; names and one-line summaries exist for people
(`hactl journal show`). The engine's event codec owns kinds >= 100 and registers its names
and a summarizer here at import time, so this package never imports the engine.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

# Kinds 0..99 are reserved for the journal itself.
JOURNAL_CREATED = 1  # [format_version, node, genesis_public_key]
SEAL = 2  # [tag, sealed_seq, sealed_head, epoch, signature]; times are 0
KEY_EPOCH = 3  # [tag, node, epoch, public_key, previous_public_key, signature_by_previous]
JOURNAL_RECOVERED = 4  # [bytes_dropped, sha256_of_dropped, segment, offset, reason]
SNAPSHOT = 5  # [snapshot] (opaque, supplied by the caller)
PRUNE_MANIFEST = 6  # see journal.retention
PEER_SEAL = 7  # [node, seq, head, epoch, signature]
EQUIVOCATION_ALARM = 8  # [peer_seal_known, peer_seal_conflicting, is_proven]

FIRST_ENGINE_KIND = 100

Summarizer = Callable[[int, object], str]

_JOURNAL_KIND_NAMES: dict[int, str] = {
    JOURNAL_CREATED: "journal created",
    SEAL: "seal",
    KEY_EPOCH: "key epoch",
    JOURNAL_RECOVERED: "journal recovered",
    SNAPSHOT: "snapshot",
    PRUNE_MANIFEST: "prune manifest",
    PEER_SEAL: "peer seal",
    EQUIVOCATION_ALARM: "equivocation alarm",
}

_registered_names: dict[int, str] = {}
_summarizers: list[Summarizer] = []


def register_kind_names(
    mapping: Mapping[int, str], summarizer: Summarizer | None = None
) -> None:
    """Let `show`/`export` print names (and summaries) for kinds the engine defines.

    Kinds below `FIRST_ENGINE_KIND` belong to the journal and cannot be renamed.
    """
    for kind, name in mapping.items():
        if kind < FIRST_ENGINE_KIND:
            raise ValueError(
                f"kind {kind} is reserved for the journal (use >= {FIRST_ENGINE_KIND})"
            )
        _registered_names[kind] = name
    if summarizer is not None:
        _summarizers.append(summarizer)


def kind_name(kind: int) -> str:
    """The registered name of a kind, or `kind N` when nobody registered one."""
    name = _JOURNAL_KIND_NAMES.get(kind) or _registered_names.get(kind)
    return name if name is not None else f"kind {kind}"


def kind_from_name(text: str) -> int:
    """Parse `--kind` values: a number or a registered name (case-insensitive)."""
    if text.strip().isdigit():
        return int(text)
    wanted = text.strip().lower()
    for kind, name in [*_JOURNAL_KIND_NAMES.items(), *_registered_names.items()]:
        if name.lower() == wanted or name.lower().replace(" ", "-") == wanted:
            return kind
    raise ValueError(f"unknown record kind {text!r}")


def summarize(kind: int, payload: object) -> str:
    """One line for people; registered summarizers first, then the journal's, then repr."""
    if kind >= FIRST_ENGINE_KIND:
        for summarizer in reversed(_summarizers):
            try:
                line = summarizer(kind, payload)
            except Exception:  # a summarizer bug must never hide a record from an audit
                continue
            if line:
                return line
    return _summarize_journal_kind(kind, payload)


def _hex_prefix(value: object) -> str:
    return value[:8].hex() if isinstance(value, bytes) else repr(value)


def _summarize_journal_kind(kind: int, payload: object) -> str:
    if isinstance(payload, list):
        if kind == SEAL and len(payload) == 5:
            return f"seq {payload[1]} head {_hex_prefix(payload[2])} epoch {payload[3]}"
        if kind == KEY_EPOCH and len(payload) == 6:
            return f"epoch {payload[2]} public key {_hex_prefix(payload[3])}"
        if kind == JOURNAL_CREATED and len(payload) == 3:
            return f"node {payload[1]} genesis key {_hex_prefix(payload[2])}"
        if kind == JOURNAL_RECOVERED and len(payload) == 5:
            return f"dropped {payload[0]} bytes of {payload[2]} at {payload[3]}: {payload[4]}"
        if kind == PEER_SEAL and len(payload) == 5:
            return f"peer {payload[0]} seq {payload[1]} head {_hex_prefix(payload[2])}"
        if kind == EQUIVOCATION_ALARM and len(payload) >= 2:
            first = payload[0]
            if isinstance(first, list) and len(first) == 5:
                return f"EQUIVOCATION by {first[0]} at seq {first[1]}"
    text = repr(payload)
    return text if len(text) <= 120 else text[:117] + "..."
