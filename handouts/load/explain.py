"""pydantic's validation errors in the writer's words: one line per mistake, saying how to fix it.

pydantic says "input should be a valid tuple"; a clinic writing YAML needs "expected a list, like
[M72.2]". Each error is read with the schema at its place (the model class, the field's type and
the names known there), so a misspelt field gets a "did you mean", a scalar where a list belongs
gets an example, and the echoes of one mistake (a list "too short" only because its one item was
wrong, the required field a misspelt one stands for, the other half of an either-or) are dropped.
"""

from __future__ import annotations

import datetime
import re
import types
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from handouts.errors import Problem
from handouts.names import did_you_mean, slug_rule, suggest

if TYPE_CHECKING:
    from handouts.load.yamlio import Document

Loc = tuple[str | int, ...]

#: Every list field: what one entry is called, and an example of the list written in YAML.
#: tests/test_messages.py walks the schema and fails for a list field missing here.
LISTS: dict[str, tuple[str, str]] = {
    "codes": ("code", "[M54.31]"),
    "lengths": ("length", "[standard, detailed]"),
    "kinds": ("kind", "[overview, faq]"),
    "ul": ("item", "[Heat or ice, Gentle exercise]"),
    "ol": ("step", "[Lie on your back, Bend one knee]"),
    "items": ("item", "[Numbness in both legs]"),
    "key": ("label", "[Lower back, Back of the thigh]"),
    "blocks": ("block", '"- p: Stay as active as you can."'),
    "answer": ("block", '"- p: No. Gentle movement helps."'),
    "sections": ("section", '"- id: what-helps"'),
    "faq": ("question", '"- id: bed-rest"'),
    "sources": ("source", '"- title: Sciatica"'),
    "printers": ("printer", '"- queue: front-desk"'),
}

#: Every mapping field that is not a model: what one entry is called, and what the mapping holds.
MAPPINGS: dict[str, tuple[str, str]] = {
    "handouts": ("kind of handout", 'expected kinds of handout indented below it, like "overview:"'),
    "links": ("link", "expected one web address per language, like {en: https://www.nhs.uk/conditions/sciatica/}"),
}

#: Fields that take one of two forms, in words.
EITHER: dict[str, str] = {
    "footer": "expected one line of text, or one line per language, like {en: Call us., es: Llámenos.}",
}


def validation_problems(doc: Document, exc: ValidationError, model: type[BaseModel] | None = None) -> list[Problem]:
    """Turn pydantic's errors into one Problem per mistake, with file, line, field path and how to fix it."""
    read = [_read(error, model) for error in exc.errors()]
    kept = _drop_echoes(read)
    return [doc.problem(error.loc, error.message) for error in kept]


@dataclass
class _Error:
    """One pydantic error, with its path as the writer sees it and what the schema knows there."""

    loc: Loc
    kind: str
    value: Any
    message: str
    #: where an either-or field is, and how deep below it (past its form's tag) the error is
    either: Loc | None = None
    depth: int = 0
    #: for an unknown field: the known field it most likely stands for
    meant: str | None = None


def _read(error: Any, model: type[BaseModel] | None) -> _Error:
    raw: Loc = tuple(error["loc"])
    walk = _Walk(model)
    for part in raw:
        walk.step(part)
    found = _Error(tuple(walk.loc), error["type"], error.get("input"), "", walk.either, walk.after_either)
    found.message = _message(error, found, walk)
    return found


class _Walk:
    """Follow an error's path through the schema, dropping pydantic's own steps (an either-or's form tags)."""

    def __init__(self, model: type[BaseModel] | None) -> None:
        self.types: list[Any] = [model]
        self.loc: list[str | int] = []
        self.is_key = False
        self.either: Loc | None = None
        self.after_either = 0

    @property
    def here(self) -> Any:
        return self.types[-1]

    def parent(self) -> Any:
        return self.types[-2] if len(self.types) > 1 else None

    def step(self, part: str | int) -> None:
        if part == "[key]":
            self.is_key = True
            return
        options = _forms(self.here)
        if len(options) > 1 and isinstance(part, str) and not _is_field(options, part):
            # pydantic names the form it tried ("constrained-str", "dict[...]"): a tag, not a field
            self.either = tuple(self.loc)
            self.types[-1] = _form_named(options, part)
            return
        if isinstance(part, str) and "[" in part:
            return  # another pydantic step, such as "function-after[...]"
        if self.either is not None:
            self.after_either += 1
        self.loc.append(part)
        self.types.append(_inner(self.here, part))


