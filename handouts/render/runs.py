"""The runs of a right-to-left line drawn in reading order, so pdf.js gives its sentences in order.

WeasyPrint draws a line left to right, one text-showing operator (TJ) per change of font. pdf.js
(Firefox's PDF engine: copy, search, and what its viewer hands a screen reader) makes a text item
of each operator, turns each item's right-to-left letters around, and gives the items in the order
they are drawn. A right-to-left line with a Latin word or a bracket in it, a second font, came out
with its pieces in visual order: "(الولايات المتحدة) خط مساعدة السموم" read ") الولايات المتحدة
( خط" and sentences swapped places (issue 15).

Here, after WeasyPrint has drawn such a line, its operators are put in the order of the text they
show (each run's offset in the paragraph's text, as Pango gives it), each with a text matrix at the
place it had: the page looks the same, and pdf.js reads the items in order. PDFium and poppler sort
a line by position and are not affected. Only lines with right-to-left text and more than one font
are touched, and only when what WeasyPrint wrote is what this expects (a text matrix, then fonts
and TJs, one TJ per run of one font, as many glyphs as Pango's runs); anything else stays as drawn.

This wraps one WeasyPrint function, weasyprint.draw.text.draw_first_line; install() checks its
signature and raises if WeasyPrint's internals changed.
"""

from __future__ import annotations

import functools
import inspect
import re
from typing import Any

#: The parameters of weasyprint.draw.text.draw_first_line this was written against (WeasyPrint 70).
EXPECTED_PARAMETERS = ("stream", "textbox", "text_overflow", "block_ellipsis", "matrix")
_MARK = "_handouts_reading_order"
_TJ = re.compile(rb"^\[(.*)\] TJ$", re.S)
_TF = re.compile(rb"^/(\S+) (\S+) Tf$")
_TOKEN = re.compile(rb"<([0-9a-f]*)>|(-?[0-9.]+(?:e[+-]?[0-9]+)?)")


def _runs(textbox: Any) -> list[tuple[Any, int, int, bool]]:
    """The line's runs of one font, left to right: (Pango font, first offset, glyphs, right to left)."""
    from weasyprint.text.ffi import ffi, pango

    line, _ = textbox.pango_layout.get_first_line()
    groups: list[list[Any]] = []
    run = line.runs[0]
    while run != ffi.NULL:
        item = run.data
        run = run.next
        glyphs = item.glyphs
        drawn = sum(1 for i in range(glyphs.num_glyphs) if glyphs.glyphs[i].glyph != pango.PANGO_GLYPH_EMPTY)
        font, offset, rtl = item.item.analysis.font, item.item.offset, bool(item.item.analysis.level % 2)
        if groups and groups[-1][0] == font:
            group = groups[-1]
            group[1], group[2], group[3] = min(group[1], offset), group[2] + drawn, group[3] or rtl
        else:
            groups.append([font, offset, drawn, rtl])
    return [(g[0], g[1], g[2], g[3]) for g in groups]


def _glyphs_and_advance(array: bytes, widths: dict[int, float], size: float) -> tuple[int, float]:
    """The number of glyphs a TJ array shows and how far it moves the text position (text space)."""
    count, total = 0, 0.0
    for hexes, number in _TOKEN.findall(array):
        if number:
            total -= float(number)
        else:
            for i in range(0, len(hexes), 4):
                count += 1
                total += widths.get(int(hexes[i : i + 4], 16), 0)
    return count, total / 1000 * size


def _widths(font: Any) -> dict[int, float]:
    """A font's glyph widths so far, with the copies raised.py makes (as Font.clean will write them)."""
    from handouts.render.raised import RAISED

    widths = dict(font.widths)
    for (glyph, _, _, width), copy in font.__dict__.get(RAISED, {}).items():
        widths.setdefault(copy, font.widths.get(glyph, 0) if width < 0 else width)
    return widths


def reorder(stream: Any, start: int, textbox: Any, matrix: Any, font_before: Any) -> bool:
    """Put the TJs WeasyPrint wrote from stream.stream[start] in reading order; False if left as drawn."""
    ops = stream.stream[start:]
    if len(ops) < 3 or not ops[0].endswith(b" Tm"):
        return False
    chunks: list[tuple[bytes | None, bytes]] = []  # (the Tf just before, the TJ)
    tf: bytes | None = None
    for op in ops[1:]:
        if _TF.match(op):
            tf = op
        elif _TJ.match(op):
            chunks.append((tf, op))
            tf = None
        else:
            return False  # text rise, or anything else: not what this was written for
    runs = _runs(textbox)
    if not runs or len(runs) != len(chunks) or len(chunks) < 2 or not any(run[3] for run in runs):
        return False
    fonts = {font.hash: font for font in stream._fonts.values()}
    current = font_before
    placed = []
    x = 0.0
    for (tf, tj), (_, offset, glyphs, _) in zip(chunks, runs, strict=True):
        if tf is not None:
            match = _TF.match(tf)
            assert match is not None
            current = (match[1].decode(), float(match[2]))
        if current is None or current[0] not in fonts:
            return False
        array = _TJ.match(tj)
        assert array is not None
        count, advance = _glyphs_and_advance(array[1], _widths(fonts[current[0]]), current[1])
        if count != glyphs:
            return False
        placed.append((offset, x, current, tj))
        x += advance
    a, b, c, d, e, f = matrix.values
    del stream.stream[start:]
    stream._current_font = font_before
    for _, x, font, tj in sorted(placed, key=lambda chunk: chunk[0]):
        stream.set_text_matrix(a, b, c, d, e + a * x, f + b * x)
        stream.set_font_size(*font)
        stream.stream.append(tj)
    return True


def install() -> None:
    """Wrap WeasyPrint's draw_first_line, once per process. Raises if its internals changed."""
    import weasyprint
    import weasyprint.draw.text as text

    original = getattr(text, "draw_first_line", None)
    if original is None or tuple(inspect.signature(original).parameters) != EXPECTED_PARAMETERS:
        raise RuntimeError(
            f"WeasyPrint {weasyprint.__version__} changed weasyprint.draw.text.draw_first_line: "
            "handouts/render/runs.py needs updating"
        )
    if getattr(original, _MARK, False):
        return

    @functools.wraps(original)
    def draw_first_line(stream: Any, textbox: Any, text_overflow: Any, block_ellipsis: Any, matrix: Any) -> Any:
        start, font_before = len(stream.stream), getattr(stream, "_current_font", None)
        emojis = original(stream, textbox, text_overflow, block_ellipsis, matrix)
        if len(stream.stream) - start > 3 and not emojis:  # one font and one TJ: nothing to order
            reorder(stream, start, textbox, matrix, font_before)
        return emojis

    setattr(draw_first_line, _MARK, True)
    text.draw_first_line = draw_first_line
