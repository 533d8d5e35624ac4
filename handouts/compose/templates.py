"""Compose a handout's HTML from templates in a sandbox: workspace templates first, built-ins last."""

from __future__ import annotations

import os
import re
import types
from collections.abc import Callable
from datetime import date
from functools import cache, partial
from pathlib import Path
from typing import Any

import jinja2
from jinja2.loaders import split_template_path
from jinja2.runtime import BlockReference, LoopContext, Macro
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import Cycler, Joiner
from markupsafe import Markup, escape

from handouts import __version__
from handouts.compose.i18n import format_date, translations
from handouts.compose.plain import Record
from handouts.errors import HandoutsError, TemplateError, display_path
from handouts.files import contained
from handouts.load.languages import text_direction

#: Prefix that names the built-in version of a template, so an override can extend it.
BUILTIN_PREFIX = "!builtin"

_BOLD = re.compile(r"\*\*(.+?)\*\*")
#: A run of Latin letters and digits (a phone number, "7-OH", "FDA", "1-800-662-4357"), with the
#: spaces, dots, hyphens and slashes inside it.
_LTR_RUN = re.compile(r"([0-9A-Za-z][0-9A-Za-z.\-/+:]*(?:[ \u00a0][0-9A-Za-z][0-9A-Za-z.\-/+:]*)*)")


def inline(text: str, rtl: bool = False) -> Markup:
    """Escape content text, then turn **words** into bold: the only markup content may use.

    On a right-to-left page, each run of Latin letters and digits is marked left to right, so a
    phone number or "7-OH" reads in its own order inside Arabic text (translators need no
    invisible control characters).
    """
    parts = _BOLD.split(str(text))  # odd items were between ** and **
    html = "".join(
        (f"<strong>{_directed(part, rtl)}</strong>" if index % 2 else _directed(part, rtl))
        for index, part in enumerate(parts)
    )
    return Markup(html)


def _directed(text: str, rtl: bool) -> str:
    if not rtl:
        return str(escape(text))
    return "".join(f'<span dir="ltr">{escape(piece)}</span>' if index % 2 else str(escape(piece))
                   for index, piece in enumerate(_LTR_RUN.split(text)))


def css_string(text: str) -> Markup:
    """Quote text as a CSS string, safe inside a <style> element (no quote, newline or < survives)."""
    escaped = "".join(f"\\{ord(c):06X}" if c in '"\\<>&\n' else c for c in str(text))
    return Markup(f'"{escaped}"')


def page_counter(template: str) -> Markup:
    """Turn a translated 'Page {page} of {pages}' into a CSS content value with live counters."""
    parts = re.split(r"(\{page\}|\{pages\})", template)
    out = []
    for part in parts:
        if part == "{page}":
            out.append("counter(page)")
        elif part == "{pages}":
            out.append("counter(pages)")
        elif part:
            out.append(css_string(part))
    return Markup(" ".join(out))


#: Methods of strings and dates that templates may call; every other callable is refused.
STR_METHODS = frozenset({
    "capitalize", "casefold", "center", "count", "endswith", "find", "isalnum", "isalpha", "isdigit",
    "islower", "isspace", "isupper", "join", "ljust", "lower", "lstrip", "partition", "replace", "rfind",
    "rjust", "rpartition", "rsplit", "rstrip", "split", "splitlines", "startswith", "strip", "title", "upper",
    "zfill", "striptags", "unescape",
})
DATE_METHODS = frozenset({"isoformat", "strftime", "isoweekday", "weekday"})


class HandoutSandbox(ImmutableSandboxedEnvironment):
    """The sandbox templates run in: a call is allowed only if it is on an explicit allow-list.

    Templates get plain data (handouts.compose.plain), so the only things they can call are Jinja's own
    (macros, blocks, loop helpers), the gettext functions, the sandbox's bounded range, and the
    harmless methods of strings and dates listed above.
    """

    def trust(self, *objects: Any) -> None:
        """Allow templates to call these objects (the environment's own globals)."""
        self._trusted = getattr(self, "_trusted", set()) | {id(o) for o in objects}

    def is_safe_callable(self, obj: Any) -> bool:
        if id(obj) in getattr(self, "_trusted", ()) or isinstance(obj, jinja2.Undefined):
            return True  # calling an Undefined raises its own clear error
        if isinstance(obj, (Macro, BlockReference, LoopContext, Joiner)):
            return True
        if isinstance(obj, (types.MethodType, types.BuiltinMethodType)):
            owner = obj.__self__
            if isinstance(owner, (LoopContext, Cycler)):
                return obj.__name__ in ("cycle", "changed", "next", "reset", "current")
            if isinstance(owner, str):
                return obj.__name__ in STR_METHODS
            if isinstance(owner, date):
                return obj.__name__ in DATE_METHODS
            return False
        wrapped = getattr(obj, "__wrapped__", None)  # the sandbox's own str.format wrapper
        return (
            isinstance(obj, types.FunctionType)
            and isinstance(wrapped, (types.MethodType, types.BuiltinMethodType))
            and isinstance(wrapped.__self__, str)
            and wrapped.__name__ in ("format", "format_map")
        )


