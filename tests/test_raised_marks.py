"""Raised vowel marks drawn on their line (handouts/render/raised.py, issue 15).

WeasyPrint writes a mark's vertical offset as text rise (Ts), and PDF readers then set the mark
apart from its word. handouts draws it as a copy of the glyph moved up, in the same text operator.
These tests render for real: the same HTML with plain WeasyPrint and with the wrappers installed
(each in its own process), and an Arabic handout through the Builder.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from fontTools.pens.recordingPen import DecomposingRecordingPen
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from .conftest import REPO

FONTS = REPO / "styles" / "fonts"
#: Glyphs in Noto Sans Arabic (Regular and Bold): copies are numbered from here on.
ARABIC_GLYPHS = 1648
#: Marks over and under letters of several heights, and a shadda with a fatha.
ARABIC = "ابقَ نشيطًا فورًا. لا تلوِ جسمك. مخدَّر، أبعِدها عن الأطفال."
_CHILD = """
import sys
import weasyprint
from handouts.render import raised, runs, tounicode
modes = sys.argv[1].split("+")
for module in (tounicode, raised, runs):
    if module.__name__.rsplit(".", 1)[1] in modes:
        module.install()
if "misplaced" in modes:  # a test of the test: every raised mark 0.5 units too high
    raised.install()
    place = raised.raised_glyph
    raised.raised_glyph = lambda font, glyph, rise, size, *rest: place(font, glyph, rise + 0.5, size, *rest)
html = sys.argv[2]
sys.stdout.buffer.write(weasyprint.HTML(string=html, base_url=sys.argv[3]).write_pdf())
"""


def page(text: str, lang: str = "ar", size: str = "16pt") -> str:
    family = "Noto Sans Arabic" if lang == "ar" else "Noto Sans"
    return f"""<html lang="{lang}" dir="{'rtl' if lang == 'ar' else 'ltr'}"><head><style>
@font-face {{ font-family: "Noto Sans Arabic"; src: url(NotoSansArabic-Regular.ttf); }}
@font-face {{ font-family: "Noto Sans Arabic"; src: url(NotoSansArabic-Bold.ttf); font-weight: 700; }}
@font-face {{ font-family: "Noto Sans"; src: url(NotoSans-Regular.ttf); }}
body {{ font-family: "{family}"; font-size: {size}; }}
</style></head><body><p>{text}</p><p><b>{text}</b></p><p style="font-size: 9pt">{text}</p></body></html>"""


def render(mode: str, html: str) -> bytes:
    return subprocess.run(
        [sys.executable, "-c", _CHILD, mode, html, str(FONTS) + "/"],
        capture_output=True, check=True, timeout=120, cwd=REPO,
    ).stdout


def content(pdf: bytes) -> bytes:
    return b"".join(p.get_contents().get_data() for p in PdfReader(io.BytesIO(pdf)).pages)


def raster(pdf: bytes, tmp: Path) -> Any:
    """Page 1 in grey at 400 dpi, drawn by poppler (pdftoppm)."""
    from PIL import Image

    if shutil.which("pdftoppm") is None:
        pytest.fail("pdftoppm is not available (install poppler-utils)")
    (tmp / "in.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "400", "-gray", "-f", "1", "-l", "1", "-singlefile", str(tmp / "in.pdf"),
                    str(tmp / "out")], check=True, timeout=120)
    return Image.open(tmp / "out.pgm").copy()


def beyond_one_pixel(image: Any, other: Any) -> int:
    """How far image falls outside the darkest and lightest of other's pixels one pixel around."""
    from PIL import ImageChops, ImageFilter

    low, high = other.filter(ImageFilter.MinFilter(3)), other.filter(ImageFilter.MaxFilter(3))
    return max(ImageChops.subtract(low, image).getextrema()[1], ImageChops.subtract(image, high).getextrema()[1])


@pytest.fixture(scope="module")
def arabic() -> tuple[bytes, bytes]:
    html = page(ARABIC)
    return render("plain", html), render("raised", html)


def test_marks_are_drawn_without_text_rise(arabic):
    plain, raised = arabic
    assert b" Ts" in content(plain)  # WeasyPrint raises these marks: the test would see a regression
    assert b" Ts" not in content(raised)


@pytest.mark.slow
def test_marks_land_where_text_rise_put_them(arabic, tmp_path):
    """The page looks the same: at 400 dpi every pixel of one is within a pixel (0.06 pt) of the other.

    Drawn by poppler, which follows the PDF specification for both. (PDFium, Chrome's engine, drew
    the letters after "فورًا." 3 pixels off in plain WeasyPrint's PDF, where a kerning number ends a
    TJ before a risen mark; 1 pixel off, antialiasing, with the mark in the same TJ.)
    """
    plain, raised = raster(arabic[0], tmp_path), raster(arabic[1], tmp_path)
    assert plain.size == raised.size
    assert beyond_one_pixel(plain, raised) == 0 and beyond_one_pixel(raised, plain) == 0


@pytest.mark.slow
def test_one_pixel_is_a_test_that_can_fail(arabic, tmp_path):
    """The measure above sees every mark drawn 0.5 text units (0.375 pt, 2 pixels) too high."""
    misplaced = render("misplaced", page(ARABIC))
    assert beyond_one_pixel(raster(misplaced, tmp_path), raster(arabic[0], tmp_path)) > 64


