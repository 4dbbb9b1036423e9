"""The placement rule: which node should hold each group, from one node's view.

Every node runs the same rule on the same inputs (membership, and each member's own status
payload), so nodes with the same view agree without a vote. The rule, for group G:

1. Candidates: live members in phase BOOTING or ACTIVE that have not failed G. (A booting
   peer counts, so that a node finishing its boot first does not grab its peer's groups.)
2. ipfail: only candidates reaching the most ping nodes stay candidates.
3. Standby: candidates that declined G drop out, unless every candidate declined it.
4. auto_failback on or legacy: the preferred node wins once it is ACTIVE.
5. A candidate already holding G (running or starting) keeps it; if several hold it (a
   healed partition), the keeper is the preferred node, else the first in ha.cf order.
6. Otherwise the first candidate in ha.cf order counting from the preferred node (so the
   preferred node itself when it is a candidate; the groups of a dead node spread out).

Holding a group and being allowed to start it are different questions: reconcile starts a
group only when no live member still occupies it and no dead one may (see reconcile.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from engine.config.model import AutoFailback, ResourceGroup
from engine.core.identity_memo import IdentityMemo
from engine.core.messages import NodePhase


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberView:
    """One live member as the deciding node sees it (itself from its own state)."""

    name: str
    phase: NodePhase
    holding: frozenset[str]  # running or starting
    occupied: frozenset[str]  # holding, stopping, or failed to stop
    declined: frozenset[str]
    failed: frozenset[str]
    ping_reachable_count: int


_CANDIDATE_PHASES = (NodePhase.BOOTING, NodePhase.ACTIVE)


def choose_holder(
    group: ResourceGroup,
    members: Sequence[MemberView],
    node_order: Sequence[str],
    auto_failback: AutoFailback,
) -> str | None:
    """The node that should hold `group`, or None when no live member may."""
    field = _field_of(members)
    candidates: Sequence[MemberView]
    names: AbstractSet[str]
    if field.candidates is not None:  # nobody failed or declined anything: rules 1-3 done
        candidates, names = field.candidates, field.names
    else:
        candidates = _candidates(group.name, field.eligible)
        names = {member.name for member in candidates}
    if not candidates:
        return None
    if auto_failback is not AutoFailback.OFF:
        for member in candidates:
            if member.name == group.preferred_node and member.phase is NodePhase.ACTIVE:
                return member.name
    holders = [member.name for member in candidates if group.name in member.holding]
    if holders:
        return keeper(group, holders, node_order)
    return first_from_preferred(group, names, node_order)


def _candidates(name: str, eligible: Sequence[MemberView]) -> list[MemberView]:
    """Rules 1 (the phase already checked), 2 and 3 for the group called `name`."""
    candidates = [member for member in eligible if name not in member.failed]
    if not candidates:
        return candidates
    best_ping_count = max(member.ping_reachable_count for member in candidates)
    candidates = [m for m in candidates if m.ping_reachable_count == best_ping_count]
    willing = [member for member in candidates if name not in member.declined]
    return willing or candidates


@dataclass(frozen=True, slots=True, kw_only=True)
class _Field:
    """What rules 1-3 make of one members tuple, for every group at once.

    A reconcile asks `choose_holder` about every group with the same members, and most
    of the time no member failed or declined any group: then the candidates are the same
    for every group and are worked out once (`candidates`, `names`; else None, empty).
    """

    eligible: tuple[MemberView, ...]  # rule 1's phases
    candidates: tuple[MemberView, ...] | None
    names: frozenset[str]


# Reconcile builds one members tuple and asks about each of hundreds of groups with it, so
# the field is remembered per tuple object (engine/core/identity_memo.py).
_FIELDS: IdentityMemo[tuple[MemberView, ...], _Field] = IdentityMemo()


def _field_of(members: Sequence[MemberView]) -> _Field:
    if type(members) is tuple:
        field = _FIELDS.get(members)
        if field is None:
            field = _new_field(members)
            _FIELDS.put(members, field)
        return field
    return _new_field(members)  # a list may change between calls: never remembered


def _new_field(members: Sequence[MemberView]) -> _Field:
    eligible = tuple(member for member in members if member.phase in _CANDIDATE_PHASES)
    if any(member.failed or member.declined for member in eligible):
        return _Field(eligible=eligible, candidates=None, names=frozenset())
    candidates = tuple(_candidates("", eligible))  # the same for any group name
    return _Field(
        eligible=eligible,
        candidates=candidates,
        names=frozenset(member.name for member in candidates),
    )


def keeper(group: ResourceGroup, holders: Sequence[str], node_order: Sequence[str]) -> str:
    """Of several nodes holding one group, the one that keeps it (partition heal)."""
    assert holders
    if group.preferred_node in holders:
        return group.preferred_node
    return min(holders, key=lambda name: _order_index(name, node_order))


def first_from_preferred(
    group: ResourceGroup, names: AbstractSet[str], node_order: Sequence[str]
) -> str | None:
    start = _order_index(group.preferred_node, node_order) % max(len(node_order), 1)
    for offset in range(len(node_order)):
        name = node_order[(start + offset) % len(node_order)]
        if name in names:
            return name
    return min(names) if names else None  # members outside node_order: never in practice


def is_quorate(live_count: int, configured_count: int) -> bool:
    """Strict majority of configured nodes; two-node clusters rely on fencing instead."""
    assert live_count >= 1
    if configured_count < 3:
        return True
    return 2 * live_count > configured_count


def _order_index(name: str, node_order: Sequence[str]) -> int:
    try:
        return node_order.index(name)
    except ValueError:
        return len(node_order)
