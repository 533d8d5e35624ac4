"""Every shipped handout, in every length, language and paper size: rendered and inspected."""

from __future__ import annotations

import io
import os
import re
import subprocess
import unicodedata
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from handouts import Builder, Workspace, plan
from handouts.jobs.planning import PAGE_BUDGET
from handouts.load import yamlio
from handouts.load.catalog import REQUIRED_FILE
from handouts.load.languages import text_direction

from .conftest import REPO
from .pdfs import A4, LETTER, inspect_pdf

pytestmark = pytest.mark.catalog  # renders the whole shipped catalog

# HANDOUTS_SHIPPED_WORKSPACE runs these tests on another workspace, e.g. a scratch copy that holds
# only the languages you are working on.
WORKSPACE = Workspace(Path(os.environ.get("HANDOUTS_SHIPPED_WORKSPACE", REPO)))
JOBS = plan(WORKSPACE, papers=("letter", "a4"))
LARGE = plan(WORKSPACE, papers=("letter", "a4"), large_print=(True,))
def structure_tags(node) -> list[str]:
    """Return the structure element types of a PDF's structure tree, in reading order."""
    out: list[str] = []

    def walk(item) -> None:
        item = item.get_object() if hasattr(item, "get_object") else item
        if hasattr(item, "keys"):
            if item.get("/S") is not None:
                out.append(str(item["/S"]))
            kids = item.get("/K")
            for kid in kids if isinstance(kids, list) else [kids] if kids is not None else []:
                walk(kid)

    walk(node)
    return out


def letters(text: str) -> list[str]:
    """Return the runs of letters of text (no digits, punctuation or vowel marks)."""
    bare = "".join(ch for ch in unicodedata.normalize("NFKC", text) if unicodedata.category(ch) != "Mn")
    return re.findall(r"[^\W\d_]+", bare.replace("**", ""))


def draft_mark(lang: str) -> str:
    """Return the draft mark as the language's catalog words it."""
    from handouts.compose.i18n import translations

    return translations(lang).gettext("Draft: not yet reviewed by a clinician.")


# --- required safety phrases: data/topics/<topic>/required.yaml, one list per language ---

#: ICD-10-CM code prefixes of sciatica (M54.3x) and lumbago with sciatica (M54.4x): a topic given
#: for them carries the full emergency list on every handout.
SCIATICA_CODES = ("M54.3", "M54.4")


@cache
def required(topic: str) -> dict[str, Any] | None:
    """Return a topic's required.yaml (rules and per-language phrases), or None if it has none."""
    path = WORKSPACE.topics_dir / topic / REQUIRED_FILE
    return yamlio.load(path).data if path.is_file() else None


def sciatica_coded(topic: str) -> bool:
    return any(code.startswith(SCIATICA_CODES) for code in WORKSPACE.catalog.topics[topic].meta.codes)


def _normal(text: str) -> str:
    return unicodedata.normalize("NFKC", text.replace("**", "")).casefold()


def _latin(ch: str) -> bool:
    return ch.isalpha() and ord(ch) < 0x250


@cache
def _pattern(phrase: str) -> re.Pattern[str]:
    """Match phrase whatever the line breaks and spacing; a Latin letter at an edge ends a word."""
    chars = [c for c in _normal(phrase) if not c.isspace()]
    body = r"\s*".join(re.escape(c) for c in chars)
    start = r"(?<![^\W\d_])" if _latin(chars[0]) else ""
    end = r"(?![^\W\d_])" if _latin(chars[-1]) else ""
    return re.compile(start + body + end)


def has_phrase(text: str, entry: str | list[str], rtl: bool) -> bool:
    """Return whether the PDF text has the phrase (or, for a list, any one of the phrases)."""
    for phrase in [entry] if isinstance(entry, str) else entry:
        if rtl:  # pypdf gives the runs of a mixed right-to-left line out of order: every word, anywhere
            if set(letters(_normal(phrase))) <= set(letters(_normal(text))):
                return True
        elif _pattern(phrase).search(_normal(text)):
            return True
    return False


def rules_for(job) -> list[tuple[str, Any]]:
    """Return (rule, this language's phrases) for every rule of the job's topic that covers its kind."""
    spec = required(job.topic)
    if spec is None:
        return []
    mine = (spec.get("phrases") or {}).get(job.lang) or {}
    return [(name, mine.get(name)) for name, rule in spec["rules"].items()
            if rule["kinds"] == "all" or job.kind in rule["kinds"]]


