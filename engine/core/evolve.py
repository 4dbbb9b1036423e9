"""Fast copy-with-changes for the records every heartbeat or agent result rebuilds.

`dataclasses.replace` reads every field, builds a keyword dict and runs the frozen
`__init__`; for `NodeState` (two dozen fields) that was most of a routine step. Here, as
`dataclasses` itself does for `__init__`, a copier is generated once per class with one
line per field, so a copy costs a few attribute reads and writes. Only for plain frozen,
slotted dataclasses without `__post_init__` checks (asserted).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

from engine.core.state import GroupRun, NodeState, PeerState

T = TypeVar("T")


def evolver(cls: type[T]) -> Callable[..., T]:
    assert dataclasses.is_dataclass(cls) and not hasattr(cls, "__post_init__")
    names = [field.name for field in dataclasses.fields(cls)]
    lines = [f"def evolve(record, *, {', '.join(f'{name}=_KEEP' for name in names)}):"]
    lines.append("    copy = _new(_cls)")
    for name in names:
        lines.append(f"    _set(copy, {name!r}, record.{name} if {name} is _KEEP else {name})")
    lines.append("    return copy")
    namespace: dict[str, Any] = {
        "_KEEP": object(),
        "_new": object.__new__,
        "_cls": cls,
        "_set": object.__setattr__,
    }
    exec("\n".join(lines), namespace)  # generated once per class, from field names only
    function: Callable[..., T] = namespace["evolve"]
    return function


evolve_node_state: Callable[..., NodeState] = evolver(NodeState)
evolve_peer_state: Callable[..., PeerState] = evolver(PeerState)
evolve_group_run: Callable[..., GroupRun] = evolver(GroupRun)  # every action and its result
