"""The scratch pad of one `step`: commands emitted so far, id counters, "view changed".

`step` is pure from the outside; inside, the helpers append to one `Effects` object instead
of threading a growing tuple through every call. It never outlives the step.
"""

from __future__ import annotations

from collections.abc import Iterable

from engine.core.commands import AlertKind, Command, LogLevel, LogMessage, RaiseAlert


class Effects:
    __slots__ = ("commands", "dirty_groups", "is_dirty", "next_action_id", "next_message_id")

    def __init__(self, *, next_action_id: int, next_message_id: int) -> None:
        self.commands: list[Command] = []
        # Set when membership, payloads, groups or flags changed: placement must be redone
        # for every group. When only what some groups depend on changed (their own run,
        # a peer's report of them, a claim on them), `mark_group` names them instead.
        self.is_dirty = False
        self.dirty_groups: set[str] = set()
        self.next_action_id = next_action_id
        self.next_message_id = next_message_id

    @property
    def is_anything_dirty(self) -> bool:
        return self.is_dirty or bool(self.dirty_groups)

    def mark_group(self, name: str) -> None:
        self.dirty_groups.add(name)

    def mark_groups(self, names: Iterable[str]) -> None:
        self.dirty_groups.update(names)

    def emit(self, command: Command) -> None:
        self.commands.append(command)

    def log(self, level: LogLevel, message: str) -> None:
        self.commands.append(LogMessage(level=level, message=message))

    def alert(self, alert: AlertKind, message: str) -> None:
        self.commands.append(RaiseAlert(alert=alert, message=message))

    def new_action_id(self) -> int:
        action_id = self.next_action_id
        self.next_action_id += 1
        return action_id

    def new_message_id(self) -> int:
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id
