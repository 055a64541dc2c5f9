"""Turning domain events into plain JSON-ready data and back, through upcasters for old shapes.

Every event class names a stable `event_type` and its `schema_version`; the stored data holds only
JSON types (str, int, bool, lists, objects; dates as ISO strings, enums by value, never floats), so
that a canonical serialisation, and with it the hash chain, is the same on every database. An
event stored with an older schema version is lifted to the current one by the registered
upcasters, one version at a time, before it is decoded.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from enum import Enum
from typing import Any, ClassVar, NewType, TypeVar, Union

JsonDict = dict[str, Any]

PersonalText = NewType("PersonalText", str)
"""Free text that may name or describe people; encrypted at rest, erasable (crypto-shredding)."""
Upcaster = Callable[[JsonDict], JsonDict]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Event:
    """A fact about one pupil's trajectory. Subclasses are frozen dataclasses in the past tense."""

    event_type: ClassVar[str]
    schema_version: ClassVar[int] = 1


E = TypeVar("E", bound=Event)


class EventCodec:
    """Encodes and decodes a fixed set of event types; upcasts stored data of older versions."""

    def __init__(
        self,
        event_classes: Iterable[type[Event]],
        upcasters: Mapping[tuple[str, int], Upcaster] | None = None,
    ) -> None:
        self._classes: dict[str, type[Event]] = {}
        for cls in event_classes:
            if cls.event_type in self._classes:
                raise ValueError(f"event type {cls.event_type!r} registered twice")
            self._classes[cls.event_type] = cls
        self._upcasters = dict(upcasters or {})
        self._personal: dict[str, frozenset[str]] = {}
        # Per event class, one converter per field, built from its type hints on first use:
        # decoding is the hot path of every fold and projection.
        self._decoders: dict[type[Event], tuple[tuple[str, Callable[[Any], Any]], ...]] = {}
        self._encoders: dict[type[Event], tuple[tuple[str, Callable[[Any], Any] | None], ...]] = {}
        for event_type, version in self._upcasters:
            cls = self._classes[event_type]
            if not 1 <= version < cls.schema_version:
                raise ValueError(f"upcaster {event_type} v{version} is not below the current")

    @property
    def event_types(self) -> frozenset[str]:
        return frozenset(self._classes)

    @property
    def event_classes(self) -> tuple[type[Event], ...]:
        return tuple(self._classes.values())

    def personal_fields(self, event_type: str) -> frozenset[str]:
        """The fields of `event_type` that hold `PersonalText` (at its current version)."""
        found = self._personal.get(event_type)
        if found is None:
            hints = _hints(self._classes[event_type])
            found = frozenset(name for name, hint in hints.items() if _is_personal(hint))
            self._personal[event_type] = found
        return found

    def encode(self, event: Event) -> tuple[str, int, JsonDict]:
        cls = type(event)
        encoders = self._encoders.get(cls)
        if encoders is None:
            hints = _hints(cls)
            encoders = tuple((f.name, _encoder(hints[f.name])) for f in _fields(cls))
            self._encoders[cls] = encoders
        data = {
            name: value
            if (value := getattr(event, name)) is None or convert is None
            # fields of one hinted type: one converter each, `_to_json` only for the untyped
            else convert(value)
            for name, convert in encoders
        }
        return event.event_type, event.schema_version, data

    def decode(self, event_type: str, schema_version: int, data: Mapping[str, Any]) -> Event:
        try:
            cls = self._classes[event_type]
        except KeyError:
            raise ValueError(f"unknown event type {event_type!r}") from None
        if schema_version > cls.schema_version:
            raise ValueError(f"{event_type} v{schema_version} is newer than this code knows")
        payload = data
        for version in range(schema_version, cls.schema_version):
            try:
                payload = self._upcasters[(event_type, version)](dict(payload))
            except KeyError:
                raise ValueError(f"no upcaster for {event_type} v{version}") from None
        converters = self._decoders.get(cls)
        if converters is None:
            hints = _hints(cls)
            converters = tuple((f.name, _converter(hints[f.name])) for f in _fields(cls))
            self._decoders[cls] = converters
        # Stored data is complete and was valid when it was decided (events have no
        # __post_init__ checks; a test keeps it so), so the frozen dataclass's per-field
        # setattr in __init__ is skipped: the fields go into the instance dict directly.
        event = object.__new__(cls)
        event.__dict__.update({name: convert(payload[name]) for name, convert in converters})
        return event


_HINTS: dict[type[Any], dict[str, Any]] = {}
_FIELDS: dict[type[Any], tuple[dataclasses.Field[Any], ...]] = {}


def _hints(cls: type[Any]) -> dict[str, Any]:
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = typing.get_type_hints(cls)
    return hints


def _fields(cls: type[Any]) -> tuple[dataclasses.Field[Any], ...]:
    fields = _FIELDS.get(cls)
    if fields is None:
        fields = _FIELDS[cls] = dataclasses.fields(cls)
    return fields


def _is_personal(hint: Any) -> bool:
    if hint is PersonalText:
        return True
    return typing.get_origin(hint) in (Union, types.UnionType) and PersonalText in typing.get_args(
        hint
    )


def _to_json(value: object) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple | list | frozenset):
        return [_to_json(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    raise TypeError(f"cannot store {type(value).__name__} in an event")


def _identity(value: Any) -> Any:
    return value


def _enum_value(value: Enum) -> Any:
    return value._value_


def _encoder(hint: Any) -> Callable[[Any], Any] | None:
    """A function from a field's (non-None) Python value to its JSON value; None: as it is."""
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return _encoder(args[0]) if len(args) == 1 else _to_json
    if isinstance(hint, type) and hint in (str, int, bool):
        return None
    if isinstance(hint, type) and issubclass(hint, Enum):
        return _enum_value
    if isinstance(hint, type) and issubclass(hint, date):  # datetime too
        return _isoformat
    if hint is PersonalText:
        return None
    return _to_json


def _isoformat(value: date) -> str:
    return value.isoformat()


def _converter(hint: Any) -> Callable[[Any], Any]:
    """A function from the stored JSON value to the field's Python value, for one type hint."""
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        inner = _converter(next(a for a in typing.get_args(hint) if a is not type(None)))
        return lambda value: None if value is None else inner(value)
    if origin is tuple:
        item = _converter(typing.get_args(hint)[0])
        return lambda value: tuple([item(v) for v in value])
    if origin is frozenset:
        member = _converter(typing.get_args(hint)[0])
        return lambda value: frozenset([member(v) for v in value])
    if isinstance(hint, type):
        if issubclass(hint, Enum):
            members, enum = hint._value2member_map_, hint
            # a dict lookup, not Enum.__call__ (several times slower); unknown values still raise
            return lambda value: members[value] if value in members else enum(value)
        if hint is datetime:
            return datetime.fromisoformat
        if hint is date:
            return date.fromisoformat
        if dataclasses.is_dataclass(hint):
            sub = _hints(hint)
            fields = tuple((f.name, _converter(sub[f.name])) for f in _fields(hint))
            target = hint
            return lambda value: target(**{n: convert(value[n]) for n, convert in fields})
    return _identity