def test_the_copies_are_glyphs_of_the_font_moved(arabic):
    """Each added glyph is a glyph of the font moved (up or down, and a mark sideways), nothing else."""
    reader = PdfReader(io.BytesIO(arabic[1]))
    copies = 0
    for font in reader.pages[0]["/Resources"]["/Font"].values():
        font = font.get_object()
        descendant = font["/DescendantFonts"][0].get_object()
        data = descendant["/FontDescriptor"]["/FontFile2"].get_object().get_data()
        ttf = TTFont(io.BytesIO(data))
        order, glyphs = ttf.getGlyphOrder(), ttf.getGlyphSet()
        outlines = {}
        for gid, name in enumerate(order):
            pen = DecomposingRecordingPen(glyphs)
            glyphs[name].draw(pen)
            outlines[gid] = pen.value
        used = {int(cid, 16) for cid in _cids(content(arabic[1]))}
        for gid in sorted(g for g in used if ARABIC_GLYPHS <= g < len(order)):
            sources = [s for s in range(1, min(ARABIC_GLYPHS, len(order))) if _shift(outlines[s], outlines[gid])]
            assert sources, f"glyph {gid} is not a glyph of the font moved"
            copies += 1
    assert copies >= 4


def _cids(stream: bytes) -> set[str]:
    import re

    return {m for array in re.findall(rb"\[(.*?)\] TJ", stream, re.S)
            for m in re.findall(r"[0-9a-f]{4}", b"".join(re.findall(rb"<([0-9a-f]*)>", array)).decode())}


def _shift(original: list, moved: list) -> tuple[float, float] | None:
    """The move that turns original into moved (one for every point), or None if none does."""
    if len(original) != len(moved) or not original:
        return None
    shifts = set()
    for (op, points), (op2, points2) in zip(original, moved, strict=True):
        if op != op2 or len(points) != len(points2):
            return None
        shifts |= {(x2 - x, y2 - y) for (x, y), (x2, y2) in zip(points, points2, strict=True)}
    return shifts.pop() if len(shifts) == 1 and (0, 0) not in shifts else None


def test_text_without_raised_glyphs_is_byte_identical():
    html = page("Sciatica is pain that runs from the lower back down one leg.", lang="en")
    assert render("plain", html) == render("raised", html)


def _font(**fields: Any) -> types.SimpleNamespace:
    """What raised.py reads of a WeasyPrint Font, for Noto Sans Arabic (1648 glyphs)."""
    data = (FONTS / "NotoSansArabic-Regular.ttf").read_bytes()
    base = dict(tables=["glyf"], bitmap=False, png=False, svg=False, colr=False, upem=1000,
                glyph_count=ARABIC_GLYPHS, missing={}, file_content=data, index=0, widths={})
    return types.SimpleNamespace(**{**base, **fields})


def test_a_font_without_outlines_to_copy_keeps_its_text_rise():
    from handouts.render.raised import raised_glyph

    assert raised_glyph(_font(tables=["CFF "]), 12, 2.5, 10) is None
    font = _font()
    assert raised_glyph(font, 12, 0.001, 10) == 12  # under half a font unit: drawn where it is
    first = raised_glyph(font, 12, 2.5, 10)
    assert first == ARABIC_GLYPHS and raised_glyph(font, 12, 2.5, 10) == first
    assert raised_glyph(font, 13, 2.5, 10) == ARABIC_GLYPHS + 1


def test_a_font_fonttools_cannot_read_keeps_its_text_rise():
    """A damaged font (a workspace's own, say) is drawn as WeasyPrint draws it, never half copied."""
    from handouts.render.raised import mark_copy, raised_glyph

    damaged = _font(file_content=b"\x00\x01\x00\x00" + b"\xff" * 200)
    assert raised_glyph(damaged, 12, 2.5, 10) is None and mark_copy(damaged, 12, 2.5, 10, 300) is None
    assert raised_glyph(_font(), ARABIC_GLYPHS + 5, 2.5, 10) is None  # no such glyph in the file


def test_missing_glyph_ids_skip_the_copies():
    """WeasyPrint numbers glyphs missing from a font after its own; copies must not share those ids."""
    from weasyprint.pdf.fonts import Font

    from handouts.render import raised

    raised.install()
    font = _font()
    copy = raised.raised_glyph(font, 12, 2.5, 10)
    assert Font.get_unused_glyph_id(font, 0x1F600) == copy + 1
    assert raised.raised_glyph(font, 13, 2.5, 10) == copy + 2


def test_install_is_idempotent_and_checks_weasyprint():
    from weasyprint.pdf.fonts import Font
    from weasyprint.pdf.stream import Stream

    from handouts.render import raised

    raised.install()
    wrapped = (Stream.set_text_rise, Stream.show_text, Font.clean, Font.get_unused_glyph_id)
    raised.install()
    assert (Stream.set_text_rise, Stream.show_text, Font.clean, Font.get_unused_glyph_id) == wrapped
    assert all(getattr(f, "_handouts_raised_marks", False) for f in wrapped)


def test_an_arabic_handout_has_no_text_rise():
    from handouts import Builder, Workspace, plan

    workspace = Workspace(REPO)
    (job,) = plan(workspace, topics=("sciatica",), kinds=("overview",), lengths=("brief",), langs=("ar",),
                  papers=("letter",))
    pdf = Builder(workspace).render(job).pdf
    assert b" Ts" not in content(pdf)
