"""Compose a handout's HTML from templates in a sandbox: workspace templates first, built-ins last."""

from __future__ import annotations

import math
import os
import re
import types
from collections.abc import Callable
from datetime import date
from functools import cache, partial
from pathlib import Path
from typing import Any

import jinja2
from jinja2.exceptions import SecurityError
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
from handouts.limits import Limits
from handouts.limits import current as current_limits
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


def ltr(text: Any) -> Markup:
    """Mark text that must read left to right (a phone number, an address, a web address, a code).

    On a right-to-left page the bidirectional algorithm would otherwise reorder its digits and
    punctuation; on a left-to-right page the span changes nothing. Empty text gives nothing.
    """
    if text is None or text == "":
        return Markup("")
    return Markup('<span dir="ltr">{}</span>').format(text)


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


#: A width or precision in a format string: "{:>999}", "%999s", "%.999f".
_FORMAT_NUMBER = re.compile(r"\{[^{}]*?:[^{}]*?(\d+)[^{}]*\}|%[-#0 +]*(\d*)(?:\.(\d+))?[a-zA-Z]")
#: Filters whose numeric arguments make their result larger (padding, slices, indents, wrapping).
_SIZED_FILTERS = ("center", "indent", "slice", "batch", "wordwrap", "truncate", "format", "replace", "join")