class ContainedLoader(jinja2.BaseLoader):
    """Load templates from folders in order; a file reached through a link must stay in its folder."""

    def __init__(self, folders: list[Path], root: Path | None = None) -> None:
        self.folders = folders
        self.root = root

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        pieces = split_template_path(template)
        for folder in self.folders:
            candidate = folder.joinpath(*pieces)
            if not os.path.lexists(candidate):
                continue
            real = contained(candidate, folder, self.root)
            try:
                source = real.read_text(encoding="utf-8")
            except UnicodeDecodeError as exc:
                raise TemplateError(f"{display_path(candidate, self.root)}: not UTF-8 text ({exc.reason})") from None
            mtime = real.stat().st_mtime
            return source, str(candidate), partial(_unchanged, real, mtime)
        raise jinja2.TemplateNotFound(template)


def _unchanged(path: Path, mtime: float) -> bool:
    return path.is_file() and path.stat().st_mtime == mtime


class FieldUndefined(jinja2.StrictUndefined):
    """StrictUndefined that names the fields a record does have."""

    @property
    def _undefined_message(self) -> str:
        if self._undefined_hint is None and isinstance(self._undefined_obj, Record):
            fields = ", ".join(sorted(self._undefined_obj))
            return f"no field '{self._undefined_name}' here; the fields are: {fields}"
        return str(super()._undefined_message)


class Composer:
    """Renders templates for one workspace; keeps one Jinja environment per language."""

    def __init__(self, template_dirs: list[Path], root: Path | None = None) -> None:
        self.template_dirs = template_dirs
        self.root = root

    @cache  # noqa: B019 - one Composer per workspace, few languages
    def environment(self, lang: str) -> jinja2.Environment:
        """Return the sandboxed environment with lang's template strings installed."""
        loader = jinja2.ChoiceLoader([
            jinja2.PrefixLoader({BUILTIN_PREFIX: ContainedLoader(self.template_dirs[-1:], self.root)}, delimiter="/"),
            ContainedLoader(self.template_dirs, self.root),
        ])
        env = HandoutSandbox(
            loader=loader,
            autoescape=True,
            undefined=FieldUndefined,
            extensions=["jinja2.ext.i18n"],
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
        env.filters["inline"] = partial(inline, rtl=text_direction(lang) == "rtl")
        env.filters["css_string"] = css_string
        env.filters["page_counter"] = page_counter
        env.filters["date"] = lambda value: format_date(value, lang, "medium")
        env.globals["version"] = __version__
        del env.globals["lipsum"]  # unbounded work for no use in a handout
        env.trust(*(value for value in env.globals.values() if callable(value)))
        return env

    def has_kind(self, kind: str) -> bool:
        """Return whether some template folder has kinds/<kind>.html."""
        return any((d / "kinds" / f"{kind}.html").is_file() for d in self.template_dirs)

    def compose(self, lang: str, kind: str, context: dict[str, Any]) -> str:
        """Return the HTML of one handout from its template context (plain data only)."""
        env = self.environment(lang)
        name = f"kinds/{kind}.html"
        try:
            template = env.get_template(name)
            return template.render(context)
        except jinja2.TemplateNotFound as exc:
            folders = ", ".join(display_path(d, self.root) for d in self.template_dirs)
            raise TemplateError(f"template not found: {exc.name} (looked in {folders})") from None
        except jinja2.TemplateSyntaxError as exc:
            where = display_path(Path(exc.filename), self.root) if exc.filename else exc.name
            raise TemplateError(f"{where}:{exc.lineno}: template syntax error: {exc.message}") from None
        except jinja2.exceptions.SecurityError as exc:
            raise TemplateError(f"{self._where(exc, name)}: blocked by the template sandbox: {exc}") from None
        except jinja2.UndefinedError as exc:
            raise TemplateError(f"{self._where(exc, name)}: {exc.message}") from None
        except (jinja2.TemplateError, HandoutsError):
            raise
        except Exception as exc:  # {{ 1/0 }}, a template that includes itself...: name the line
            raise TemplateError(f"{self._where(exc, name)}: {type(exc).__name__}: {exc}") from None

    def _where(self, exc: BaseException, name: str) -> str:
        """Return 'file:line' of the template line that raised exc (Jinja maps frames to templates)."""
        where = name
        tb = exc.__traceback__
        while tb is not None:
            filename = tb.tb_frame.f_code.co_filename
            if filename.endswith(".html"):
                where = f"{display_path(Path(filename), self.root)}:{tb.tb_lineno}"
            tb = tb.tb_next
        return where
