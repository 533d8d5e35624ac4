"""Every shipped handout, in every length, language and paper size: rendered and inspected."""

from __future__ import annotations

import re
import subprocess
import unicodedata

import pytest

from handouts import Builder, Workspace, plan
from handouts.languages import text_direction
from handouts.planning import PAGE_BUDGET

from .conftest import REPO
from .pdfs import A4, LETTER, inspect_pdf

pytestmark = pytest.mark.catalog  # renders the whole shipped catalog

WORKSPACE = Workspace(REPO)
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
    from handouts.i18n import translations

    return translations(lang).gettext("Draft: not yet reviewed by a clinician.")


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
    page = ""
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
    import io

    from pypdf import PdfReader

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