class _Budget:
    """What one render may still do: steps and characters of output (handouts.limits)."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.steps = 0
        self.output = 0

    def step(self, count: int = 1) -> None:
        self.steps += count
        if self.steps > self.limits.template_steps:
            raise SecurityError(f"more than {self.limits.template_steps} steps "
                                f"(the limit: {self.limits.variable('template_steps')})")

    def emit(self, value: Any) -> Any:
        self.step()
        self.output += len(str(value)) if isinstance(value, str) else 0
        if self.output > self.limits.template_output:
            raise SecurityError(f"more than {self.limits.template_output} characters of output "
                                f"(the limit: {self.limits.variable('template_output')})")
        return value

    def size(self, size: int, what: str = "a result of {} characters or items") -> None:
        """Refuse a result (or an argument that makes one) larger than the string limit."""
        if size > self.limits.template_string:
            raise SecurityError(f"{what.format(size)} is over the limit of {self.limits.template_string} "
                                f"({self.limits.variable('template_string')})")

    def arguments(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        for value in (*args, *kwargs.values()):
            if isinstance(value, int) and not isinstance(value, bool):
                self.size(abs(value), "an argument of {}")

    def format_string(self, text: Any) -> None:
        if isinstance(text, str):
            for match in _FORMAT_NUMBER.finditer(text):
                for number in match.groups():
                    if number:
                        self.size(int(number), "a width of {}")

    def estimate(self, obj: Any, name: str, args: tuple[Any, ...]) -> None:
        """Refuse a str.replace or str.join whose result would be over the limit, before it is made."""
        if name == "replace" and len(args) >= 2 and isinstance(obj, str) and all(isinstance(a, str) for a in args[:2]):
            old, new = args[0], args[1]
            count = obj.count(old) if old else len(obj) + 1
            self.size(len(obj) + count * max(0, len(new) - len(old)))
        elif name == "join" and isinstance(obj, str) and args and isinstance(args[0], (list, tuple)):
            parts = args[0]
            self.size(len(obj) * max(0, len(parts) - 1) + sum(len(p) for p in parts if isinstance(p, str)))


class _BoundedRange:
    """range() for templates: at most template_range items, each counted as a step of the render."""

    def __init__(self, values: range, budget: Callable[[], _Budget]) -> None:
        self._values = values
        self._budget = budget

    def __len__(self) -> int:
        return len(self._values)

    def __getitem__(self, index: Any) -> Any:
        return self._values[index]

    def __iter__(self) -> Any:
        budget = self._budget()
        for value in self._values:
            budget.step()
            yield value

    def __reversed__(self) -> Any:
        return iter(_BoundedRange(self._values[::-1], self._budget))

    def __repr__(self) -> str:
        return repr(self._values)


class HandoutSandbox(ImmutableSandboxedEnvironment):
    """The sandbox templates run in: a call is allowed only if it is on an explicit allow-list.

    Templates get plain data (handouts.compose.plain), so the only things they can call are Jinja's own
    (macros, blocks, loop helpers), the gettext functions, the sandbox's bounded range, and the
    harmless methods of strings and dates listed above.

    Work is bounded (handouts.limits): range() has at most template_range items; a repetition
    (`'x' * n`), a power, a padding or format width makes at most template_string characters; a
    render takes at most template_steps steps and outputs at most template_output characters. The
    time limit per handout (handouts.jobs.pipeline) stops anything else.
    """

    intercepted_binops = frozenset({"*", "**", "%"})
    budget = _Budget(Limits())

    def bounded_range(self, *args: Any) -> _BoundedRange:
        """range(), bounded: a larger one is refused before a single item is made."""
        values = range(*args)
        if len(values) > self.budget.limits.template_range:
            raise SecurityError(f"range() of {len(values)} items is over the limit of "
                                f"{self.budget.limits.template_range} "
                                f"({self.budget.limits.variable('template_range')})")
        return _BoundedRange(values, lambda: self.budget)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        budget = self.budget
        budget.step()
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(times, int):
                    budget.size(len(seq) * times)
        elif operator == "**":
            if (isinstance(left, int) and isinstance(right, int) and abs(left) > 1 and right > 0):
                budget.size(math.ceil(right * math.log10(abs(left))), "a power with {} digits")
        elif operator == "%":
            budget.format_string(left)
        return super().call_binop(context, operator, left, right)

    def getattr(self, obj: Any, attribute: str) -> Any:
        self.budget.step()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        self.budget.step()
        return super().getitem(obj, argument)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is not None:
            self.budget.format_string(value.__self__)
        return wrapped

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 - as Jinja's
        budget = __self.budget
        budget.step()
        if not __self.is_safe_callable(__obj):  # named without its address, so the message is the same every time
            raise SecurityError(f"calling {_describe(__obj)} is not allowed in templates")
        if isinstance(__obj, (types.MethodType, types.BuiltinMethodType)) and isinstance(__obj.__self__, str):
            budget.arguments(args, kwargs)
            budget.estimate(__obj.__self__, __obj.__name__, args)
        return super().call(__context, __obj, *args, **kwargs)

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


def _describe(obj: Any) -> str:
    """Name a callable the way a template author wrote it: str.encode(), not its repr with an address."""
    owner = getattr(obj, "__self__", None)
    name = getattr(obj, "__name__", None)
    if owner is not None and name and not isinstance(owner, types.ModuleType):
        return f"{type(owner).__name__}.{name}()"
    return f"{name}()" if name else f"a {type(obj).__name__}"


def _sized_filter(env: HandoutSandbox, name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a filter whose arguments size its result: refuse what would be over the limit, before it is made."""

    def bounded(*args: Any, **kwargs: Any) -> Any:
        budget = env.budget
        budget.step()
        values = args[1:] if args and isinstance(args[0], (jinja2.runtime.Context, jinja2.nodes.EvalContext)) else args
        if values:
            budget.arguments(values[1:], kwargs)
            if name == "format":
                budget.format_string(values[0])
            elif name in ("replace", "join") and isinstance(values[0], str) or name == "join":
                target = values[0]
                if name == "join":
                    sep = values[1] if len(values) > 1 else kwargs.get("d", "")
                    if isinstance(sep, str) and isinstance(target, (list, tuple)):
                        budget.estimate(sep, "join", (target,))
                else:
                    budget.estimate(target, "replace", values[1:3])
        return func(*args, **kwargs)

    for attribute in ("jinja_pass_arg",):  # keep @pass_context / @pass_eval_context
        if hasattr(func, attribute):
            setattr(bounded, attribute, getattr(func, attribute))
    return bounded


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
        env.filters["ltr"] = ltr
        env.filters["css_string"] = css_string
        env.filters["page_counter"] = page_counter
        env.filters["date"] = lambda value: format_date(value, lang, "medium")
        env.globals["version"] = __version__
        env.globals["range"] = env.bounded_range
        del env.globals["lipsum"]  # unbounded work for no use in a handout
        env.finalize = lambda value: env.budget.emit(value)
        for name in _SIZED_FILTERS:
            env.filters[name] = _sized_filter(env, name, env.filters[name])
        env.trust(*(value for value in env.globals.values() if callable(value)))
        return env

    def has_kind(self, kind: str) -> bool:
        """Return whether some template folder has kinds/<kind>.html."""
        return any((d / "kinds" / f"{kind}.html").is_file() for d in self.template_dirs)

    def compose(self, lang: str, kind: str, context: dict[str, Any]) -> str:
        """Return the HTML of one handout from its template context (plain data only)."""
        env = self.environment(lang)
        assert isinstance(env, HandoutSandbox)
        env.budget = _Budget(current_limits())  # a new budget for every handout
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
        except (HandoutsError, MemoryError):
            raise
        except jinja2.TemplateError as exc:  # "extended multiple times" and Jinja's other runtime errors
            raise TemplateError(f"{self._where(exc, name)}: {exc.message or type(exc).__name__}") from None
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
