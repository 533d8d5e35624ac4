"""Nothing written is silently ignored: every field of the schema prints, is documented, or is rejected.

The test walks the pydantic models of topic.yaml, <lang>.yaml and handouts.yaml. Every field it
finds must be either
- PRINTED: filled below with a marker, and the marker is found in the text of real PDFs of every
  shipped kind (and of a workspace's own kind), at the length named; or
- documented in the README's table "Fields that print no text" (which this test reads), with its
  purpose.
Anything else is rejected: every model forbids unknown fields.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from handouts import Builder, Workspace
from handouts.jobs.planning import Job
from handouts.load.config import Config
from handouts.load.model import Block, LanguageFile, TopicMeta

from .conftest import REPO
from .pdfs import inspect_pdf

FILES: dict[str, type[BaseModel]] = {"topic.yaml": TopicMeta, "<lang>.yaml": LanguageFile, "handouts.yaml": Config}
SHIPPED_KINDS = ("overview", "faq", "caution")
#: A workspace's own kind: it fills only `body`, like the README says; base.html does the rest.
OWN_KIND = "leaflet"
OWN_KIND_TEMPLATE = """\
{% extends "base.html" %}
{% block body %}{% for s in h.sections %}<section id="{{ s.id }}"><h2>{{ s.heading }}</h2>{{ ui.blocks(s.blocks) }}</section>{% endfor %}{% endblock %}
"""
KINDS = (*SHIPPED_KINDS, OWN_KIND)
#: The block kinds this test knows how to fill; a new one (a figure...) must be added here.
BLOCK_KINDS = {"p": "a paragraph", "ul": "bullets", "ol": "steps"}
#: Block kinds that are records of their own (walked field by field): a picture.
BLOCK_RECORDS = {"figure": "a picture"}


def walk(model: type[BaseModel], prefix: str = "") -> Iterator[str]:
    """Yield the path of every field under model: `sections[].blocks[].p`, `handouts.<kind>.title`."""
    if model is Block:
        unknown = sorted(set(Block.model_fields) - {"lengths", *BLOCK_KINDS, *BLOCK_RECORDS})
        assert not unknown, (
            f"Block has new fields {unknown} this test cannot fill: add each block kind to BLOCK_KINDS and a block "
            f"of it to handout() in {Path(__file__).name} (a marker that must show in the PDF's text, or its alt text)"
        )
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        models = list(_models(info.annotation, path))
        if not models:
            yield path
        for sub, subpath in models:
            yield from walk(sub, subpath + ".")


def _models(annotation: Any, path: str) -> Iterator[tuple[type[BaseModel], str]]:
    """Yield the models inside a field's type, with the path their fields hang under."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation, path
        return
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        yield from _models(args[0], path)
    elif origin in (typing.Union, types.UnionType):
        for arg in args:
            yield from _models(arg, path)
    elif origin is tuple:
        yield from _models(args[0], path + "[]")
    elif origin is dict:
        key = "<kind>" if path.endswith("handouts") else "<lang>"
        yield from _models(args[1], f"{path}.{key}")


def schema_paths() -> list[str]:
    """Return `file: path` for every field of every file."""
    return [f"{file}: {path}" for file, model in FILES.items() for path in walk(model)]


# --- what is documented --------------------------------------------------------------------------

TABLE_HEADING = "### Fields that print no text"


