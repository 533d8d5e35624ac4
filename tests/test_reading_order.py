"""A right-to-left line's runs drawn in reading order (handouts/render/runs.py, issue 15).

pdf.js gives a line's text items in the order they are drawn; WeasyPrint drew a right-to-left
line with a Latin word or a bracket (a second font) left to right, so its pieces came out in
visual order. Rendered for real: the same HTML with plain WeasyPrint and with the wrapper
installed, each in its own process, read by pdf.js and drawn by poppler.
"""

from __future__ import annotations

import re

import pytest

from .test_arabic_text import comparable, pdfjs
from .test_raised_marks import beyond_one_pixel, content, page, raster, render

#: Sentences whose lines mix Arabic with brackets, a Latin word and digits (the Latin letters and
#: the brackets come from Noto Sans: the line has two fonts).
SENTENCES = [
    "خط مساعدة السموم (الولايات المتحدة): اطلب الرعاية الطبية فورًا.",
    "تحتوي أوراقها على مادة الميتراجينين ومادة 7-OH.",
    "هل الكراتوم (kratom) آمن لعلاج ألم عرق النسا؟",
]
ARABIC = " ".join(SENTENCES)


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory) -> dict[str, object]:
    html = page(ARABIC)
    folder = tmp_path_factory.mktemp("order")
    out = {}
    for name, mode in (("plain", "plain"), ("before", "tounicode+raised"), ("runs", "tounicode+raised+runs")):
        (folder / f"{name}.pdf").write_bytes(render(mode, html))
        out[name] = folder / f"{name}.pdf"
    return out


def test_pdfjs_reads_the_sentences_in_order(pdfs):
    text = comparable(pdfjs(pdfs["runs"]))
    assert [s for s in SENTENCES if comparable(s) not in text] == []


def test_pdfjs_read_them_out_of_order_as_weasyprint_draws_them(pdfs):
    """What the wrapper changes: without it (the other text-layer fixes in), pdf.js loses them."""
    text = comparable(pdfjs(pdfs["before"]))
    assert [s for s in SENTENCES if comparable(s) not in text] != []


def test_only_the_order_of_the_text_operators_changes(pdfs):
    plain, ordered = (content(path.read_bytes()) for path in (pdfs["before"], pdfs["runs"]))
    assert plain != ordered
    arrays = re.compile(rb"\[(.*?)\] TJ", re.S)
    assert sorted(arrays.findall(plain)) == sorted(arrays.findall(ordered))


@pytest.mark.slow
def test_the_page_looks_the_same(pdfs, tmp_path):
    plain, ordered = (raster(path.read_bytes(), tmp_path) for path in (pdfs["plain"], pdfs["runs"]))
    assert beyond_one_pixel(plain, ordered) == 0 and beyond_one_pixel(ordered, plain) == 0


def test_left_to_right_text_is_byte_identical():
    html = page("Poison Help (US): call 1-800-222-1222. Kratom (Mitragyna speciosa) is a tree.", lang="en")
    assert render("plain", html) == render("tounicode+raised+runs", html)


def test_install_is_idempotent_and_checks_weasyprint():
    import weasyprint.draw.text as text

    from handouts.render import runs

    runs.install()
    wrapped = text.draw_first_line
    runs.install()
    assert text.draw_first_line is wrapped and getattr(wrapped, "_handouts_reading_order", False)