def _strip(tp: Any) -> Any:
    while get_origin(tp) is Annotated:
        tp = get_args(tp)[0]
    return tp


def _forms(tp: Any) -> list[Any]:
    """Return the forms a type may take: its union's members without None, or the type itself."""
    tp = _strip(tp)
    if get_origin(tp) in (Union, types.UnionType):
        return [_strip(a) for a in get_args(tp) if a is not type(None)]
    return [tp]


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _is_field(options: list[Any], part: str) -> bool:
    return any(_is_model(o) and part in o.model_fields for o in options)


def _form_named(options: list[Any], tag: str) -> Any:
    for option in options:
        origin = get_origin(option)
        name = getattr(origin or option, "__name__", "")
        if tag.startswith(f"{name}[") or tag == name or (tag == "constrained-str" and option is str):
            return option
    return options[0]


def _inner(tp: Any, part: str | int) -> Any:
    """Return the type one step below tp: a model's field, a list's entry, a mapping's value."""
    for form in _forms(tp):
        if _is_model(form) and isinstance(part, str):
            info = form.model_fields.get(part)
            if info is not None:
                return info.annotation
        elif get_origin(form) in (tuple, list) and isinstance(part, int):
            return get_args(form)[0]
        elif get_origin(form) is dict and isinstance(part, str):
            return get_args(form)[1]
    return None


def _field_name(loc: Loc) -> str:
    """Return the name of the field a path ends in (for a list entry, the list's name)."""
    return next((p for p in reversed(loc) if isinstance(p, str)), "")


def _message(error: Any, found: _Error, walk: _Walk) -> str:
    kind, value, ctx = error["type"], error.get("input"), error.get("ctx") or {}
    name = _field_name(found.loc)
    last = found.loc[-1] if found.loc else ""
    if walk.is_key:
        return _key_message(error, found.loc)
    if found.either is not None and found.depth == 0 and name in EITHER:
        return EITHER[name]
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        known = _known_fields(walk.parent())
        found.meant = suggest(str(last), known)
        if found.meant is not None and found.meant != last:
            return f"unknown field; did you mean {found.meant}?"
        return f"unknown field; the fields here are {', '.join(known)}" if known else "unknown field"
    if kind in ("tuple_type", "list_type") or (kind == "too_short" and ctx.get("field_type") == "Tuple"):
        return _list_message(name, value, kind == "too_short")
    if kind == "too_long":
        noun = LISTS.get(name, ("item", ""))[0]
        return f"at most {ctx.get('max_length')} {noun}s; this list has {ctx.get('actual_length')}"
    if kind == "too_short":  # a mapping with nothing in it
        return f"add at least one {MAPPINGS.get(name, ('entry', ''))[0]}"
    if kind == "dict_type" and name in MAPPINGS:
        return MAPPINGS[name][1]
    if kind in ("model_type", "dict_type"):
        known = _known_fields(walk.here)
        return "expected fields indented below it" + (f": {', '.join(known)}" if known else "")
    if kind in ("string_type", "string_too_short"):
        return _text_message(value, last)
    if kind == "string_too_long":
        return f"longer than {ctx.get('max_length')} characters; a handout is read on paper: make it shorter"
    if kind == "string_pattern_mismatch":
        return _pattern_message(str(ctx.get("pattern", "")), value, found.loc)
    if kind == "literal_error":
        choices = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        listed = " or ".join([", ".join(choices[:-1]), choices[-1]]) if len(choices) > 1 else "".join(choices)
        return f"expected {listed}{did_you_mean(str(value), choices)}"
    if kind in ("bool_type", "bool_parsing"):
        return "expected true or false"
    if kind.startswith("date_"):
        return "expected a date, like 2026-11-25"
    if kind.startswith(("int_", "float_")):
        return "expected a number"
    message = str(error["msg"]).removeprefix("Value error, ")
    return message[:1].lower() + message[1:]


