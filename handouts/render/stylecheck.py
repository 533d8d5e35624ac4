"""Check the CSS a build uses the way WeasyPrint reads it: syntax, properties, values, at-rules.

WeasyPrint drops a rule or declaration it cannot use, logs a warning and goes on, so a typo in
custom.css changes nothing and says nothing. Here each stylesheet on the styles search path
(handout.css, custom.css, fonts.css: the workspace's own, else the built-in) and the <style>
element of each template is read rule by rule with WeasyPrint's own parser and validators, and
every warning it logs becomes one Problem naming file and line, in plain words. Braces that are
never closed (which the CSS parser closes silently at the end of the file) are found here too.
Nothing is fetched and no font is loaded.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from difflib import get_close_matches
from pathlib import Path
from typing import TYPE_CHECKING, Any

from handouts.errors import Problem, display_path
from handouts.files import OutsideError, contained
from handouts.render.glyphs import FONTS_CSS
from handouts.render.pdf import STYLESHEETS, css_warnings

if TYPE_CHECKING:
    from handouts.load.workspace import Workspace

#: The stylesheets a build reads, looked up by name along the styles search path.
STYLE_FILES = (*STYLESHEETS, FONTS_CSS)
#: Findings kept per file: a file of garbage says what is wrong without burying the rest.
MAX_PER_FILE = 20
#: At-rules WeasyPrint reads (for "did you mean").
AT_RULES = ("import", "layer", "media", "page", "font-face", "color-profile", "counter-style")
MARGIN_BOXES = ("top-left-corner", "top-left", "top-center", "top-right", "top-right-corner", "bottom-left-corner",
                "bottom-left", "bottom-center", "bottom-right", "bottom-right-corner", "left-top", "left-middle",
                "left-bottom", "right-top", "right-middle", "right-bottom")
_JINJA_START = re.compile(r"\{[{%#]")
_JINJA_END = {"{{": "}}", "{%": "%}", "{#": "#}"}
_AT = re.compile(r" at (\d+):\d+")


@dataclass(frozen=True)
class Source:
    """CSS text to check, the file to name, and where in that file the text starts."""

    text: str
    shown: str
    first_line: int = 1
    #: Lines of the file (counted in the file) whose findings are not reported: template code was there.
    skip: frozenset[int] = frozenset()


def css_problems(source: Source) -> list[Problem]:
    """Return every problem WeasyPrint would meet in this CSS, in line order.

    Never raises for what the text holds: a text the parser cannot get through is one problem.
    """
    found: dict[tuple[int, str], Problem] = {}
    offset = source.first_line - 1
    unbalanced: set[int] = set()

    def add(line: int, message: str) -> None:
        line += offset
        if line not in source.skip:
            found.setdefault((line, message), Problem(source.shown, line, "", message))

    try:
        for line, message in _unbalanced(source.text):
            unbalanced.add(line)
            add(line, message)
        for line, message in _weasyprint_findings(source.text):
            if line not in unbalanced:  # what WeasyPrint makes of a line with a bracket missing only confuses
                add(line, message)
    except RecursionError:
        return [Problem(source.shown, None, "", "CSS nested too deeply to read")]
    except Exception as exc:  # noqa: BLE001 - hostile CSS is one problem, never a crash
        return [Problem(source.shown, None, "", f"cannot be read as CSS ({type(exc).__name__}: {exc})")]
    problems = [found[key] for key in sorted(found, key=lambda k: k[0])]
    if len(problems) > MAX_PER_FILE:
        rest = len(problems) - MAX_PER_FILE
        problems = [*problems[:MAX_PER_FILE], Problem(source.shown, None, "", f"{rest} more CSS problems not shown")]
    return problems


def _unbalanced(text: str) -> Iterator[tuple[int, str]]:
    """Yield the brackets that are never closed or never opened, and a comment never closed.

    The CSS parser closes what is still open at the end of the file without a word, so a missing
    `}` swallows every rule after it.
    """
    pairs = {"}": "{", ")": "(", "]": "["}
    closers = {v: k for k, v in pairs.items()}
    stack: list[tuple[str, int]] = []
    open_count = dict.fromkeys(closers, 0)  # so a stray closer is known without a walk down the stack
    line, i, n = 1, 0, len(text)
    while i < n:
        char = text[i]
        if char == "\n":
            line += 1
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                yield line, "comment is never closed (missing `*/`)"
                return
            line += text.count("\n", i, end)
            i = end + 2
            continue
        elif char == "\\":
            line += text.startswith("\n", i + 1)
            i += 2
            continue
        elif char in "\"'":
            end = i + 1
            while end < n and text[end] not in (char, "\n"):
                end += 2 if text[end] == "\\" else 1
            if end >= n or text[end] == "\n":
                yield line, f"string is never closed (missing `{char}`)"
            line += text.count("\n", i, min(end, n))
            i = end + 1 if end < n and text[end] == char else end
            continue
        elif char in closers:
            stack.append((char, line))
            open_count[char] += 1
        elif char in pairs:
            if open_count[pairs[char]]:
                while stack[-1][0] != pairs[char]:  # what opened inside is never closed
                    opener, where = stack.pop()
                    open_count[opener] -= 1
                    yield where, f"`{opener}` is never closed (missing `{closers[opener]}`)"
                stack.pop()
                open_count[pairs[char]] -= 1
            else:
                yield line, f"stray `{char}` with no `{pairs[char]}` before it"
        i += 1
    for opener, where in stack:
        yield where, f"`{opener}` is never closed (missing `{closers[opener]}`)"


def _weasyprint_findings(text: str) -> Iterator[tuple[int, str]]:
    """Yield (line, message) for every warning WeasyPrint logs reading this CSS, rule by rule."""
    import inspect

    import cssselect2  # type: ignore[import-untyped]
    import tinycss2
    from weasyprint.css import preprocess_stylesheet

    # By name: the arguments of this internal function have changed between WeasyPrint versions.
    wanted = set(inspect.signature(preprocess_stylesheet).parameters)

    later = False  # an @import after any other rule is ignored (WeasyPrint says so); a first one is not fetched
    for rule in tinycss2.parse_stylesheet(text):
        if rule.type in ("whitespace", "comment"):
            continue
        keyword = getattr(rule, "lower_at_keyword", None)
        if keyword == "color-profile" or (keyword == "import" and not later):
            continue  # these fetch files; a check fetches nothing
        later = later or keyword not in ("import", "layer")
        arguments = {"device_media_type": "print", "base_url": "file:///", "stylesheet_rules": [rule],
                     "url_fetcher": None, "matcher": cssselect2.Matcher(), "page_rules": [], "layers": [],
                     "font_config": None, "counter_style": {}, "color_profiles": {}, "ignore_imports": later}
        failed = None
        with css_warnings() as records:
            try:
                preprocess_stylesheet(**{k: v for k, v in arguments.items() if k in wanted})
            except RecursionError:
                raise
            except Exception as exc:  # noqa: BLE001 - the build fails on this rule too: say which
                failed = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        for record in records:
            yield _describe(record, rule.source_line)
        if failed:
            yield rule.source_line, f"WeasyPrint cannot read this rule ({failed})"


def _describe(record: logging.LogRecord, rule_line: int) -> tuple[int, str]:
    """Return the line and a plain message for one WeasyPrint record about a rule."""
    msg = str(record.msg)
    args: tuple[Any, ...] = record.args if isinstance(record.args, tuple) else ()
    if msg.startswith("Ignored `%s:%s` at %d:%d, %s") and len(args) == 5:
        name, value, line, _, reason = args
        value = " ".join(str(value).split())
        if reason == "unknown property":
            return line, f"unknown property {name}{_did_you_mean(name, _properties())}"
        if reason == "descriptor not supported":
            return line, f"unknown descriptor {name}{_did_you_mean(name, _descriptors())}"
        detail = "" if reason == "invalid value" else f" ({reason})"
        return line, f"invalid value for {name}: {value}{detail}"
    if "prefix on this attribute is not supported" in msg and len(args) == 5:
        return args[2], f"prefixed property {args[0]} is not supported; write {args[4]}"
    if msg.startswith(("Unknown rule %s", "Unknown empty rule %s")) and len(args) == 3:
        keyword = str(getattr(args[0], "at_keyword", "") or "")
        if not keyword:
            return args[1], "CSS syntax error: a rule without a selector or a { } block"
        if keyword.lower() in AT_RULES:
            return args[1], f"@{keyword} needs a {{ }} block"
        return args[1], f"unknown at-rule @{keyword}{_did_you_mean(keyword.lower(), AT_RULES, '@')}"
    if msg.startswith("Unknown @page rule %s") and len(args) == 3:
        keyword = str(getattr(args[0], "at_keyword", ""))
        return args[1], f"unknown @page margin box @{keyword}{_did_you_mean(keyword.lower(), MARGIN_BOXES, '@')}"
    if msg.startswith("Parse error at %d:%d: %s") and len(args) == 3:
        return args[0], f"CSS syntax error: {_plain_parse_error(str(args[2]))}"
    if msg.startswith("Error: %s at %d:%d") and len(args) == 3:
        return args[1], f"CSS syntax error: {_plain_parse_error(str(args[0]))}"
    if msg.startswith("Unsupported @page selector %r") and len(args) == 3:
        return args[1], f"unsupported @page selector {str(args[0]).strip()}"
    if msg.startswith("@import rule %r not at the beginning") and len(args) == 3:
        return args[1], "@import must come before every other rule; this one is ignored"
    if msg.startswith("Missing %s descriptor") and len(args) == 3:
        return args[1], f"@font-face without {args[0]} is ignored"
    if msg.startswith("Invalid or unsupported selector") and args:
        selector = " ".join(str(args[0]).strip("'\" ").split())
        return rule_line, f"invalid or unsupported selector {selector}" if selector else "a rule without a selector"
    text = record.getMessage()
    at = _AT.findall(text)
    return (int(at[-1]) if at else rule_line), f"ignored by WeasyPrint: {text.rstrip('.')}"


def _plain_parse_error(message: str) -> str:
    """Return tinycss2's parse error in plain words where one is known."""
    if message.startswith("EOF reached before {} block"):
        return "a selector or text with no { } block after it"
    return message.rstrip(".")


