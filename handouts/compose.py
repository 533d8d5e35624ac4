"""Compose a handout's HTML from templates in a sandbox: workspace templates first, built-ins last."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup, escape

from . import __version__
from .errors import TemplateError, display_path
from .i18n import format_date, translations
from .select import View

#: Prefix that names the built-in version of a template, so an override can extend it.
BUILTIN_PREFIX = "!builtin"

_BOLD = re.compile(r"\*\*(.+?)\*\*")


def inline(text: str) -> Markup:
    """Escape content text, then turn **words** into bold: the only markup content may use."""
    return Markup(_BOLD.sub(r"<strong>\1</strong>", str(escape(text))))


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


class Composer:
    """Renders templates for one workspace; keeps one Jinja environment per language."""

    def __init__(self, template_dirs: list[Path], root: Path | None = None) -> None:
        self.template_dirs = template_dirs
        self.root = root

    @cache  # noqa: B019 - one Composer per workspace, few languages
    def environment(self, lang: str) -> jinja2.Environment:
        """Return the sandboxed environment with lang's template strings installed."""
        loader = jinja2.ChoiceLoader([
            jinja2.PrefixLoader(
                {BUILTIN_PREFIX: jinja2.FileSystemLoader(str(self.template_dirs[-1]))}, delimiter="/"
            ),
            jinja2.FileSystemLoader([str(d) for d in self.template_dirs]),
        ])
        env = ImmutableSandboxedEnvironment(
            loader=loader,
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            extensions=["jinja2.ext.i18n"],
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
        env.filters["inline"] = inline
        env.filters["css_string"] = css_string
        env.filters["page_counter"] = page_counter
        env.filters["date"] = lambda value: format_date(value, lang, "medium")
        env.globals["version"] = __version__
        return env

    def has_kind(self, kind: str) -> bool:
        """Return whether some template folder has kinds/<kind>.html."""
        return any((d / "kinds" / f"{kind}.html").is_file() for d in self.template_dirs)

    def compose(self, view: View, **context: Any) -> str:
        """Return the HTML of one handout."""
        env = self.environment(view.lang)
        name = f"kinds/{view.kind}.html"
        try:
            template = env.get_template(name)
            return template.render(h=view, **context)
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