def _known_fields(tp: Any) -> list[str]:
    for form in _forms(tp):
        if _is_model(form):
            return list(form.model_fields)
    return []


def _key_message(error: Any, loc: Loc) -> str:
    """A key of a mapping that is not a name (a kind of handout) or a language code."""
    if error["type"] == "string_pattern_mismatch":
        return slug_rule("kind" if _field_name(loc[:-1]) == "handouts" else "id", error.get("input"))
    message = str(error["msg"]).removeprefix("Value error, ")
    return message[:1].lower() + message[1:]


def _list_message(name: str, value: Any, too_short: bool) -> str:
    noun, example = LISTS.get(name, ("item", "[one, two]"))
    if too_short:
        return f"list at least one {noun}, like {example}"
    if value is None:
        return f"empty; list at least one {noun}, like {example}"
    if example.startswith('"- '):  # a list of fields: each entry on its own line
        return f'expected a list of {noun}s on the lines below, each starting with "- ", like {example}'
    if isinstance(value, str) and 0 < len(value) <= 60 and "\n" not in value:
        example = f"[{_flow_item(value)}]"
    return f"expected a list, like {example}"


def _flow_item(text: str) -> str:
    """Return text as one item of a [list] on one line: quoted when YAML would read it otherwise."""
    if re.search(r"[,\[\]{}:#\"'&*!|>%@`]", text) or text != text.strip():
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text


def _text_message(value: Any, last: str | int) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        return f'empty; write the text after "{last}:"' if isinstance(last, str) else "empty; write it, or remove it"
    if isinstance(value, bool):
        return f'expected text; YAML read this as true or false: put it in quotes, like "{str(value).lower()}"'
    if isinstance(value, (int, float)):
        return f'expected text; YAML read this as a number: put it in quotes, like "{value}"'
    if isinstance(value, (datetime.date, datetime.datetime)):
        return f'expected text; YAML read this as a date: put it in quotes, like "{value}"'
    if isinstance(value, (list, tuple)):
        return "expected text, not a list"
    if isinstance(value, dict):
        return "expected text, not fields indented below it"
    return "expected text"


def _pattern_message(pattern: str, value: Any, loc: Loc) -> str:
    if "a-z0-9" in pattern and "A-Z" not in pattern:
        return slug_rule("kind" if _field_name(loc) == "kinds" else "id", value)
    if "A-Za-z0-9 " in pattern:
        return "expected a font family's name: letters, digits, spaces and hyphens, like Noto Sans"
    if pattern.startswith("^https://"):
        return "expected a web address that starts with https://"
    if pattern.startswith("^https?://"):
        return "expected a web address that starts with https:// (or http://)"
    return f"does not have the expected form ({pattern})"


def _drop_echoes(errors: Sequence[_Error]) -> list[_Error]:
    """Keep one line per mistake: drop the errors that only echo another one."""
    kept = list(errors)
    # an either-or field: keep the form the value was written in (the errors below its tag);
    # when no form got past its tag, the one message in EITHER (or the first) says it all
    fields = {e.either for e in kept if e.either is not None}
    for place in fields:
        group = [e for e in kept if e.either == place]
        deep = [e for e in group if e.depth > 0]
        drop = [e for e in group if e.depth == 0] if deep else group[1:]
        kept = [e for e in kept if not any(e is d for d in drop)]
    # a list too short only because its entries were wrong
    kept = [e for e in kept if not (e.kind == "too_short" and any(
        o is not e and len(o.loc) > len(e.loc) and o.loc[:len(e.loc)] == e.loc for o in kept))]
    # a required field missing only because it was misspelt
    meant = {(*e.loc[:-1], e.meant) for e in kept if e.kind == "extra_forbidden" and e.meant}
    return [e for e in kept if not (e.kind == "missing" and e.loc in meant)]