def documented() -> dict[str, str]:
    """Return the README table's rows: `file: field` -> its purpose."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert TABLE_HEADING in text, f"README.md has no section '{TABLE_HEADING}'"
    section = text.split(TABLE_HEADING, 1)[1].split("\n## ", 1)[0].split("\n### ", 1)[0]
    rows = re.findall(r"^\| `([^`]+)` \| (.+?) \|$", section, re.M)
    assert rows, f"README.md '{TABLE_HEADING}' has no rows like | `file: field` | what it is for |"
    return dict(rows)


def documents(row: str, path: str) -> bool:
    """Return whether a README row names path: exactly, as a parent (`check`), or anywhere (`…lengths`)."""
    row_file, row_field = row.split(": ", 1)
    file, field = path.split(": ", 1)
    if row_file != file:
        return False
    if row_field.startswith("…"):
        return field.endswith("." + row_field[1:]) or field == row_field[1:]
    return field == row_field or field.startswith(row_field + ".")


# --- what is printed: a workspace with a marker in every printed field ---------------------------

def mark(kind: str, name: str) -> str:
    """Return a marker word no handout prints by itself (no hyphen: it never wraps)."""
    return f"Zq{kind.capitalize()}{name}"


def blocks(kind: str, name: str) -> list[dict[str, Any]]:
    return [
        {"p": mark(kind, f"{name}P")},
        {"ul": [mark(kind, f"{name}Ul1"), mark(kind, f"{name}Ul2")]},
        {"ol": [mark(kind, f"{name}Ol1"), mark(kind, f"{name}Ol2")]},
        # A figure's caption and key sit in a narrow column beside the picture: short markers, unbroken.
        {"figure": {"src": "zq.svg", "alt": mark(kind, f"{name}Alt"), "caption": f"Zq{kind[:2]}{name[0]}Cap",
                    "key": [f"Zq{kind[:2]}{name[0]}K1", f"Zq{kind[:2]}{name[0]}K2"]}},
    ]


def handout(kind: str) -> dict[str, Any]:
    return {
        "title": mark(kind, "Title"),
        "summary": mark(kind, "Summary"),
        "get_help_now": {"intro": mark(kind, "HelpIntro"), "items": [mark(kind, "HelpItem")],
                         "note": mark(kind, "HelpNote")},
        "sections": [{"id": "first", "heading": mark(kind, "Heading"), "blocks": blocks(kind, "Section")}],
        "faq": [{"id": "asked", "question": mark(kind, "Question"), "answer": blocks(kind, "Answer")}],
        "call_today": {"intro": mark(kind, "TodayIntro"), "items": [mark(kind, "TodayItem")]},
        "call_care_team": {"intro": mark(kind, "CareIntro"), "items": [mark(kind, "CareItem")]},
        "questions": {"intro": mark(kind, "AskIntro"), "items": [mark(kind, "AskItem")]},
    }


TOPIC = {
    "name": "Marked topic",
    "links": {"en": "https://zqlinks.example/topic"},
    "source_language": "en",
    "codes": ["M54.31"],
    "updated_on": "2029-07-15",
    "review": {"status": "reviewed", "reviewed_by": "ZqReviewer", "reviewed_on": "2030-03-09",
               "next_review_due": "2031-03-09"},
    "sources": [{"title": "ZqSourceTitle", "publisher": "ZqPublisher", "short": "ZqShort",
                 "url": "https://zqurl.example/page", "accessed": "2028-05-06"}],
}
LANGUAGE = {"language": "en", "handouts": {kind: handout(kind) for kind in KINDS}}
CONFIG = {
    "clinic": {
        "name": "ZqClinicName", "phone": "(555) 010-0177", "address": "ZqAddress Street",
        "website": "zqwebsite.example", "footer": {"en": "ZqFooterLine"},
        "handout_url": "https://zq.example/{topic}",
    },
}
#: A second topic without links, so the clinic's handout_url prints (a topic's own link wins).
UNLINKED = "plain"

#: Printed fields: `file: path` -> (the length whose PDF shows it, the text expected, or None for
#: the field's own value(s)). Fields of a handout are checked in their kind's PDF; the rest in
#: every kind's.
PRINTED: dict[str, tuple[str, str | None]] = {
    "topic.yaml: links": ("brief", "zqlinks.example/topic"),
    "topic.yaml: updated_on": ("brief", "Updated July 2029."),
    "topic.yaml: review.reviewed_by": ("brief", "Reviewed by ZqReviewer"),
    "topic.yaml: review.reviewed_on": ("brief", "on March 9, 2030."),
    "topic.yaml: sources[].title": ("detailed", None),
    "topic.yaml: sources[].publisher": ("detailed", None),
    "topic.yaml: sources[].short": ("brief", None),
    "topic.yaml: sources[].url": ("detailed", None),
    "topic.yaml: sources[].accessed": ("detailed", "All pages accessed May 6, 2028."),
    "handouts.yaml: clinic.name": ("brief", None),
    "handouts.yaml: clinic.phone": ("brief", None),
    "handouts.yaml: clinic.address": ("brief", None),
    "handouts.yaml: clinic.website": ("brief", None),
    "handouts.yaml: clinic.footer": ("brief", "ZqFooterLine"),
    "handouts.yaml: clinic.handout_url": ("brief", "zq.example/plain"),
    **{f"<lang>.yaml: handouts.<kind>.{path}": ("brief", None) for path in (
        "title", "summary", "get_help_now.intro", "get_help_now.items", "get_help_now.note",
        "sections[].heading", "faq[].question", "call_today.intro", "call_today.items",
        "call_care_team.intro", "call_care_team.items", "questions.intro", "questions.items",
        *(f"{parent}[].{name}" for parent in ("sections[].blocks", "faq[].answer")
          for name in (*BLOCK_KINDS, "figure.caption", "figure.key")),
    )},
}


def values(data: Any, path: str) -> list[str]:
    """Return the marker values at path (`sections[].blocks[].ul`) in data."""
    found = [data]
    for step in path.split("."):
        name, many = step.removesuffix("[]"), step.endswith("[]")
        found = [item[name] for item in found if name in item]
        if many:
            found = [x for item in found for x in item]
    flat = [x for item in found for x in (item if isinstance(item, list) else [item])]
    assert flat and all(isinstance(x, str) for x in flat), f"{path}: no marker in the test's workspace"
    return flat


@cache
def texts(root: Path) -> dict[tuple[str, str, str], str]:
    """Render each kind at brief and detailed (and the unlinked topic's brief) and return their text."""
    builder = Builder(Workspace(root))
    jobs = [Job("marked", kind, length, "en", "letter") for kind in KINDS for length in ("brief", "detailed")]
    jobs += [Job(UNLINKED, kind, "brief", "en", "letter") for kind in KINDS]
    # A web address under a QR code wraps after a slash: the extracted text has a space there.
    return {(job.topic, job.kind, job.length): re.sub(r"/ ", "/", inspect_pdf(builder.render(job).pdf).text)
            for job in jobs}


@pytest.fixture(scope="module")
def marked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("marked")
    unlinked = {k: v for k, v in TOPIC.items() if k != "links"}
    for rel, data in (("handouts.yaml", CONFIG), ("data/topics/marked/topic.yaml", TOPIC),
                      ("data/topics/marked/en.yaml", LANGUAGE), (f"data/topics/{UNLINKED}/topic.yaml", unlinked),
                      (f"data/topics/{UNLINKED}/en.yaml", LANGUAGE)):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    (root / "data/assets").mkdir(parents=True)
    (root / "data/assets/zq.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40"><circle cx="20" cy="20" r="15"/></svg>',
        encoding="utf-8")
    (root / "templates/kinds").mkdir(parents=True)
    (root / f"templates/kinds/{OWN_KIND}.html").write_text(OWN_KIND_TEMPLATE, encoding="utf-8")
    return root


# --- the tests -----------------------------------------------------------------------------------

def test_every_field_is_printed_or_documented():
    rows = documented()
    left = [path for path in schema_paths() if path not in PRINTED and not any(documents(r, path) for r in rows)]
    assert not left, (
        f"fields neither printed nor documented: {', '.join(left)}. Print each (in templates/, and add a marker to "
        f"PRINTED in {Path(__file__).name}), or add a row with its purpose to README.md's table "
        f"'{TABLE_HEADING}', or reject it with a clear error"
    )


def test_the_lists_name_only_fields_that_exist():
    paths = schema_paths()
    stale = [p for p in PRINTED if p not in paths] + [r for r in documented() if not any(documents(r, p) for p in paths)]
    assert not stale, f"no such field in the schema: {', '.join(stale)}"
    both = [p for p in PRINTED if any(documents(r, p) for r in documented())]
    assert not both, f"both printed and in README's table of fields that print no text: {', '.join(both)}"


def test_every_model_rejects_unknown_fields():
    def models(model: type[BaseModel]) -> Iterator[type[BaseModel]]:
        yield model
        for name, info in model.model_fields.items():
            for sub, _ in _models(info.annotation, name):
                yield from models(sub)

    lax = sorted({m.__name__ for root in FILES.values() for m in models(root) if m.model_config.get("extra") != "forbid"})
    assert not lax, f"these models accept unknown fields silently: {', '.join(lax)}"


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("path", sorted(PRINTED))
def test_printed_field_shows_in_the_pdf(marked, kind, path):
    length, expected = PRINTED[path]
    file, field = path.split(": ", 1)
    topic = UNLINKED if field == "clinic.handout_url" else "marked"
    if file == "<lang>.yaml":
        wanted = values(LANGUAGE["handouts"][kind], field.removeprefix("handouts.<kind>."))
    else:
        wanted = [expected] if expected else values({"topic.yaml": TOPIC, "handouts.yaml": CONFIG}[file], field)
    text = texts(marked)[(topic, kind, length)]
    missing = [w for w in wanted if w not in text]
    assert not missing, f"{path}: {missing} not in the text of the {kind} {length} handout"


@pytest.mark.slow
def test_a_marker_that_is_not_printed_is_not_found(marked):
    """The check above can fail: a field of a length that is not built is not in the text."""
    assert mark("overview", "Title") not in texts(marked)[("marked", "faq", "brief")]
    assert "ZqShort" not in texts(marked)[("marked", "overview", "detailed")]  # detailed names publishers in full
