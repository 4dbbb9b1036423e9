"""A bounded memo keyed by object identity, for values derived from immutable objects.

The engine's state is made of frozen objects that live for many steps (a peer's status
payload is kept while every routine heartbeat repeats it, and shared by many simulated
nodes), so a value derived from one of them can be remembered per object. Each entry
holds the object itself, so its id cannot be reused by another object while remembered.
Results never depend on a memo, only their cost does; this is the one kind of hidden
state the pure core allows. What a memo hands out is shared: callers must not change it.
"""

from __future__ import annotations

from typing import Generic, TypeVar

KeyT = TypeVar("KeyT")
ValueT = TypeVar("ValueT")

MEMO_ENTRIES_MAX = 4096


class IdentityMemo(Generic[KeyT, ValueT]):
    """Values remembered per key object, everything forgotten when full."""

    __slots__ = ("_entries",)

    def __init__(self) -> None:
        self._entries: dict[int, tuple[KeyT, ValueT]] = {}

    def get(self, key: KeyT) -> ValueT | None:
        entry = self._entries.get(id(key))
        return entry[1] if entry is not None and entry[0] is key else None

    def put(self, key: KeyT, value: ValueT) -> None:
        if len(self._entries) >= MEMO_ENTRIES_MAX:
            self._entries.clear()  # forget all: cheaper than tracking which is oldest
        self._entries[id(key)] = (key, value)