def _did_you_mean(name: str, known: tuple[str, ...] | frozenset[str], prefix: str = "") -> str:
    close = get_close_matches(name.lower(), sorted(known), n=1, cutoff=0.75)
    return f" (did you mean {prefix}{close[0]}?)" if close else ""


def _properties() -> frozenset[str]:
    from weasyprint.css.properties import KNOWN_PROPERTIES
    from weasyprint.css.validation.expanders import EXPANDERS

    return frozenset(KNOWN_PROPERTIES) | frozenset(EXPANDERS)


def _descriptors() -> frozenset[str]:
    from weasyprint.css.validation.descriptors import DESCRIPTORS

    return frozenset(DESCRIPTORS["font-face"])


def sources(workspace: Workspace) -> list[Source]:
    """Return the CSS a build of this workspace reads: stylesheets, then templates' <style> elements."""
    root = workspace.root
    found: list[Source] = []
    for name in STYLE_FILES:
        folder = next((d for d in workspace.search_path("styles") if os.path.lexists(d / name)), None)
        if folder is not None:
            _read(folder / name, folder, root, lambda text, shown: found.append(Source(text, shown)))
    for shown, path, folder in _templates(workspace):
        _read(path, folder, root, lambda text, shown: found.extend(_style_elements(text, shown)))
    return found