def missing_required(job, text: str) -> list[str]:
    """List each required phrase of this handout's rules that its PDF text lacks."""
    rtl = text_direction(job.lang) == "rtl"
    missing = []
    for name, phrases in rules_for(job):
        if phrases is None:
            continue  # test_required_phrases_for_every_language fails for this language
        if isinstance(phrases, dict):  # {when, require}: only where a `when` phrase is printed
            if not any(has_phrase(text, w, rtl) for w in phrases["when"]):
                continue
            phrases = phrases["require"]
        missing.extend(f"{name}: {entry}" for entry in phrases if not has_phrase(text, entry, rtl))
    return missing


def test_every_sciatica_coded_topic_requires_the_emergency_list():
    for topic in WORKSPACE.catalog:
        if sciatica_coded(topic.id):
            spec = required(topic.id)
            assert spec is not None, f"data/topics/{topic.id}/{REQUIRED_FILE}: missing (sciatica-coded topic)"
            assert spec["rules"].get("emergency") == {"kinds": "all"}, f"{topic.id}: emergency rule must cover all kinds"


@pytest.mark.parametrize(
    ("topic", "lang"),
    [(t.id, lang) for t in WORKSPACE.catalog if required(t.id) is not None for lang in t.languages],
    ids=lambda v: str(v),
)
def test_required_phrases_for_every_language(topic, lang):
    spec = required(topic)
    mine = (spec.get("phrases") or {}).get(lang)
    where = f"data/topics/{topic}/{REQUIRED_FILE}"
    assert mine is not None, (
        f"{where}: no phrases for '{lang}'. Each language with a translation lists, in its own words, the "
        f"phrases its handouts must print (see the 'en' block); add them with the translation.")
    for name in spec["rules"]:
        phrases = mine.get(name)
        assert phrases, f"{where}: '{lang}' has no '{name}' phrases"
        entries = phrases["require"] if isinstance(phrases, dict) else phrases
        assert all(isinstance(e, str) or (isinstance(e, list) and e) for e in entries), f"{where}: {lang}.{name}"
    assert not set(mine) - set(spec["rules"]), f"{where}: '{lang}' has phrases for unknown rules"


def test_required_phrase_matching():
    assert has_phrase("Never put heat\non numb skin.", "numb skin", rtl=False)
    assert has_phrase("NUMBNESS in both\nlegs", "numbness in both legs", rtl=False)
    assert not has_phrase("the atlas of wheat", "heat", rtl=False)  # whole words only
    assert has_phrase("热敷袋请用毛\n巾包好", "毛巾包好", rtl=False)  # CJK lines break anywhere
    assert not has_phrase("热敷袋", "毛巾", rtl=False)
    assert has_phrase("call 911 now", ["dial 911", "call 911"], rtl=False)


@pytest.fixture(scope="module")
def builder() -> Builder:
    return Builder(WORKSPACE)


def squeeze(text: str) -> str:
    """Drop markup and all white space: line breaks fall anywhere, and CJK has no spaces."""
    return unicodedata.normalize("NFKC", re.sub(r"\s+", "", text.replace("**", "")))


@pytest.mark.parametrize("job", LARGE, ids=str)
def test_shipped_large_print_within_double_budget(builder, job):
    pages = len(builder.layout(job).pages)
    assert pages <= job.budget, f"{job}: {pages} pages, large-print budget {job.budget}"


def test_the_shipped_set_is_complete():
    made = {(j.topic, j.kind, j.lang) for j in JOBS}
    for kind in ("overview", "faq"):
        for lang in ("en", "es"):
            assert ("sciatica", kind, lang) in made
    assert {("kratom", "caution", "en"), ("kratom", "caution", "es")} <= made
    assert {j.length for j in JOBS} == {"brief", "standard", "detailed"}


