"""Frozen dataclasses <-> msgpack-friendly values (ints, strs, bytes, bools, None, lists).

One generic, type-hint driven packer serves every record the engine journals or sends: a
dataclass becomes the list of its field values in declaration order, an Enum its value, a
tuple a list. Only a field whose type is a union of several dataclasses (a `Medium`, a
`Resource`) carries the class name first, so the decoder knows which one it holds. Decoding
checks every type and raises `PackingError` on anything unexpected: a journal or a packet
is outside input, and garbage must fail clearly, not half-build an object.

Adding a field at the END of a dataclass, with a default, keeps old records readable.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Callable
from functools import cache
from typing import Any, Union, get_args, get_origin


class PackingError(ValueError):
    """A packed value does not match the type it should decode to."""


@cache
def _hints(cls: type) -> tuple[tuple[str, Any, bool], ...]:
    """(field name, type hint, has default) in declaration order."""
    hints = typing.get_type_hints(cls)
    return tuple(
        (
            field.name,
            hints[field.name],
            field.default is not dataclasses.MISSING
            or field.default_factory is not dataclasses.MISSING,
        )
        for field in dataclasses.fields(cls)
    )


def _dataclass_members(hint: Any) -> tuple[type, ...]:
    return tuple(
        arg for arg in get_args(hint) if isinstance(arg, type) and dataclasses.is_dataclass(arg)
    )


def _is_union(hint: Any) -> bool:
    return get_origin(hint) in (Union, types.UnionType)


def pack(hint: Any, value: Any) -> Any:
    """Pack `value`, declared as `hint`, into msgpack-friendly values."""
    if value is None or isinstance(value, bool | int | str | bytes):
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple):
        return [pack(_item_hint(hint, index), item) for index, item in enumerate(value)]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        packed = [
            pack(field_hint, getattr(value, name)) for name, field_hint, _ in _hints(type(value))
        ]
        if _is_union(hint) and len(_dataclass_members(hint)) > 1:
            return [type(value).__name__, *packed]
        return packed
    raise TypeError(f"cannot pack {type(value).__name__}")


def _item_hint(hint: Any, index: int) -> Any:
    if _is_union(hint):
        hint = next(arg for arg in get_args(hint) if get_origin(arg) is tuple)
    args = get_args(hint)
    if len(args) == 2 and args[1] is Ellipsis:
        return args[0]
    return args[index] if index < len(args) else Any


def unpack(hint: Any, raw: Any) -> Any:
    """Rebuild a value of type `hint` from `raw`, or raise PackingError."""
    if _is_union(hint):
        return _unpack_union(hint, raw)
    origin = get_origin(hint)
    if origin is tuple:
        if not isinstance(raw, list | tuple):
            raise PackingError(f"expected a list for {hint}, got {type(raw).__name__}")
        return tuple(unpack(_item_hint(hint, index), item) for index, item in enumerate(raw))
    if hint is Any:
        return raw
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        try:
            return hint(raw)
        except ValueError as error:
            raise PackingError(f"{raw!r} is not a {hint.__name__}") from error
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return unpack_dataclass(hint, raw)
    return _unpack_scalar(hint, raw)


def _unpack_union(hint: Any, raw: Any) -> Any:
    args = get_args(hint)
    if raw is None:
        if type(None) in args:
            return None
        raise PackingError(f"None where {hint} was expected")
    members = _dataclass_members(hint)
    if len(members) > 1:
        if not isinstance(raw, list | tuple) or not raw:
            raise PackingError(f"expected a tagged list for {hint}")
        by_name = {member.__name__: member for member in members}
        member = by_name.get(raw[0]) if isinstance(raw[0], str) else None
        if member is None:
            raise PackingError(f"unknown record type {raw[0]!r} for {hint}")
        return unpack_dataclass(member, raw[1:])
    non_none = [arg for arg in args if arg is not type(None)]
    assert len(non_none) == 1, f"unsupported union {hint}"
    return unpack(non_none[0], raw)


_SCALARS: dict[Any, Callable[[Any], bool]] = {
    int: lambda raw: isinstance(raw, int) and not isinstance(raw, bool),
    str: lambda raw: isinstance(raw, str),
    bytes: lambda raw: isinstance(raw, bytes),
    bool: lambda raw: isinstance(raw, bool),
}


def _unpack_scalar(hint: Any, raw: Any) -> Any:
    check = _SCALARS.get(hint)
    if check is None:
        raise TypeError(f"cannot unpack type {hint}")
    if not check(raw):
        raise PackingError(f"expected {hint.__name__}, got {type(raw).__name__}")
    return raw


def unpack_dataclass(cls: type, raw: Any) -> Any:
    if not isinstance(raw, list | tuple):
        raise PackingError(f"expected a list for {cls.__name__}, got {type(raw).__name__}")
    hints = _hints(cls)
    required = sum(1 for _, _, has_default in hints if not has_default)
    if not required <= len(raw) <= len(hints):
        raise PackingError(f"{cls.__name__} needs {required}..{len(hints)} fields, got {len(raw)}")
    values = {name: unpack(hint, item) for (name, hint, _), item in zip(hints, raw, strict=False)}
    try:
        return cls(**values)
    except (AssertionError, TypeError, ValueError) as error:
        raise PackingError(f"invalid {cls.__name__}: {error}") from error