def _read(path: Path, folder: Path, root: Path, use: Callable[[str, str], object]) -> None:
    """Read one file inside its folder and hand its text on.

    A file that cannot be read (a link out of its folder, not UTF-8) is skipped: the renderer or
    the template loader, which read it for real, already fails with the reason.
    """
    try:
        text = contained(path, folder, root).read_text(encoding="utf-8")
    except (OutsideError, OSError, UnicodeDecodeError):
        return
    use(text, display_path(path, root))


def _templates(workspace: Workspace) -> list[tuple[str, Path, Path]]:
    """Return each template a build can use (the first of its name along the search path)."""
    seen: dict[str, tuple[str, Path, Path]] = {}
    for folder in workspace.search_path("templates"):
        for path in sorted(folder.rglob("*.html")):
            name = path.relative_to(folder).as_posix()
            seen.setdefault(name, (display_path(path, workspace.root), path, folder))
    return list(seen.values())


def _style_elements(template: str, shown: str) -> list[Source]:
    """Return the CSS of each <style> element of a template, with its template code blanked out.

    Template code ({{ ... }}, {% ... %}) becomes spaces (lines kept), and a finding on a line that
    held some is not reported: what it prints is only known per handout. Each search looks ahead
    once (str.find), so no template makes this slow.
    """
    found = []
    lower = template.lower()
    at, line, counted = 0, 1, 0
    while (start := lower.find("<style", at)) >= 0:
        if re.match(r"\w", lower[start + 6:start + 7]):  # <styles>, not <style>
            at = start + 6
            continue
        opened = lower.find(">", start)
        if opened < 0:  # no tag is ever closed after this one
            break
        end = lower.find("</style", opened)
        end = len(template) if end < 0 else end
        line += template.count("\n", counted, opened + 1)  # lines counted once, left to right
        counted = opened + 1
        css, skip = _blank_code(template[opened + 1:end], line)
        found.append(Source(css, shown, line, skip))
        at = end + 1
    return found


