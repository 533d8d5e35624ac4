"""docs/templates.md lists everything a template or style author can use, and nothing that is gone.

Each test reads the real thing (Jinja's own parse of the built-in templates, the context a real
handout gets, the sandbox's filters and globals, the classes and custom properties of the
built-in templates and styles) and names, on failure, exactly what to add to or remove from which
section of the docs page.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import tinycss2
from jinja2 import meta, nodes

from handouts import Builder, Job, Workspace
from handouts.compose.personal import Personal
from handouts.compose.plain import Record, _field_names, plain
from handouts.compose.qr import Link, link_for
from handouts.compose.select import View
from handouts.compose.templates import Composer
from handouts.load.config import Clinic
from handouts.load.workspace import builtin_dir

from .conftest import REPO

DOC = REPO / "docs" / "templates.md"
TEMPLATES = builtin_dir("templates")
STYLES = builtin_dir("styles")

#: The type behind each top-level record templates receive (walked for its fields, recursively).
RECORD_TYPES: dict[str, type] = {"h": View, "clinic": Clinic, "personal": Personal, "link": Link}


# --- the docs page, read as sections of backticked names ---------------------------------------

def doc_sections() -> list[tuple[int, str, str]]:
    """Return (level, heading, text under it up to the next heading) for every heading of the page."""
    text = DOC.read_text(encoding="utf-8")
    text = re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)  # code examples are not listings
    parts = re.split(r"^(#{2,4}) (.+)$", text, flags=re.M)
    return [(len(parts[i]), parts[i + 1].strip(), parts[i + 2]) for i in range(1, len(parts), 3)]


def section(title: str) -> str:
    """Return the text of the `## title` section, its subsections included."""
    found, out = False, []
    for level, heading, body in doc_sections():
        if level == 2:
            found = heading == title
        if found:
            out.append(f"{heading}\n{body}")
    assert out, f"docs/templates.md has no section '## {title}'"
    return "\n".join(out)


def row_names(text: str) -> set[str]:
    """Return the backticked names in the first cell of each table row of text."""
    return {m for m in re.findall(r"^\|\s*`([^`]+)`", text, flags=re.M)}


def mentioned(text: str) -> set[str]:
    """Return every backticked name in text."""
    return set(re.findall(r"`([^`\n]+)`", text))


def compare(kind: str, where: str, found: dict[str, str], listed: set[str]) -> None:
    """Fail with one line per name to add (found, not listed) or remove (listed, not found)."""
    lines = [f"docs/templates.md, section '{where}': add a row for `{name}` ({origin})"
             for name, origin in sorted(found.items()) if name not in listed]
    lines += [f"docs/templates.md, section '{where}': remove `{name}` (no {kind} of that name any more)"
              for name in sorted(listed - set(found))]
    assert not lines, "\n" + "\n".join(lines)


# --- the built-in templates, parsed by Jinja -----------------------------------------------------

def template_files() -> dict[str, Path]:
    return {p.relative_to(TEMPLATES).as_posix(): p for p in sorted(TEMPLATES.rglob("*.html"))}


@cache
def parsed() -> dict[str, nodes.Template]:
    """Return the built-in templates parsed by the sandbox environment (which knows their filters)."""
    env = Composer([TEMPLATES]).environment("en")
    return {name: env.parse(path.read_text(encoding="utf-8"), name, str(path))
            for name, path in template_files().items()}


@pytest.fixture(scope="module")
def builder() -> Builder:
    return Builder(Workspace(REPO))


def test_every_template_file_is_listed():
    found = {f"templates/{name}": "a built-in template" for name in template_files()}
    compare("template file", "Template files", found, row_names(section("Template files")))


def test_every_block_is_listed():
    found: dict[str, str] = {}
    for name, tree in parsed().items():
        for block in tree.find_all(nodes.Block):
            found.setdefault(block.name, f"a block of templates/{name}")
    compare("block", "Blocks", found, row_names(section("Blocks")))


def test_every_macro_is_listed_with_its_arguments():
    found: dict[str, str] = {}
    for name, tree in parsed().items():
        for macro in tree.find_all(nodes.Macro):
            args = ", ".join(a.name for a in macro.args)
            found[f"{macro.name}({args})"] = f"a macro of templates/{name}"
    compare("macro", "Macros", found, row_names(section("Macros")))


def test_every_filter_and_global_is_listed(builder):
    env = builder.composer.environment("en")
    found = {name: "a filter of the template sandbox" for name in env.filters}
    found.update({name: "a global of the template sandbox" for name in env.globals})
    listed = {name for name in mentioned(section("Filters and globals")) if re.fullmatch(r"[A-Za-z_]\w*", name)}
    compare("filter or global", "Filters and globals", found, listed)


def context_of(builder: Builder, job: Job) -> dict[str, Any]:
    return builder.template_context(job)


def test_every_variable_templates_receive_is_listed(builder):
    """The top-level names: the real context of a handout, and every name the templates read."""
    env = builder.composer.environment("en")
    found = {name: "in the context of every handout (handouts/jobs/pipeline.py template_context)"
             for name in context_of(builder, Job("sciatica", "overview", "standard", "en", "letter"))}
    for name, tree in parsed().items():
        declared = {n.name for n in tree.find_all(nodes.Name) if n.ctx == "store"}
        declared |= {n.target for n in tree.find_all(nodes.Import)}
        for variable in meta.find_undeclared_variables(tree):
            if variable not in env.globals and variable not in declared:
                found.setdefault(variable, f"read by templates/{name}")
    top_level = {name for name in row_names(section("Variables")) if "." not in name}
    compare("variable", "Variables", found, top_level)


def _records(annotation: Any) -> list[type]:
    """Return the record classes inside a type annotation (X | None, tuple[X, ...], Annotated[X, ...])."""
    if isinstance(annotation, type) and _field_names(annotation) is not None:
        return [annotation]
    return [cls for arg in typing.get_args(annotation) for cls in _records(arg)]


def _field_types(cls: type) -> dict[str, Any]:
    """Return each field and property of a record class with its annotation."""
    names = _field_names(cls) or ()
    hints = typing.get_type_hints(cls, include_extras=True) if dataclasses.is_dataclass(cls) else {}
    model_fields = getattr(cls, "model_fields", {})
    out = {}
    for name in names:
        if name in model_fields:
            out[name] = model_fields[name].annotation
        elif name in hints:
            out[name] = hints[name]
        else:
            prop = getattr(cls, name)
            out[name] = typing.get_type_hints(prop.fget).get("return") if isinstance(prop, property) else None
    return out


def record_fields() -> dict[str, dict[str, str]]:
    """Return, for the first path that reaches each record type, its fields: {"h.sections[]": {".id": ...}}."""
    out: dict[str, dict[str, str]] = {}
    seen: set[type] = set()
    queue: list[tuple[str, type]] = list(RECORD_TYPES.items())
    while queue:
        path, cls = queue.pop(0)
        if cls in seen:
            continue
        seen.add(cls)
        out[path] = {}
        for name, annotation in _field_types(cls).items():
            out[path][f".{name}"] = f"a field of {cls.__name__}"
            sequence = typing.get_origin(annotation) in (tuple, list) or any(
                typing.get_origin(a) in (tuple, list) for a in typing.get_args(annotation))
            queue.extend((f"{path}.{name}{'[]' if sequence else ''}", inner) for inner in _records(annotation))
    return out


def test_the_record_types_are_the_ones_templates_get(builder):
    """The walk above reads types; make sure they are what the real context holds."""
    job = Job("sciatica", "overview", "standard", "en", "letter")
    context = context_of(builder, job)
    for name, cls in RECORD_TYPES.items():
        value = context[name] if context[name] is not None else plain(link_for("https://example.org/x"))
        assert isinstance(value, Record)
        assert list(value) == list(_field_names(cls) or ()), name
    other = [name for name, value in context.items() if isinstance(value, Record) and name not in RECORD_TYPES]
    assert not other, f"tests/test_reference.py: add the type of {other} to RECORD_TYPES"


def test_every_field_of_every_record_is_listed():
    lines = []
    headings = [(heading, body) for _, heading, body in doc_sections()]
    variables = section("Variables")
    for path, fields in record_fields().items():
        under = [body for heading, body in headings if f"`{path}`" in heading]
        if not under:
            lines.append(f"docs/templates.md, section 'Variables': add a heading that names `{path}` "
                         f"with a row for each of its fields: {', '.join(f'`{f}`' for f in fields)}")
            continue
        listed = row_names(under[0])
        lines += [f"docs/templates.md, under the heading that names `{path}`: add a row for `{field}` ({why})"
                  for field, why in fields.items() if field not in listed]
        lines += [f"docs/templates.md, under the heading that names `{path}`: remove `{field}` (no such field)"
                  for field in sorted(listed - set(fields))]
    assert f"`{next(iter(record_fields()))}`" in variables
    assert not lines, "\n" + "\n".join(lines)


# --- classes and custom properties ---------------------------------------------------------------

_JINJA = re.compile(r"\{%.*?%\}|\{#.*?#\}", re.S)
_EXPRESSION = re.compile(r"\{\{.*?\}\}", re.S)


def template_classes() -> dict[str, str]:
    """Return the classes written in class="..." of the built-in templates (parts made by {{ }} left out)."""
    found: dict[str, str] = {}
    for name, path in template_files().items():
        source = _EXPRESSION.sub("\0", _JINJA.sub(" ", path.read_text(encoding="utf-8")))
        for value in re.findall(r'class="([^"]*)"', source):
            for token in value.split():
                if "\0" not in token:
                    found.setdefault(token, f"class=\"...\" in templates/{name}")
    return found


def rendered_classes(builder: Builder) -> dict[str, str]:
    """Return the classes in the HTML of real handouts: every kind, length, paper, print size and
    "For you" mode, so classes made by {{ }} (paper-a4, call-today, write-in ...) are found too."""
    jobs = [Job("sciatica", "overview", length, "en", paper, large)
            for length, paper, large in (("brief", "letter", False), ("standard", "a4", True), ("detailed", "letter", False))]
    jobs += [Job("sciatica", "faq", "standard", "ar", "letter"), Job("kratom", "caution", "standard", "en", "letter")]
    found: dict[str, str] = {}
    for index, job in enumerate(jobs):
        context = builder.template_context(job, Personal(patient_name="A. Patient") if index == 1 else None)
        if index == 0:
            context = {**context, "patient_box": "write-in", "link": plain(link_for("https://example.org/x"))}
        html = builder.composer.compose(job.lang, job.kind, context)
        for value in re.findall(r'class="([^"]*)"', html):
            for token in value.split():
                found.setdefault(token, f"in the HTML of {job}")
    return found


def css_classes() -> dict[str, str]:
    """Return the classes in the selectors of the built-in styles."""
    found: dict[str, str] = {}
    for path in sorted(STYLES.glob("*.css")):
        rules = tinycss2.parse_stylesheet(path.read_text(encoding="utf-8"), skip_comments=True, skip_whitespace=True)
        for rule in rules:
            if rule.type != "qualified-rule":
                continue
            tokens = rule.prelude
            for before, token in zip(tokens, tokens[1:], strict=False):
                if before.type == "literal" and before.value == "." and token.type == "ident":
                    found.setdefault(token.value, f"a selector in styles/{path.name}")
    return found


def test_every_css_class_is_listed(builder):
    found = {f".{name}": origin for name, origin in
             {**css_classes(), **rendered_classes(builder), **template_classes()}.items()}
    listed = {name for name in mentioned(section("CSS classes")) if re.fullmatch(r"\.[A-Za-z][\w-]*", name)}
    compare("class", "CSS classes", found, listed)


_CUSTOM_PROPERTY = re.compile(r"(?<![\w-])(--[A-Za-z][\w-]*)")


def test_every_custom_property_is_listed():
    found: dict[str, str] = {}
    for path in [*template_files().values(), *sorted(STYLES.glob("*.css"))]:
        for name in _CUSTOM_PROPERTY.findall(path.read_text(encoding="utf-8")):
            found.setdefault(name, f"used in {path.parent.name}/{path.name}")
    compare("custom property", "Custom properties", found, row_names(section("Custom properties")))


def test_running_elements_are_listed():
    """The page areas: every running element the styles define is named in the docs."""
    css = (STYLES / "handout.css").read_text(encoding="utf-8")
    found = {f"running({name})": "position: running() in styles/handout.css"
             for name in re.findall(r"running\((\w+)\)", css)}
    listed = {n for n in mentioned(section("Page areas")) if n.startswith("running(")}
    compare("running element", "Page areas", found, listed)


def test_the_ltr_filter_marks_text_left_to_right_and_escapes_it(builder):
    env = builder.composer.environment("ar")
    template = env.from_string("{{ phone|ltr }}|{{ none|ltr }}|{{ empty|ltr }}")
    assert template.render(phone="(555) <010>", none=None, empty="") == '<span dir="ltr">(555) &lt;010&gt;</span>||'


def test_the_readme_lists_the_same_blocks_as_the_docs():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    match = re.search(r"Blocks of `base.html`: (.+?)\.\s", readme, re.S)
    assert match, "README.md: the sentence 'Blocks of `base.html`: ...' is gone"
    in_readme = set(re.findall(r"`(\w+)`", match.group(1)))
    blocks = {b.name for b in parsed()["base.html"].find_all(nodes.Block)}
    assert in_readme == blocks, f"README.md, 'Blocks of `base.html`': add {sorted(blocks - in_readme)}, " \
                                f"remove {sorted(in_readme - blocks)}"


def test_the_readme_and_the_workspace_readme_point_to_the_docs_page():
    from handouts.scaffold import TEMPLATES_README

    assert "docs/templates.md" in (REPO / "README.md").read_text(encoding="utf-8")
    assert "docs/templates.md" in TEMPLATES_README


def test_the_worked_examples_are_shown_as_they_are_tested():
    """Every text file of docs/examples/ is on the docs page word for word, under its own path."""
    page = DOC.read_text(encoding="utf-8")
    for path in sorted((REPO / "docs" / "examples").rglob("*")):
        if path.is_file() and path.suffix in (".html", ".css"):
            name = path.relative_to(REPO).as_posix()
            assert f"`{name}`:" in page, f"docs/templates.md: show {name} under 'Worked examples'"
            assert path.read_text(encoding="utf-8") in page, f"docs/templates.md: {name} differs from the file"
