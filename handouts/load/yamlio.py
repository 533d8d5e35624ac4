"""Read YAML safely, keeping the line of every value so errors can point at it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from handouts.errors import ContentError, Problem, display_path
from handouts.files import OutsideError, contained
from handouts.limits import current as current_limits
from handouts.load.syntax import explain

FieldPath = tuple[str | int, ...]

_BOOL = "tag:yaml.org,2002:bool"


# libyaml's parser when PyYAML was built with it: several times faster than pure Python.
_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[misc,valid-type]
    """SafeLoader with YAML 1.2 booleans, so `no`, `on` or `y` stay text (language codes!)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != _BOOL]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    _BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


class Document:
    """A parsed YAML file: its data and the line on which each field path starts."""

    def __init__(self, path: Path, data: Any, lines: dict[FieldPath, int], root: Path | None):
        self.path = path
        self.data = data
        self.lines = lines
        self.shown = display_path(path, root)

    def line_of(self, loc: FieldPath) -> int | None:
        """Return the line of the deepest known field on the way to loc."""
        for end in range(len(loc), -1, -1):
            line = self.lines.get(tuple(loc[:end]))
            if line is not None:
                return line
        return None

    def problem(self, loc: FieldPath, message: str) -> Problem:
        """Make a Problem for field loc of this file."""
        return Problem(self.shown, self.line_of(loc), format_loc(loc), message)


def format_loc(loc: FieldPath) -> str:
    """Format a field path the way users see it: handouts.overview.sections[2].heading."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def load(path: Path, root: Path | None = None) -> Document:
    """Parse one YAML file; raise ContentError naming the file and line if it is not valid."""
    shown = display_path(path, root)
    try:
        # a link may not lead out of the file's folder, and a pipe or device is never opened
        real = contained(Path(path), Path(path).parent, root)
        limits = current_limits()
        with real.open("rb") as handle:  # read at most one byte past the limit, whatever the size says
            raw = handle.read(limits.yaml_bytes + 1)
        if len(raw) > limits.yaml_bytes:
            message = f"larger than {limits.yaml_bytes} bytes (the limit: {limits.variable('yaml_bytes')})"
            raise ContentError([Problem(shown, None, "", message)])
        text = raw.decode("utf-8")
    except OutsideError as exc:
        raise ContentError([Problem(shown, None, "", exc.reason)]) from None
    except UnicodeDecodeError as exc:
        raise ContentError([Problem(shown, None, "", f"not UTF-8 text ({exc.reason})")]) from None
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        lines: dict[FieldPath, int] = {}
        problems: list[Problem] = []
        if node is not None:
            _Walk(lines, problems, shown, limits.yaml_depth, limits.variable("yaml_depth")).walk(node, ())
        if problems:
            raise ContentError(problems)
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        raise ContentError([_syntax_problem(shown, exc, text)]) from None
    except (ValueError, OverflowError) as exc:  # a date like 2026-13-45 that the timestamp constructor refuses
        found = _bad_date(loader, node, ()) if node is not None else None
        if found is None:
            raise ContentError([Problem(shown, None, "", f"invalid YAML: {exc}")]) from None
        bad, loc, why = found
        message = f"'{bad.value}' is not a date ({why}); write dates as YYYY-MM-DD, like 2026-11-25"
        raise ContentError([Problem(shown, bad.start_mark.line + 1, format_loc(loc), message)]) from None
    finally:
        loader.dispose()
    return Document(Path(path), data, lines, root)


def _syntax_problem(shown: str, exc: yaml.YAMLError, text: str) -> Problem:
    """Return a parser error as a Problem in plain words, with the line and a caret under the column."""
    found = explain(exc, text)
    if found is None:
        return Problem(shown, None, "", f"invalid YAML: {exc}")
    return Problem(shown, found.line + 1, "", found.message, found.excerpt(text))


_TIMESTAMP = "tag:yaml.org,2002:timestamp"


def _bad_date(loader: Any, node: yaml.Node, loc: FieldPath) -> tuple[yaml.ScalarNode, FieldPath, str] | None:
    """Return the first value YAML reads as a date that is not one (2026-13-45), its field path and why."""
    if isinstance(node, yaml.ScalarNode):
        if node.tag != _TIMESTAMP:
            return None
        try:
            loader.construct_yaml_timestamp(node)
        except (ValueError, OverflowError) as exc:
            return node, loc, str(exc)
        return None
    if isinstance(node, yaml.MappingNode):
        children = [((*loc, str(key.value)), value) for key, value in node.value]
    elif isinstance(node, yaml.SequenceNode):
        children = [((*loc, index), item) for index, item in enumerate(node.value)]
    else:
        return None
    for where, child in children:
        found = _bad_date(loader, child, where)
        if found is not None:
            return found
    return None


#: Why a value reached twice is refused: content never needs them, and they multiply work.
ALIASES = "anchors and aliases (&name, *name) are not allowed in handouts files; write the value out"


class _Walk:
    """Record the line of every field; refuse duplicate keys, aliases and deep nesting before anything is built.

    An alias makes the composer give the same node twice; it is refused where it is met, so neither an
    alias bomb (each level repeating the one before) nor a value that contains itself is ever expanded.
    """

    def __init__(self, lines: dict[FieldPath, int], problems: list[Problem], shown: str, depth: int,
                 variable: str) -> None:
        self.lines, self.problems, self.shown = lines, problems, shown
        self.depth, self.variable = depth, variable
        self.seen: set[int] = set()
        self.aliased = False

    def walk(self, node: yaml.Node, loc: FieldPath) -> None:
        if id(node) in self.seen:  # met before: an alias (the node's own marks are its anchor's)
            line = next((self.lines[loc[:end]] for end in range(len(loc), -1, -1) if loc[:end] in self.lines), None)
            if not self.aliased:  # one line per file: a bomb has thousands
                self.problems.append(Problem(self.shown, line, format_loc(loc), ALIASES))
            self.aliased = True
            return
        self.seen.add(id(node))
        # a field is on its key's line (set below), even when its value starts on the next one
        self.lines.setdefault(loc, node.start_mark.line + 1)
        nested = isinstance(node, (yaml.MappingNode, yaml.SequenceNode))
        if nested and len(loc) >= self.depth:
            message = f"nested more than {self.depth} levels deep (the limit: {self.variable})"
            self.problems.append(Problem(self.shown, node.start_mark.line + 1, format_loc(loc), message))
            return
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key_node, value_node in node.value:
                key = str(key_node.value)
                if key in seen:
                    self.problems.append(
                        Problem(self.shown, key_node.start_mark.line + 1, format_loc((*loc, key)), "duplicate key")
                    )
                seen.add(key)
                self.lines[(*loc, key)] = key_node.start_mark.line + 1
                self.walk(value_node, (*loc, key))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self.walk(item, (*loc, index))
