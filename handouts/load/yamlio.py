"""Read YAML safely, keeping the line of every value so errors can point at it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from handouts.errors import ContentError, Problem, display_path
from handouts.files import OutsideError, contained

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
        text = contained(Path(path), Path(path).parent, root).read_text(encoding="utf-8")
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
            _walk(node, (), lines, problems, shown)
        if problems:
            raise ContentError(problems)
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        message = " ".join(str(part) for part in (exc.context, exc.problem) if part)
        raise ContentError([Problem(shown, line, "", f"invalid YAML: {message}")]) from None
    except yaml.YAMLError as exc:
        raise ContentError([Problem(shown, None, "", f"invalid YAML: {exc}")]) from None
    finally:
        loader.dispose()
    return Document(Path(path), data, lines, root)


def _walk(node: yaml.Node, loc: FieldPath, lines: dict[FieldPath, int], problems: list[Problem], shown: str) -> None:
    lines[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                problems.append(
                    Problem(shown, key_node.start_mark.line + 1, format_loc((*loc, key)), "duplicate key")
                )
            seen.add(key)
            lines[(*loc, key)] = key_node.start_mark.line + 1
            _walk(value_node, (*loc, key), lines, problems, shown)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*loc, index), lines, problems, shown)
