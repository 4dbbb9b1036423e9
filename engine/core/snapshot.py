"""A codec for the engine's state: snapshots that let a replay start part-way through.

A node's state is derived, never stored: it is the fold of its journal's events through
`step`. Folding a month of heartbeats takes minutes, so tools that replay often (the
postmortem index) keep the fold at some record as a snapshot and resume from there. A
snapshot is only a cache: whoever stores one binds it to the journal position it was taken
at, and `decode_state(encode_state(s)) == s`, so stepping on from a decoded snapshot gives
exactly the states and commands that stepping on from `s` gives.

The encoding follows packing.py (a dataclass is the list of its fields, an Enum its value,
a tuple a list, a union of several dataclasses is tagged with the class name) and adds the
two shapes only the state uses: a Mapping is the list of its [key, value] pairs in
iteration order (so a decoded mapping iterates in the same order), a frozenset the list of
its elements. `SNAPSHOT_VERSION` goes into every snapshot: a snapshot of another version
(or of a state type that gained fields) is refused, and the caller replays from the start.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any, Union, get_args, get_origin

from engine.core.commands import Command
from engine.core.packing import PackingError
from engine.core.state import NodeState

SNAPSHOT_VERSION = 1

Converter = Callable[[Any], Any]


def encode_state(state: NodeState) -> list[Any]:
    """[version, field count, fields...]: msgpack-friendly values only."""
    return [SNAPSHOT_VERSION, len(dataclasses.fields(NodeState)), _packer(NodeState)(state)]


def decode_state(raw: Any) -> NodeState:
    """The state `encode_state` was given; PackingError on anything else."""
    if not (isinstance(raw, list | tuple) and len(raw) == 3):
        raise PackingError("a state snapshot is [version, field count, state]")
    version, field_count, body = raw
    if version != SNAPSHOT_VERSION or field_count != len(dataclasses.fields(NodeState)):
        raise PackingError(f"state snapshot version {version} with {field_count} fields: "
                           "taken by another version of the engine")
    state: NodeState = _unpacker(NodeState)(body)
    return state


def encode_command(command: Command) -> list[Any]:
    packed: list[Any] = _packer(Command)(command)
    return packed


def decode_command(raw: Any) -> Command:
    command: Command = _unpacker(Command)(raw)
    return command


# ---- the type-driven converters ----------------------------------------------------------


@cache
def _fields(cls: type) -> tuple[tuple[str, Any], ...]:
    hints = typing.get_type_hints(cls)
    return tuple((field.name, hints[field.name]) for field in dataclasses.fields(cls))


def _is_union(hint: Any) -> bool:
    return get_origin(hint) in (Union, types.UnionType)


def _is_dataclass_type(hint: Any) -> bool:
    return isinstance(hint, type) and dataclasses.is_dataclass(hint)


def _is_mapping(hint: Any) -> bool:
    return get_origin(hint) in (Mapping, dict)


def _identity(value: Any) -> Any:
    return value


@cache
def _packer(hint: Any) -> Converter:
    if _is_union(hint):
        members = [arg for arg in get_args(hint) if arg is not type(None)]
        classes = [arg for arg in members if _is_dataclass_type(arg)]
        if len(classes) > 1:
            by_class = {cls: _packer(cls) for cls in classes}
            return lambda value: [type(value).__name__, *by_class[type(value)](value)]
        inner = _packer(members[0])
        return lambda value: None if value is None else inner(value)
    origin = get_origin(hint)
    if _is_mapping(hint):
        key_hint, value_hint = get_args(hint)
        pack_key, pack_value = _packer(key_hint), _packer(value_hint)
        return lambda value: [[pack_key(k), pack_value(v)] for k, v in value.items()]
    if origin is frozenset:
        (item_hint,) = get_args(hint)
        pack_item = _packer(item_hint)
        return lambda value: [pack_item(item) for item in value]
    if origin is tuple:
        args = get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            pack_item = _packer(args[0])
            return lambda value: [pack_item(item) for item in value]
        packers = [_packer(arg) for arg in args]
        return lambda value: [p(item) for p, item in zip(packers, value, strict=True)]
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return lambda value: value.value
    if _is_dataclass_type(hint):
        plan = [(name, _packer(field_hint)) for name, field_hint in _fields(hint)]
        return lambda value: [p(getattr(value, name)) for name, p in plan]
    return _identity


def _as_list(raw: Any, what: object) -> list[Any] | tuple[Any, ...]:
    if not isinstance(raw, list | tuple):
        raise PackingError(f"expected a list for {what}, got {type(raw).__name__}")
    return raw


@cache
def _unpacker(hint: Any) -> Converter:
    if _is_union(hint):
        return _union_unpacker(hint)
    origin = get_origin(hint)
    if _is_mapping(hint):
        key_hint, value_hint = get_args(hint)
        key, value = _unpacker(key_hint), _unpacker(value_hint)
        return lambda raw: {key(k): value(v) for k, v in _as_list(raw, hint)}
    if origin is frozenset:
        (item_hint,) = get_args(hint)
        item = _unpacker(item_hint)
        return lambda raw: frozenset(item(element) for element in _as_list(raw, hint))
    if origin is tuple:
        args = get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            item = _unpacker(args[0])
            return lambda raw: tuple(item(element) for element in _as_list(raw, hint))
        unpackers = [_unpacker(arg) for arg in args]

        def unpack_fixed(raw: Any) -> tuple[Any, ...]:
            elements = _as_list(raw, hint)
            if len(elements) != len(unpackers):
                raise PackingError(f"expected {len(unpackers)} items for {hint}")
            return tuple(u(e) for u, e in zip(unpackers, elements, strict=True))

        return unpack_fixed
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return _enum_unpacker(hint)
    if _is_dataclass_type(hint):
        return _dataclass_unpacker(hint)
    return _scalar_unpacker(hint)


def _enum_unpacker(cls: type[enum.Enum]) -> Converter:
    def unpack_enum(raw: Any) -> enum.Enum:
        try:
            return cls(raw)
        except (ValueError, TypeError) as error:
            raise PackingError(f"{raw!r} is not a {cls.__name__}") from error

    return unpack_enum


def _dataclass_unpacker(cls: type) -> Converter:
    plan = [(name, _unpacker(field_hint)) for name, field_hint in _fields(cls)]

    def unpack_dataclass(raw: Any) -> Any:
        elements = _as_list(raw, cls.__name__)
        if len(elements) != len(plan):
            raise PackingError(f"{cls.__name__} needs {len(plan)} fields, got {len(elements)}")
        try:
            return cls(**{name: u(e) for (name, u), e in zip(plan, elements, strict=True)})
        except (AssertionError, TypeError, ValueError) as error:
            raise PackingError(f"invalid {cls.__name__}: {error}") from error

    return unpack_dataclass


def _union_unpacker(hint: Any) -> Converter:
    args = get_args(hint)
    is_optional = type(None) in args
    members = [arg for arg in args if arg is not type(None)]
    classes = [arg for arg in members if _is_dataclass_type(arg)]
    inner: Converter
    if len(classes) > 1:
        by_name = {cls.__name__: _unpacker(cls) for cls in classes}

        def unpack_tagged(raw: Any) -> Any:
            elements = _as_list(raw, hint)
            unpacker = by_name.get(elements[0]) if elements and isinstance(elements[0], str) \
                else None
            if unpacker is None:
                raise PackingError(f"unknown record type for {hint}")
            return unpacker(list(elements[1:]))

        inner = unpack_tagged
    else:
        inner = _unpacker(members[0])

    def unpack_union(raw: Any) -> Any:
        if raw is None:
            if is_optional:
                return None
            raise PackingError(f"None where {hint} was expected")
        return inner(raw)

    return unpack_union


_SCALARS: dict[Any, Callable[[Any], bool]] = {
    int: lambda raw: isinstance(raw, int) and not isinstance(raw, bool),
    str: lambda raw: isinstance(raw, str),
    bytes: lambda raw: isinstance(raw, bytes),
    bool: lambda raw: isinstance(raw, bool),
}


def _scalar_unpacker(hint: Any) -> Converter:
    check = _SCALARS.get(hint)
    if check is None:
        raise TypeError(f"cannot unpack type {hint}")

    def unpack_scalar(raw: Any) -> Any:
        if not check(raw):
            raise PackingError(f"expected {hint.__name__}, got {type(raw).__name__}")
        return raw

    return unpack_scalar
