"""The worked examples of docs/templates.md work: each, copied into a new workspace, changes the PDF
as the page says, in English and Arabic, within the page budgets."""

from __future__ import annotations

import ctypes
import shutil
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest

from handouts import Builder, Job, Workspace
from handouts.scaffold import scaffold

from .conftest import REPO

EXAMPLES = REPO / "docs" / "examples"
#: The page margin at the top (styles/handout.css; 17 mm in large print): the running header is in it.
MM = 72 / 25.4


def header_band(job: Job) -> float:
    return (17 if job.large else 24) * MM

pytestmark = pytest.mark.slow


def workspace(tmp_path: Path, example: str | None) -> Builder:
    """Return a builder for a new workspace (handouts init) with one example's files copied in."""
    root = tmp_path / "ws"
    scaffold(root)
    if example is not None:
        shutil.copytree(EXAMPLES / example, root, dirs_exist_ok=True)
    return Builder(Workspace(root))


def build(builder: Builder, job: Job) -> pdfium.PdfDocument:
    """Render one handout, check it keeps its page budget, and open it with PDFium."""
    rendered = builder.render(job)
    assert rendered.pages <= job.budget, f"{job}: {rendered.pages} pages, over its budget ({job.budget_rule})"
    if job.length == "brief" and not job.large:
        assert rendered.pages == 1, job
    return pdfium.PdfDocument(rendered.pdf)


def text(pdf: pdfium.PdfDocument) -> str:
    """Return the text of every page as PDFium reads it, runs of white space made one space."""
    return " ".join(" ".join(page.get_textpage().get_text_range().split()) for page in pdf)


def header_line(page: pdfium.PdfPage, band: float = 24 * MM) -> str:
    """Return the characters drawn in the top margin, left to right as they are seen, without spaces."""
    height = page.get_size()[1]
    textpage = page.get_textpage()
    seen = []
    for index in range(textpage.count_chars()):
        left, _bottom, _right, top = textpage.get_charbox(index)
        char = textpage.get_text_range(index, 1)
        if height - top < band and char.strip():
            seen.append((left, char))
    return "".join(char for _, char in sorted(seen))


JOBS = {lang: Job("sciatica", "overview", "brief", lang, "letter") for lang in ("en", "ar")}


def header_lines(page: pdfium.PdfPage, band: float) -> list[str]:
    """Return the lines PDFium reads in the top margin, top first, letters and digits only."""
    width, height = page.get_size()
    found = page.get_textpage().get_text_bounded(left=0, bottom=height - band, right=width, top=height)
    lines = ("".join(ch for ch in line if ch.isalnum()) for line in found.splitlines())
    return [line for line in lines if line]


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_header_with_the_address_under_the_name(tmp_path, lang):
    builder = workspace(tmp_path, "header-address")
    clinic = builder.workspace.config.clinic
    assert clinic.address == "1 Main Street, Your Town"  # the address `handouts init` writes
    name, address, phone = ("".join(ch for ch in s if ch.isalnum()) for s in (clinic.name, clinic.address, clinic.phone or ""))
    for job in (JOBS[lang], Job("sciatica", "overview", "standard", lang, "letter"),
                Job("sciatica", "overview", "brief", lang, "letter", large=True)):
        pdf = build(builder, job)
        for page in pdf:
            lines = header_lines(page, header_band(job))
            # The name on a line of its own; under it the address then the phone, in reading order on
            # the Arabic page too, where without |ltr the street number would follow the street.
            at = next(i for i, line in enumerate(lines) if name in line)
            assert address not in lines[at], (job, lines)
            assert any(address in line and phone in line for line in lines[at + 1:]), (job, lines)


def test_without_the_example_the_address_is_beside_the_name(tmp_path):
    builder = workspace(tmp_path, None)
    clinic = builder.workspace.config.clinic
    lines = header_lines(build(builder, JOBS["en"])[0], header_band(JOBS["en"]))
    name, address = ("".join(ch for ch in s if ch.isalnum()) for s in (clinic.name, clinic.address or ""))
    assert any(name + address in line for line in lines), lines


def fill_colour(page: pdfium.PdfPage, needle: str) -> tuple[int, int, int]:
    """Return the fill colour PDFium reports for the first character of needle on page."""
    textpage = page.get_textpage()
    found = textpage.search(needle).get_next()
    assert found, needle
    r, g, b, a = (ctypes.c_uint() for _ in range(4))
    assert pdfium_c.FPDFText_GetFillColor(textpage.raw, found[0], r, g, b, a)
    return r.value, g.value, b.value


HEADING = (0x5B, 0x2A, 0x86)  # docs/examples/heading-colour/styles/custom.css
PRIMARY = (0x1D, 0x4E, 0x89)  # the colour `handouts init` gives headings


@pytest.mark.parametrize(("lang", "title", "section"), [("en", "Sciatica", "What helps"),
                                                        ("ar", "عرق النسا", None)])
def test_a_different_heading_colour(tmp_path, lang, title, section):
    plain = build(workspace(tmp_path / "plain", None), JOBS[lang])
    assert fill_colour(plain[0], title) == PRIMARY
    pdf = build(workspace(tmp_path / "example", "heading-colour"), JOBS[lang])
    assert fill_colour(pdf[0], title) == HEADING
    if section:
        assert section in text(pdf)
        assert fill_colour(pdf[0], section) == HEADING
    rg = "{:g} {:g} {:g} rg".format(*(round(c / 255, 6) for c in HEADING)).encode()
    assert rg in _content(pdf)
    assert rg not in _content(plain)


def _content(pdf: pdfium.PdfDocument) -> bytes:
    """Return the decompressed content streams of every page (the colour operators are in them)."""
    import io

    from pypdf import PdfReader

    buffer = io.BytesIO()
    pdf.save(buffer)
    return b"".join(page.get_contents().get_data() for page in PdfReader(buffer).pages)


BRING = {"en": ("Bring to your visit", "A list of all your medicines"),
         "ar": ("أحضر معك إلى موعدك", "قائمة بكل أدويتك")}


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_an_extra_box_through_a_block(tmp_path, lang):
    builder = workspace(tmp_path, "bring-box")
    words = text(build(builder, Job("sciatica", "overview", "detailed", lang, "letter")))
    for phrase in BRING[lang]:
        assert phrase in words, phrase
    assert words.index(BRING[lang][0]) < words.index("NHS"), "after the built-in boxes, before the sources"
    for job in (JOBS[lang], Job("sciatica", "overview", "standard", lang, "letter")):  # no room: left out
        assert BRING[lang][0] not in text(build(builder, job)), job


def images_in_header(page: pdfium.PdfPage, band: float = 24 * MM) -> list[tuple[int, int]]:
    """Return the pixel sizes of the images drawn in the top margin of page."""
    height = page.get_size()[1]
    sizes = []
    for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=4):
        _left, _bottom, _right, top = obj.get_bounds()
        if height - top < band:
            sizes.append(tuple(obj.get_px_size()))
    return sizes


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_a_second_logo(tmp_path, lang):
    assert images_in_header(build(workspace(tmp_path / "plain", None), JOBS[lang])[0]) == []  # its logo is an SVG
    builder = workspace(tmp_path / "example", "second-logo")
    for job in (JOBS[lang], Job("sciatica", "overview", "standard", lang, "a4")):
        pdf = build(builder, job)
        for page in pdf:
            assert images_in_header(page) == [(240, 120)], job  # data/assets/partner-logo.png
        assert "Your Clinic Name" in text(pdf)


def test_every_example_is_tested():
    assert sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir()) == [
        "bring-box", "header-address", "heading-colour", "second-logo"]
