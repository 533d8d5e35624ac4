"""The exceptions handouts raises, and how a problem is reported to a user."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with one input: file, line, field path and what is wrong."""

    file: str
    line: int | None
    field: str
    message: str
    #: Lines shown under the message, such as the source line with a caret under the column.
    excerpt: tuple[str, ...] = dataclasses.field(default=(), compare=False)

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class HandoutsError(Exception):
    """Base class: every error a user can cause and fix."""

    exit_code = 1

    def lines(self) -> list[str]:
        """Return the lines to show the user, one per problem."""
        return [str(self)]

    def notes(self) -> list[str]:
        """Return lines that explain the error, shown before it (e.g. each handout a gate refused)."""
        return []

    def with_excerpts(self) -> list[tuple[str, tuple[str, ...]]]:
        """Return each line of lines() with the indented lines shown under it (a source line and a caret)."""
        return [(line, ()) for line in self.lines()]


class UsageError(HandoutsError):
    """A command-line value (topic, kind, length, language, paper) is not known."""

    exit_code = 2


class ContentError(HandoutsError):
    """One or more problems in topic data or workspace config, all collected."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(set(problems), key=lambda p: (p.file, p.line or 0, p.field, p.message))
        super().__init__("\n".join(str(p) for p in self.problems))

    def lines(self) -> list[str]:
        return [str(p) for p in self.problems]

    def with_excerpts(self) -> list[tuple[str, tuple[str, ...]]]:
        return [(str(p), p.excerpt) for p in self.problems]


class TemplateError(HandoutsError):
    """A template or stylesheet cannot be found, parsed or rendered."""


class RenderError(HandoutsError):
    """WeasyPrint could not make the PDF, or the page tried to fetch a forbidden file."""


def display_path(path: Path, root: Path | None = None) -> str:
    """Return path relative to root (or the current folder) when it lies inside it."""
    path = Path(path)
    for base in (root, Path.cwd()):
        if base is None:
            continue
        # as written first: a link is shown where it is, not where it leads
        for mine, theirs in ((os.path.abspath(path), os.path.abspath(base)), (path.resolve(), Path(base).resolve())):
            try:
                return Path(mine).relative_to(theirs).as_posix()
            except ValueError:
                continue
    return path.as_posix()