def _blank_code(css: str, first: int) -> tuple[str, frozenset[int]]:
    """Return css with template code turned into spaces (newlines kept), and the lines it was on."""
    parts: list[str] = []
    skip: set[int] = set()
    at, line = 0, first
    while (start := _JINJA_START.search(css, at)) is not None:
        close = css.find(_JINJA_END[start.group()], start.end())
        stop = len(css) if close < 0 else close + 2
        code = css[start.start():stop]
        line += css.count("\n", at, start.start())  # from the last code on, not from the start
        skip.update(range(line, line + code.count("\n") + 1))
        line += code.count("\n")
        parts.extend((css[at:start.start()], re.sub(r"[^\n]", " ", code)))
        at = stop
    parts.append(css[at:])
    return "".join(parts), frozenset(skip)


def style_problems(workspace: Workspace) -> list[Problem]:
    """Return the CSS problems of everything a build of this workspace reads, cached by content.

    The cache key covers the CSS itself, the package's code and the renderer's versions: the same
    text checked by the same WeasyPrint gives the same answer.
    """
    import hashlib
    import json

    from handouts.cache import Digests, cache_dir, code_files, load_json, renderer_fingerprint, save_json
    from handouts.load.summary import DIGESTS

    found = sources(workspace)
    digests = Digests(cache_dir(workspace.root) / DIGESTS)
    texts = hashlib.sha256(json.dumps([(s.text, s.shown, s.first_line, sorted(s.skip)) for s in found]).encode())
    key = digests.combined(code_files(), renderer_fingerprint(), texts.hexdigest())
    digests.save()
    store = cache_dir(workspace.root) / STYLES_CACHE
    known = load_json(store)
    if isinstance(known, dict) and known.get("key") == key and isinstance(known.get("problems"), list):
        try:
            return [Problem(str(f), _int(line), "", str(m)) for f, line, m in known["problems"]]
        except (TypeError, ValueError):
            pass  # a damaged cache is only ignored
    checked = [p for source in found for p in css_problems(source)]
    save_json(store, {"key": key, "problems": [(p.file, p.line, p.message) for p in checked]})
    return checked


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


STYLES_CACHE = "styles.json"
