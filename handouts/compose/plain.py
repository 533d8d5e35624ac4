"""What templates see: plain, read-only data with nothing to call.

Jinja's sandbox blocks underscore attributes, but it cannot make an object's public methods
harmless: a pydantic model handed to a template keeps `parse_raw`, which unpickles. So templates
get `Record`s (read-only mappings read as attributes, with no public methods at all), tuples,
strings, numbers, booleans, dates and None; `plain()` makes them from models and dataclasses.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any

from markupsafe import Markup

#: The only leaf values a template receives.
SCALARS = (str, int, float, bool, date, type(None))


class Record:
    """A read-only record: `r.name` and `r["name"]` read a field; it has no public methods."""

    __slots__ = ("_fields",)
    _fields: dict[str, Any]

    def __init__(self, fields: Mapping[str, Any]) -> None:
        object.__setattr__(self, "_fields", dict(fields))

    def __getattr__(self, name: str) -> Any:
        try:
            return self._fields[name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, name: str) -> Any:
        return self._fields[name]

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("template data is read-only")

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def __contains__(self, name: object) -> bool:
        return name in self._fields

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Record) and other._fields == self._fields

    def __hash__(self) -> int:
        return hash(tuple(self._fields))

    def __repr__(self) -> str:
        return f"Record({', '.join(self._fields)})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Record, (self._fields,))


def plain(value: Any) -> Any:
    """Return value as template data: Records, tuples and scalars, recursively.

    Pydantic models and dataclasses become Records of their fields and of their properties
    (computed values such as a block's kind); mappings become Records; sequences become tuples.
    Anything else is a bug in the caller and raises TypeError.
    """
    if isinstance(value, SCALARS) or isinstance(value, Markup):
        return value
    if isinstance(value, Record):
        return value
    if isinstance(value, Mapping):
        return Record({str(k): plain(v) for k, v in value.items()})
    if isinstance(value, (list, tuple, set, frozenset)):
        return tuple(plain(v) for v in value)
    names = _field_names(type(value))
    if names is None:
        raise TypeError(f"not template data: {type(value).__name__}")
    return Record({name: plain(getattr(value, name)) for name in names})


def _field_names(cls: type) -> tuple[str, ...] | None:
    """Return the fields and properties of a pydantic model or dataclass, or None for other types."""
    fields = getattr(cls, "model_fields", None)
    if isinstance(fields, dict):
        names = list(fields)
    elif dataclasses.is_dataclass(cls):
        names = [f.name for f in dataclasses.fields(cls)]
    else:
        return None
    for klass in cls.__mro__:
        if not klass.__module__.startswith("handouts"):
            continue  # pydantic's own properties (model_extra...) are not content
        names.extend(n for n, v in vars(klass).items()
                     if isinstance(v, property) and not n.startswith("_") and n not in names)
    return tuple(names)

