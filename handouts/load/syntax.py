"""YAML syntax errors in plain words: what is wrong, on which line, with the line and a caret under it.

The parser's own words ("while parsing a block collection did not find expected '-' indicator")
name its states, not the writer's mistake. Each rule below recognizes one mistake people make
(a tab, indentation that does not line up, a missing dash, an unclosed quote, a colon inside a
value) from the parser's problem and the text of the line; anything else falls back to the
parser's problem, cleaned up.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import yaml

#: The widest source line shown under a message; longer lines are cut around the column.
SHOWN_WIDTH = 100


def _short(text: str, width: int = 60) -> str:
    """Return a piece of the user's line for a message: bidi and other format characters shown as
    a replacement mark (they could reorder the terminal's line), and cut to width with "..."."""
    text = "".join("\ufffd" if unicodedata.category(ch) in ("Cf", "Cc") else ch for ch in text)
    return text if len(text) <= width else text[:width] + "..."


@dataclass(frozen=True)
class Syntax:
    """One syntax error: where (0-based line and column) and what is wrong, in plain words."""

    line: int
    column: int
    message: str

    def excerpt(self, text: str) -> tuple[str, ...]:
        """Return the source line and a caret under the column, indented under the message."""
        lines = text.splitlines()
        if not 0 <= self.line < len(lines):
            return ()
        # a tab shows as an arrow, other control characters as a replacement mark: one column each
        source = "".join("→" if ch == "\t" else "\ufffd" if unicodedata.category(ch) in ("Cc", "Cf") else ch
                         for ch in lines[self.line])
        column = min(self.column, len(source))
        start = max(0, min(column - SHOWN_WIDTH // 2, len(source) - SHOWN_WIDTH))
        shown = source[start:start + SHOWN_WIDTH]
        number = str(self.line + 1)
        return (f"  {number} | {shown}", f"  {' ' * len(number)} | {' ' * (column - start)}^")


def explain(exc: yaml.YAMLError, text: str) -> Syntax | None:
    """Return what a parser error means in plain words, or None when it has no position."""
    if isinstance(exc, yaml.reader.ReaderError):
        line = text.count("\n", 0, exc.position)
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1)
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        return Syntax(line, column, f"invalid YAML: a control character (U+{code:04X}), which YAML files may not "
                                    "contain; remove it")
    if not isinstance(exc, yaml.MarkedYAMLError) or (exc.problem_mark or exc.context_mark) is None:
        return None
    problem, context = exc.problem or "", exc.context or ""
    mark = exc.problem_mark or exc.context_mark
    assert mark is not None
    lines = text.splitlines() or [""]
    seen = _Seen(exc, problem, context, mark, lines)
    for rule in _RULES:
        found = rule(seen)
        if found is not None:
            return found
    # the parser's state ("while parsing a block mapping") means nothing to a writer: keep what it found
    words = " ".join(part for part in (context, problem) if part and not part.startswith("while "))
    return Syntax(mark.line, mark.column, f"invalid YAML: {words or str(exc)}")


@dataclass(frozen=True)
class _Seen:
    """What a rule reads: the parser's error, its words, where it stopped, and the file's lines."""

    exc: yaml.MarkedYAMLError
    problem: str
    context: str
    mark: yaml.Mark
    lines: list[str]

    def line(self, index: int) -> str:
        return self.lines[index] if 0 <= index < len(self.lines) else ""

    @property
    def here(self) -> str:
        """Return the line the parser stopped on."""
        return self.line(self.mark.line)

    @property
    def start(self) -> yaml.Mark | None:
        """Return where the construct the parser was reading began (an opening quote or bracket)."""
        return self.exc.context_mark

    def at_mark(self, message: str) -> Syntax:
        return Syntax(self.mark.line, self.mark.column, f"invalid YAML: {message}")

    def at_indent(self, message: str) -> Syntax:
        """Point at the first character of the line the parser stopped on."""
        here = self.here
        return Syntax(self.mark.line, len(here) - len(here.lstrip(" ")), f"invalid YAML: {message}")


def _indent(text: str) -> str:
    return text[:len(text) - len(text.lstrip(" \t"))]


def _tab(seen: _Seen) -> Syntax | None:
    """A tab where YAML wants spaces."""
    here, mark = seen.here, seen.mark
    if "tab" not in seen.problem and not (here[mark.column:mark.column + 1] == "\t"
                                          and "cannot start any token" in seen.problem):
        return None
    # the parser may stop on the line after the one indented with a tab
    for index in (mark.line, mark.line - 1, mark.line + 1):
        if "\t" in _indent(seen.line(index)):
            return Syntax(index, seen.line(index).index("\t"), _TAB)
    return Syntax(mark.line, here.index("\t") if "\t" in here else mark.column, _TAB)


_TAB = "invalid YAML: a tab is used for indentation; indent with spaces only"


def _reserved(seen: _Seen) -> Syntax | None:
    """A value that starts with a character YAML keeps for itself (@, `, %, *, !), or an anchor."""
    problem = seen.problem
    if "cannot start any token" in problem and seen.here[seen.mark.column:]:
        value = seen.here[seen.mark.column:].strip()
        return seen.at_mark(f'a value cannot start with {value[0]}; put the value in quotes, like "{_short(value)}"')
    if "found undefined alias" in problem or "scanning an alias" in seen.context:
        if "scanning an alias" in seen.context and seen.start is not None:  # point at the *, not past it
            seen = _Seen(seen.exc, problem, seen.context, seen.start, seen.lines)
        return seen.at_mark("a value starting with * is read as a reference to another value; put the value in "
                            "quotes")
    if "anchor" in problem or "anchor" in seen.context:  # refused anyway (handouts.load.yamlio.ALIASES)
        return seen.at_mark("anchors and aliases (&name, *name) are not allowed in handouts files; write the value "
                            "out")
    if "constructor for the tag" in problem:
        return seen.at_mark("a value starting with ! is read as a YAML tag, which handouts files may not use; put the "
                            "value in quotes")
    return None


def _colon(seen: _Seen) -> Syntax | None:
    """A ': ' inside an unquoted value, or a line indented deeper than the field above it."""
    if "mapping values are not allowed" not in seen.problem:
        return None
    here = seen.here
    body = here[:seen.mark.column].lstrip(" ")
    if ": " in body.removeprefix("- "):  # a second colon on the line: the value has one
        key, _, value = here.partition(": ")
        value = value.strip().replace("\\", "\\\\").replace('"', '\\"')
        example = f'{_short(key.strip(), 40)}: "{_short(value)}"'
        return seen.at_mark(f'a ": " inside a value; put the value in quotes, like {example}')
    return seen.at_indent("this line is indented more than the field above it; fields of the same block start in "
                          "the same column")


def _quoted(seen: _Seen) -> Syntax | None:
    """A quote that is never closed, or an unknown escape inside double quotes."""
    start = seen.start
    if "quoted scalar" not in seen.context or start is None:
        return None
    if "unknown escape" in seen.problem:
        pair = seen.here[seen.mark.column:seen.mark.column + 2]
        return seen.at_mark(f"{pair} is not a known escape inside \"...\"; write \\\\ for a backslash, or use '...' "
                            "quotes")
    if "end of stream" in seen.problem or "document" in seen.problem:
        quote = seen.line(start.line)[start.column:start.column + 1] or '"'
        return Syntax(start.line, start.column, f"invalid YAML: the quote {quote} that starts here is never closed; "
                                                f"end the value with {quote}")
    return None


def _dash(seen: _Seen) -> Syntax | None:
    """A line inside a list that is not a list item: a missing '- ', or indentation that does not line up."""
    if "expected '-' indicator" not in seen.problem:
        return None
    start = seen.start
    if start is not None and len(_indent(seen.here)) != start.column:  # not in the list's column: misaligned
        return seen.at_indent(_MISALIGNED)
    return seen.at_mark('this line is inside a list but does not start with "- "; add the dash, or line it up with '
                        "the field the list belongs to")


def _plain_line(seen: _Seen) -> Syntax | None:
    """A line with neither 'name:' nor '- ': a list item without its dash, or text that lost its field."""
    start = seen.start
    if "could not find expected ':'" not in seen.problem or start is None:
        return None
    words = _short(seen.line(start.line).strip())
    return Syntax(start.line, start.column, f'invalid YAML: this line is neither a field ("name: {words}") nor a '
                                            f'list item ("- {words}"); add what it lacks, or indent it to continue '
                                            "the text above")


def _after_closing(seen: _Seen) -> Syntax | None:
    """Text after a closing quote or bracket, or a line that does not line up with the fields above."""
    if "did not find expected key" not in seen.problem:
        return None
    before = seen.here[:seen.mark.column].rstrip()
    closing = before[-1:]
    after = len(before) + len(seen.here[len(before):]) - len(seen.here[len(before):].lstrip())
    if closing in ("'", '"', "]", "}"):  # point at the text after it
        seen = _Seen(seen.exc, seen.problem, seen.context, _moved(seen.mark, after), seen.lines)
    if closing == "'":
        return seen.at_mark("text after the closing '; to write ' inside '...', write it twice (it''s), or quote "
                            'the value with "..."')
    if closing == '"':
        return seen.at_mark('text after the closing "; to write " inside "...", write \\", or quote the value with '
                            "'...'")
    if closing in ("]", "}"):
        return seen.at_mark(f"text after the closing {closing}; put the whole value in quotes, or move the text to a "
                            "line of its own")
    return seen.at_indent(_MISALIGNED)


_MISALIGNED = "this line does not line up with the fields above it; fields of the same block start in the same column"


def _moved(mark: yaml.Mark, column: int) -> yaml.Mark:
    return yaml.Mark(mark.name, mark.index, mark.line, column, mark.buffer, mark.pointer)


def _flow(seen: _Seen) -> Syntax | None:
    """A [list] or {mapping} on one line that is never closed."""
    match = re.search(r"expected ',' or '([\]}])'", seen.problem)
    start = seen.start
    if match is None or start is None:
        return None
    closing = match.group(1)
    opening = "[" if closing == "]" else "{"
    return Syntax(start.line, start.column, f"invalid YAML: the {opening} that starts here is not closed with "
                                            f"{closing}; an item with a comma or a colon needs quotes")


def _documents(seen: _Seen) -> Syntax | None:
    """A second document (---) in a file that holds one."""
    if "another document" not in seen.problem:
        return None
    return seen.at_mark('a second document starts here ("---"); a handouts file holds one')


_RULES = (_tab, _quoted, _flow, _reserved, _colon, _dash, _plain_line, _after_closing, _documents)