@pytest.mark.parametrize("job", JOBS, ids=str)
def test_shipped_handout(builder, job):
    rendered = builder.render(job)
    facts = inspect_pdf(rendered.pdf)
    handout = WORKSPACE.catalog.topics[job.topic].handout(job.kind, job.lang)

    budget = PAGE_BUDGET[job.length]
    if job.length == "brief":
        assert facts.pages == 1, f"{job}: brief must be exactly one page, got {facts.pages}"
    else:
        assert facts.pages <= budget, f"{job}: {facts.pages} pages, budget {budget}"
    assert facts.size_pt == (A4 if job.paper == "a4" else LETTER)
    assert facts.title == handout.title and facts.lang == job.lang
    assert facts.author == "Riverbend Community Health"

    text = squeeze(facts.text)
    # The get-help-now box, whole, at every length.
    box = handout.get_help_now
    rtl = text_direction(job.lang) == "rtl"
    page = page_text = ""
    if rtl:  # pypdf gives the runs of a mixed right-to-left line out of order, and swaps the letters of
        # a lam-alef ligature (handouts/tounicode.py writes them for PDFium, pdf.js and pdftotext): check
        # every word is in pdftotext's text (test_arabic_text.py checks the reading order)
        page_text = subprocess.run(
            ["pdftotext", "-", "-"], input=rendered.pdf, capture_output=True, check=True, timeout=60
        ).stdout.decode()
        page = "".join(letters(page_text))
    for item in (box.intro, *box.items, *([box.note] if box.note else [])):
        if rtl:
            missing = {word for word in letters(item) if word not in page}
            assert not missing, f"{job}: warning box words missing: {missing}"
        else:
            assert squeeze(item) in text, f"{job}: warning box text missing: {item}"
    if job.topic == "sciatica" and job.lang == "en":
        assert "caudaequina" in text.lower()
    # The "call your care team today" box, whole, at every length wherever the handout has one;
    # and every safety phrase of the topic's required.yaml in this language (emergency list,
    # call-today signs, naloxone and 988, heat cautions wherever heat is mentioned).
    if handout.call_today is not None:
        from handouts.compose.i18n import translations

        heading = translations(job.lang).gettext("Call your care team today if")
        for item in (heading, *handout.call_today.items):
            if rtl:  # pdftotext's words (see above)
                assert all(word in page for word in letters(item)), f"{job}: call-today box text missing: {item}"
            else:
                assert squeeze(item) in text, f"{job}: call-today box text missing: {item}"
    # Right to left: pdftotext's text, where lam-alef ligatures read in logical order (handouts/tounicode.py)
    missing = missing_required(job, page_text if rtl else facts.text)
    assert not missing, f"{job}: required phrases missing from the PDF: {missing}"
    # A draft translation says so on every page, in its language (the footer), not only on page 1.
    if WORKSPACE.catalog.topics[job.topic].translation_status(job.lang) == "draft":
        from handouts.compose.i18n import translations

        notice = translations(job.lang).gettext("Translation not yet checked by a medical translator.")
        assert notice != "Translation not yet checked by a medical translator.", f"{job.lang}: notice not translated"
        pages = PdfReader(io.BytesIO(rendered.pdf)).pages
        for number, pdf_page in enumerate(pages, 1):
            on_page = pdf_page.extract_text()
            if rtl:
                on_page = "".join(letters(subprocess.run(
                    ["pdftotext", "-f", str(number), "-l", str(number), "-", "-"], input=rendered.pdf,
                    capture_output=True, check=True, timeout=60).stdout.decode()))
                assert all(w in on_page for w in letters(notice)), f"{job}: page {number} lacks {notice!r}"
            else:
                assert squeeze(notice) in squeeze(on_page), f"{job}: page {number} lacks {notice!r}"
    # Review status on the page, and sources where the length has room for them.
    mark = draft_mark(job.lang)
    if rtl:
        assert all(word in page for word in letters(mark)), f"{job}: no draft mark"
    else:
        assert squeeze(mark) in text, f"{job}: no draft mark"
    sources = [s for s in WORKSPACE.catalog.topics[job.topic].meta.sources if not s.kinds or job.kind in s.kinds]
    if job.length != "brief":
        for source in sources:
            assert source.url in text, f"{job}: source missing: {source.url}"
    # Accessible structure: tagged, one H1, headings without skipped levels, lists as lists.
    reader = PdfReader(io.BytesIO(rendered.pdf))
    root = reader.trailer["/Root"]
    assert bool(root["/MarkInfo"]["/Marked"]) and bool(root["/ViewerPreferences"]["/DisplayDocTitle"])
    tags = structure_tags(root["/StructTreeRoot"])
    levels = [int(t[2]) for t in tags if len(t) == 3 and t.startswith("/H") and t[2].isdigit()]
    assert levels[0] == 1 and levels.count(1) == 1, f"{job}: headings {levels}"
    assert all(b - a <= 1 for a, b in zip(levels, levels[1:], strict=False)), f"{job}: skipped level {levels}"
    assert "/L" in tags and tags.count("/LI") == tags.count("/LBody")
    if job.length == "brief":  # fonts are subset: a brief handout stays small
        limit = 400_000 if job.lang.split("-")[0] in ("zh", "ko", "ja") else 100_000
        assert len(rendered.pdf) <= limit, f"{job}: {len(rendered.pdf)} bytes, limit {limit}"
