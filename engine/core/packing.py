"""Frozen dataclasses <-> msgpack-friendly values (ints, strs, bytes, bools, None, lists).

One generic, type-hint driven packer serves every record the engine journals or sends: a
dataclass becomes the list of its field values in declaration order, an Enum its value, a
tuple a list. Only a field whose type is a union of several dataclasses (a `Medium`, a
`Resource`) carries the class name first, so the decoder knows which one it holds. Decoding
checks every type and raises `PackingError` on anything unexpected: a journal or a packet
is outside input, and garbage must fail clearly, not half-build an object.

The hints are read once per type and compiled into small closures (the simulator packs
every event it journals), so packing costs a few function calls per field.
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

from engine.core.identity_memo import IdentityMemo

Converter = Callable[[Any], Any]


class PackingError(ValueError):
    """A packed value does not match the type it should decode to."""


def pack(hint: Any, value: Any) -> Any:
    """Pack `value`, declared as `hint`, into msgpack-friendly values."""
    return _packer(hint)(value)


def unpack(hint: Any, raw: Any) -> Any:
    """Rebuild a value of type `hint` from `raw`, or raise PackingError."""
    return _unpacker(hint)(raw)


def unpack_dataclass(cls: type, raw: Any) -> Any:
    return _unpacker(cls)(raw)


# ---- reading the type hints ----------------------------------------------------------------


@cache
def _fields(cls: type) -> tuple[tuple[str, Any, bool], ...]:
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


def _is_union(hint: Any) -> bool:
    return get_origin(hint) in (Union, types.UnionType)


def _is_dataclass_type(hint: Any) -> bool:
    return isinstance(hint, type) and dataclasses.is_dataclass(hint)


def _tuple_items(hint: Any) -> tuple[Any, bool]:
    """(item hint or hints, is homogeneous) of a tuple type."""
    args = get_args(hint)
    if len(args) == 2 and args[1] is Ellipsis:
        return args[0], True
    return args, False


# ---- packing -----------------------------------------------------------------------------


def _identity(value: Any) -> Any:
    return value


@cache
def _packer(hint: Any) -> Converter:
    if _is_union(hint):
        return _union_packer(hint)
    if get_origin(hint) is tuple:
        items, is_homogeneous = _tuple_items(hint)
        if is_homogeneous:
            item = _packer(items)
            return lambda value: [item(element) for element in value]
        packers = [_packer(arg) for arg in items]
        return lambda value: [p(element) for p, element in zip(packers, value, strict=True)]
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return lambda value: value.value
    if _is_dataclass_type(hint):
        plan = [(name, _packer(field_hint)) for name, field_hint, _ in _fields(hint)]
        packer: Converter = lambda value: [p(getattr(value, name)) for name, p in plan]  # noqa: E731
        return _packed_once(packer) if getattr(hint, "IS_PACKED_ONCE", False) else packer
    return _identity


def _packed_once(packer: Converter) -> Converter:
    """Remember the packing of each object (a class sets IS_PACKED_ONCE to ask for it).

    A status payload is one object sent to every peer on every link and journaled by each
    receiver, and repeated every keepalive while it does not change: packing its group
    lists each time was a third of a simulated heartbeat's cost. The packed lists are
    shared (engine/core/identity_memo.py): callers serialize them, never change them.
    """
    memo: IdentityMemo[Any, Any] = IdentityMemo()

    def pack_once(value: Any) -> Any:
        packed = memo.get(value)
        if packed is None:
            packed = packer(value)
            memo.put(value, packed)
        return packed

    return pack_once


def _union_packer(hint: Any) -> Converter:
    members = [arg for arg in get_args(hint) if arg is not type(None)]
    classes = [arg for arg in members if _is_dataclass_type(arg)]
    if len(classes) > 1:
        by_class = {cls: _packer(cls) for cls in classes}
        return lambda value: [type(value).__name__, *by_class[type(value)](value)]
    assert len(members) == 1, f"unsupported union {hint}"
    inner = _packer(members[0])
    return lambda value: None if value is None else inner(value)


# ---- unpacking ---------------------------------------------------------------------------


@cache
def _unpacker(hint: Any) -> Converter:
    if _is_union(hint):
        return _union_unpacker(hint)
    if get_origin(hint) is tuple:
        return _tuple_unpacker(hint)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return _enum_unpacker(hint)
    if _is_dataclass_type(hint):
        return _dataclass_unpacker(hint)
    return _scalar_unpacker(hint)


def _require_list(raw: Any, what: object) -> list[Any] | tuple[Any, ...]:
    if not isinstance(raw, list | tuple):
        raise PackingError(f"expected a list for {what}, got {type(raw).__name__}")
    return raw


def _tuple_unpacker(hint: Any) -> Converter:
    items, is_homogeneous = _tuple_items(hint)
    if is_homogeneous:
        item = _unpacker(items)
        return lambda raw: tuple(item(element) for element in _require_list(raw, hint))
    unpackers = [_unpacker(arg) for arg in items]

    def unpack_fixed(raw: Any) -> tuple[Any, ...]:
        elements = _require_list(raw, hint)
        if len(elements) != len(unpackers):
            raise PackingError(f"expected {len(unpackers)} items for {hint}")
        return tuple(u(element) for u, element in zip(unpackers, elements, strict=True))

    return unpack_fixed


def _enum_unpacker(cls: type[enum.Enum]) -> Converter:
    def unpack_enum(raw: Any) -> enum.Enum:
        try:
            return cls(raw)
        except (ValueError, TypeError) as error:
            raise PackingError(f"{raw!r} is not a {cls.__name__}") from error

    return unpack_enum


def _dataclass_unpacker(cls: type) -> Converter:
    fields = _fields(cls)
    plan = [(name, _unpacker(field_hint)) for name, field_hint, _ in fields]
    required = sum(1 for _, _, has_default in fields if not has_default)

    def unpack_dataclass_value(raw: Any) -> Any:
        elements = _require_list(raw, cls.__name__)
        if not required <= len(elements) <= len(plan):
            raise PackingError(
                f"{cls.__name__} needs {required}..{len(plan)} fields, got {len(elements)}"
            )
        values = {name: u(element) for (name, u), element in zip(plan, elements, strict=False)}
        try:
            return cls(**values)
        except (AssertionError, TypeError, ValueError) as error:
            raise PackingError(f"invalid {cls.__name__}: {error}") from error

    return unpack_dataclass_value


def _union_unpacker(hint: Any) -> Converter:
    args = get_args(hint)
    is_optional = type(None) in args
    members = [arg for arg in args if arg is not type(None)]
    classes = [arg for arg in members if _is_dataclass_type(arg)]
    inner: Converter
    if len(classes) > 1:
        by_name = {cls.__name__: _unpacker(cls) for cls in classes}

        def unpack_tagged(raw: Any) -> Any:
            elements = _require_list(raw, hint)
            tag = elements[0] if elements else None
            unpacker = by_name.get(tag) if isinstance(tag, str) else None
            if unpacker is None:
                raise PackingError(f"unknown record type {tag!r} for {hint}")
            return unpacker(list(elements[1:]))

        inner = unpack_tagged
    else:
        assert len(members) == 1, f"unsupported union {hint}"
        inner = _unpacker(members[0])

    def unpack_union(raw: Any) -> Any:
        if raw is None:
            if is_optional:
                return None
            raise PackingError(f"None where {hint} was expected")
        return inner(raw)

    return unpack_union


_SCALAR_CHECKS: dict[Any, Callable[[Any], bool]] = {
    int: lambda raw: isinstance(raw, int) and not isinstance(raw, bool),
    str: lambda raw: isinstance(raw, str),
    bytes: lambda raw: isinstance(raw, bytes),
    bool: lambda raw: isinstance(raw, bool),
}


def _scalar_unpacker(hint: Any) -> Converter:
    check = _SCALAR_CHECKS.get(hint)
    if check is None:
        raise TypeError(f"cannot unpack type {hint}")

    def unpack_scalar(raw: Any) -> Any:
        if not check(raw):
            raise PackingError(f"expected {hint.__name__}, got {type(raw).__name__}")
        return raw

    return unpack_scalar
